"""GLiClassFaithfulnessEvaluator: continuous scores and feedback on a scripted scorer, async, errors, a tiny model."""

from __future__ import annotations

import asyncio
import threading

import pytest
from gliclass_guards import GuardViolation, HallucinationGuard, SafetyGuard
from llama_index.core.evaluation import BaseEvaluator, EvaluationResult
from llama_index.postprocessor.gliclass import GLiClassFaithfulnessEvaluator
from scripted import ScriptedScorer, overlap

from gliclass_rag import ZeroShotClassifier

CONTEXTS = ["The rocket reached orbit after launch.", "The crew of four returned to Earth in May."]
SUPPORTED = "The rocket reached orbit. The crew returned to Earth."
MIXED = "The rocket reached orbit. The crew landed on the moon in June. The rocket was red."


def evaluator(scorer: ScriptedScorer | None = None, **settings) -> GLiClassFaithfulnessEvaluator:
    return GLiClassFaithfulnessEvaluator(HallucinationGuard(model=scorer or ScriptedScorer(overlap), **settings))


def test_is_an_evaluator_without_prompts() -> None:
    judge = GLiClassFaithfulnessEvaluator()
    assert isinstance(judge, BaseEvaluator)
    assert judge.get_prompts() == {}
    judge.update_prompts({})
    assert judge.guard.model is None  # the embedded model, not loaded yet
    assert "threshold=0.5" in repr(judge)


def test_a_supported_response_passes() -> None:
    result = evaluator().evaluate(query="what happened?", response=SUPPORTED, contexts=CONTEXTS)
    assert isinstance(result, EvaluationResult)
    assert result.passing is True
    assert result.score == 1.0
    assert (result.query, result.response, result.contexts) == ("what happened?", SUPPORTED, CONTEXTS)
    assert result.feedback == (
        "2 of 2 sentences supported by the contexts (threshold 0.50); score 1.000, "
        "the support of the least supported sentence."
    )
    assert not result.invalid_result


def test_the_score_is_the_least_support_and_feedback_lists_unsupported_sentences() -> None:
    result = evaluator().evaluate(response=MIXED, contexts=CONTEXTS)
    # overlap: "The crew landed on the moon in June." has 3 of its 7 words in the second context;
    # "The rocket was red." 2 of 4 in the first (0.5: supported at the threshold 0.5)
    assert result.passing is False
    assert result.score == pytest.approx(3 / 7)
    assert result.feedback.splitlines() == [
        "2 of 3 sentences supported by the contexts (threshold 0.50); score 0.429, "
        "the support of the least supported sentence.",
        "Unsupported sentences (support: sentence):",
        "- 0.429: The crew landed on the moon in June.",
    ]


@pytest.mark.parametrize(("threshold", "passing"), [(0.4, True), (3 / 7, True), (0.43, False), (0.9, False)])
def test_passing_is_the_score_against_the_threshold(threshold: float, passing: bool) -> None:
    result = evaluator(threshold=threshold).evaluate(response=MIXED, contexts=CONTEXTS)
    assert result.score == pytest.approx(3 / 7)  # continuous: the same whatever the threshold
    assert result.passing is passing


def test_nothing_to_check_and_nothing_to_check_against() -> None:
    short = evaluator().evaluate(response="Yes. It did!", contexts=CONTEXTS)
    assert (short.passing, short.score) == (True, 1.0)
    assert short.feedback == "No sentence of the response is long enough to check; score 1.000."
    empty = evaluator().evaluate(response=SUPPORTED, contexts=[])
    assert (empty.passing, empty.score) == (False, 0.0)


