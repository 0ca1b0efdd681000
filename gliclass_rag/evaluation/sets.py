"""The containers of evaluation data: texts with gold labels, and text pairs with a label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LabelledSet", "PairSet"]


@dataclass(frozen=True)
class LabelledSet:
    """Texts with gold label names.

    Attributes:
        name: the set's name, as given to :func:`load_labelled`.
        texts: one text a row.
        gold: the gold label names of each row (one name for single-label sets), humanised, each in ``labels``.
        labels: every label name of the set, humanised, in a fixed order; may include labels absent from a split.
        multi_label: whether a row may hold several gold labels.
        split: the split the rows come from (``train``, ``dev``, ``test`` or ``all``).
        skipped: rows dropped while reading (malformed, duplicated or contradictory).
    """

    name: str
    texts: tuple[str, ...]
    gold: tuple[tuple[str, ...], ...]
    labels: tuple[str, ...]
    multi_label: bool = False
    split: str = "all"
    skipped: int = 0

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.gold):
            msg = f"{self.name}: texts and gold need one entry a row, but got {len(self.texts)} and {len(self.gold)}"
            raise ValueError(msg)
        if len(set(self.labels)) != len(self.labels):
            msg = f"{self.name}: label names must be unique, but got {list(self.labels)}"
            raise ValueError(msg)
        known = set(self.labels)
        for row, names in enumerate(self.gold):
            if not names or (not self.multi_label and len(names) != 1):
                wanted = "gold labels" if self.multi_label else "one gold label"
                msg = f"{self.name}: row {row} needs {wanted}, but got {names}"
                raise ValueError(msg)
            unknown = [name for name in names if name not in known]
            if unknown:
                msg = f"{self.name}: row {row} has gold labels {unknown} outside the label set"
                raise ValueError(msg)

    def __len__(self) -> int:
        return len(self.texts)

    def select(self, indices: Sequence[int]) -> LabelledSet:
        """The rows at ``indices``, in that order (label set, flags and name unchanged)."""
        return LabelledSet(
            name=self.name,
            texts=tuple(self.texts[index] for index in indices),
            gold=tuple(self.gold[index] for index in indices),
            labels=self.labels,
            multi_label=self.multi_label,
            split=self.split,
            skipped=self.skipped,
        )


@dataclass(frozen=True)
class PairSet:
    """Text pairs with a label: premise / hypothesis / NLI label, or query / passage / 0|1.

    Attributes:
        name: the set's name, as given to :func:`load_pairs`.
        first: the premise (``sick``, ``snli``) or the query (``qnli``) of each row.
        second: the hypothesis or the passage of each row.
        label: ``entailment`` / ``neutral`` / ``contradiction``, or 1 (the passage answers the query) / 0.
        split: the split the rows come from.
        skipped: rows dropped while reading.
    """

    name: str
    first: tuple[str, ...]
    second: tuple[str, ...]
    label: tuple[str | int, ...]
    split: str = "all"
    skipped: int = 0

    def __post_init__(self) -> None:
        if not len(self.first) == len(self.second) == len(self.label):
            msg = (
                f"{self.name}: first, second and label must have one entry a row, "
                f"but got {len(self.first)}, {len(self.second)} and {len(self.label)}"
            )
            raise ValueError(msg)

    def __len__(self) -> int:
        return len(self.first)

    def select(self, indices: Sequence[int]) -> PairSet:
        """The rows at ``indices``, in that order."""
        return PairSet(
            name=self.name,
            first=tuple(self.first[index] for index in indices),
            second=tuple(self.second[index] for index in indices),
            label=tuple(self.label[index] for index in indices),
            split=self.split,
            skipped=self.skipped,
        )
