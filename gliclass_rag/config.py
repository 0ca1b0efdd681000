"""GLiClassConfig: every field of the reference checkpoint config, with the same defaults.

A checkpoint's ``config.json`` is read with :meth:`GLiClassConfig.from_dict`; keys we do not know are kept in
``extra`` and written back unchanged, so newer checkpoints load and round-trip. Our own metadata lives in one
namespaced block, ``"gliclass_rag": {"version": ..., ...}``, which the reference library ignores.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version
from transformers import PretrainedConfig

from ._version import __version__
from .errors import CheckpointError, ConfigError
from .modeling.registry import ARCHITECTURES, POOLERS, SCORERS

__all__ = ["CONFIG_NAME", "NAMESPACE", "GLiClassConfig"]

CONFIG_NAME = "config.json"
NAMESPACE = "gliclass_rag"
CLASS_TOKEN_POOLINGS = ("first", "average")
PROBLEM_TYPES = ("single_label_classification", "multi_label_classification", "regression")


def _backbone_config(value: Any, field_name: str) -> PretrainedConfig:
    """Rebuild a transformers backbone config from a dict by its ``model_type`` (never via remote code)."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if isinstance(value, PretrainedConfig):
        return value
    if value is None:
        return CONFIG_MAPPING["deberta-v2"]()
    if not isinstance(value, Mapping):
        msg = f"{field_name} must be a dict or a transformers config, but got {type(value).__name__}"
        raise ConfigError(msg)
    data = dict(value)
    model_type = data.pop("model_type", "deberta-v2")
    if model_type not in CONFIG_MAPPING:
        msg = (
            f"{field_name} has model_type {model_type!r}, which this transformers version does not know; "
            "gliclass-rag never loads remote code for a backbone"
        )
        raise ConfigError(msg)
    return CONFIG_MAPPING[model_type](**data)


