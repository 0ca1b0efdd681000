"""What every component of this package shares: the ``model`` argument, its lazy resolution and argument checks.

A component accepts a model name or path, an already loaded :class:`~gliclass_rag.ZeroShotClassifier`, or None
(the embedded default model). Names and paths are resolved on first use (or by ``warm_up()``) through
:func:`gliclass_rag.resolve_classifier`, so components configured with the same name share one model per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, TypeAlias

import torch
from llama_index.core.schema import NodeWithScore

from gliclass_rag import InvalidInputError, ZeroShotClassifier, resolve_classifier

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "LazyClassifier",
    "ModelArg",
    "check_batch_size",
    "check_bool",
    "check_device",
    "check_dtype",
    "check_loading_options",
    "check_model",
    "check_nodes",
    "check_positive_int",
    "check_probability",
    "check_query",
    "model_display_name",
    "serializable_model",
]

ModelArg: TypeAlias = "str | os.PathLike[str] | ZeroShotClassifier | None"

EMBEDDED_MODEL_NAME = "gliclass-rag/embedded-default"


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_model(model: Any) -> str | ZeroShotClassifier | None:
    """The model argument as stored: a str (name or path), a loaded classifier, or None (the embedded default)."""
    if model is None or isinstance(model, ZeroShotClassifier):
        return model
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    if not isinstance(model, str):
        msg = f"model must be a name, a path, a ZeroShotClassifier or None, but got {type(model).__name__}: "
        raise InvalidInputError(msg + _shown(model))
    if not model.strip():
        raise InvalidInputError(
            f"model must be a non-empty name or path (or None for the embedded model), got {model!r}"
        )
    return model


def check_device(device: Any) -> str | None:
    if device is None:
        return None
    if isinstance(device, torch.device):
        return str(device)
    if isinstance(device, str):
        if device == "auto":
            return device
        try:
            return str(torch.device(device))
        except (RuntimeError, TypeError):
            pass
    raise InvalidInputError(f"device must be None, 'auto', 'cpu', 'cuda' or 'cuda:N', but got {_shown(device)}")


def check_dtype(dtype: Any) -> str | None:
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    if isinstance(dtype, str) and dtype.strip():
        return dtype  # the engine checks the name when the model is loaded
    raise InvalidInputError(f"dtype must be None or a name such as 'float32' or 'bfloat16', but got {_shown(dtype)}")


def check_loading_options(model: str | ZeroShotClassifier | None, device: str | None, dtype: str | None) -> None:
    if isinstance(model, ZeroShotClassifier) and (device is not None or dtype is not None):
        msg = (
            f"device={device!r} and dtype={dtype!r} apply when the model is loaded from a name or path; "
            "a loaded ZeroShotClassifier is used as it is (move it with classifier.to(device, dtype))"
        )
        raise InvalidInputError(msg)


def check_positive_int(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "a positive int or None" if optional else "a positive int"
        raise InvalidInputError(f"{name} must be {allowed}, but got {_shown(value)}")
    return value


def check_batch_size(value: Any) -> int:
    checked = check_positive_int(value, "batch_size")
    assert checked is not None
    return checked


def check_probability(value: Any, name: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        allowed = "a number in [0, 1] or None" if optional else "a number in [0, 1]"
        raise InvalidInputError(f"{name} must be {allowed}, but got {_shown(value)}")
    return float(value)


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False, but got {_shown(value)}")
    return value


def check_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError(f"the query must be a non-empty str, but got {_shown(query)}")
    return query


def check_nodes(nodes: Any) -> None:
    """A list of ``NodeWithScore`` (the message names the first item that is not one)."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise InvalidInputError(f"nodes must be a list of NodeWithScore, but got {type(nodes).__name__}")
    for index, node in enumerate(nodes):
        if not isinstance(node, NodeWithScore):
            raise InvalidInputError(f"nodes[{index}] must be a NodeWithScore, but got {type(node).__name__}")


def model_display_name(model: str | ZeroShotClassifier | None) -> str:
    """How events, logs and selection reasons name the model."""
    if model is None:
        return EMBEDDED_MODEL_NAME
    if isinstance(model, ZeroShotClassifier):
        return f"ZeroShotClassifier (in memory, {model.model.config.architecture_type})"
    return model


def serializable_model(model: str | ZeroShotClassifier | None, owner: str) -> str | None:
    """The model as settings can record it: a loaded classifier has no name to write, so it cannot be serialised."""
    if isinstance(model, ZeroShotClassifier):
        msg = (
            f"{owner} was given a loaded ZeroShotClassifier, which cannot be written as a setting; "
            "build it from a model name or path (components given the same name share one model in memory) "
            "to serialise it"
        )
        raise InvalidInputError(msg)
    return model


class LazyClassifier:
    """Resolves ``(model, device, dtype)`` to a shared classifier on first use and again whenever they change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._classifier: ZeroShotClassifier | None = None

    def get(self, model: str | ZeroShotClassifier | None, device: str | None, dtype: str | None) -> ZeroShotClassifier:
        key = (id(model) if isinstance(model, ZeroShotClassifier) else model, device, dtype)
        with self._lock:
            if self._classifier is None or self._key != key:
                self._classifier = resolve_classifier(model, device=device, dtype=dtype)
                self._key = key
            return self._classifier

    @property
    def loaded(self) -> bool:
        return self._classifier is not None

    def __reduce__(self) -> tuple[type[LazyClassifier], tuple[()]]:
        # copies and pickles start unresolved: the lock cannot be copied, and the model is shared, not duplicated
        return (LazyClassifier, ())
