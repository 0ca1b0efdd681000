"""The scripted scorer for the guards' verdict tests: gliclass-guards use any object with a compatible ``scores()``.

Tiny random models score arbitrarily, so tests that assert a verdict (this text fails, that one passes) put this
scorer in at the model seam: its score of a label follows a rule the test states, and it records every call. It is
``gliclass_guards.testing``'s, whose default rule is :func:`keyword_score`.
"""

from __future__ import annotations

from gliclass_guards.testing import ScriptedScorer, keyword_score, overlap_score, words

__all__ = ["ScriptedScorer", "keyword_score", "overlap_score", "words"]