@dataclass(frozen=True)
class GLiClassConfig:
    """Configuration of a GLiClass model (same field names and defaults as the reference library)."""

    encoder_config: PretrainedConfig = field(default_factory=lambda: _backbone_config(None, "encoder_config"))
    encoder_model_name: str | None = None
    label_model_config: PretrainedConfig | None = None
    label_model_name: str | None = None
    class_token_index: int = -1
    text_token_index: int = -1
    example_token_index: int = -1
    ignore_index: int = -100
    hidden_size: int | None = None
    projector_hidden_act: str = "gelu"
    vocab_size: int | None = None
    problem_type: str = "single_label_classification"
    max_num_classes: int = 25
    use_lstm: bool = False
    initializer_range: float = 0.03
    scorer_type: str = "simple"
    scorer_num_heads: int = 16
    scorer_mlp_hidden_size: int = 1024
    scorer_attn_dropout: float = 0.1
    pooling_strategy: str = "first"
    class_token_pooling: str = "first"
    focal_loss_alpha: float = 0.5
    focal_loss_gamma: float = 2
    focal_loss_reduction: str | None = None
    logit_scale_init_value: float = 2.6592
    normalize_features: bool = False
    extract_text_features: bool = False
    max_labels_alloc: str | int = "dynamic"
    contrastive_loss_coef: float = 0
    architecture_type: str = "uni-encoder"
    prompt_first: bool = False
    squeeze_layers: bool = False
    layer_wise: bool = False
    encoder_layer_id: int = -1
    embed_class_token: bool = True
    dropout: float = 0.1
    use_segment_embeddings: bool = False
    scorer_encoder_num_layers: int = 2
    scorer_full_sequence: bool = False
    recurrent_steps: int = 1
    recurrent_min_steps: int = 1
    recurrent_inference: bool = True
    recurrent_inference_max_steps: int | None = None
    recurrent_halt_threshold: float = 0.01
    recurrent_improvement_coef: float = 0.1
    recurrent_improvement_margin: float = 0.05
    recurrent_bptt_steps: int | None = None
    recurrent_read_text: bool = False
    recurrent_confidence_coef: float = 0.0
    recurrent_confidence_mode: str = "relative"
    recurrent_confidence_margin: float = 0.0
    use_calibrator: bool = False
    calibrator_hidden_size: int = 256
    calibrator_beta_max: float = 3.0
    calibrator_dropout: float = 0.1
    calibrator_use_bias: bool = False
    multimodal: bool = False
    freeze_media_encoders: bool = True
    use_embedding_projection: bool | None = None
    # Our namespaced block ("gliclass_rag" in config.json): version stamp, pipeline defaults, calibration, ...
    rag: Mapping[str, Any] = field(default_factory=dict)
    # Keys of config.json that none of the fields above name; written back unchanged.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: resolve derived defaults once, as the reference does in __init__
        set_(self, "encoder_config", _backbone_config(self.encoder_config, "encoder_config"))
        if self.label_model_name is not None or self.label_model_config is not None:
            set_(self, "label_model_config", _backbone_config(self.label_model_config, "label_model_config"))
        text_config = self.encoder_config.get_text_config()
        if self.hidden_size is None:
            set_(self, "hidden_size", int(text_config.hidden_size))
        if self.vocab_size is None:
            set_(self, "vocab_size", int(text_config.vocab_size))
        vocab = int(self.vocab_size)  # type: ignore[arg-type]
        for offset, name in enumerate(("class_token_index", "text_token_index", "example_token_index")):
            if getattr(self, name) == -1:
                set_(self, name, vocab + offset)
        set_(self, "rag", dict(self.rag))
        set_(self, "extra", dict(self.extra))
        self._validate()

    def _validate(self) -> None:
        ARCHITECTURES.get(self.architecture_type, field_name="architecture_type")
        POOLERS.get(self.pooling_strategy, field_name="pooling_strategy")
        SCORERS.get(self.scorer_type, field_name="scorer_type")
        if self.class_token_pooling not in CLASS_TOKEN_POOLINGS:
            msg = f"class_token_pooling must be one of {CLASS_TOKEN_POOLINGS}, but got {self.class_token_pooling!r}"
            raise ConfigError(msg)
        if self.problem_type not in PROBLEM_TYPES:
            msg = f"problem_type must be one of {PROBLEM_TYPES}, but got {self.problem_type!r}"
            raise ConfigError(msg)
        if self.scorer_type == "cross-attn" and self.pooling_strategy != "pass":
            msg = "scorer_type 'cross-attn' attends over text tokens and needs pooling_strategy 'pass'"
            raise ConfigError(msg)
        if self.pooling_strategy == "pass" and self.scorer_type != "cross-attn":
            msg = f"pooling_strategy 'pass' only works with scorer 'cross-attn', not {self.scorer_type!r}"
            raise ConfigError(msg)
        uses_label_encoder = ARCHITECTURES.get(self.architecture_type).uses_label_encoder
        if uses_label_encoder and self.label_model_config is None:
            msg = f"architecture_type {self.architecture_type!r} needs label_model_config (or label_model_name)"
            raise ConfigError(msg)
        heads = self.scorer_num_heads
        if self.scorer_type == "cross-attn" and (self.hidden_size or 0) % heads:
            msg = f"hidden_size {self.hidden_size} must be divisible by scorer_num_heads {heads}"
            raise ConfigError(msg)

    # --- derived -------------------------------------------------------------------------------------------
    @property
    def encoder_hidden_size(self) -> int:
        return int(self.encoder_config.get_text_config().hidden_size)

    @property
    def pad_token_id(self) -> int | None:
        pad = getattr(self.encoder_config.get_text_config(), "pad_token_id", None)
        return None if pad is None else int(pad)

    @property
    def multi_label(self) -> bool:
        return self.problem_type == "multi_label_classification"

    def replace(self, **changes: Any) -> GLiClassConfig:
        """A copy with some fields changed (the config is frozen)."""
        return dataclasses.replace(self, **changes)

    # --- (de)serialisation --------------------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("rag", "extra"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GLiClassConfig:
        """Build from a ``config.json`` dict; unknown keys are kept in ``extra``."""
        data = dict(data)
        model_type = data.pop("model_type", "GLiClass")
        if model_type != "GLiClass":
            msg = f"config model_type must be 'GLiClass', but got {model_type!r}"
            raise ConfigError(msg)
        if "encoder_model" in data:  # the reference's __init__ argument name for encoder_model_name
            name = data.pop("encoder_model")
            data.setdefault("encoder_model_name", name)
        rag = data.pop(NAMESPACE, {}) or {}
        known = set(cls.field_names())
        kwargs = {key: data.pop(key) for key in list(data) if key in known}
        data.pop("transformers_version", None)
        data.pop("pad_token_id", None)  # derived from the backbone, as in the reference
        config = cls(**kwargs, rag=rag, extra=data)
        config._warn_if_newer()
        return config

    def _warn_if_newer(self) -> None:
        saved = self.rag.get("version")
        if not saved:
            return
        try:
            newer = Version(str(saved)) > Version(__version__)
        except InvalidVersion:
            return
        if newer:
            warnings.warn(
                f"This checkpoint was saved by gliclass-rag {saved}, newer than the installed {__version__}; "
                "upgrade gliclass-rag if loading or scores look wrong.",
                stacklevel=3,
            )

    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` dict: reference fields, extras, and our namespaced block stamped with our version."""
        out: dict[str, Any] = dict(self.extra)
        for name in self.field_names():
            value = getattr(self, name)
            if isinstance(value, PretrainedConfig):
                value = value.to_dict()
                value.pop("transformers_version", None)
            out[name] = value
        out["model_type"] = "GLiClass"
        out["architectures"] = ["GLiClassModel"]
        out["pad_token_id"] = self.pad_token_id
        out[NAMESPACE] = {**self.rag, "version": __version__}
        return out

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> GLiClassConfig:
        path = Path(directory) / CONFIG_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            msg = f"no {CONFIG_NAME} in {directory!s}: not a GLiClass checkpoint directory"
            raise CheckpointError(msg) from error
        except json.JSONDecodeError as error:
            msg = f"{path} is not valid JSON: {error}"
            raise CheckpointError(msg) from error
        return cls.from_dict(data)

    def save_pretrained(self, directory: str | Path) -> Path:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        target = path / CONFIG_NAME
        target.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        return target
