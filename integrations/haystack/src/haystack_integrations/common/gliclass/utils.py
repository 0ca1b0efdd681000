"""What the gliclass-haystack components share: model loading and serialisation, argument checks, document text.

Private to this distribution (the components import it; users import the components). Checks raise the built-in
``ValueError`` / ``TypeError`` that Haystack components raise, naming the argument, the bad value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from haystack import Document
from haystack.core.errors import SerializationError
from haystack.utils import ComponentDevice

from gliclass_rag import ZeroShotClassifier, resolve_classifier

__all__ = [
    "ModelArg",
    "check_documents",
    "check_label_descriptions",
    "check_label_thresholds",
    "check_labels",
    "check_model",
    "check_positive_int",
    "check_probability",
    "document_text",
    "load_classifier",
    "serialize_model",
]

ModelArg: TypeAlias = str | Path | ZeroShotClassifier | None


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- the model ------------------------------------------------------------------------------------------------
def check_model(model: object, device: object, dtype: object, owner: str) -> None:
    """``model`` is a name/path, a loaded classifier or None; device and dtype only go with a model to load."""
    if model is not None and not isinstance(model, (str, Path, ZeroShotClassifier)):
        msg = (
            f"{owner}: model must be a model name, a checkpoint path, a loaded ZeroShotClassifier or None "
            f"(the embedded default model), but got {type(model).__name__}: {_shown(model)}"
        )
        raise TypeError(msg)
    if isinstance(model, str) and not model.strip():
        msg = f"{owner}: model is an empty string; pass a name or path, or None for the embedded default model"
        raise ValueError(msg)
    if device is not None and not isinstance(device, ComponentDevice):
        msg = f"{owner}: device must be a haystack.utils.ComponentDevice or None, but got {type(device).__name__}"
        raise TypeError(msg)
    if isinstance(device, ComponentDevice):
        device.to_torch_str()  # raises ValueError for a device map: one model lives on one device
    if dtype is not None and not isinstance(dtype, str):
        msg = f"{owner}: dtype must be a str such as 'float32', 'bfloat16' or 'float16', or None, but got {dtype!r}"
        raise TypeError(msg)
    if isinstance(model, ZeroShotClassifier) and (device is not None or dtype is not None):
        msg = (
            f"{owner}: device and dtype choose how the component loads its model, but a loaded ZeroShotClassifier "
            "was passed; move it yourself (classifier.to(device, dtype)) or pass its name or path instead"
        )
        raise ValueError(msg)


def load_classifier(model: ModelArg, device: ComponentDevice | None, dtype: str | None) -> ZeroShotClassifier:
    """The classifier for ``model``: itself when loaded, else the process-wide instance for that name/path."""
    torch_device = device.to_torch_str() if device is not None else None
    return resolve_classifier(model, device=torch_device, dtype=dtype)


def serialize_model(model: ModelArg, owner: str) -> str | None:
    """The ``model`` init argument as JSON: its name or path (None stays None: the embedded default model).

    A loaded :class:`ZeroShotClassifier` is written as the name or path it was loaded from
    (``ZeroShotClassifier.name_or_path``). One built in code, or the embedded default model passed as an instance,
    has none: ``SerializationError`` (pass ``None`` or the name or path instead; components given the same name or
    path share one instance in memory through :func:`gliclass_rag.resolve_classifier`).
    """
    if isinstance(model, ZeroShotClassifier):
        source = getattr(model, "name_or_path", None)
        if isinstance(source, str) and source:
            return source
        msg = (
            f"{owner} was given a loaded ZeroShotClassifier that does not record a name or path to load it from "
            "(built in code, or the embedded default model), so the component cannot be serialised. Pass the "
            "name or path as `model` instead (None for the embedded default model); components given the same "
            "name or path share one model in memory."
        )
        raise SerializationError(msg)
    return None if model is None else str(model)


# --- arguments ------------------------------------------------------------------------------------------------
def check_positive_int(value: object, name: str, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "an int >= 1 or None" if optional else "an int >= 1"
        msg = f"{name} must be {allowed}, but got {_shown(value)}"
        raise ValueError(msg)


def check_probability(value: object, name: str, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        allowed = "a number in [0, 1] or None" if optional else "a number in [0, 1]"
        msg = f"{name} must be {allowed}, but got {_shown(value)}"
        raise ValueError(msg)


def check_labels(labels: object, *, reserved: Sequence[str] = ()) -> list[str]:
    """A non-empty list of unique, non-blank label strings, none of them a reserved output name."""
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        msg = f"labels must be a list of str, but got {type(labels).__name__}: {_shown(labels)}"
        raise TypeError(msg)
    if not labels:
        msg = "labels is empty; give at least one label"
        raise ValueError(msg)
    seen: set[str] = set()
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            msg = f"labels[{index}] must be a str, but got {type(label).__name__}: {_shown(label)}"
            raise TypeError(msg)
        if not label.strip():
            msg = f"labels[{index}] is empty or whitespace: {label!r}"
            raise ValueError(msg)
        if label in seen:
            msg = f"labels has {label!r} twice; labels must be unique"
            raise ValueError(msg)
        if label in reserved:
            msg = f"labels[{index}] is {label!r}, a reserved output name ({', '.join(map(repr, reserved))})"
            raise ValueError(msg)
        seen.add(label)
    return list(labels)


def check_label_thresholds(thresholds: object, labels: Sequence[str]) -> None:
    if thresholds is None:
        return
    if not isinstance(thresholds, Mapping):
        msg = f"label_thresholds must be a dict label -> number in [0, 1] or None, but got {type(thresholds).__name__}"
        raise TypeError(msg)
    for label, value in thresholds.items():
        if label not in labels:
            msg = f"label_thresholds names {label!r}, which is not one of the labels {list(labels)}"
            raise ValueError(msg)
        check_probability(value, f"label_thresholds[{label!r}]")


def check_label_descriptions(descriptions: object, labels: Sequence[str]) -> None:
    if descriptions is None:
        return
    if not isinstance(descriptions, Mapping):
        msg = f"label_descriptions must be a dict label -> description or None, but got {type(descriptions).__name__}"
        raise TypeError(msg)
    for label, description in descriptions.items():
        if label not in labels:
            msg = f"label_descriptions names {label!r}, which is not one of the labels {list(labels)}"
            raise ValueError(msg)
        if not isinstance(description, str) or not description.strip():
            msg = f"label_descriptions[{label!r}] must be a non-empty str, but got {_shown(description)}"
            raise ValueError(msg)


def check_documents(documents: object, owner: str) -> None:
    if not isinstance(documents, list) or not all(isinstance(doc, Document) for doc in documents):
        msg = f"{owner} expects a list of Documents, but got {_shown(documents)}"
        raise TypeError(msg)


# --- documents ------------------------------------------------------------------------------------------------
def document_text(document: Document, classification_field: str | None) -> str | None:
    """The text a classifier reads: ``content``, or the meta field named; None when there is no text."""
    value: Any = document.content if classification_field is None else document.meta.get(classification_field)
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None
