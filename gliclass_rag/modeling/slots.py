"""Reading label embeddings and text tokens out of a uni-encoder's hidden states.

Label k's embedding is the hidden state at the k-th ``<<LABEL>>`` token (or the token after it when
``embed_class_token`` is off), or the mean over its span with ``class_token_pooling="average"``. A label's span
runs from its marker to the next marker; as in the reference, only the text marker (``<<SEP>>``, when
``extract_text_features`` is on) ends the last label's span, otherwise it runs to the end of the sequence.
Padding is never part of a span. Slots beyond a row's own label count are zero vectors under a False mask.
"""

from __future__ import annotations

import torch

__all__ = ["label_slot_mask", "pool_label_slots", "text_tokens_after_marker"]


def label_slot_mask(input_ids: torch.Tensor, class_token_id: int, num_slots: int) -> torch.Tensor:
    """(B, L) ids -> (B, C) bool: which label slots a row really has."""
    counts = (input_ids == class_token_id).sum(dim=1, keepdim=True)  # (B, 1)
    return torch.arange(num_slots, device=input_ids.device).unsqueeze(0) < counts  # (B, C)


def _slot_selection(input_ids: torch.Tensor, class_token_id: int, num_slots: int) -> torch.Tensor:
    is_marker = input_ids == class_token_id  # (B, L)
    rank = is_marker.long().cumsum(dim=1) - 1  # (B, L): index of the label a marker opens
    slots = torch.arange(num_slots, device=input_ids.device).view(1, -1, 1)  # (1, C, 1)
    return is_marker.unsqueeze(1) & (rank.unsqueeze(1) == slots)  # (B, C, L)


def pool_label_slots(
    hidden: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    class_token_id: int,
    text_token_id: int,
    num_slots: int,
    embed_class_token: bool = True,
    average: bool = False,
    stop_at_text_marker: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label embeddings (B, C, D) and their mask (B, C) from hidden states (B, L, D)."""
    is_marker = input_ids == class_token_id  # (B, L)
    if average:
        opened = is_marker.long().cumsum(dim=1)  # (B, L): labels opened so far
        slots = torch.arange(1, num_slots + 1, device=input_ids.device).view(1, -1, 1)  # (1, C, 1)
        select = (opened.unsqueeze(1) == slots) & attention_mask.bool().unsqueeze(1)  # (B, C, L)
        if stop_at_text_marker:
            before_text = (input_ids == text_token_id).long().cumsum(dim=1) == 0  # (B, L)
            select &= before_text.unsqueeze(1)
        if not embed_class_token:
            select &= ~is_marker.unsqueeze(1)
    else:
        select = _slot_selection(input_ids, class_token_id, num_slots)  # (B, C, L)
        if not embed_class_token:  # the token right after each marker
            select = torch.nn.functional.pad(select[:, :, :-1], (1, 0))
    weights = select.to(hidden.dtype)  # (B, C, L)
    if average:
        weights = weights / weights.sum(dim=-1, keepdim=True).clamp_min(1)
    labels = torch.bmm(weights, hidden)  # (B, C, D)
    return labels, label_slot_mask(input_ids, class_token_id, num_slots)


def text_tokens_after_marker(
    hidden: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor, text_token_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokens from the first text marker (``<<SEP>>``) on, shifted to the front: (B, L, D) and mask (B, L)."""
    batch, length = input_ids.shape
    start = (input_ids == text_token_id).int().argmax(dim=1)  # (B,) first marker (0 when absent, as the reference)
    offsets = torch.arange(length, device=input_ids.device).unsqueeze(0)  # (1, L)
    source = (start.unsqueeze(1) + offsets).clamp(max=length - 1)  # (B, L)
    valid = offsets < (length - start).unsqueeze(1)  # (B, L)
    rows = torch.arange(batch, device=input_ids.device).unsqueeze(1)  # (B, 1)
    tokens = hidden[rows, source] * valid.unsqueeze(-1).to(hidden.dtype)  # (B, L, D)
    mask = attention_mask.bool()[rows, source] & valid  # (B, L)
    return tokens, mask
