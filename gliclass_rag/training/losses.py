"""Losses over label slots: focal (the reference's default), a listwise softmax term, label contrast; and the
per-label Bernoulli policy's log-probabilities, entropy, KL and PPO's clipped surrogate."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "bernoulli_entropy",
    "bernoulli_kl",
    "bernoulli_log_prob",
    "clipped_surrogate_loss",
    "focal_loss",
    "label_contrastive_loss",
    "listwise_loss",
    "masked_mean",
]


def focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, *, alpha: float = 0.5, gamma: float = 2.0
) -> torch.Tensor:
    """Mean focal loss over real label slots: logits/targets/mask (B, C). ``alpha < 0`` disables the class
    weighting and ``gamma = 0`` the focusing term (plain BCE when both are off)."""
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # (B, C)
    if gamma > 0:
        p = torch.sigmoid(logits)
        p_t = p * targets + (1 - p) * (1 - targets)
        bce = bce * (1 - p_t).pow(gamma)
    if alpha >= 0:
        bce = bce * (alpha * targets + (1 - alpha) * (1 - targets))
    weights = mask.to(bce.dtype)
    return (bce * weights).sum() / weights.sum().clamp_min(1)


def listwise_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of a softmax over each row's real labels towards its positives (rows without one skipped).
    Teaches the ranking that single-label argmax reads; positives share the target mass."""
    masked = logits.masked_fill(~mask.bool(), torch.finfo(logits.dtype).min)  # (B, C)
    positives = targets * mask.to(targets.dtype)  # (B, C)
    has_positive = positives.sum(dim=1) > 0  # (B,)
    if not bool(has_positive.any()):
        return logits.sum() * 0.0
    distribution = positives[has_positive] / positives[has_positive].sum(dim=1, keepdim=True)
    log_probs = torch.log_softmax(masked[has_positive], dim=1)
    return -(distribution * log_probs).sum(dim=1).mean()


def label_contrastive_loss(label_embeddings: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Push a row's label embeddings apart (each should be most similar to itself): (B, C, D), (B, C)."""
    normalized = F.normalize(label_embeddings, dim=-1)
    similarity = normalized @ normalized.transpose(1, 2)  # (B, C, C)
    batch, slots, _ = similarity.shape
    target = torch.arange(slots, device=similarity.device).expand(batch, -1)
    keep = mask.bool()
    similarity = similarity.masked_fill(~keep.unsqueeze(1), torch.finfo(similarity.dtype).min)
    losses = F.cross_entropy(similarity.reshape(batch * slots, slots), target.reshape(-1), reduction="none")
    weights = keep.reshape(-1).to(losses.dtype)
    return (losses * weights).sum() / weights.sum().clamp_min(1)


# --- a per-label Bernoulli policy (PPO) ----------------------------------------------------------------------------
def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over the True slots of ``mask`` (same shape); whatever sits in the other slots (even NaN)
    is ignored."""
    kept = torch.where(mask.bool(), values, torch.zeros_like(values))
    return kept.sum() / mask.sum().clamp_min(1).to(values.dtype)


def bernoulli_log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log pi(a) per slot of Bernoulli(sigmoid(logits)) for actions in {0, 1}: (S, C) -> (S, C)."""
    return actions * F.logsigmoid(logits) + (1 - actions) * F.logsigmoid(-logits)


def bernoulli_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy per slot of Bernoulli(sigmoid(logits)), in nats: (S, C) -> (S, C)."""
    p = torch.sigmoid(logits)
    return -(p * F.logsigmoid(logits) + (1 - p) * F.logsigmoid(-logits))


def bernoulli_kl(logits: torch.Tensor, reference_logits: torch.Tensor) -> torch.Tensor:
    """KL(Bernoulli(sigmoid(logits)) || Bernoulli(sigmoid(reference_logits))) per slot: (S, C) -> (S, C)."""
    p = torch.sigmoid(logits)
    on = F.logsigmoid(logits) - F.logsigmoid(reference_logits)
    off = F.logsigmoid(-logits) - F.logsigmoid(-reference_logits)
    return p * on + (1 - p) * off


def clipped_surrogate_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    epsilon: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate per label slot, negated and averaged over real slots, and the fraction of real slots
    whose ratio was clipped. log_probs/old_log_probs/mask (S, C); advantages (S, 1) or (S, C)."""
    ratio = torch.exp(log_probs - old_log_probs)  # (S, C)
    clipped = ratio.clamp(1.0 - epsilon, 1.0 + epsilon)
    surrogate = torch.minimum(ratio * advantages, clipped * advantages)  # (S, C)
    fraction = masked_mean(((ratio - clipped).abs() > 0).to(ratio.dtype), mask)
    return -masked_mean(surrogate, mask), fraction.detach()
