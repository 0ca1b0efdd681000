"""Result types: frozen dataclasses of plain values (str, float, tuples), safe to share, compare and pickle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Action", "Check", "GuardResult", "RouteResult", "Span", "StreamChunk", "Violation"]

Action = Literal["none", "exception", "filter", "fix", "refrain", "noop", "custom"]
"""What a guard did with a checked text: ``none`` when it passed, else the fail action that ran (``custom`` for a
callable ``on_fail``)."""

Span = tuple[int, int]
"""Character offsets ``(start, end)`` into the checked text: ``text[start:end]``."""


@dataclass(frozen=True)
class Check:
    """One thing a guard scored: a harm category, a rule, or a sentence of an answer.

    ``score`` is the model's score for ``label`` as asked (a category's presence, a rule being followed, a sentence
    being supported); ``risk`` is the same evidence turned into "higher is worse" (``score`` for categories,
    ``1 - score`` for rules and support). ``passed`` compares ``score`` with ``threshold`` the guard's way.
    ``span`` locates the scored text (None for a check about no particular text).
    """

    label: str
    score: float
    risk: float
    threshold: float
    passed: bool
    span: Span | None = None


@dataclass(frozen=True)
class Violation:
    """A failed check: its label, its risk score (higher is worse), where it is and why it failed.

    ``text`` is the checked text's ``span`` (empty when ``span`` is None, e.g. an engine error).
    """

    label: str
    score: float
    span: Span | None
    reason: str
    text: str = ""


@dataclass(frozen=True)
class GuardResult:
    """The outcome of one check.

    Attributes:
        guard: the guard's kind (``hallucination``, ``safety``, ``rules``).
        text: the checked text (an answer, a prompt, a response, or a stream chunk).
        passed: no check failed (and the engine did not fail, unless the guard fails open).
        score: the risk, in [0, 1]: the highest ``risk`` of the checks (1.0 when the engine failed closed).
        violations: the failed checks, in text order then check order.
        checks: every check that was scored, passed or not.
        action: what was done (``none`` when passed; else the fail action that ran).
        output: the text to pass on: ``text`` when passed or under ``noop``; the redacted text under ``fix``;
            the refusal under ``refrain``; what a callable returned; None when filtered or raised.
        error: ``"ExceptionType: message"`` when the engine failed and the guard failed closed or open.
    """

    guard: str
    text: str
    passed: bool
    score: float
    violations: tuple[Violation, ...] = ()
    checks: tuple[Check, ...] = ()
    action: Action = "none"
    output: str | None = None
    error: str | None = None

    @property
    def scores(self) -> dict[str, float]:
        """Each checked label's model score (the highest, when a label was scored on several sentences)."""
        out: dict[str, float] = {}
        for check in self.checks:
            out[check.label] = max(check.score, out.get(check.label, check.score))
        return out

    @property
    def blocked(self) -> bool:
        """True when nothing is to be passed on (filtered, raised, or a callable returned None)."""
        return self.output is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field (spans as two-item lists)."""
        return {
            "guard": self.guard,
            "text": self.text,
            "passed": self.passed,
            "score": self.score,
            "violations": [
                {"label": v.label, "score": v.score, "span": _span(v.span), "reason": v.reason, "text": v.text}
                for v in self.violations
            ],
            "checks": [
                {
                    "label": c.label,
                    "score": c.score,
                    "risk": c.risk,
                    "threshold": c.threshold,
                    "passed": c.passed,
                    "span": _span(c.span),
                }
                for c in self.checks
            ],
            "action": self.action,
            "output": self.output,
            "error": self.error,
        }


@dataclass(frozen=True)
class StreamChunk:
    """A piece of a checked stream: ``text`` is what to emit (after the fail action), ``result`` the check of the
    original piece (``result.text``; its spans are relative to it), ``offset`` where that piece starts in the whole
    stream, and ``stopped`` whether a fail action ended the stream here (``filter``, ``refrain``, or a callable that
    returned None); no chunk follows a stopped one."""

    text: str
    result: GuardResult
    offset: int
    stopped: bool = False


@dataclass(frozen=True)
class RouteResult:
    """The route(s) chosen for a query, and every route's score.

    Attributes:
        query: the routed query.
        routes: the chosen route names, best first: one (top-1), any number (multi-label), or the fallback route.
        scores: every route's independent (sigmoid) score, in the order the routes were configured.
        fallback: True when no route cleared its threshold (``routes`` then holds the fallback route, if any).
        error: ``"ExceptionType: message"`` when the engine failed and the router fell back.
    """

    query: str
    routes: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]
    fallback: bool = False
    error: str | None = None

    @property
    def route(self) -> str | None:
        """The best chosen route (None when nothing was chosen and there is no fallback route)."""
        return self.routes[0] if self.routes else None

    def score(self, route: str) -> float:
        """The score of ``route``: KeyError for a name that is not a configured route, and for every name when
        nothing was scored (a blank query, or an engine error: ``scores`` is then empty)."""
        for name, value in self.scores:
            if name == route:
                return value
        raise KeyError(route)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict: routes as a list, scores as a dict route -> score."""
        return {
            "query": self.query,
            "routes": list(self.routes),
            "scores": dict(self.scores),
            "fallback": self.fallback,
            "error": self.error,
        }


def _span(span: Span | None) -> list[int] | None:
    return None if span is None else [span[0], span[1]]
