"""The reference checkpoints' optional learned calibrator (``use_calibrator``): loaded and applied, not fitted here.

An MLP over (text, label, text*label, |text-label|, logit statistics) predicts an inverse temperature
``beta`` in (0, beta_max) per (text, label) pair and, with ``calibrator_use_bias``, a bias: ``beta * z + b``.
Keys: ``calibrator.{text_norm,label_norm,mlp.0,mlp.3,mlp.6}``. Our own post-hoc temperature / per-label bias
calibration (fitted on a small labelled set) lives in ``gliclass_rag.calibration``.
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LearnedCalibrator"]

NUM_LOGIT_FEATURES = 6


def logit_features(logits: torch.Tensor, label_mask: torch.Tensor) -> torch.Tensor:
    """(B, C) logits -> (B, C, 6): z, |z|, z - max z, z - mean z, mean binary entropy, log #labels."""
    mask = label_mask.bool()
    weights = mask.to(logits.dtype)
    count = weights.sum(dim=-1, keepdim=True).clamp_min(1.0)  # (B, 1)
    top = logits.masked_fill(~mask, float("-inf")).amax(dim=-1, keepdim=True)
    top = torch.where(mask.any(dim=-1, keepdim=True), top, torch.zeros_like(top))  # (B, 1)
    mean = (logits * weights).sum(dim=-1, keepdim=True) / count  # (B, 1)
    probs = torch.sigmoid(logits)
    entropy = -(probs * F.logsigmoid(logits) + (1 - probs) * F.logsigmoid(-logits))  # (B, C)
    mean_entropy = (entropy * weights).sum(dim=-1, keepdim=True) / count  # (B, 1)
    features = [logits, logits.abs(), logits - top, logits - mean, mean_entropy.expand_as(logits)]
    features.append(count.log().expand_as(logits))
    return torch.stack(features, dim=-1) * weights.unsqueeze(-1)  # (B, C, 6)


class LearnedCalibrator(nn.Module):
    def __init__(
        self, size: int, hidden_size: int = 256, beta_max: float = 3.0, dropout: float = 0.1, use_bias: bool = False
    ) -> None:
        super().__init__()
        self.beta_max = beta_max
        self.use_bias = use_bias
        self.text_norm = nn.LayerNorm(size)
        self.label_norm = nn.LayerNorm(size)
        self.mlp = nn.Sequential(
            nn.Linear(4 * size + NUM_LOGIT_FEATURES, hidden_size),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, hidden_size),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, 2 if use_bias else 1),
        )
        output = cast(nn.Linear, self.mlp[-1])
        with torch.no_grad():  # identity until loaded: beta = 1, bias = 0
            output.weight.zero_()
            output.bias.zero_()
            output.bias[0] = math.log((1.0 / beta_max) / (1 - 1.0 / beta_max)) if beta_max > 1 else 0.0

    def forward(
        self, text: torch.Tensor, labels: torch.Tensor, logits: torch.Tensor, label_mask: torch.Tensor
    ) -> torch.Tensor:
        """Calibrated logits (B, C) from text (B, D), labels (B, C, D), logits (B, C), mask (B, C)."""
        dtype = cast(nn.Linear, self.mlp[0]).weight.dtype
        mask = label_mask.bool()
        text_n = self.text_norm(text.to(dtype)).unsqueeze(1).expand_as(labels)  # (B, C, D)
        label_n = self.label_norm(labels.to(dtype))  # (B, C, D)
        stats = logit_features(logits.float(), mask).to(dtype)  # (B, C, 6)
        features = torch.cat([text_n, label_n, text_n * label_n, (text_n - label_n).abs(), stats], dim=-1)
        output = self.mlp(features).float()  # (B, C, 1 | 2)
        beta = (self.beta_max * torch.sigmoid(output[..., 0])).masked_fill(~mask, 1.0)
        bias = output[..., 1].masked_fill(~mask, 0.0) if self.use_bias else torch.zeros_like(beta)
        return (beta * logits.float() + bias).to(logits.dtype)
