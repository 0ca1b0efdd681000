"""Engine errors: fail closed (default), fail open, or raise; the exception tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from gliclass_guards import (
    GLiClassError,
    GuardConfigError,
    GuardViolation,
    HallucinationGuard,
    RuleGuard,
    SafetyGuard,
)
from guards_tiny import ScriptedScorer

from gliclass_rag import CheckpointError, ConfigError


def broken() -> ScriptedScorer:
    return ScriptedScorer(error=RuntimeError("CUDA out of memory"))


def test_engine_errors_fail_closed_by_default() -> None:
    result = SafetyGuard(broken()).check("anything")
    assert not result.passed
    assert result.score == 1.0
    assert result.error == "RuntimeError: CUDA out of memory"
    (violation,) = result.violations
    assert violation.label == "guard_error"
    assert violation.span is None
    assert "fails closed" in violation.reason


def test_fail_closed_then_runs_the_fail_action() -> None:
    assert SafetyGuard(broken(), on_fail="refrain", refusal="Unavailable.").check("hi").output == "Unavailable."
    assert SafetyGuard(broken(), on_fail="fix", redaction="#").check("hi there").output == "#"
    with pytest.raises(GuardViolation) as caught:
        RuleGuard(broken(), rules=["polite"], on_fail="exception").check("hi")
    assert caught.value.result.error == "RuntimeError: CUDA out of memory"


def test_fail_open_passes_and_reports_the_error() -> None:
    result = HallucinationGuard(broken(), on_error="open").check("Paris is in France.", "context here")
    assert result.passed
    assert result.score == 0.0
    assert result.output == "Paris is in France."
    assert result.error == "RuntimeError: CUDA out of memory"


def test_raise_lets_the_engine_error_through() -> None:
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        SafetyGuard(broken(), on_error="raise").check("hi")


def test_a_missing_checkpoint_fails_closed_per_item_and_warm_up_raises(tmp_path: Path) -> None:
    guard = SafetyGuard(str(tmp_path / "missing-model"))
    results = guard.check_batch(["one", "two"])
    assert [r.passed for r in results] == [False, False]
    assert all(r.error is not None and r.error.startswith("CheckpointError") for r in results)
    with pytest.raises(CheckpointError):
        guard.warm_up()


def test_errors_belong_to_one_tree() -> None:
    assert issubclass(GuardViolation, GLiClassError)
    assert issubclass(GuardConfigError, ConfigError)
    assert issubclass(GuardConfigError, ValueError)
    with pytest.raises(GuardConfigError, match="on_error must be one of"):
        SafetyGuard(on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(GuardConfigError, match="model must be a name, a path, a ZeroShotClassifier"):
        SafetyGuard(model=42)  # type: ignore[arg-type]


def test_constructors_are_cheap_and_load_nothing(tmp_path: Path) -> None:
    guard = HallucinationGuard(str(tmp_path / "not-there"))
    assert guard._scorer is None  # nothing resolved until the first check or warm_up
