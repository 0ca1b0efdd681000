"""Tiny GLiClass classifiers for the guards' tests (``gliclass_rag.testing``: no hub, no downloads), and a scripted
scorer. Scores of the tiny models are random but valid, which is what plumbing tests need (shapes, arguments, one
pass).

:class:`ScriptedScorer` is the backend seam for behaviour tests: a ``scores`` method whose scores follow a rule the
test states, recording every call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gliclass_rag import ZeroShotClassifier, testing


def build_classifier(architecture: str = "uni-encoder", *, seed: int = 0) -> ZeroShotClassifier:
    """A tiny seeded random classifier (uni-encoder or bi-encoder), from the engine's public test models."""
    return testing.build_classifier(architecture, seed=seed)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def overlap_score(text: str, label: str) -> float:
    """The share of the label's words found in the text (a support rule for hallucination tests)."""
    wanted = words(label)
    return len(wanted & words(text)) / len(wanted) if wanted else 0.0


def keyword_score(text: str, label: str) -> float:
    """0.9 when the label's name (before any ': description') occurs in the text, else 0.1."""
    name = label.split(":")[0].strip().lower()
    return 0.9 if name in text.lower() else 0.1


@dataclass
class ScriptedScorer:
    """A stand-in model: ``rule(text, label) -> score``; ``calls`` records the arguments of every call."""

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
        self.calls.append(
            {
                "texts": list(texts),
                "labels": labels,
                "multi_label": multi_label,
                "prompt": prompt,
                "label_descriptions": label_descriptions,
                "batch_size": batch_size,
            }
        )
        if self.error is not None:
            raise self.error
        per_text = labels if labels and not isinstance(labels[0], str) else [labels] * len(texts)
        return [
            {label: self.rule(text, label) for label in row}  # type: ignore[union-attr]
            for text, row in zip(texts, per_text, strict=True)
        ]
