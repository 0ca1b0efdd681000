"""Validation at the boundary: caller arguments -> a list of :class:`~gliclass_rag.inputs.Request`.

Every check names the bad value and what is allowed. Caller objects are read, never modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from .errors import InvalidInputError
from .inputs import Example, Request

__all__ = [
    "ExamplesArg",
    "LabelsArg",
    "build_requests",
    "flatten_labels",
    "normalize_texts",
    "validate_batch_size",
    "validate_threshold",
    "validate_top_k",
]

LabelsArg: TypeAlias = "Sequence[str] | Sequence[Sequence[str]] | Mapping[str, Any] | Sequence[Mapping[str, Any]]"
ExamplesArg: TypeAlias = "Sequence[Mapping[str, Any]] | Sequence[Sequence[Mapping[str, Any]] | None]"


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize_texts(texts: str | Sequence[str], what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, Sequence):
        raise InvalidInputError(f"{what} must be a str or a list of str, but got {type(texts).__name__}")
    out = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInputError(f"{what}[{index}] must be a str, but got {type(text).__name__}: {_shown(text)}")
        if not text.strip():
            raise InvalidInputError(f"{what}[{index}] is empty or whitespace: {_shown(text)}; give it some text")
        out.append(text)
    return out


def flatten_labels(
    labels: Mapping[str, Any] | Sequence[str] | str, prefix: str = "", separator: str = "."
) -> list[str]:
    """A (nested) dict of labels -> dot names: ``{"science": ["space"]}`` -> ``["science.space"]``."""
    if isinstance(labels, str):
        return [f"{prefix}{separator}{labels}" if prefix else labels]
    if isinstance(labels, Mapping):
        out: list[str] = []
        for key, value in labels.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"label group names must be str, but got {_shown(key)}")
            out += flatten_labels(value, f"{prefix}{separator}{key}" if prefix else key, separator)
        return out
    if isinstance(labels, Sequence):
        out = []
        for item in labels:
            if not isinstance(item, str):
                where = f" under {prefix!r}" if prefix else ""
                raise InvalidInputError(f"labels{where} must be str, but got {type(item).__name__}: {_shown(item)}")
            out.append(f"{prefix}{separator}{item}" if prefix else item)
        return out
    raise InvalidInputError(f"labels must be a list of str or a dict of them, but got {type(labels).__name__}")


def _label_list(labels: Any, where: str) -> tuple[str, ...]:
    flat = flatten_labels(labels) if isinstance(labels, Mapping) else labels
    if isinstance(flat, str) or not isinstance(flat, Sequence):
        raise InvalidInputError(f"{where} must be a list of str or a dict of them, but got {type(flat).__name__}")
    if not flat:
        raise InvalidInputError(f"{where} is empty; give at least one label")
    seen: set[str] = set()
    for index, label in enumerate(flat):
        if not isinstance(label, str):
            raise InvalidInputError(f"{where}[{index}] must be a str, but got {type(label).__name__}: {_shown(label)}")
        if not label.strip():
            raise InvalidInputError(f"{where}[{index}] is empty or whitespace: {_shown(label)}")
        if label in seen:
            raise InvalidInputError(f"{where} has the label {label!r} twice; labels must be unique")
        seen.add(label)
    return tuple(flat)


def _is_per_text(labels: Any) -> bool:
    return (
        isinstance(labels, Sequence)
        and not isinstance(labels, str)
        and len(labels) > 0
        and all(
            isinstance(item, Mapping) or (isinstance(item, Sequence) and not isinstance(item, str)) for item in labels
        )
    )


def label_sets(labels: LabelsArg, num_texts: int) -> list[tuple[str, ...]]:
    """One label tuple per text, from a shared list/dict or a list of lists/dicts (one per text)."""
    if _is_per_text(labels):
        assert isinstance(labels, Sequence)
        if len(labels) != num_texts:
            msg = f"labels has {len(labels)} label lists but there are {num_texts} texts; give one list per text"
            raise InvalidInputError(msg)
        return [_label_list(item, f"labels[{i}]") for i, item in enumerate(labels)]
    shared = _label_list(labels, "labels")
    return [shared] * num_texts


def _per_text(value: Any, num_texts: int, name: str) -> list[Any]:
    if value is None or isinstance(value, str):
        return [value] * num_texts
    if isinstance(value, Sequence):
        if len(value) != num_texts:
            raise InvalidInputError(f"{name} has {len(value)} items but there are {num_texts} texts")
        return list(value)
    raise InvalidInputError(f"{name} must be a str, a list of str (one per text) or None, not {type(value).__name__}")


def _prompts(prompt: str | Sequence[str] | None, num_texts: int) -> list[str | None]:
    prompts = _per_text(prompt, num_texts, "prompt")
    for index, item in enumerate(prompts):
        if item is not None and not isinstance(item, str):
            raise InvalidInputError(f"prompt[{index}] must be a str or None, but got {type(item).__name__}")
    return [p if p else None for p in prompts]


def _example(item: Any, where: str) -> Example:
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"{where} must be a dict with 'text' and 'labels', but got {type(item).__name__}")
    text = item.get("text")
    labels = item.get("labels", item.get("true_labels"))
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{where}['text'] must be a non-empty str, but got {_shown(text)}")
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not all(isinstance(x, str) for x in labels):
        raise InvalidInputError(f"{where}['labels'] must be a list of str, but got {_shown(labels)}")
    return Example(text, tuple(labels))


def _examples(examples: ExamplesArg | None, num_texts: int) -> list[tuple[Example, ...]]:
    if examples is None:
        return [()] * num_texts
    if isinstance(examples, (Mapping, str)) or not isinstance(examples, Sequence):
        raise InvalidInputError("examples must be a list of {'text', 'labels'} dicts, or one such list per text")
    if examples and all(
        item is None or (isinstance(item, Sequence) and not isinstance(item, str)) for item in examples
    ):
        if len(examples) != num_texts:
            raise InvalidInputError(f"examples has {len(examples)} lists but there are {num_texts} texts")
        return [
            tuple(_example(e, f"examples[{i}][{j}]") for j, e in enumerate(group or ()))
            for i, group in enumerate(examples)
        ]
    shared = tuple(_example(e, f"examples[{j}]") for j, e in enumerate(examples))
    return [shared] * num_texts


def _descriptions(descriptions: Mapping[str, str] | None, labels: tuple[str, ...]) -> tuple[str | None, ...]:
    if not descriptions or not any(label in descriptions for label in labels):
        return ()
    return tuple(descriptions.get(label) for label in labels)


def build_requests(
    texts: list[str],
    labels: LabelsArg,
    *,
    prompt: str | Sequence[str] | None = None,
    examples: ExamplesArg | None = None,
    label_descriptions: Mapping[str, str] | None = None,
) -> list[Request]:
    sets = label_sets(labels, len(texts))
    prompts = _prompts(prompt, len(texts))
    shots = _examples(examples, len(texts))
    known = {label for labels_ in sets for label in labels_}
    if label_descriptions is not None:
        if not isinstance(label_descriptions, Mapping):
            raise InvalidInputError(
                f"label_descriptions must be a dict label -> description, not {type(label_descriptions).__name__}"
            )
        for label, description in label_descriptions.items():
            if label not in known:
                raise InvalidInputError(f"label_descriptions names {label!r}, which is not one of the labels")
            if not isinstance(description, str) or not description.strip():
                raise InvalidInputError(f"label_descriptions[{label!r}] must be a non-empty str")
    return [
        Request(text, labels_, prompt_, shots_, _descriptions(label_descriptions, labels_))
        for text, labels_, prompt_, shots_ in zip(texts, sets, prompts, shots, strict=True)
    ]


def validate_threshold(threshold: float | Mapping[str, float], labels: set[str]) -> None:
    values = threshold.items() if isinstance(threshold, Mapping) else [("threshold", threshold)]
    for name, value in values:
        if isinstance(threshold, Mapping) and name not in labels:
            raise InvalidInputError(f"threshold names the label {name!r}, which is not one of the labels")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            raise InvalidInputError(f"threshold for {name!r} must be a number in [0, 1], but got {_shown(value)}")


def validate_top_k(top_k: int | None) -> None:
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise InvalidInputError(f"top_k must be a positive int or None, but got {_shown(top_k)}")


def validate_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"batch_size must be a positive int, but got {_shown(batch_size)}")
