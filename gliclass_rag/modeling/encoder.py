"""Backbones: any transformers encoder the published checkpoints use (DeBERTa-v2/v3, BERT, ModernBERT, T5/UMT5).

The backbone module is built from its config alone (weights come from the checkpoint), with the same classes as
the reference so that state-dict keys match; SDPA attention is used wherever the backbone supports it, and DeBERTa's
disentangled attention gets a fused inference forward (``deberta.py``; same parameters, same function).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoModel, PretrainedConfig

from ..errors import ConfigError

__all__ = ["EncoderOutput", "build_backbone", "run_backbone"]

_T5_ENCODERS = {"t5": "T5EncoderModel", "mt5": "T5EncoderModel", "umt5": "UMT5EncoderModel"}


@contextlib.contextmanager
def _skip_init(skip: bool) -> Iterator[None]:
    """Skip random initialisation when the weights are about to be overwritten by a checkpoint."""
    if not skip:
        yield
        return
    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers < 5
        from transformers.modeling_utils import no_init_weights  # type: ignore[attr-defined,no-redef]
    with no_init_weights():
        yield


def _attention_candidates(config: PretrainedConfig) -> tuple[str, ...]:
    requested = getattr(config, "_attn_implementation_internal", None)
    return (requested,) if requested else ("sdpa", "eager")


def build_backbone(config: PretrainedConfig, *, initialize: bool = True) -> nn.Module:
    """Instantiate the backbone for ``config`` (random weights unless loaded afterwards)."""
    import transformers

    model_type = getattr(config, "model_type", None)
    if model_type in _T5_ENCODERS:
        model_class = getattr(transformers, _T5_ENCODERS[model_type])
        build = model_class._from_config
    elif model_type == "deberta-v2":
        build = transformers.DebertaV2Model._from_config
    else:
        build = AutoModel.from_config
    last_error: Exception | None = None
    with _skip_init(not initialize):
        for attention in _attention_candidates(config):
            try:  # a copy: transformers records the attention choice on the config it is given
                backbone = build(copy.deepcopy(config), attn_implementation=attention)
            except (ValueError, ImportError) as error:  # this backbone has no SDPA path: use its default
                last_error = error
                continue
            if model_type == "deberta-v2":
                from .deberta import use_fast_deberta_attention

                use_fast_deberta_attention(backbone)
            return backbone
    msg = f"cannot build a backbone of model_type {model_type!r}: {last_error}"
    raise ConfigError(msg)


@dataclass(frozen=True)
class EncoderOutput:
    last_hidden_state: torch.Tensor  # (B, L, D)
    hidden_states: tuple[torch.Tensor, ...] | None  # (B, L, D) each, embeddings first


def run_backbone(
    backbone: nn.Module,
    *,
    input_ids: torch.Tensor | None = None,
    attention_mask: torch.Tensor,
    inputs_embeds: torch.Tensor | None = None,
    output_hidden_states: bool = False,
) -> EncoderOutput:
    outputs = backbone(
        input_ids=input_ids,
        attention_mask=attention_mask,
        inputs_embeds=inputs_embeds,
        output_hidden_states=output_hidden_states,
        return_dict=True,
    )
    return EncoderOutput(outputs.last_hidden_state, outputs.hidden_states if output_hidden_states else None)
