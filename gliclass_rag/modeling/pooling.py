"""Text poolers: (batch, tokens, hidden) + mask -> (batch, hidden).

Every pooler honours the mask, so padding never changes a text's vector (the reference's poolers get no mask:
their ``avg``/``max``/``last``/``rms`` results depend on what else is in the batch). For an unpadded single
text the two agree.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import POOLERS

__all__ = ["Pooler"]


class Pooler(nn.Module):
    """Base class: ``forward(tokens (B, L, D), mask (B, L) bool) -> (B, D)``."""

    def __init__(self, hidden_size: int = 0) -> None:
        super().__init__()

    @staticmethod
    def _weights(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return mask.unsqueeze(-1).to(tokens.dtype)  # (B, L, 1)

    @staticmethod
    def _counts(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return mask.sum(dim=1, keepdim=True).clamp_min(1).to(dtype)  # (B, 1)


@POOLERS.register("first")
class FirstPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return tokens[:, 0]  # (B, D)


@POOLERS.register("last")
class LastPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)  # (L,)
        last = (mask.long() * positions).argmax(dim=1)  # (B,) index of the last real token
        return tokens[torch.arange(tokens.shape[0], device=tokens.device), last]  # (B, D)


@POOLERS.register("max")
class MaxPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        filled = tokens.masked_fill(~mask.unsqueeze(-1), torch.finfo(tokens.dtype).min)
        return filled.amax(dim=1)  # (B, D)


@POOLERS.register("avg")
class MeanPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        summed = (tokens * self._weights(tokens, mask)).sum(dim=1)  # (B, D)
        return summed / self._counts(mask, tokens.dtype)


@POOLERS.register("sum")
class SumPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (tokens * self._weights(tokens, mask)).sum(dim=1)  # (B, D)


@POOLERS.register("rms")
class RMSPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        squares = (tokens.pow(2) * self._weights(tokens, mask)).sum(dim=1)  # (B, D)
        return (squares / self._counts(mask, tokens.dtype)).sqrt()


@POOLERS.register("abs_max")
class AbsMaxPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (tokens.abs() * self._weights(tokens, mask)).amax(dim=1)  # (B, D); |x| >= 0 so 0 never wins wrongly


@POOLERS.register("abs_avg")
class AbsMeanPooler(Pooler):
    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        summed = (tokens.abs() * self._weights(tokens, mask)).sum(dim=1)  # (B, D)
        return summed / self._counts(mask, tokens.dtype)


@POOLERS.register("pass")
class PassPooler(Pooler):
    """Keeps every token: (B, L, D) -> (B, L, D), for the cross-attention scorer."""

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return tokens


@POOLERS.register("attention")
class AttentionPooler(Pooler):
    """The paper's attention-weighted pooling: a learned score per token, softmax over real tokens."""

    def __init__(self, hidden_size: int = 0) -> None:
        super().__init__(hidden_size)
        self.score = nn.Linear(hidden_size, 1)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = self.score(tokens).squeeze(-1)  # (B, L)
        logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        weights = torch.softmax(logits, dim=1).unsqueeze(-1)  # (B, L, 1)
        return (weights * tokens).sum(dim=1)  # (B, D)
