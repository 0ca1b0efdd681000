"""GLiClassNetwork: the modules of a GLiClass model, composed from the config (state-dict prefix ``model.``).

Encoder, pooler and scorer come from registries; the architecture (uni-encoder, bi-encoder, bi-encoder-fused) is
a small strategy from a registry too (``architectures.py``) that decides how text and labels reach the scorer.
Attribute names are the reference checkpoints' keys.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import torch
from torch import nn
from transformers import PretrainedConfig

from .encoder import build_backbone, run_backbone
from .layers import BiLSTM, FeaturesProjector, LayerwiseAttention
from .registry import ARCHITECTURES, POOLERS, SCORERS

if TYPE_CHECKING:
    from ..config import GLiClassConfig

__all__ = ["GLiClassNetwork", "ModelBatch", "ScoreOutput"]

NORM_EPSILON = 1e-8
PADDED_LABEL_LOGIT = -1e3  # what the reference's bi-encoders put in padded label slots
BACKBONES = ("encoder_model", "label_encoder")


@dataclass(frozen=True)
class ModelBatch:
    """One padded batch of sequences, as the model reads it.

    Uni-encoder: label names are inside ``input_ids``. Bi-encoders: ``label_embeddings`` (B, C, D) come from
    :meth:`GLiClassNetwork.encode_labels` (cacheable per label text) with ``label_mask`` (B, C).
    """

    input_ids: torch.Tensor  # (B, L)
    attention_mask: torch.Tensor  # (B, L)
    num_slots: int  # C: the most labels any row has
    label_embeddings: torch.Tensor | None = None  # (B, C, D)
    label_mask: torch.Tensor | None = None  # (B, C) bool


@dataclass(frozen=True)
class ScoreOutput:
    logits: torch.Tensor  # (B, C)
    label_mask: torch.Tensor  # (B, C) bool
    text_embeddings: torch.Tensor  # (B, D) (or (B, L, D) with pooling "pass")
    class_embeddings: torch.Tensor  # (B, C, D)


class GLiClassNetwork(nn.Module):
    def __init__(self, config: GLiClassConfig, *, initialize: bool = True) -> None:
        super().__init__()
        self.config = config
        self.architecture = ARCHITECTURES.get(config.architecture_type)
        enc_hidden = config.encoder_hidden_size
        hidden = int(config.hidden_size or enc_hidden)
        self.encoder_model = build_backbone(_with_vocab(config), initialize=initialize)
        act = config.projector_hidden_act
        self.text_projector = FeaturesProjector(enc_hidden, hidden, enc_hidden, act, config.dropout)
        self.classes_projector = FeaturesProjector(enc_hidden, hidden, enc_hidden, act, config.dropout)
        self.pooler = POOLERS.get(config.pooling_strategy)(enc_hidden)
        self.scorer = SCORERS.get(config.scorer_type)(
            hidden,
            num_heads=config.scorer_num_heads,
            attn_dropout=config.scorer_attn_dropout,
            mlp_hidden_size=config.scorer_mlp_hidden_size,
        )
        if config.use_lstm:
            self.lstm = BiLSTM(hidden)
        if config.squeeze_layers:
            layers = int(config.encoder_config.get_text_config().num_hidden_layers)
            self.layer_wise_attention = LayerwiseAttention(layers, enc_hidden)
        if config.use_segment_embeddings:
            self.segment_embeddings = nn.Embedding(3, enc_hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.logit_scale = nn.Parameter(torch.tensor(float(config.logit_scale_init_value)))
        if self.architecture.uses_label_encoder:
            assert config.label_model_config is not None  # checked by the config
            self.label_encoder = build_backbone(config.label_model_config, initialize=initialize)
            label_hidden = int(config.label_model_config.get_text_config().hidden_size)
            self.biencoder_projector = FeaturesProjector(label_hidden, hidden, enc_hidden, act, 0.0)
        if initialize:
            for name, child in self.named_children():
                if name not in BACKBONES:  # backbones keep their own (or pretrained) initialisation
                    child.apply(self._init_head)

    def _init_head(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=std)
        elif isinstance(module, nn.LSTM):
            for name, parameter in module.named_parameters():
                if name.startswith("weight"):
                    nn.init.normal_(parameter, std=std)
                else:
                    nn.init.zeros_(parameter)

    # --- shared steps -------------------------------------------------------------------------------------
    def normalize(self, features: torch.Tensor) -> torch.Tensor:
        if not self.config.normalize_features:
            return features
        return features / (features.norm(p=2, dim=-1, keepdim=True) + NORM_EPSILON)

    def project_text(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.normalize(self.dropout(self.text_projector(pooled)))

    def encode_labels(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Bi-encoders: label names (N, Ll) -> label embeddings (N, D), the same for every text (cacheable)."""
        hidden = run_backbone(self.label_encoder, input_ids=input_ids, attention_mask=attention_mask)
        pooled = self.pooler(hidden.last_hidden_state, attention_mask.bool())  # (N, D_label)
        return self.normalize(self.classes_projector(self.biencoder_projector(pooled)))  # (N, D)

    def segment_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        """0 before the first ``<<SEP>>``, 1 from it on; 2 everywhere when a row has examples.

        The last rule copies the reference (it locates the examples with ``argmin``, which gives position 0), so
        checkpoints trained with it see the segment ids they were trained on.
        """
        after_text = (input_ids == self.config.text_token_index).long().cumsum(dim=1) > 0  # (B, L)
        has_examples = (input_ids == self.config.example_token_index).any(dim=1, keepdim=True)  # (B, 1)
        return torch.where(has_examples, torch.full_like(input_ids, 2), after_text.long())  # (B, L)

    def input_embeddings(self, input_ids: torch.Tensor) -> torch.Tensor:
        embeddings = cast(nn.Module, self.encoder_model.get_input_embeddings())  # type: ignore[operator]
        return cast(torch.Tensor, embeddings(input_ids))

    def encode_sequence(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, inputs_embeds: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """Run the text encoder; returns the hidden states the heads read (B, L, D) and all layers if kept."""
        config = self.config
        if config.use_segment_embeddings:
            if inputs_embeds is None:
                inputs_embeds = self.input_embeddings(input_ids)
            inputs_embeds = inputs_embeds + self.segment_embeddings(self.segment_ids(input_ids))
        all_layers = config.squeeze_layers or config.layer_wise or config.encoder_layer_id != -1
        output = run_backbone(
            self.encoder_model,
            input_ids=None if inputs_embeds is not None else input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            output_hidden_states=all_layers,
        )
        if config.squeeze_layers:
            assert output.hidden_states is not None
            return self.layer_wise_attention(output.hidden_states, attention_mask.bool()), output.hidden_states
        if config.encoder_layer_id != -1:
            assert output.hidden_states is not None
            return output.hidden_states[config.encoder_layer_id], output.hidden_states
        return output.last_hidden_state, output.hidden_states

    def forward(self, batch: ModelBatch) -> ScoreOutput:
        return self.architecture.score(self, batch)

    def mask_padded_labels(self, logits: torch.Tensor, label_mask: torch.Tensor) -> torch.Tensor:
        return logits.masked_fill(~label_mask, PADDED_LABEL_LOGIT)

    def scale(self, logits: torch.Tensor) -> torch.Tensor:
        return logits * self.logit_scale.to(logits.dtype)


def _with_vocab(config: GLiClassConfig) -> PretrainedConfig:
    """The backbone config, with the embedding rows the GLiClass config asks for (the three markers added)."""
    encoder_config = config.encoder_config
    if config.vocab_size is None or encoder_config.get_text_config().vocab_size == config.vocab_size:
        return encoder_config
    resized = copy.deepcopy(encoder_config)  # the caller's config object is never modified
    resized.get_text_config().vocab_size = config.vocab_size
    return resized