def test_inputs_are_checked_and_not_modified() -> None:
    judge = evaluator()
    with pytest.raises(ValueError, match="contexts and response must be provided"):
        judge.evaluate(response=SUPPORTED)
    with pytest.raises(ValueError, match="contexts and response must be provided"):
        asyncio.run(judge.aevaluate(contexts=CONTEXTS))
    with pytest.raises(ValueError, match="contexts must be a list of str, but got str"):
        judge.evaluate(response=SUPPORTED, contexts="The rocket reached orbit.")
    with pytest.raises(ValueError, match=r"contexts\[1\] must be a str, but got int"):
        judge.evaluate(response=SUPPORTED, contexts=["a", 1])
    with pytest.raises(ValueError, match="response must be a str, but got int"):
        judge.evaluate(response=3, contexts=CONTEXTS)
    with pytest.raises(ValueError, match="guard must be a gliclass_guards HallucinationGuard or None"):
        GLiClassFaithfulnessEvaluator(SafetyGuard())
    contexts = list(CONTEXTS)
    judge.evaluate(response=MIXED, contexts=contexts, unused_keyword=1)
    assert contexts == CONTEXTS


def test_aevaluate_equals_evaluate_and_runs_the_model_off_the_event_loop() -> None:
    scorer = ScriptedScorer(overlap)
    judge = evaluator(scorer)
    sync = judge.evaluate(query="q", response=MIXED, contexts=CONTEXTS)
    scorer.calls.clear()

    async def run() -> tuple[EvaluationResult, int]:
        return await judge.aevaluate(query="q", response=MIXED, contexts=CONTEXTS), threading.get_ident()

    result, loop_thread = asyncio.run(run())
    assert result == sync
    assert scorer.calls
    assert all(call["thread"] != loop_thread for call in scorer.calls)


def test_evaluate_works_inside_a_running_event_loop() -> None:
    async def run() -> EvaluationResult:
        return evaluator().evaluate(response=MIXED, contexts=CONTEXTS)  # as in a notebook or a web handler

    assert asyncio.run(run()).score == pytest.approx(3 / 7)


def test_an_engine_error_fails_the_response_closed() -> None:
    judge = evaluator(ScriptedScorer(overlap, error=RuntimeError("CUDA out of memory")))
    for result in (
        judge.evaluate(response=SUPPORTED, contexts=CONTEXTS),
        asyncio.run(judge.aevaluate(response=SUPPORTED, contexts=CONTEXTS)),
    ):
        assert (result.passing, result.score) == (False, 0.0)
        assert result.invalid_result
        assert result.invalid_reason == "the GLiClass engine failed: RuntimeError: CUDA out of memory"
        assert "fails (the guard fails closed)" in result.feedback


def test_a_missing_checkpoint_fails_closed(tmp_path) -> None:
    result = GLiClassFaithfulnessEvaluator(HallucinationGuard(tmp_path / "missing")).evaluate(
        response=SUPPORTED, contexts=CONTEXTS
    )
    assert (result.passing, result.score, result.invalid_result) == (False, 0.0, True)


def test_on_error_open_and_raise() -> None:
    error = RuntimeError("boom")
    opened = evaluator(ScriptedScorer(overlap, error=error), on_error="open").evaluate(
        response=SUPPORTED, contexts=CONTEXTS
    )
    assert (opened.passing, opened.score, opened.invalid_result) == (True, 1.0, True)
    with pytest.raises(RuntimeError, match="boom"):
        evaluator(ScriptedScorer(overlap, error=error), on_error="raise").evaluate(
            response=SUPPORTED, contexts=CONTEXTS
        )


def test_on_fail_exception_raises_on_an_unfaithful_response() -> None:
    judge = evaluator(on_fail="exception")
    assert judge.evaluate(response=SUPPORTED, contexts=CONTEXTS).passing
    with pytest.raises(GuardViolation, match="hallucination guard failed: unsupported") as caught:
        judge.evaluate(response=MIXED, contexts=CONTEXTS)
    assert [v.text for v in caught.value.result.violations] == ["The crew landed on the moon in June."]


def test_on_a_tiny_model_the_score_is_the_guards_least_support(classifier: ZeroShotClassifier) -> None:
    guard = HallucinationGuard(model=classifier)
    expected = guard.check(MIXED, CONTEXTS)
    result = GLiClassFaithfulnessEvaluator(guard).evaluate(response=MIXED, contexts=CONTEXTS)
    assert result.score == pytest.approx(min(check.score for check in expected.checks))
    assert result.passing is expected.passed
    assert 0.0 < result.score < 1.0
    assert asyncio.run(GLiClassFaithfulnessEvaluator(guard).aevaluate(response=MIXED, contexts=CONTEXTS)) == result
