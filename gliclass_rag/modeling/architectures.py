"""Architectures: how text and labels reach the scorer. Each is one small function over a GLiClassNetwork.

- ``uni-encoder``: labels and text share one sequence; label embeddings are read at their ``<<LABEL>>`` slots.
- ``bi-encoder``: the text is encoded alone; labels come from a separate label encoder (cacheable per label).
- ``bi-encoder-fused``: label-encoder embeddings replace the ``<<LABEL>>`` token embeddings of the text sequence;
  the encoder's outputs at those slots are the label embeddings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .registry import ARCHITECTURES
from .slots import pool_label_slots, text_tokens_after_marker

if TYPE_CHECKING:
    from .network import GLiClassNetwork, ModelBatch, ScoreOutput

__all__ = ["Architecture"]


@dataclass(frozen=True)
class Architecture:
    name: str
    uses_label_encoder: bool  # labels are encoded by model.label_encoder (bi-encoders)
    label_names_in_sequence: bool  # the text sequence carries the label names (uni-encoder)
    score: Callable[[GLiClassNetwork, ModelBatch], ScoreOutput]


def _uni_encoder(net: GLiClassNetwork, batch: ModelBatch) -> ScoreOutput:
    from .network import ScoreOutput

    config = net.config
    hidden, _ = net.encode_sequence(batch.input_ids, batch.attention_mask)  # (B, L, D)
    labels, label_mask = pool_label_slots(
        hidden,
        batch.input_ids,
        batch.attention_mask,
        class_token_id=config.class_token_index,
        text_token_id=config.text_token_index,
        num_slots=batch.num_slots,
        embed_class_token=config.embed_class_token,
        average=config.class_token_pooling == "average",
        stop_at_text_marker=config.extract_text_features,
    )  # (B, C, D), (B, C)
    if config.extract_text_features:
        tokens, token_mask = text_tokens_after_marker(
            hidden, batch.input_ids, batch.attention_mask, config.text_token_index
        )
    else:
        tokens, token_mask = hidden, batch.attention_mask.bool()
    if config.use_lstm:
        tokens = net.lstm(tokens, token_mask)
    text = net.project_text(net.pooler(tokens, token_mask))  # (B, D) or (B, L, D) for "pass"
    labels = net.normalize(net.classes_projector(labels))  # (B, C, D)
    logits = net.scorer(text, labels, text_mask=token_mask)  # (B, C)
    if config.normalize_features:
        logits = net.scale(logits)
    return ScoreOutput(logits, label_mask, text, labels)


def _bi_encoder(net: GLiClassNetwork, batch: ModelBatch) -> ScoreOutput:
    from .network import ScoreOutput

    labels, label_mask = _label_inputs(batch)
    hidden, _ = net.encode_sequence(batch.input_ids, batch.attention_mask)  # (B, L, D)
    text = net.project_text(net.pooler(hidden, batch.attention_mask.bool()))  # (B, D)
    logits = net.mask_padded_labels(net.scale(net.scorer(text, labels)), label_mask)  # (B, C)
    return ScoreOutput(logits, label_mask, text, labels)


def _bi_encoder_fused(net: GLiClassNetwork, batch: ModelBatch) -> ScoreOutput:
    from .network import ScoreOutput

    config = net.config
    labels, label_mask = _label_inputs(batch)  # (B, C, D)
    embeds = net.input_embeddings(batch.input_ids)  # (B, L, D)
    slot_of_token = (batch.input_ids == config.class_token_index).long().cumsum(dim=1) - 1  # (B, L)
    is_marker = (batch.input_ids == config.class_token_index) & (slot_of_token < batch.num_slots)  # (B, L)
    slot_index = slot_of_token.clamp(0, batch.num_slots - 1)  # (B, L)
    label_per_token = torch.gather(labels, 1, slot_index.unsqueeze(-1).expand(-1, -1, labels.shape[-1]))
    embeds = torch.where(is_marker.unsqueeze(-1), label_per_token.to(embeds.dtype), embeds)  # (B, L, D)
    hidden, _ = net.encode_sequence(batch.input_ids, batch.attention_mask, inputs_embeds=embeds)
    fused_labels, _ = pool_label_slots(
        hidden,
        batch.input_ids,
        batch.attention_mask,
        class_token_id=config.class_token_index,
        text_token_id=config.text_token_index,
        num_slots=batch.num_slots,
    )  # (B, C, D)
    text = net.project_text(net.pooler(hidden, batch.attention_mask.bool()))  # (B, D)
    logits = net.mask_padded_labels(net.scale(net.scorer(text, fused_labels)), label_mask)
    return ScoreOutput(logits, label_mask, text, fused_labels)


def _label_inputs(batch: ModelBatch) -> tuple[torch.Tensor, torch.Tensor]:
    if batch.label_embeddings is None or batch.label_mask is None:
        msg = "bi-encoder batches need label_embeddings and label_mask (see GLiClassNetwork.encode_labels)"
        raise ValueError(msg)
    return batch.label_embeddings, batch.label_mask.bool()


ARCHITECTURES.register("uni-encoder")(Architecture("uni-encoder", False, True, _uni_encoder))
ARCHITECTURES.register("bi-encoder")(Architecture("bi-encoder", True, False, _bi_encoder))
ARCHITECTURES.register("bi-encoder-fused")(Architecture("bi-encoder-fused", True, False, _bi_encoder_fused))
