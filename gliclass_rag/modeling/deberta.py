"""A faster inference path for DeBERTa-v2/v3 disentangled self-attention (same weights, same function).

transformers' ``DisentangledSelfAttention`` materialises the (batch·heads, L, L) score matrix five or six times per
layer (scores, two gathered position terms, their scaled copies, the sum, the masked copy, the softmax), and copies
the position projections once per batch row (``.repeat``). On a CPU these memory passes cost about as much as the
matrix products. Here, at inference, the position projections broadcast instead of being repeated, the scale is
folded into the small position matrices, both position terms are gathered straight into one bias tensor that is
masked in place, and ``scaled_dot_product_attention`` does scores, softmax and the value product in one fused
kernel; the position terms are computed only for the relative positions the sequence can reach (for L < 256
tokens, a window of the 512 buckets). Only the order of floating-point operations changes (outputs agree to
~1e-6 relative in float32).

Training, ``output_attentions`` and cross-attention (``query_states``) keep transformers' own code.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FastDisentangledSelfAttention", "use_fast_deberta_attention"]


def _base() -> type[nn.Module]:
    from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention

    return DisentangledSelfAttention


class FastDisentangledSelfAttention(_base()):  # type: ignore[misc]
    """``DisentangledSelfAttention`` with a fused inference forward; same parameters and state-dict keys."""

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor,
        output_attentions: bool = False,
        query_states: torch.Tensor | None = None,
        relative_pos: torch.Tensor | None = None,
        rel_embeddings: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.training or output_attentions or query_states is not None or not self.relative_attention:
            return super().forward(
                hidden_states, attention_mask, output_attentions, query_states, relative_pos, rel_embeddings
            )
        batch, length, _ = hidden_states.shape
        heads = self.num_attention_heads
        q = self.query_proj(hidden_states).view(batch, length, heads, -1).transpose(1, 2)  # (B, H, L, d)
        k = self.key_proj(hidden_states).view(batch, length, heads, -1).transpose(1, 2)  # (B, H, L, d)
        v = self.value_proj(hidden_states).view(batch, length, heads, -1).transpose(1, 2)  # (B, H, L, d)
        scale = math.sqrt(q.shape[-1] * (1 + len([t for t in ("c2p", "p2c") if t in self.pos_att_type])))
        bias = self._position_bias(q, k, relative_pos, rel_embeddings, scale)  # (B, H, L, L)
        mask = attention_mask.bool()
        if mask.dim() == 2:  # (B, L): the outer product transformers builds
            mask = mask[:, None, :, None] & mask[:, None, None, :]
        elif mask.dim() == 3:
            mask = mask.unsqueeze(1)
        if bias is None:
            bias = torch.zeros((batch, heads, length, length), dtype=q.dtype, device=q.device)
        bias.masked_fill_(~mask, torch.finfo(q.dtype).min)
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0 / scale)  # (B, H, L, d)
        return context.transpose(1, 2).reshape(batch, length, -1), None

    def _position_bias(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        relative_pos: torch.Tensor | None,
        rel_embeddings: torch.Tensor | None,
        scale: float,
    ) -> torch.Tensor | None:
        """(c2p + p2c) / scale, as transformers computes it, gathered into one (B, H, L, L) tensor."""
        from transformers.models.deberta_v2.modeling_deberta_v2 import build_relative_position

        batch, heads, length, _ = q.shape
        if rel_embeddings is None or not ({"c2p", "p2c"} & set(self.pos_att_type)):
            return None
        if relative_pos is None:
            relative_pos = build_relative_position(
                q, k, bucket_size=self.position_buckets, max_position=self.max_relative_positions
            )
        relative_pos = relative_pos.to(device=q.device, dtype=torch.long).reshape(-1, length, length)[0]  # (L, L)
        span = self.pos_ebd_size
        positions = rel_embeddings[: span * 2]  # (2S, D)

        def heads_of(linear: nn.Module) -> torch.Tensor:  # (2S, D) -> (H, 2S, d), pre-scaled
            return (linear(positions) / scale).view(span * 2, heads, -1).transpose(0, 1)

        # Only the positions L tokens can reach are multiplied (a window of the 2S); a traced graph (ONNX export)
        # must not bake one length's window in, so it keeps all 2S.
        windowed = not (torch.jit.is_tracing() or torch.onnx.is_in_onnx_export())

        def reach(index: torch.Tensor, low: tuple[int, int], high: tuple[int, int]) -> tuple[int, int]:
            return (int(index[low]), int(index[high])) if windowed else (0, span * 2 - 1)

        bias: torch.Tensor | None = None
        if "c2p" in self.pos_att_type:
            index = torch.clamp(relative_pos + span, 0, span * 2 - 1)  # (L, L) into the 2S positions
            low, high = reach(index, (0, -1), (-1, 0))  # the positions L tokens reach (monotone in i - j)
            pos_key = heads_of(self.key_proj if self.share_att_key else self.pos_key_proj)[:, low : high + 1]
            c2p = torch.matmul(q, pos_key.transpose(-1, -2))  # (B, H, L, W): only the W positions in reach
            bias = torch.gather(c2p, -1, (index - low).expand(batch, heads, length, length))  # (B, H, L, L)
        if "p2c" in self.pos_att_type:
            index = torch.clamp(-relative_pos + span, 0, span * 2 - 1)  # (L_k, L_q)
            low, high = reach(index, (-1, 0), (0, -1))
            pos_query = heads_of(self.query_proj if self.share_att_key else self.pos_query_proj)[:, low : high + 1]
            p2c = torch.matmul(k, pos_query.transpose(-1, -2))  # (B, H, L_k, W)
            term = torch.gather(p2c, -1, (index - low).expand(batch, heads, length, length)).transpose(-1, -2)
            bias = term.contiguous() if bias is None else bias.add_(term)  # (B, H, L_q, L_k)
        return bias


def use_fast_deberta_attention(backbone: nn.Module) -> int:
    """Swap every ``DisentangledSelfAttention`` of ``backbone`` for the fast one (parameters shared, not copied).

    Returns how many modules were swapped.
    """
    base = _base()
    swapped = 0
    for module in list(backbone.modules()):
        for name, child in list(module.named_children()):
            if type(child) is base:
                fast = FastDisentangledSelfAttention.__new__(FastDisentangledSelfAttention)
                fast.__dict__.update(child.__dict__)  # the same parameters, buffers, sub-modules and settings
                setattr(module, name, fast)
                swapped += 1
    return swapped
