"""A scripted scorer for the guards' verdict tests: gliclass-guards use any object with a compatible ``scores()``.

Tiny random models score arbitrarily, so tests that assert a verdict (this text fails, that one passes) put this
scorer in at the model seam: its score of a label follows a rule the test states, and it records every call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def keyword_score(text: str, label: str) -> float:
    """0.9 when the label's name (before any ': description') occurs in the text, else 0.1: a category is present,
    a rule is followed, when the text names it."""
    name = label.split(":")[0].strip().lower()
    return 0.9 if name in text.lower() else 0.1


def overlap_score(text: str, label: str) -> float:
    """The share of the label's words found in the text: a sentence (label) is supported by a context (text)."""
    wanted = words(label)
    return len(wanted & words(text)) / len(wanted) if wanted else 0.0


@dataclass
class ScriptedScorer:
    """A stand-in model: ``rule(text, label) -> score``; ``calls`` records each call; ``error`` makes it fail."""

    rule: Callable[[str, str], float] = keyword_score
    calls: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None

    def scores(
        self,
        texts: list[str],
        labels: list[str] | list[list[str]],
        *,
        multi_label: bool = True,
        prompt: str | Sequence[str] | None = None,
        label_descriptions: Mapping[str, str] | None = None,
        batch_size: int = 8,
    ) -> list[dict[str, float]]:
        self.calls.append({"texts": list(texts), "labels": labels, "prompt": prompt, "batch_size": batch_size})
        if self.error is not None:
            raise self.error
        per_text = labels if labels and not isinstance(labels[0], str) else [labels] * len(texts)
        return [
            {label: self.rule(text, label) for label in row}  # type: ignore[union-attr]
            for text, row in zip(texts, per_text, strict=True)
        ]
