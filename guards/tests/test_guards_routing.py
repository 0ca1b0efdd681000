from __future__ import annotations

import pytest
from gliclass_guards import GuardConfigError, IntentRouter
from guards_tiny import ScriptedScorer

from gliclass_rag import ZeroShotClassifier

ROUTES = {"billing": "invoices and payments", "weather": None, "sports": "games and teams"}


def scores(text: str, label: str) -> float:
    name = label.split(":")[0]
    return {"billing": 0.7, "weather": 0.6, "sports": 0.2}[name] if name in text else 0.05


def test_top_one_takes_the_best_route_and_reports_every_score() -> None:
    scorer = ScriptedScorer(scores)
    result = IntentRouter(scorer, routes=ROUTES).route("billing and weather")
    assert result.routes == ("billing",)
    assert result.route == "billing"
    assert not result.fallback
    assert result.scores == (("billing", 0.7), ("weather", 0.6), ("sports", 0.05))
    assert result.score("weather") == 0.6
    assert scorer.calls[0]["labels"] == ["billing: invoices and payments", "weather", "sports: games and teams"]


def test_multi_label_keeps_every_route_over_its_threshold_best_first() -> None:
    router = IntentRouter(ScriptedScorer(scores), routes=ROUTES, multi_label=True, thresholds={"weather": 0.65})
    assert router.route("weather billing sports").routes == ("billing",)
    router = IntentRouter(ScriptedScorer(scores), routes=ROUTES, multi_label=True)
    assert router.route("weather billing sports").routes == ("billing", "weather")


def test_fallback_when_nothing_clears_its_threshold() -> None:
    router = IntentRouter(ScriptedScorer(scores), routes=ROUTES, fallback="human")
    result = router.route("sports news")
    assert result.routes == ("human",)
    assert result.fallback
    assert result.score("sports") == 0.2
    assert IntentRouter(ScriptedScorer(scores), routes=ROUTES, fallback=None).route("sports").routes == ()
    assert IntentRouter(ScriptedScorer(scores), routes=ROUTES, threshold=0.0).route("sports").routes == ("sports",)


def test_engine_errors_fall_back_or_raise() -> None:
    broken = ScriptedScorer(error=RuntimeError("out of memory"))
    result = IntentRouter(broken, routes=ROUTES).route("billing")
    assert result.routes == ("fallback",)
    assert result.fallback
    assert result.error == "RuntimeError: out of memory"
    with pytest.raises(RuntimeError, match="out of memory"):
        IntentRouter(broken, routes=ROUTES, on_error="raise").route("billing")


def test_batch_is_one_call_and_blank_queries_fall_back() -> None:
    scorer = ScriptedScorer(scores)
    results = IntentRouter(scorer, routes=ROUTES).route_batch(["billing", " ", "weather"])
    assert [r.routes for r in results] == [("billing",), ("fallback",), ("weather",)]
    assert len(scorer.calls) == 1
    assert scorer.calls[0]["texts"] == ["billing", "weather"]


def test_settings_are_validated() -> None:
    with pytest.raises(GuardConfigError, match="fallback must be a non-empty name that is not a route"):
        IntentRouter(ScriptedScorer(), routes=ROUTES, fallback="billing")
    with pytest.raises(GuardConfigError, match="routes names 'a' twice"):
        IntentRouter(ScriptedScorer(), routes=["a", "a"])


def test_real_tiny_model(tiny_bi: ZeroShotClassifier) -> None:
    result = IntentRouter(tiny_bi, routes=ROUTES, threshold=0.0, prompt="Which team?").route("my invoice is wrong")
    assert result.route in ROUTES
    assert [name for name, _ in result.scores] == list(ROUTES)
    assert result.route == max(result.scores, key=lambda pair: pair[1])[0]
