"""Metrics on tiny cases computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gliclass_rag.errors import MissingDependencyError
from gliclass_rag.evaluation import metrics


def test_accuracy_counts_exact_matches() -> None:
    assert metrics.accuracy(["a", "b", "c", "a"], ["a", "b", "a", "b"]) == pytest.approx(0.5)


def test_macro_f1_hand_computed() -> None:
    # a: tp=1, gold=2, pred=2 -> F1 0.5;  b: tp=1, gold=1, pred=2 -> 2/3;  c: tp=0, gold=1, pred=0 -> 0
    gold = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", "a"]
    assert metrics.macro_f1(gold, predicted) == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)


def test_macro_f1_averages_over_gold_labels_only() -> None:
    # "z" is predicted but never gold: it is no class of the set and does not enter the average
    assert metrics.macro_f1(["a", "b"], ["a", "z"]) == pytest.approx((1.0 + 0.0) / 2)
    # listing labels explicitly includes them (an absent, never-predicted label scores 0)
    assert metrics.macro_f1(["a", "b"], ["a", "b"], labels=["a", "b", "c"]) == pytest.approx(2 / 3)


def test_multilabel_macro_f1_hand_computed() -> None:
    gold = [{"x", "y"}, {"y"}, {"z"}]
    predicted = [{"x"}, {"y", "z"}, set()]
    # x: tp1 g1 p1 -> 1;  y: tp1 g2 p1 -> 2/3;  z: tp0 g1 p1 -> 0
    assert metrics.multilabel_macro_f1(gold, predicted) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_argmax_and_threshold_labels() -> None:
    scores = [{"a": 0.2, "b": 0.7, "c": 0.6}, {"a": 0.5, "b": 0.1, "c": 0.5}]
    assert metrics.argmax_labels(scores) == ["b", "a"]  # a tie goes to the first label
    assert metrics.threshold_labels(scores, 0.5) == [("b", "c"), ("a", "c")]
    with pytest.raises(ValueError, match="no label scores"):
        metrics.argmax_labels([{}])


def test_auroc_perfect_inverted_and_hand_computed() -> None:
    assert metrics.auroc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == pytest.approx(1.0)
    assert metrics.auroc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == pytest.approx(0.0)
    # pairs (pos, neg): (0.35,0.1) win, (0.35,0.4) loss, (0.8,0.1) win, (0.8,0.4) win -> 3/4
    assert metrics.auroc([0, 1, 0, 1], [0.1, 0.35, 0.4, 0.8]) == pytest.approx(0.75)


def test_auroc_counts_ties_as_half() -> None:
    assert metrics.auroc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    # pos 0.5 vs negs (0.5 tie, 0.2 win) ; pos 0.9 vs both win -> (0.5 + 1 + 1 + 1) / 4
    assert metrics.auroc([1, 0, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(3.5 / 4)


def test_auroc_needs_both_classes_and_finite_scores() -> None:
    with pytest.raises(ValueError, match="both classes"):
        metrics.auroc([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="finite"):
        metrics.auroc([0, 1], [0.2, math.nan])
    with pytest.raises(ValueError, match="same length"):
        metrics.auroc([0, 1, 1], [0.2, 0.3])


def test_expected_calibration_error_hand_computed() -> None:
    # 2 bins: bin 0 = (0, 0.5] holds 0.2, 0.4 (mean 0.3, accuracy 0.5); bin 1 holds 0.9, 0.7 (mean 0.8, accuracy 1)
    confidences = [0.2, 0.4, 0.9, 0.7]
    correct = [True, False, True, True]
    assert metrics.expected_calibration_error(confidences, correct, n_bins=2) == pytest.approx(
        0.5 * abs(0.5 - 0.3) + 0.5 * abs(1.0 - 0.8)
    )


def test_expected_calibration_error_zero_when_calibrated_and_bins_validated() -> None:
    assert metrics.expected_calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)
    assert metrics.expected_calibration_error([0.0, 1.0], [False, True], n_bins=10) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="n_bins"):
        metrics.expected_calibration_error([0.5], [True], n_bins=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.expected_calibration_error([1.5], [True])


def test_reliability_bins_edges() -> None:
    mean_confidence, accuracy, counts = metrics.reliability_bins([0.0, 0.5, 0.51, 1.0], [1, 0, 1, 1], n_bins=2)
    assert counts.tolist() == [2, 2]  # 0.0 and 0.5 in the first bin, (0.5, 1] in the second
    assert accuracy.tolist() == pytest.approx([0.5, 1.0])
    assert mean_confidence.tolist() == pytest.approx([0.25, 0.755])


def test_mean_reciprocal_rank_hand_computed() -> None:
    scores = [[0.9, 0.5, 0.1], [0.2, 0.8, 0.3], [0.4, 0.6]]
    relevant = [[True, False, False], [False, False, True], [False, False]]
    # query 0: rank 1; query 1: rank 2; query 2: no relevant candidate, left out
    assert metrics.mean_reciprocal_rank(scores, relevant) == pytest.approx((1 + 1 / 2) / 2)


def test_mean_reciprocal_rank_breaks_ties_against_the_relevant_candidate() -> None:
    assert metrics.mean_reciprocal_rank([[0.5, 0.5, 0.5]], [[True, False, False]]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="relevant candidate"):
        metrics.mean_reciprocal_rank([[0.1, 0.2]], [[False, False]])


def test_reliability_diagram_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = metrics.reliability_diagram([0.2, 0.6, 0.9, 0.95], [False, True, True, True], tmp_path / "d" / "r.png", "t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reliability_diagram_without_matplotlib_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def refuse_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", refuse_matplotlib)
    with pytest.raises(MissingDependencyError, match=r"gliclass-rag\[plot\]"):
        metrics.reliability_diagram([0.5], [True], tmp_path / "r.png")


def test_reliability_bins_put_an_edge_value_in_the_lower_bin() -> None:
    _, _, counts = metrics.reliability_bins([0.2], [True], n_bins=15)  # 0.2 * 15 is 3.0000000000000004 in floats
    assert int(counts.argmax()) == 2
