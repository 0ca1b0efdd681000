"""One model in memory for many components: resolve a name, path or loaded classifier to a shared instance."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .errors import InvalidInputError
from .pipeline import ZeroShotClassifier, default_model_path, parse_device, parse_dtype

__all__ = ["ModelSpec", "clear_shared_classifiers", "resolve_classifier"]

ModelSpec = str | os.PathLike[str] | ZeroShotClassifier | None

_lock = threading.Lock()
_loaded: dict[tuple[str, str, str | None], ZeroShotClassifier] = {}
_loading: dict[tuple[str, str, str | None], threading.Lock] = {}


def resolve_classifier(
    model: ModelSpec = None, *, device: str | None = None, dtype: str | None = None
) -> ZeroShotClassifier:
    """A loaded classifier: ``model`` itself when it is one, else the process-wide instance loaded for that
    name/path (None: the embedded default model), device and dtype, so that components configured with the same
    name share one model in memory."""
    if isinstance(model, ZeroShotClassifier):
        return model
    if model is not None and not isinstance(model, (str, os.PathLike)):
        raise InvalidInputError(
            f"model must be a name, a path, a ZeroShotClassifier or None, not {type(model).__name__}"
        )
    name = str(default_model_path() if model is None else model)
    if Path(name).expanduser().is_dir():
        name = str(Path(name).expanduser().resolve())
    # Normalised, so that None / "auto" / "cpu" or "bf16" / "bfloat16" share one instance.
    parsed_dtype = parse_dtype(dtype)
    key = (name, str(parse_device(device)), None if parsed_dtype is None else str(parsed_dtype))
    with _lock:  # held only to find the entry; the load itself holds a lock of its own key
        if key in _loaded:
            return _loaded[key]
        loading = _loading.setdefault(key, threading.Lock())
    with loading:
        if key not in _loaded:
            classifier = ZeroShotClassifier.from_pretrained(
                None if model is None else name, device=parse_device(device), dtype=parsed_dtype
            )
            with _lock:
                _loaded[key] = classifier
        return _loaded[key]


def clear_shared_classifiers() -> None:
    """Forget the shared instances (they are freed once no component holds them)."""
    with _lock:
        _loaded.clear()
