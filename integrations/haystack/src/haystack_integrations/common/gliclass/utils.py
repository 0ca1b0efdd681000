"""What the gliclass-haystack components share: the model half of a component (lazy loading, serialisation), argument
checks, document text.

Private to this distribution (the components import it; users import the components). Checks raise the built-in
``ValueError`` / ``TypeError`` that Haystack components raise, naming the argument, the bad value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeAlias, TypeVar

from haystack import Document, default_from_dict, default_to_dict
from haystack.core.errors import SerializationError
from haystack.utils import ComponentDevice

from gliclass_rag import ZeroShotClassifier, resolve_classifier

__all__ = [
    "ModelArg",
    "ModelComponent",
    "check_bool",
    "check_documents",
    "check_label_descriptions",
    "check_label_thresholds",
    "check_labels",
    "check_model",
    "check_optional_str",
    "check_positive_int",
    "check_probability",
    "document_text",
    "load_classifier",
    "serialize_model",
    "torch_device",
]

ModelArg: TypeAlias = str | Path | ZeroShotClassifier | None
_C = TypeVar("_C", bound="ModelComponent")


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- the model ------------------------------------------------------------------------------------------------
def _is_scorer(model: object) -> bool:
    return callable(getattr(model, "scores", None))


def check_model(model: object, device: object, dtype: object, owner: str, *, scorers: bool = False) -> None:
    """``model`` is a name/path, a loaded classifier or None; device and dtype only go with a model to load.

    ``scorers=True`` also accepts any object with a ``scores()`` method (what gliclass-guards accepts).
    """
    loaded = isinstance(model, ZeroShotClassifier) or (scorers and _is_scorer(model))
    if model is not None and not loaded and not isinstance(model, (str, Path)):
        scorer = ", an object with a compatible scores() method" if scorers else ""
        msg = (
            f"{owner}: model must be a model name, a checkpoint path, a loaded ZeroShotClassifier{scorer} or None "
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
    if loaded and (device is not None or dtype is not None):
        msg = (
            f"{owner}: device and dtype choose how the component loads its model, but a loaded "
            f"{type(model).__name__} was passed; move it yourself (classifier.to(device, dtype)) or pass its name or "
            "path instead"
        )
        raise ValueError(msg)


def torch_device(device: ComponentDevice | None) -> str | None:
    """The torch device string of a single-device ``ComponentDevice`` (None: let gliclass-rag choose)."""
    return device.to_torch_str() if device is not None else None


def load_classifier(model: ModelArg, device: ComponentDevice | None, dtype: str | None) -> ZeroShotClassifier:
    """The classifier for ``model``: itself when loaded, else the process-wide instance for that name/path."""
    return resolve_classifier(model, device=torch_device(device), dtype=dtype)


def serialize_model(model: ModelArg, owner: str) -> str | None:
    """The ``model`` init argument as JSON: its name or path (None stays None: the embedded default model).

    A loaded :class:`ZeroShotClassifier` is written as the name or path it was loaded from
    (``ZeroShotClassifier.name_or_path``), and the embedded default model loaded as an instance as None
    (``ZeroShotClassifier.is_embedded_default``). One built in code has neither: ``SerializationError`` (pass the
    name or path instead; components given the same name or path share one instance in memory through
    :func:`gliclass_rag.resolve_classifier`). Any other loaded object (a scorer given to a guard) has no name
    either: ``SerializationError``.
    """
    if model is not None and not isinstance(model, (str, Path, ZeroShotClassifier)):
        msg = (
            f"{owner} was given a loaded {type(model).__name__} as its model, which has no name or path to write, "
            "so the component cannot be serialised. Pass the name or path as `model` instead (None for the embedded "
            "default model)."
        )
        raise SerializationError(msg)
    if isinstance(model, ZeroShotClassifier):
        if getattr(model, "is_embedded_default", False):
            return None
        source = getattr(model, "name_or_path", None)
        if isinstance(source, str) and source:
            return source
        msg = (
            f"{owner} was given a loaded ZeroShotClassifier that does not record a name or path to load it from "
            "(built in code), so the component cannot be serialised. Save it (save_pretrained) and pass its path as "
            "`model` instead; components given the same name or path share one model in memory."
        )
        raise SerializationError(msg)
    return None if model is None else str(model)


class ModelComponent:
    """The half every gliclass-haystack component shares: its model, lazy loading, ``to_dict`` / ``from_dict``.

    A component calls :meth:`_init_model` in ``__init__`` and lists in ``_serialized`` the other init parameters
    that ``to_dict`` writes (each stored under its own name); ``model``, ``device`` and ``dtype`` are always written.
    """

    _serialized: ClassVar[tuple[str, ...]] = ()
    model: Any
    device: ComponentDevice | None
    dtype: str | None
    _classifier: ZeroShotClassifier | None

    def _init_model(self, model: ModelArg, device: ComponentDevice | None, dtype: str | None) -> None:
        check_model(model, device, dtype, type(self).__name__)
        self.model = model
        self.device = device
        self.dtype = dtype
        self._classifier = model if isinstance(model, ZeroShotClassifier) else None

    def warm_up(self) -> None:
        """Load the model (once; later calls do nothing)."""
        if self._classifier is None:
            self._classifier = load_classifier(self.model, self.device, self.dtype)

    def _loaded(self) -> ZeroShotClassifier:
        self.warm_up()
        assert self._classifier is not None
        return self._classifier

    def _init_parameters(self) -> dict[str, Any]:
        """The init parameters ``to_dict`` writes, besides model, device and dtype."""
        return {name: getattr(self, name) for name in self._serialized}

    def to_dict(self) -> dict[str, Any]:
        """Serialize the component to a dictionary.

        :returns: The init parameters, with `model` as its name or path (`None`: the embedded default model).
        :raises SerializationError: If the component was given a loaded model that records no name or path.
        """
        model = serialize_model(self.model, type(self).__name__)
        return default_to_dict(self, **self._init_parameters(), model=model, device=self.device, dtype=self.dtype)

    @classmethod
    def from_dict(cls: type[_C], data: dict[str, Any]) -> _C:
        """Deserialize the component from a dictionary made by `to_dict`.

        :param data: The dictionary to deserialize from.
        :returns: The deserialized component.
        """
        return default_from_dict(cls, data)


# --- arguments ------------------------------------------------------------------------------------------------
def check_bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        msg = f"{name} must be True or False, but got {_shown(value)}"
        raise TypeError(msg)


def check_optional_str(value: object, name: str) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{name} must be a str or None, but got {type(value).__name__}: {_shown(value)}"
        raise TypeError(msg)


def _check_number(value: object, name: str, allowed: str, valid: bool, optional: bool) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not valid:
        msg = f"{name} must be {allowed}{' or None' if optional else ''}, but got {_shown(value)}"
        raise ValueError(msg)


def check_positive_int(value: object, name: str, *, optional: bool = False) -> None:
    valid = isinstance(value, int) and value >= 1
    _check_number(value, name, "an int >= 1", valid, optional)


def check_probability(value: object, name: str, *, optional: bool = False) -> None:
    valid = isinstance(value, (int, float)) and 0.0 <= float(value) <= 1.0
    _check_number(value, name, "a number in [0, 1]", valid, optional)


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


def _check_label_map(value: object, labels: Sequence[str], name: str, values: str) -> Mapping[Any, Any]:
    """``value`` is None or a dict keyed by some of the labels (its values are checked by the caller)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = f"{name} must be a dict label -> {values} or None, but got {type(value).__name__}"
        raise TypeError(msg)
    for label in value:
        if label not in labels:
            msg = f"{name} names {label!r}, which is not one of the labels {list(labels)}"
            raise ValueError(msg)
    return value


def check_label_thresholds(thresholds: object, labels: Sequence[str]) -> None:
    for label, value in _check_label_map(thresholds, labels, "label_thresholds", "number in [0, 1]").items():
        check_probability(value, f"label_thresholds[{label!r}]")


def check_label_descriptions(descriptions: object, labels: Sequence[str]) -> None:
    for label, description in _check_label_map(descriptions, labels, "label_descriptions", "description").items():
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
