"""Every fail action, on a scripted scorer (the backend seam) so that exactly the expected checks fail."""

from __future__ import annotations

import pickle

import pytest
from gliclass_guards import GuardConfigError, GuardResult, GuardViolation, SafetyGuard
from gliclass_guards.actions import redact
from guards_tiny import ScriptedScorer

CATEGORIES = {"violence": "hurting people", "spam": "unwanted ads"}
TEXT = "Buy cheap spam pills now. The weather is nice. Violence is the answer."


def guard(on_fail: object, **kwargs: object) -> SafetyGuard:
    return SafetyGuard(ScriptedScorer(), categories=CATEGORIES, on_fail=on_fail, granularity="sentence", **kwargs)  # type: ignore[arg-type]


def test_passed_texts_are_passed_on_unchanged() -> None:
    result = guard("exception").check("The weather is nice.")
    assert result.passed
    assert result.action == "none"
    assert result.output == "The weather is nice."
    assert result.violations == ()
    assert result.score == pytest.approx(0.1)


def test_noop_reports_and_passes_the_text_on() -> None:
    result = guard("noop").check(TEXT)
    assert not result.passed
    assert result.action == "noop"
    assert result.output == TEXT
    assert [(v.label, v.text) for v in result.violations] == [
        ("spam", "Buy cheap spam pills now."),
        ("violence", "Violence is the answer."),
    ]
    assert result.score == pytest.approx(0.9)


def test_exception_raises_with_the_result() -> None:
    with pytest.raises(GuardViolation, match="safety guard failed: spam, violence") as caught:
        guard("exception").check(TEXT)
    assert caught.value.result.action == "exception"
    assert caught.value.result.output is None
    assert caught.value.index is None
    restored = pickle.loads(pickle.dumps(caught.value))
    assert restored.result == caught.value.result


def test_filter_passes_nothing_on() -> None:
    result = guard("filter").check(TEXT)
    assert result.action == "filter"
    assert result.output is None
    assert result.blocked


def test_fix_removes_the_failing_sentences() -> None:
    result = guard("fix").check(TEXT)
    assert result.action == "fix"
    assert result.output == "The weather is nice."


def test_fix_with_a_redaction_string() -> None:
    result = guard("fix", redaction="[removed]").check(TEXT)
    assert result.output == "[removed] The weather is nice. [removed]"


def test_fix_of_a_whole_text_check_redacts_all_of_it() -> None:
    whole = SafetyGuard(ScriptedScorer(), categories=CATEGORIES, on_fail="fix", redaction="***")
    assert whole.check(TEXT).output == "***"


def test_refrain_gives_the_configured_refusal() -> None:
    result = guard("refrain", refusal="No.").check(TEXT)
    assert result.action == "refrain"
    assert result.output == "No."


def test_a_callable_decides_the_output() -> None:
    seen: list[GuardResult] = []

    def handler(result: GuardResult) -> str:
        seen.append(result)
        return f"{len(result.violations)} problems"

    result = guard(handler).check(TEXT)
    assert result.action == "custom"
    assert result.output == "2 problems"
    assert seen[0].action == "none"


def test_a_callable_must_return_text_or_none() -> None:
    with pytest.raises(GuardConfigError, match="must return a str or None"):
        guard(lambda result: 42).check(TEXT)


def test_unknown_action_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(GuardConfigError, match=r"on_fail must be one of \['exception', 'filter', 'fix'"):
        guard("block")


def test_batch_exception_names_the_failing_item() -> None:
    with pytest.raises(GuardViolation) as caught:
        guard("exception").check_batch(["All fine here.", TEXT])
    assert caught.value.index == 1


def test_redact_merges_overlaps_and_tidies_spaces() -> None:
    assert redact("A b. C d. E f.", [(5, 9), (6, 8)]) == "A b. E f."
    assert redact("A b. C d.", [(5, 9)]) == "A b."
    assert redact("secret", [(0, 6)], "#") == "#"
