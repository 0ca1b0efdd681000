"""Scorers: pooled text (B, D) and label embeddings (B, C, D) -> one logit per label (B, C).

Sub-module names match the reference checkpoints' state-dict keys (``proj_text``, ``out_mlp.0`` ...).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .registry import SCORERS

__all__ = ["Scorer"]

# The reference builds its mlp and hopfield scorers with a fixed MLP width: scorer_mlp_hidden_size is ignored.
MLP_SCORER_WIDTH = 256


class Scorer(nn.Module):
    """``forward(text (B, D) | (B, L, D), labels (B, C, D), text_mask (B, L) | None) -> logits (B, C)``."""


def _mlp(in_features: int, width: int, act: type[nn.Module]) -> nn.Sequential:
    # Linear -> act -> Linear(width // 2) -> act -> Linear(1): keys mlp.0 / mlp.2 / mlp.4
    return nn.Sequential(
        nn.Linear(in_features, width), act(), nn.Linear(width, width // 2), act(), nn.Linear(width // 2, 1)
    )


@SCORERS.register("simple")
class DotScorer(Scorer):
    def __init__(self, hidden_size: int, **_: Any) -> None:
        super().__init__()

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.einsum("bd,bcd->bc", text, labels)  # (B, C)


@SCORERS.register("weighted-dot")
class WeightedDotScorer(Scorer):
    def __init__(self, hidden_size: int, dropout: float = 0.1, **_: Any) -> None:
        super().__init__()
        self.proj_text = nn.Linear(hidden_size, hidden_size * 2)
        self.proj_label = nn.Linear(hidden_size, hidden_size * 2)
        self.out_mlp = nn.Sequential(
            nn.Linear(hidden_size * 3, hidden_size * 4), nn.Dropout(dropout), nn.ReLU(), nn.Linear(hidden_size * 4, 1)
        )

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        text_a, text_b = self.proj_text(text).unsqueeze(1).chunk(2, dim=-1)  # (B, 1, D) each
        label_a, label_b = self.proj_label(labels).chunk(2, dim=-1)  # (B, C, D) each
        features = torch.cat([text_a.expand_as(label_a), label_a, text_b * label_b], dim=-1)  # (B, C, 3D)
        return self.out_mlp(features).squeeze(-1)  # (B, C)


@SCORERS.register("mlp")
class MLPScorer(Scorer):
    def __init__(self, hidden_size: int, **_: Any) -> None:
        super().__init__()
        self.mlp = _mlp(hidden_size * 2, MLP_SCORER_WIDTH, nn.ReLU)

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        text = text.unsqueeze(1).expand_as(labels)  # (B, C, D)
        return self.mlp(torch.cat([text, labels], dim=-1)).squeeze(-1)  # (B, C)


@SCORERS.register("hopfield")
class HopfieldScorer(Scorer):
    """One Hopfield update of the labels towards the text (beta 4, softmax over labels), then an MLP."""

    beta = 4.0

    def __init__(self, hidden_size: int, **_: Any) -> None:
        super().__init__()
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.k_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.v_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.mlp = _mlp(hidden_size, MLP_SCORER_WIDTH, nn.ReLU)

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        text = text.unsqueeze(1)  # (B, 1, D)
        attn = torch.bmm(self.q_proj(labels), self.k_proj(text).transpose(1, 2)) * self.beta  # (B, C, 1)
        # Softmax over the label axis, as the reference does; padded label slots are zero vectors there too.
        labels = labels + torch.softmax(attn, dim=1) * self.v_proj(text)  # (B, C, D)
        return self.mlp(labels).squeeze(-1)  # (B, C)


@SCORERS.register("cross-attn")
class CrossAttentionScorer(Scorer):
    """Labels attend to the text tokens (needs pooling 'pass'), then an MLP on [context, label]."""

    def __init__(
        self, hidden_size: int, num_heads: int = 16, attn_dropout: float = 0.1, mlp_hidden_size: int = 1024, **_: Any
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.attn_dropout = attn_dropout
        self.q_norm = nn.LayerNorm(hidden_size)
        self.kv_norm = nn.LayerNorm(hidden_size)
        self.q = nn.Linear(hidden_size, hidden_size)
        self.k = nn.Linear(hidden_size, hidden_size)
        self.v = nn.Linear(hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)
        self.norm = nn.LayerNorm(hidden_size)
        self.score_mlp = _mlp(hidden_size * 2, mlp_hidden_size, nn.GELU)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        return x.view(batch, length, self.num_heads, hidden // self.num_heads).transpose(1, 2)  # (B, H, N, D/H)

    def forward(self, text: torch.Tensor, labels: torch.Tensor, text_mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, num_labels, hidden = labels.shape
        if text_mask is None:
            text_mask = torch.ones(text.shape[:2], dtype=torch.bool, device=text.device)
        q = self._heads(self.q(self.q_norm(labels)))  # (B, H, C, D/H)
        k = self._heads(self.k(self.kv_norm(text)))  # (B, H, L, D/H)
        v = self._heads(self.v(text))  # (B, H, L, D/H)
        key_mask = text_mask.bool()[:, None, None, :]  # (B, 1, 1, L)
        dropout = self.attn_dropout if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=dropout)  # (B, H, C, D/H)
        context = context.transpose(1, 2).reshape(batch, num_labels, hidden)  # (B, C, D)
        context = self.norm(self.out(context))
        return self.score_mlp(torch.cat([context, labels], dim=-1)).squeeze(-1)  # (B, C)
