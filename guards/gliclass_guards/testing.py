"""A scripted scorer for tests of code built on the guards (adapters, pipelines): a stand-in at the model seam.

Tiny random models score arbitrarily, so a test that asserts a verdict (this text fails, that one passes) gives a
guard a :class:`ScriptedScorer` as its ``model``: its score of a label follows a rule the test states, and it
records every call. For plumbing tests on real (tiny, random) models see :mod:`gliclass_rag.testing`.

>>> from gliclass_guards import SafetyGuard
>>> from gliclass_guards.testing import ScriptedScorer
>>> SafetyGuard(ScriptedScorer(), categories=["spam"]).check("buy spam now").passed
False
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ScriptedScorer", "keyword_score", "overlap_score", "words"]


def words(text: str) -> set[str]:
    """The lower-cased words (letters and digits) of ``text``."""
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def keyword_score(text: str, label: str) -> float:
    """0.9 when the label's name (before any ``": description"``) occurs in the text, else 0.1: a category is
    present, a rule is followed, when the text names it."""
    name = label.split(":")[0].strip().lower()
    return 0.9 if name in text.lower() else 0.1


def overlap_score(text: str, label: str) -> float:
    """The share of the label's words found in the text: a sentence (the label) is supported by a context."""
    wanted = words(label)
    return len(wanted & words(text)) / len(wanted) if wanted else 0.0


@dataclass
class ScriptedScorer:
    """A stand-in model (a :class:`gliclass_guards.Scorer`): ``rule(text, label) -> score`` for every text and label.

    ``calls`` records the arguments of every call (``texts``, ``labels``, ``multi_label``, ``prompt``,
    ``label_descriptions``, ``batch_size``, and the ``thread`` it ran in); ``error``, when set, is raised instead,
    as a failing engine would.
    """

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
                "thread": threading.get_ident(),
            }
        )
        if self.error is not None:
            raise self.error
        if labels and not isinstance(labels[0], str):  # one label list per text
            per_text = [list(row) for row in labels]
        else:
            per_text = [[label for label in labels if isinstance(label, str)]] * len(texts)
        return [{label: self.rule(text, label) for label in row} for text, row in zip(texts, per_text, strict=True)]

    @property
    def texts(self) -> list[str]:
        """Every text scored, in call order."""
        return [text for call in self.calls for text in call["texts"]]
