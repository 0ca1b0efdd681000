"""Losses over label slots: focal (the reference's default), a listwise softmax term, label contrast."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["focal_loss", "label_contrastive_loss", "listwise_loss"]


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
