from __future__ import annotations

import pytest
from gliclass_guards import DEFAULT_CATEGORIES, GuardConfigError, SafetyGuard, default_categories
from guards_tiny import ScriptedScorer

from gliclass_rag import InvalidInputError, ZeroShotClassifier

CATEGORIES = {"violence": "hurting people", "spam": "unwanted ads", "hate": None}


def test_default_taxonomy_covers_mlcommons_plus_injection_and_jailbreak() -> None:
    names = set(DEFAULT_CATEGORIES)
    assert {"violent crimes", "child sexual exploitation", "hate", "elections", "code interpreter abuse"} <= names
    assert {"prompt injection", "jailbreak"} <= names
    assert len(names) == 16
    assert all(description for description in DEFAULT_CATEGORIES.values())
    edited = default_categories()
    edited["offensive language"] = "profanity"
    assert "offensive language" not in DEFAULT_CATEGORIES
    assert "offensive language" in SafetyGuard(ScriptedScorer(), categories=edited).categories


def test_every_category_is_scored_in_one_call_with_descriptions_in_the_labels() -> None:
    scorer = ScriptedScorer()
    result = SafetyGuard(scorer, categories=CATEGORIES).check("Violence everywhere.")
    assert len(scorer.calls) == 1
    assert scorer.calls[0]["labels"] == ["violence: hurting people", "spam: unwanted ads", "hate"]
    assert scorer.calls[0]["multi_label"] is True
    assert scorer.calls[0]["label_descriptions"] is None
    assert result.scores == {"violence": 0.9, "spam": 0.1, "hate": 0.1}
    assert [v.label for v in result.violations] == ["violence"]
    assert result.violations[0].span == (0, len("Violence everywhere."))


def test_descriptions_beside_the_text_or_off() -> None:
    scorer = ScriptedScorer()
    SafetyGuard(scorer, categories=CATEGORIES, descriptions="text").check("x y z")
    SafetyGuard(scorer, categories=CATEGORIES, descriptions="off").check("x y z")
    assert scorer.calls[0]["labels"] == ["violence", "spam", "hate"]
    assert scorer.calls[0]["label_descriptions"] == {"violence": "hurting people", "spam": "unwanted ads"}
    assert scorer.calls[1]["label_descriptions"] is None


def test_auto_descriptions_follow_the_architecture(tiny_uni: ZeroShotClassifier, tiny_bi: ZeroShotClassifier) -> None:
    assert SafetyGuard(tiny_uni)._description_mode("auto") == "text"
    assert SafetyGuard(tiny_bi)._description_mode("auto") == "label"


def test_per_category_thresholds() -> None:
    strict = SafetyGuard(ScriptedScorer(), categories=CATEGORIES, thresholds={"spam": 0.05, "violence": 0.95})
    result = strict.check("Violence everywhere.")
    assert [v.label for v in result.violations] == ["spam"]
    assert strict.threshold_for("violence") == 0.95
    assert strict.threshold_for("hate") == 0.5
    assert {c.label: c.passed for c in result.checks} == {"violence": True, "spam": False, "hate": True}


def test_thresholds_are_validated() -> None:
    with pytest.raises(GuardConfigError, match=r"thresholds\['spam'\] must be a number in \[0, 1\], but got 2"):
        SafetyGuard(ScriptedScorer(), categories=CATEGORIES, thresholds={"spam": 2})
    with pytest.raises(GuardConfigError, match="names 'weapons', which is not one of"):
        SafetyGuard(ScriptedScorer(), categories=CATEGORIES, thresholds={"weapons": 0.3})
    with pytest.raises(GuardConfigError, match="granularity must be one of"):
        SafetyGuard(ScriptedScorer(), granularity="word")  # type: ignore[arg-type]


def test_a_response_is_checked_with_its_prompt() -> None:
    scorer = ScriptedScorer()
    guard = SafetyGuard(scorer, categories=CATEGORIES)
    guard.check("I can't help with that.", prompt="How do I hurt someone?")
    assert scorer.calls[-1]["prompt"] == ["Classify the assistant's reply to this user message: How do I hurt someone?"]
    guard.check_batch(["a reply", "another reply"], prompts=[None, "a question"])
    assert scorer.calls[-1]["prompt"] == ["", "Classify the assistant's reply to this user message: a question"]
    guard.check("a prompt alone")
    assert scorer.calls[-1]["prompt"] is None


def test_sentence_granularity_reports_sentence_spans_and_scores_each_in_one_call() -> None:
    scorer = ScriptedScorer()
    text = "Hello there. Spam spam spam!  Bye now."
    result = SafetyGuard(scorer, categories=CATEGORIES, granularity="sentence").check(text)
    assert len(scorer.calls) == 1
    assert scorer.calls[0]["texts"] == ["Hello there.", "Spam spam spam!", "Bye now."]
    (violation,) = result.violations
    assert violation.label == "spam"
    assert text[violation.span[0] : violation.span[1]] == "Spam spam spam!"


def test_blank_text_passes_without_a_model_call() -> None:
    scorer = ScriptedScorer()
    result = SafetyGuard(scorer).check("   ")
    assert result.passed
    assert result.score == 0.0
    assert scorer.calls == []


def test_bad_texts_raise_invalid_input() -> None:
    guard = SafetyGuard(ScriptedScorer())
    with pytest.raises(InvalidInputError, match="text must be a str, but got int"):
        guard.check(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="prompts must be a str, None, or a list of 2"):
        guard.check_batch(["a", "b"], prompts=["only one"])


def test_batch_is_one_call(tiny_uni: ZeroShotClassifier) -> None:
    guard = SafetyGuard(tiny_uni, categories=CATEGORIES, descriptions="off")
    results = guard.check_batch(["the bread", "a bomb", "hate and violence"])
    assert len(results) == 3
    for result in results:
        assert set(result.scores) == set(CATEGORIES)
        assert result.score == pytest.approx(max(result.scores.values()))
        assert result.passed == all(s < 0.5 for s in result.scores.values())


@pytest.mark.parametrize("mode", ["text", "label"])
def test_real_tiny_models_score_every_category(
    tiny_uni: ZeroShotClassifier, tiny_bi: ZeroShotClassifier, mode: str
) -> None:
    for model in (tiny_uni, tiny_bi):
        result = SafetyGuard(model, categories=CATEGORIES, descriptions=mode).check("Hate the weather.", prompt="hi")  # type: ignore[arg-type]
        assert set(result.scores) == set(CATEGORIES)
        assert all(0.0 <= s <= 1.0 for s in result.scores.values())
