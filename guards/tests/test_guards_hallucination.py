from __future__ import annotations

import pytest
from gliclass_guards import GuardConfigError, HallucinationGuard
from guards_tiny import ScriptedScorer, overlap_score

from gliclass_rag import InvalidInputError, ZeroShotClassifier

CONTEXT = [
    "Paris is the capital of France. It lies on the river Seine.",
    "The Eiffel Tower was built in 1889 for a world fair.",
]
ANSWER = "Paris is the capital of France. The tower was built in 1999 by aliens. Sure!"


def guard(**kwargs: object) -> tuple[HallucinationGuard, ScriptedScorer]:
    scorer = ScriptedScorer(overlap_score)
    return HallucinationGuard(scorer, **kwargs), scorer  # type: ignore[arg-type]


def test_context_as_text_claims_as_labels_in_one_call() -> None:
    hallucination, scorer = guard()
    result = hallucination.check(ANSWER, CONTEXT)
    (call,) = scorer.calls
    assert call["texts"] == CONTEXT
    assert call["multi_label"] is True
    claims = ["Paris is the capital of France.", "The tower was built in 1999 by aliens."]
    assert call["labels"] == [claims, claims]  # "Sure!" is under min_words
    assert result.scores == {claims[0]: 1.0, claims[1]: pytest.approx(5 / 8)}  # the best window's share of words


def test_unsupported_sentences_are_reported_with_spans_and_risk() -> None:
    hallucination, _ = guard(threshold=0.7)
    result = hallucination.check(ANSWER, CONTEXT)
    (violation,) = result.violations
    assert violation.label == "unsupported"
    assert violation.text == "The tower was built in 1999 by aliens."
    assert ANSWER[violation.span[0] : violation.span[1]] == violation.text
    assert violation.score == pytest.approx(3 / 8)
    assert result.score == pytest.approx(3 / 8)
    assert "below the threshold 0.70" in violation.reason
    assert not result.passed
    assert [c.passed for c in result.checks] == [True, False]


def test_threshold_decides_support() -> None:
    assert guard(threshold=0.625)[0].check(ANSWER, CONTEXT).passed
    assert not guard(threshold=0.63)[0].check(ANSWER, CONTEXT).passed


def test_fix_removes_unsupported_sentences() -> None:
    hallucination, _ = guard(threshold=0.7, on_fail="fix")
    assert hallucination.check(ANSWER, CONTEXT).output == "Paris is the capital of France. Sure!"


def test_windows_split_long_contexts_and_support_is_the_best_window() -> None:
    hallucination, scorer = guard(window_size=40, window_overlap=0)
    result = hallucination.check("It lies on the river Seine.", " ".join(CONTEXT))
    assert scorer.calls[0]["texts"] == [
        "Paris is the capital of France.",
        "It lies on the river Seine.",
        "The Eiffel Tower was built in 1889 for a",
        "world fair.",
    ]
    assert result.scores == {"It lies on the river Seine.": 1.0}


def test_no_context_means_no_support_and_no_call() -> None:
    hallucination, scorer = guard()
    result = hallucination.check(ANSWER, [])
    assert scorer.calls == []
    assert not result.passed
    assert result.score == 1.0
    assert result.violations[0].reason == "there is no context to support it"


def test_nothing_to_check_passes() -> None:
    hallucination, scorer = guard()
    assert hallucination.check("Sure! Okay.", CONTEXT).passed
    assert scorer.calls == []


def test_batch_is_one_call_with_per_answer_labels() -> None:
    hallucination, scorer = guard()
    results = hallucination.check_batch(
        ["Paris is the capital of France.", "It was built in 1889 indeed."], [CONTEXT[0], [CONTEXT[1]]]
    )
    (call,) = scorer.calls
    assert call["texts"] == [CONTEXT[0], CONTEXT[1]]
    assert call["labels"] == [["Paris is the capital of France."], ["It was built in 1889 indeed."]]
    assert [r.passed for r in results] == [True, True]


def test_arguments_are_validated() -> None:
    hallucination, _ = guard()
    with pytest.raises(InvalidInputError, match="contexts must be a list with one context"):
        hallucination.check_batch(["a"], ["one", "two"])
    with pytest.raises(InvalidInputError, match=r"context\[0\] must be a str"):
        hallucination.check("an answer here", [None])  # type: ignore[list-item]
    with pytest.raises(GuardConfigError, match="window_overlap must be smaller than window_size"):
        HallucinationGuard(window_size=10, window_overlap=10)


def test_tokens_as_window_unit(tiny_uni: ZeroShotClassifier) -> None:
    hallucination = HallucinationGuard(tiny_uni, window_unit="tokens", window_size=12, window_overlap=4)
    result = hallucination.check("Paris is the capital of France.", " ".join(CONTEXT))
    assert len(result.checks) == 1
    assert 0.0 <= result.checks[0].score <= 1.0
    with pytest.raises(GuardConfigError, match="needs a model with a tokenizer"):
        HallucinationGuard(ScriptedScorer(), window_unit="tokens").check("a b c d", "context")


def test_real_tiny_models_in_one_pass(tiny_uni: ZeroShotClassifier, tiny_bi: ZeroShotClassifier) -> None:
    for model in (tiny_uni, tiny_bi):
        result = HallucinationGuard(model).check(ANSWER, CONTEXT)
        assert [c.label for c in result.checks] == [
            "Paris is the capital of France.",
            "The tower was built in 1999 by aliens.",
        ]
        assert result.score == pytest.approx(max(1 - c.score for c in result.checks))
