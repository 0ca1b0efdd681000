"""Settings: JSON-serialisable constructor arguments, to_dict/from_dict round trips, results as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gliclass_guards import (
    GuardConfigError,
    GuardResult,
    HallucinationGuard,
    IntentRouter,
    RuleGuard,
    SafetyGuard,
)
from guards_tiny import ScriptedScorer


def shout(result: GuardResult) -> str:
    return result.text.upper()


GUARDS = [
    SafetyGuard("some/model", thresholds={"hate": 0.3}, granularity="sentence", on_fail="fix", redaction="#"),
    SafetyGuard(categories={"spam": "ads", "scam": None}, on_fail=shout, device="cpu", dtype="float32"),
    HallucinationGuard(threshold=0.7, window_size=500, window_overlap=50, window_unit="tokens", on_error="open"),
    RuleGuard(rules={"polite": "The reply is polite."}, domain="banking", thresholds={"polite": 0.4}),
    IntentRouter(routes={"billing": "invoices", "sports": None}, multi_label=True, fallback="human", prompt="Team?"),
]


@pytest.mark.parametrize("guard", GUARDS, ids=lambda guard: type(guard).__name__)
def test_to_dict_is_json_and_from_dict_rebuilds_the_same_settings(guard: object) -> None:
    data = guard.to_dict()  # type: ignore[attr-defined]
    rebuilt = type(guard).from_dict(json.loads(json.dumps(data)))  # type: ignore[attr-defined]
    assert rebuilt.to_dict() == data


def test_a_callable_on_fail_round_trips_by_import_path() -> None:
    data = GUARDS[1].to_dict()
    assert data["on_fail"] == {"callable": f"{__name__}:shout"}
    assert SafetyGuard.from_dict(data).on_fail is shout


class Redactor:
    def redact(self, result: GuardResult) -> str:
        return "#"


def test_what_cannot_be_serialised_is_refused() -> None:
    with pytest.raises(GuardConfigError, match="cannot be serialised"):
        SafetyGuard(on_fail=lambda result: None).to_dict()
    with pytest.raises(GuardConfigError, match="cannot be serialised"):  # "module:Redactor.redact" drops the instance
        SafetyGuard(on_fail=Redactor().redact).to_dict()
    with pytest.raises(GuardConfigError, match="needs model as a name or path"):
        SafetyGuard(ScriptedScorer()).to_dict()
    with pytest.raises(GuardConfigError, match=r"unknown settings \['colour'\]"):
        SafetyGuard.from_dict({"colour": "red"})
    with pytest.raises(GuardConfigError, match="cannot be imported"):
        SafetyGuard.from_dict({"on_fail": {"callable": "no_such_module:fn"}})


def test_paths_serialise_as_strings(tmp_path: Path) -> None:
    assert RuleGuard(tmp_path, rules=["x"]).to_dict()["model"] == str(tmp_path)


def test_the_caller_dicts_are_copied_not_kept() -> None:
    categories = {"spam": "ads"}
    thresholds = {"spam": 0.2}
    guard = SafetyGuard(categories=categories, thresholds=thresholds)
    categories["scam"] = "fraud"
    thresholds["spam"] = 0.9
    guard.categories["other"] = "x"
    assert guard.categories == {"spam": "ads"}
    assert guard.threshold_for("spam") == 0.2


def test_results_are_frozen_and_serialise_to_json() -> None:
    result = SafetyGuard(ScriptedScorer(), categories={"spam": None}).check("spam!")
    with pytest.raises(AttributeError):
        result.passed = True  # type: ignore[misc]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["violations"][0]["span"] == [0, 5]
    assert data["checks"][0]["label"] == "spam"
    assert hash(result) == hash(SafetyGuard(ScriptedScorer(), categories={"spam": None}).check("spam!"))
    route = IntentRouter(ScriptedScorer(), routes=["spam"]).route("spam")
    assert json.loads(json.dumps(route.to_dict()))["scores"] == {"spam": 0.9}
