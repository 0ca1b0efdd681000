from __future__ import annotations

import pytest
from gliclass_guards import GuardConfigError, RuleGuard
from guards_tiny import ScriptedScorer

from gliclass_rag import ZeroShotClassifier

RULES = {"polite": "polite", "no-refund": "refund"}


def rule(text: str, label: str) -> float:
    return 0.8 if label in text.lower() else 0.2


def test_a_verdict_per_rule_in_one_call_with_the_domain_in_the_prompt() -> None:
    scorer = ScriptedScorer(rule)
    guard = RuleGuard(scorer, rules=RULES, domain="banking support")
    result = guard.check("  We are polite here.  ")
    (call,) = scorer.calls
    assert call["labels"] == ["polite", "refund"]
    assert call["prompt"] == ["Domain: banking support."]
    assert call["texts"] == ["We are polite here."]
    verdicts = {c.label: ("follows" if c.passed else "violates", c.score) for c in result.checks}
    assert verdicts == {"polite": ("follows", 0.8), "no-refund": ("violates", 0.2)}
    (violation,) = result.violations
    assert violation.label == "no-refund"
    assert violation.score == pytest.approx(0.8)
    assert violation.span == (2, 21)
    assert violation.text == "We are polite here."
    assert result.score == pytest.approx(0.8)


def test_per_rule_thresholds_and_list_rules() -> None:
    guard = RuleGuard(ScriptedScorer(rule), rules=["polite", "refund"], thresholds={"refund": 0.1})
    result = guard.check("polite words")
    assert result.passed
    assert guard.rules == {"polite": "polite", "refund": "refund"}


def test_prompt_of_a_response_follows_the_domain() -> None:
    scorer = ScriptedScorer(rule)
    RuleGuard(scorer, rules=RULES, domain="shop").check("polite", prompt="Can I get my money back?")
    assert scorer.calls[0]["prompt"] == ["Domain: shop. User message: Can I get my money back?"]
    RuleGuard(scorer, rules=RULES).check("polite")
    assert scorer.calls[1]["prompt"] is None


def test_rules_are_validated() -> None:
    with pytest.raises(GuardConfigError, match="rules must be a non-empty list of str"):
        RuleGuard(ScriptedScorer(), rules=[])
    with pytest.raises(GuardConfigError, match="same rule text under two names"):
        RuleGuard(ScriptedScorer(), rules={"a": "x", "b": "x"})
    with pytest.raises(GuardConfigError, match="prompt_template must be a str containing"):
        RuleGuard(ScriptedScorer(), rules=["x"], prompt_template="no slot")


def test_real_tiny_model(tiny_uni: ZeroShotClassifier) -> None:
    result = RuleGuard(tiny_uni, rules=RULES, domain="bank").check_batch(["the refund", "hello"])
    assert all(len(r.checks) == 2 for r in result)
