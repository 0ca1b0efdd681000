"""Result types: frozen dataclasses, safe to share and compare."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LabelScore", "RankedPassage"]


@dataclass(frozen=True, order=False)
class LabelScore:
    """A label and its probability (sigmoid for multi-label, softmax over the text's labels for single-label)."""

    label: str
    score: float


@dataclass(frozen=True)
class RankedPassage:
    """A passage from :meth:`ZeroShotClassifier.rerank`: its position in the input, relevance score and text."""

    index: int
    score: float
    text: str
