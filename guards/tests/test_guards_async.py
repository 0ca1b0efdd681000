"""Async forms run the synchronous checks in worker threads (plain asyncio.run, no plugin)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from gliclass_guards import GuardViolation, HallucinationGuard, IntentRouter, RuleGuard, SafetyGuard
from guards_tiny import ScriptedScorer, overlap_score

from gliclass_rag import ZeroShotClassifier

CATEGORIES = {"spam": "ads"}


def test_acheck_and_acheck_batch_match_the_sync_forms() -> None:
    guard = SafetyGuard(ScriptedScorer(), categories=CATEGORIES)

    async def main() -> tuple[object, ...]:
        return await asyncio.gather(guard.acheck("spam here"), guard.acheck_batch(["fine", "spam"], prompts="q"))

    single, batch = asyncio.run(main())
    assert single == guard.check("spam here")
    assert batch == guard.check_batch(["fine", "spam"], prompts="q")


def test_async_hallucination_rules_and_router() -> None:
    hallucination = HallucinationGuard(ScriptedScorer(overlap_score))
    rules = RuleGuard(ScriptedScorer(), rules=["spam"])
    router = IntentRouter(ScriptedScorer(), routes=["spam", "ham"])

    async def main() -> tuple[object, ...]:
        return await asyncio.gather(
            hallucination.acheck("Paris is in France.", "Paris is in France."),
            hallucination.acheck_batch(["Paris is in France."], [["Paris is in France."]]),
            rules.acheck("spam"),
            rules.acheck_batch(["spam", "ham"]),
            router.aroute("spam please"),
            router.aroute_batch(["ham please"]),
        )

    h1, h2, r1, r2, route, routes = asyncio.run(main())
    assert h1.passed
    assert h2[0].passed
    assert r1.passed
    assert [r.passed for r in r2] == [True, False]
    assert route.routes == ("spam",)
    assert routes[0].routes == ("ham",)


def test_async_exception_action_raises_in_the_awaiting_task() -> None:
    guard = SafetyGuard(ScriptedScorer(), categories=CATEGORIES, on_fail="exception")
    with pytest.raises(GuardViolation):
        asyncio.run(guard.acheck("spam"))


async def _chunks(parts: list[str]) -> AsyncIterator[str]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


def test_async_stream_over_an_async_iterable() -> None:
    guard = SafetyGuard(ScriptedScorer(), categories=CATEGORIES, on_fail="fix", granularity="sentence")
    parts = ["Hello there. ", "Buy spam now. ", "Bye."]

    async def main() -> list[str]:
        return [c.text async for c in guard.acheck_stream(_chunks(parts), chunk_size=5, context_size=0)]

    assert asyncio.run(main()) == ["Hello there. ", "", "Bye."]
    sync = [c.text for c in guard.check_stream(parts, chunk_size=5, context_size=0)]
    assert sync == ["Hello there. ", "", "Bye."]


def test_async_hallucination_stream_accepts_a_plain_iterable() -> None:
    guard = HallucinationGuard(ScriptedScorer(overlap_score), on_fail="filter")
    parts = ["Paris is in France. ", "Rome is on the Moon. ", "More words here."]

    async def main() -> list[tuple[str, bool]]:
        stream = guard.acheck_stream(parts, "Paris is in France.", chunk_size=10, context_size=0)
        return [(c.text, c.stopped) async for c in stream]

    assert asyncio.run(main()) == [("Paris is in France. ", False), ("", True)]


def test_async_on_a_real_tiny_model(tiny_bi: ZeroShotClassifier) -> None:
    guard = SafetyGuard(tiny_bi, categories=CATEGORIES)
    result = asyncio.run(guard.acheck("spam spam"))
    assert set(result.scores) == {"spam"}
