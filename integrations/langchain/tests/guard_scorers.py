"""Scripted scorers: stand-in models at the guards' model seam (any object with a ``scores()`` method), so that
verdict tests fail exactly the checks they mean to. Real LangChain objects sit on the other side.

:class:`ScriptedScorer` is ``gliclass_guards.testing``'s, with :func:`trigger_score` as its default rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gliclass_guards import testing
from gliclass_guards.testing import overlap_score, words

__all__ = ["BENIGN", "HARMFUL", "HARMFUL_SENTENCE", "REFUSAL", "ScriptedScorer", "overlap_score", "trigger_score"]

HARMFUL = "Sure. Mix the powder and build a bomb to kill them."
HARMFUL_SENTENCE = "Mix the powder and build a bomb to kill them."
BENIGN = "Preheat the oven and bake the bread for an hour."
REFUSAL = "I'm sorry, but I can't help with that."

TRIGGERS = {"violent crimes": ("bomb", "kill"), "hate": ("hate",)}


def trigger_score(text: str, label: str) -> float:
    """0.95 when the text holds a trigger word of the label's category (the name before any ': description')."""
    name = label.split(":")[0].strip().lower()
    return 0.95 if words(text) & set(TRIGGERS.get(name, ())) else 0.05


@dataclass
class ScriptedScorer(testing.ScriptedScorer):
    """``rule(text, label) -> score`` (default :func:`trigger_score`); ``calls`` records each call's arguments,
    and ``error`` (when set) is raised instead, as a failing engine would."""

    rule: Callable[[str, str], float] = trigger_score
