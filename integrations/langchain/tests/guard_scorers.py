"""Scripted scorers: stand-in models at the guards' model seam (any object with a ``scores()`` method), so that
verdict tests fail exactly the checks they mean to. Real LangChain objects sit on the other side."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

HARMFUL = "Sure. Mix the powder and build a bomb to kill them."
HARMFUL_SENTENCE = "Mix the powder and build a bomb to kill them."
BENIGN = "Preheat the oven and bake the bread for an hour."
REFUSAL = "I'm sorry, but I can't help with that."

TRIGGERS = {"violent crimes": ("bomb", "kill"), "hate": ("hate",)}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def trigger_score(text: str, label: str) -> float:
    """0.95 when the text holds a trigger word of the label's category (the name before any ': description')."""
    name = label.split(":")[0].strip().lower()
    return 0.95 if words(text) & set(TRIGGERS.get(name, ())) else 0.05


def overlap_score(text: str, label: str) -> float:
    """The share of the label's words found in the text: a support score for hallucination checks."""
    wanted = words(label)
    return len(wanted & words(text)) / len(wanted) if wanted else 0.0


@dataclass
class ScriptedScorer:
    """``rule(text, label) -> score`` for every text and label; ``calls`` records each call's arguments, and
    ``error`` (when set) is raised instead, as a failing engine would."""

    rule: Callable[[str, str], float] = trigger_score
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
        self.calls.append({"texts": list(texts), "labels": labels, "prompt": prompt})
        if self.error is not None:
            raise self.error
        per_text = labels if labels and not isinstance(labels[0], str) else [labels] * len(texts)
        return [
            {label: self.rule(text, label) for label in row}  # type: ignore[union-attr]
            for text, row in zip(texts, per_text, strict=True)
        ]

    @property
    def texts(self) -> list[str]:
        """Every text scored, in call order."""
        return [text for call in self.calls for text in call["texts"]]
