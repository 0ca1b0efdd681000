"""Start a GLiClass model from a plain transformers encoder (e.g. a sentence-embedding model).

With mean pooling, identity-initialised projectors and ``normalize_features``, a bi-encoder's untrained score is
exactly ``logit_scale * cosine(mean-pooled text, mean-pooled label)``: the backbone's own embedding classifier.
Training can then only add to it (see ``embedded-model-notes``). The projectors keep the reference layout
(``linear_2(gelu(linear_1(x)))``); identity is reached with ``linear_1 = I, +shift`` and ``linear_2 = I, -shift``,
since gelu(x + shift) == x + shift for shift >> |x|.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import nn

from ..config import GLiClassConfig
from ..errors import CheckpointError, InvalidInputError
from ..modeling.layers import FeaturesProjector
from ..modeling.model import GLiClassModel
from ..pipeline import ZeroShotClassifier
from ..tokens import MARKERS

__all__ = ["IDENTITY_SHIFT", "classifier_from_backbone", "make_identity"]

IDENTITY_SHIFT = 10.0  # gelu(x + 10) == x + 10 to float32 precision for |x| < 3


def make_identity(projector: FeaturesProjector, shift: float = IDENTITY_SHIFT) -> None:
    """Set a square projector to the identity map (exact for |x| well below ``shift``)."""
    first, second = projector.linear_1, projector.linear_2
    if first.in_features != first.out_features or second.in_features != second.out_features:
        raise InvalidInputError("an identity projector needs hidden_size equal to the encoder's hidden size")
    with torch.no_grad():
        first.weight.copy_(torch.eye(first.in_features))
        first.bias.fill_(shift)
        second.weight.copy_(torch.eye(second.in_features))
        second.bias.fill_(-shift)


def _load_backbone_weights(module: nn.Module, directory: Path) -> None:
    weights_file = directory / "model.safetensors"
    if not weights_file.is_file():
        raise CheckpointError(f"{directory} has no model.safetensors")
    weights = load_file(str(weights_file))
    expected = module.state_dict()
    for key, tensor in weights.items():
        if key in expected and expected[key].shape != tensor.shape and key.endswith("word_embeddings.weight"):
            grown = expected[key].clone()  # new marker rows: the mean of the pretrained embeddings
            grown[: tensor.shape[0]] = tensor
            grown[tensor.shape[0] :] = tensor.mean(dim=0)
            weights[key] = grown
    missing, _ = module.load_state_dict({k: v for k, v in weights.items() if k in expected}, strict=False)
    # position_ids are buffers; a pooler head (BERT's) is never read by GLiClass and often not saved.
    missing = [k for k in missing if not k.endswith("position_ids") and not k.startswith("pooler.")]
    if missing:
        raise CheckpointError(f"{directory} lacks backbone weights: {missing[:5]}")


def classifier_from_backbone(
    backbone: str | Path,
    *,
    architecture: str = "bi-encoder",
    share_label_encoder: bool = True,
    logit_scale: float = 20.0,
    identity_projectors: bool = True,
    name: str | None = None,
    **config_overrides: Any,
) -> ZeroShotClassifier:
    """A new GLiClass classifier on a local backbone directory (config.json, model.safetensors, tokenizer).

    Uni-encoder and fused models get the three marker tokens added to the tokenizer (embedding rows grown).
    Defaults: mean pooling, simple (dot) scorer, normalised features, logit scale ``logit_scale``. ``name`` is
    recorded as the backbone's name in the config (default: the directory; give a hub id to keep local paths out
    of a checkpoint you share).
    """
    from transformers import AutoConfig, AutoTokenizer

    directory = Path(backbone)
    encoder_config = AutoConfig.from_pretrained(str(directory), trust_remote_code=False)
    encoder_config.name_or_path = name or str(directory)
    tokenizer = AutoTokenizer.from_pretrained(str(directory), trust_remote_code=False)
    label_tokenizer = None
    settings: dict[str, Any] = {
        "architecture_type": architecture,
        "pooling_strategy": "avg",
        "scorer_type": "simple",
        "normalize_features": True,
        "logit_scale_init_value": logit_scale,
        "problem_type": "multi_label_classification",
        "dropout": 0.0,
        "encoder_model_name": name or str(directory),
    }
    if architecture in ("bi-encoder", "bi-encoder-fused"):
        settings |= {"label_model_config": encoder_config.to_dict(), "label_model_name": name or str(directory)}
        label_tokenizer = AutoTokenizer.from_pretrained(str(directory), trust_remote_code=False)
    if architecture in ("uni-encoder", "bi-encoder-fused"):
        tokenizer.add_tokens(list(MARKERS), special_tokens=True)
        ids: list[int] = [tokenizer.convert_tokens_to_ids(marker) for marker in MARKERS]  # type: ignore[misc]
        settings |= {"class_token_index": ids[0], "text_token_index": ids[1], "example_token_index": ids[2]}
        settings["vocab_size"] = len(tokenizer)
    settings |= config_overrides
    config = GLiClassConfig(encoder_config=encoder_config.to_dict(), **settings)
    model = GLiClassModel(config)
    _load_backbone_weights(model.model.encoder_model, directory)
    if hasattr(model.model, "label_encoder"):
        if share_label_encoder:
            model.model.label_encoder = model.model.encoder_model
        else:
            _load_backbone_weights(model.model.label_encoder, directory)
    if identity_projectors:
        projectors = [model.model.text_projector, model.model.classes_projector]
        projectors += [model.model.biencoder_projector] if hasattr(model.model, "biencoder_projector") else []
        for projector in projectors:
            make_identity(projector)
    with torch.no_grad():
        model.model.logit_scale.fill_(logit_scale)
    return ZeroShotClassifier(model.eval(), tokenizer, label_tokenizer=label_tokenizer)
