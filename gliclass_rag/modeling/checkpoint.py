"""Finding and reading checkpoints safely: local directories or hub snapshots, safetensors only, never pickle."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError, UnsafeCheckpointError

__all__ = ["read_weights", "refuse_pickle_only", "resolve_checkpoint", "write_weights"]

WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# What a snapshot download fetches: configs, safetensors and tokenizer files; never pickle, never code.
HUB_PATTERNS = ("*.json", "*.safetensors", "*.txt", "*.model", "*.spm", "*.tiktoken", "**/*.json", "**/*.txt")


def resolve_checkpoint(
    name_or_path: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """A local checkpoint directory, or a hub repo id downloaded (safe files only) to the hub cache."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        msg = f"{str(name_or_path)!r} is a file; a GLiClass checkpoint is a directory (config.json, model.safetensors)"
        raise CheckpointError(msg)
    name = str(name_or_path)
    if name.count("/") != 1 or name.startswith((".", "/", "~")):
        msg = f"{name!r} is neither a local checkpoint directory nor a hub id of the form 'owner/name'"
        raise CheckpointError(msg)
    from huggingface_hub import snapshot_download

    try:
        snapshot = snapshot_download(
            name,
            revision=revision,
            cache_dir=None if cache_dir is None else str(cache_dir),
            allow_patterns=list(HUB_PATTERNS),
            local_files_only=bool(local_files_only),
        )
    except Exception as error:  # the hub client raises many types; all mean "could not get it"
        msg = (
            f"could not get {name!r} from the model hub ({type(error).__name__}: {error}). Offline? Pass a local "
            "directory, or call ZeroShotClassifier.from_pretrained() with no name for the embedded default model."
        )
        raise CheckpointError(msg) from error
    return Path(snapshot)


def _refuse_pickle(directory: Path) -> None:
    pickles = sorted(p.name for p in directory.iterdir() if p.suffix in PICKLE_SUFFIXES)
    msg = (
        f"{directory} has no safetensors weights"
        + (f" but pickle files {pickles}; gliclass-rag never unpickles weights." if pickles else ".")
        + " Convert them to model.safetensors with a tool you trust."
    )
    raise UnsafeCheckpointError(msg)


def refuse_pickle_only(directory: Path) -> None:
    """Raise :class:`UnsafeCheckpointError` when ``directory`` has pickle weights and no safetensors ones."""
    if (directory / WEIGHTS_NAME).is_file() or (directory / WEIGHTS_INDEX_NAME).is_file():
        return
    if any(p.suffix in PICKLE_SUFFIXES for p in directory.iterdir()):
        _refuse_pickle(directory)


def read_weights(directory: Path, *, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """All tensors of ``model.safetensors`` (or its sharded index) in ``directory``."""
    single = directory / WEIGHTS_NAME
    index = directory / WEIGHTS_INDEX_NAME
    if single.is_file():
        return load_file(single, device=str(device))
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        weights: dict[str, torch.Tensor] = {}
        for shard in shards:
            weights.update(load_file(directory / shard, device=str(device)))
        return weights
    _refuse_pickle(directory)
    raise AssertionError("unreachable")  # _refuse_pickle always raises


def write_weights(
    weights: Mapping[str, torch.Tensor], path: Path, *, metadata: Mapping[str, str] | None = None
) -> Path:
    """Write tensors to safetensors.

    Weights tied inside one module (a T5 backbone's ``shared`` and ``embed_tokens``) are written once, as
    transformers does; a backbone shared between ``model.encoder_model`` and ``model.label_encoder`` is written
    under both names, so that any loader (the reference included) finds every key.
    """
    seen: set[tuple[str, int, int, tuple[int, ...]]] = set()
    pointers: set[int] = set()
    tensor: torch.Tensor
    unique: dict[str, torch.Tensor] = {}
    for key, tensor in weights.items():
        module = ".".join(key.split(".")[:2])
        pointer = tensor.untyped_storage().data_ptr()
        storage = (module, pointer, int(tensor.storage_offset()), tuple(tensor.shape))
        if storage in seen:
            continue
        out = tensor.detach().cpu()
        unique[key] = (out.clone() if pointer in pointers else out).contiguous()  # safetensors refuses shared storage
        seen.add(storage)
        pointers.add(pointer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    save_file(unique, str(tmp), metadata={"format": "pt", **(metadata or {})})
    tmp.replace(path)  # never leave a half-written file under the final name
    return path


def aliases(named_tensors: Iterable[tuple[str, torch.Tensor]]) -> dict[str, list[str]]:
    """Groups of state-dict keys that share one tensor (tied weights): first key -> all keys."""
    groups: dict[int, list[str]] = {}
    for key, tensor in named_tensors:
        groups.setdefault(id(tensor), []).append(key)
    return {keys[0]: keys for keys in groups.values() if len(keys) > 1}
