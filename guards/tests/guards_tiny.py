"""Tiny GLiClass classifiers for the guards' tests (``gliclass_rag.testing``: no hub, no downloads), and the scripted
scorer (``gliclass_guards.testing``). Scores of the tiny models are random but valid, which is what plumbing tests
need (shapes, arguments, one pass).

:class:`ScriptedScorer` is the backend seam for behaviour tests: a ``scores`` method whose scores follow a rule the
test states, recording every call.
"""

from __future__ import annotations

from gliclass_guards.testing import ScriptedScorer, keyword_score, overlap_score, words

from gliclass_rag import ZeroShotClassifier, testing

__all__ = ["ScriptedScorer", "build_classifier", "keyword_score", "overlap_score", "words"]


def build_classifier(architecture: str = "uni-encoder", *, seed: int = 0) -> ZeroShotClassifier:
    """A tiny seeded random classifier (uni-encoder or bi-encoder), from the engine's public test models."""
    return testing.build_classifier(architecture, seed=seed)
