"""Post-hoc calibration: fitting, applying, saving, and the before/after report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny import build_classifier

from gliclass_rag import Calibration, InvalidInputError, ZeroShotClassifier
from gliclass_rag.calibration import fit_calibration

TEXTS = ["the cat sat on the mat", "the team won the game", "the rocket reached orbit", "vote for the party"] * 4
LABELS = ["animals", "sports", "space", "politics"]
GOLD = [["animals"], ["sports"], ["space"], ["politics"]] * 4


def _binary_nll(classifier: ZeroShotClassifier) -> float:
    scores = classifier.scores(TEXTS, LABELS)
    p = np.array([row[label] for row in scores for label in LABELS]).clip(1e-12, 1 - 1e-12)
    y = np.array([label in gold for gold in GOLD for label in LABELS], dtype=float)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def test_fitted_calibration_lowers_the_nll_it_was_fitted_on() -> None:
    classifier = build_classifier("uni-encoder")
    before = _binary_nll(classifier)
    fitted = fit_calibration(classifier, TEXTS, LABELS, GOLD)
    classifier.with_calibration(fitted)
    assert _binary_nll(classifier) < before - 1e-3
    assert fitted.temperature > 0


def test_single_label_fit_changes_only_the_temperature() -> None:
    classifier = build_classifier("uni-encoder")
    fitted = fit_calibration(classifier, TEXTS, LABELS, GOLD, multi_label=False)
    assert fitted.bias == 0.0
    assert not fitted.label_bias
    ranking = [max(r, key=r.get) for r in classifier.scores(TEXTS, LABELS, multi_label=False)]
    classifier.with_calibration(fitted)
    assert [max(r, key=r.get) for r in classifier.scores(TEXTS, LABELS, multi_label=False)] == ranking


def test_balanced_fit_weighs_positives_and_negatives_equally() -> None:
    # One positive in four pairs: the unweighted fit learns that base rate, the balanced one even odds, so its
    # bias is higher and the mean score of the true labels rises.
    classifier = build_classifier("bi-encoder")
    plain = fit_calibration(classifier, TEXTS, LABELS, GOLD)
    balanced = fit_calibration(classifier, TEXTS, LABELS, GOLD, balanced=True)
    assert balanced.bias > plain.bias

    def mean_true_score(calibration: Calibration) -> float:
        rows = classifier.with_calibration(calibration).scores(TEXTS, LABELS)
        return float(np.mean([row[gold[0]] for row, gold in zip(rows, GOLD, strict=True)]))

    assert mean_true_score(balanced) > mean_true_score(plain)


def test_per_label_biases_are_fitted_for_every_label() -> None:
    classifier = build_classifier("bi-encoder")
    fitted = fit_calibration(classifier, TEXTS, LABELS, GOLD, per_label_bias=True)
    assert set(fitted.label_bias) == set(LABELS)


def test_calibration_applies_and_round_trips(tmp_path: Path) -> None:
    classifier = build_classifier("uni-encoder")
    raw = classifier.scores(TEXTS[0], LABELS)
    calibration = Calibration(temperature=2.0, bias=-0.5, label_bias={"sports": 1.0})
    classifier.with_calibration(calibration)
    calibrated = classifier.scores(TEXTS[0], LABELS)
    for label in LABELS:
        z = np.log(raw[label] / (1 - raw[label])) / 2.0 - 0.5 + (1.0 if label == "sports" else 0.0)
        assert calibrated[label] == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-6)
    loaded = ZeroShotClassifier.from_pretrained(classifier.save_pretrained(tmp_path / "ckpt"))
    assert loaded.calibration == calibration
    assert loaded.scores(TEXTS[0], LABELS) == pytest.approx(calibrated, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"bias": float("inf")}, "bias"),
    ],
)
def test_bad_calibration_values_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Calibration(**kwargs)


def test_fit_needs_positives_and_negatives() -> None:
    classifier = build_classifier("uni-encoder")
    with pytest.raises(InvalidInputError, match="positive and negative"):
        fit_calibration(classifier, TEXTS[:2], LABELS, [LABELS, LABELS])


@pytest.mark.data
def test_calibration_report_on_a_real_set(tmp_path: Path) -> None:
    from gliclass_rag.evaluation import DataUnavailableError
    from gliclass_rag.evaluation.calibration_report import calibration_report, format_calibration_table

    classifier = build_classifier("bi-encoder")
    try:
        rows = calibration_report(classifier, ["bbc"], fit_rows=20, max_rows=20, plots=tmp_path)
    except DataUnavailableError as error:
        pytest.skip(str(error))
    assert [row.mode for row in rows] == ["single-label", "multi-label"]
    assert all(Path(p).is_file() for row in rows for p in row.plots)
    assert classifier.calibration.is_identity  # the report restores the classifier's own calibration
    assert "ECE before" in format_calibration_table(rows)
