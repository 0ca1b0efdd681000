"""Training data in the reference's JSON format, validated row by row, with the reference's augmentations.

A row: ``{"text": str, "all_labels": [str, ...], "true_labels": [str, ...] | {label: confidence}}`` and
optionally ``"examples": [{"text", "labels"}]``, ``"prompt": str``. Files are a JSON list or JSON lines
(``.jsonl``, streamed). A bad row raises :class:`DataError` naming the file, row number, field and problem.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from ..inputs import Example

__all__ = ["Augmentation", "DataError", "TrainingExample", "augment", "load_examples", "parse_example"]


class DataError(InvalidInputError):
    """A training row is malformed; the message names where and why."""


@dataclass(frozen=True)
class TrainingExample:
    text: str
    all_labels: tuple[str, ...]
    targets: tuple[float, ...]  # one in [0, 1] per label of all_labels
    examples: tuple[Example, ...] = ()
    prompt: str | None = None

    @property
    def true_labels(self) -> tuple[str, ...]:
        return tuple(label for label, t in zip(self.all_labels, self.targets, strict=True) if t > 0.5)


def _fail(where: str, field_name: str, problem: str) -> DataError:
    return DataError(f"{where}: field {field_name!r}: {problem}")


def parse_example(row: Any, where: str = "row") -> TrainingExample:
    """Validate one row of the reference format."""
    if not isinstance(row, Mapping):
        raise DataError(f"{where}: a row must be a JSON object, got {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _fail(where, "text", "must be a non-empty string")
    labels = row.get("all_labels")
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
        raise _fail(where, "all_labels", "must be a non-empty list of strings")
    if not all(isinstance(label, str) and label.strip() for label in labels):
        raise _fail(where, "all_labels", "every label must be a non-empty string")
    if len(set(labels)) != len(labels):
        raise _fail(where, "all_labels", "has duplicate labels")
    true = row.get("true_labels", [])
    if isinstance(true, Mapping):
        unknown = [label for label in true if label not in labels]
        bad = [
            label
            for label, v in true.items()
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1
        ]
        if unknown:
            raise _fail(where, "true_labels", f"names labels not in all_labels: {unknown[:5]}")
        if bad:
            raise _fail(where, "true_labels", f"confidences must be numbers in [0, 1]: {bad[:5]}")
        targets = tuple(float(true.get(label, 0.0)) for label in labels)
    elif isinstance(true, Sequence) and not isinstance(true, str):
        unknown = [label for label in true if label not in labels]
        if unknown:
            raise _fail(where, "true_labels", f"names labels not in all_labels: {unknown[:5]}")
        targets = tuple(1.0 if label in true else 0.0 for label in labels)
    else:
        raise _fail(where, "true_labels", "must be a list of labels or a {label: confidence} object")
    examples = []
    for i, example in enumerate(row.get("examples") or []):
        if not isinstance(example, Mapping) or not isinstance(example.get("text"), str):
            raise _fail(where, f"examples[{i}]", "must be an object with a 'text' string and 'labels'")
        ex_labels = example.get("labels", example.get("true_labels", []))
        if (
            isinstance(ex_labels, str)
            or not isinstance(ex_labels, Sequence)
            or not all(isinstance(x, str) for x in ex_labels)
        ):
            raise _fail(where, f"examples[{i}].labels", "must be a list of strings")
        examples.append(Example(example["text"], tuple(ex_labels)))
    prompt = row.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise _fail(where, "prompt", "must be a string")
    return TrainingExample(text, tuple(labels), targets, tuple(examples), prompt or None)


def _rows(path: Path) -> Iterator[tuple[str, Any]]:
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield f"{path}:{number}", json.loads(line)
                except json.JSONDecodeError as error:
                    raise DataError(f"{path}:{number}: not valid JSON ({error.msg})") from error
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from error
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of rows (or a .jsonl file)")
    for number, row in enumerate(data):
        yield f"{path}[{number}]", row


def load_examples(source: str | Path | Iterable[Mapping[str, Any]]) -> Iterator[TrainingExample]:
    """Validated examples from a .json / .jsonl file (streamed) or an iterable of row dicts."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{path}: no such training file")
        for where, row in _rows(path):
            yield parse_example(row, where)
        return
    for number, row in enumerate(source):
        yield parse_example(row, f"row {number}")


@dataclass(frozen=True)
class Augmentation:
    """Training-time changes to a row (the reference's augmentations, seeded by the trainer's RNG).

    shuffle_labels: label order shuffled per row. max_labels: label sets longer than this are cut to it, keeping
    the true labels (None: keep all). negatives: extra negative labels drawn from ``label_pool``, up to this many
    per row. descriptions: label -> description; with probability ``description_prob`` some are written beside
    the text as ``"label: description"`` sentences. drop_examples_prob: chance to drop a row's examples.
    """

    shuffle_labels: bool = True
    max_labels: int | None = None
    negatives: int = 0
    label_pool: tuple[str, ...] = ()
    descriptions: Mapping[str, str] = field(default_factory=dict)
    description_prob: float = 0.0
    drop_examples_prob: float = 0.0

    def __post_init__(self) -> None:
        if self.max_labels is not None and self.max_labels < 1:
            raise InvalidInputError(f"max_labels must be >= 1 or None, but got {self.max_labels}")
        for name in ("description_prob", "drop_examples_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidInputError(f"{name} must be in [0, 1], but got {value}")
        if self.negatives < 0:
            raise InvalidInputError(f"negatives must be >= 0, but got {self.negatives}")


def augment(example: TrainingExample, spec: Augmentation, rng: random.Random) -> TrainingExample:
    """A new, augmented example (the input is not modified)."""
    pairs = list(zip(example.all_labels, example.targets, strict=True))
    if spec.negatives and spec.label_pool:
        present = set(example.all_labels)
        extra = [label for label in rng.sample(spec.label_pool, min(len(spec.label_pool), spec.negatives * 2))]
        pairs += [(label, 0.0) for label in extra if label not in present][: spec.negatives]
    if spec.max_labels is not None and len(pairs) > spec.max_labels:
        positives = [p for p in pairs if p[1] > 0]
        negatives = [p for p in pairs if p[1] <= 0]
        keep = max(0, spec.max_labels - len(positives))
        pairs = positives[: spec.max_labels] + rng.sample(negatives, min(keep, len(negatives)))
    if spec.shuffle_labels:
        rng.shuffle(pairs)
    text = example.text
    if spec.descriptions and rng.random() < spec.description_prob:
        described = [f"{label}: {spec.descriptions[label]}" for label, _ in pairs if label in spec.descriptions]
        if described:
            chosen = rng.sample(described, rng.randint(1, min(3, len(described))))
            text = f"{text} {' '.join(chosen)}"
    examples = example.examples if rng.random() >= spec.drop_examples_prob else ()
    labels, targets = zip(*pairs, strict=True)
    return TrainingExample(text, tuple(labels), tuple(targets), examples, example.prompt)
