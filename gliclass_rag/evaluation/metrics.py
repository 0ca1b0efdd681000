"""Evaluation metrics on plain Python sequences, computed with numpy only.

Conventions: macro averages run over the labels that occur in the gold data unless ``labels`` is given (a label
that is only ever predicted lowers precision nowhere, since it is no class of the set); every function validates
its inputs and raises ``ValueError`` naming the problem.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gliclass_rag.errors import MissingDependencyError

__all__ = [
    "accuracy",
    "argmax_labels",
    "auroc",
    "expected_calibration_error",
    "macro_f1",
    "mean_reciprocal_rank",
    "multilabel_macro_f1",
    "reliability_bins",
    "reliability_diagram",
    "threshold_labels",
]

_FloatArray = npt.NDArray[np.float64]


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of rows whose predicted label equals the gold label."""
    _check_same_length(gold, predicted, "gold", "predicted")
    return float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)]))


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Iterable[str] | None = None) -> float:
    """Single-label macro-F1: the unweighted mean of per-label F1 over ``labels`` (default: the gold label set).

    A label with no gold row and no prediction has F1 0 when it is listed in ``labels`` explicitly.
    """
    _check_same_length(gold, predicted, "gold", "predicted")
    classes = _classes(labels, gold)
    scores = []
    for label in classes:
        true_positive = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        n_gold = sum(1 for g in gold if g == label)
        n_predicted = sum(1 for p in predicted if p == label)
        scores.append(_f1(true_positive, n_gold, n_predicted))
    return float(np.mean(scores))


def multilabel_macro_f1(
    gold: Sequence[Collection[str]], predicted: Sequence[Collection[str]], labels: Iterable[str] | None = None
) -> float:
    """Multi-label macro-F1: per-label F1 of the binary decisions "label in the row's set", averaged over ``labels``
    (default: every label that occurs in some gold set)."""
    _check_same_length(gold, predicted, "gold", "predicted")
    classes = _classes(labels, [label for row in gold for label in row])
    scores = []
    for label in classes:
        true_positive = sum(1 for g, p in zip(gold, predicted, strict=True) if label in g and label in p)
        n_gold = sum(1 for g in gold if label in g)
        n_predicted = sum(1 for p in predicted if label in p)
        scores.append(_f1(true_positive, n_gold, n_predicted))
    return float(np.mean(scores))


def argmax_labels(scores: Sequence[Mapping[str, float]]) -> list[str]:
    """The highest-scoring label of each row (the first in the mapping's order on a tie)."""
    predicted = []
    for row, row_scores in enumerate(scores):
        if not row_scores:
            msg = f"row {row} has no label scores"
            raise ValueError(msg)
        predicted.append(max(row_scores, key=lambda label: row_scores[label]))
    return predicted


def threshold_labels(scores: Sequence[Mapping[str, float]], threshold: float = 0.5) -> list[tuple[str, ...]]:
    """The labels of each row whose score is at least ``threshold``, in the mapping's order."""
    return [tuple(label for label, score in row.items() if score >= threshold) for row in scores]


def auroc(positive: Sequence[bool | int], scores: Sequence[float]) -> float:
    """Area under the ROC curve of a binary problem: P(score of a random positive > score of a random negative),
    ties counting one half (the Mann-Whitney U statistic with average ranks).

    Raises:
        ValueError: lengths differ, a score is not finite, or one of the two classes is absent.
    """
    _check_same_length(positive, scores, "positive", "scores")
    is_positive = np.asarray([bool(value) for value in positive])
    values = _finite(scores, "scores")
    n_positive = int(is_positive.sum())
    n_negative = len(is_positive) - n_positive
    if n_positive == 0 or n_negative == 0:
        msg = f"AUROC needs both classes, but got {n_positive} positives and {n_negative} negatives"
        raise ValueError(msg)
    ranks = _average_ranks(values)
    u_statistic = ranks[is_positive].sum() - n_positive * (n_positive + 1) / 2
    return float(u_statistic / (n_positive * n_negative))


def _average_ranks(values: _FloatArray) -> _FloatArray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1  # 1-based average rank of the tied run
        start = end + 1
    return ranks


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[bool | int], n_bins: int = 15
) -> tuple[_FloatArray, _FloatArray, npt.NDArray[np.int64]]:
    """Per equal-width confidence bin over [0, 1]: mean confidence, accuracy and row count (NaN for empty bins).

    Bin ``b`` holds confidences in ``(b / n_bins, (b + 1) / n_bins]``; the first bin also holds 0.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        msg = f"n_bins must be a positive integer, but got {n_bins!r}"
        raise ValueError(msg)
    _check_same_length(confidences, correct, "confidences", "correct")
    values = _finite(confidences, "confidences")
    if values.size and (values.min() < 0 or values.max() > 1):
        msg = f"confidences must lie in [0, 1], but got values in [{values.min()}, {values.max()}]"
        raise ValueError(msg)
    hits = np.asarray([bool(value) for value in correct], dtype=np.float64)
    interior_edges = np.arange(1, n_bins) / n_bins  # k / n_bins exactly as written, so 0.2 falls in (2/15, 3/15]
    bins = np.searchsorted(interior_edges, values, side="left").astype(np.int64)
    counts = np.bincount(bins, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(bins, weights=values, minlength=n_bins) / counts
        bin_accuracy = np.bincount(bins, weights=hits, minlength=n_bins) / counts
    return mean_confidence, bin_accuracy, counts


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool | int], n_bins: int = 15) -> float:
    """ECE: the row-weighted mean over equal-width bins of |accuracy - mean confidence| (see
    :func:`reliability_bins`)."""
    if len(confidences) == 0:
        msg = "expected_calibration_error needs at least one row"
        raise ValueError(msg)
    mean_confidence, bin_accuracy, counts = reliability_bins(confidences, correct, n_bins)
    filled = counts > 0
    gaps = np.abs(bin_accuracy[filled] - mean_confidence[filled])
    return float((gaps * counts[filled]).sum() / counts.sum())


def mean_reciprocal_rank(scores: Sequence[Sequence[float]], relevant: Sequence[Sequence[bool | int]]) -> float:
    """MRR over queries: the mean of 1 / rank of each query's best-ranked relevant candidate.

    ``scores[q]`` and ``relevant[q]`` hold query ``q``'s candidates. Ties are broken against the relevant candidate
    (a constant scorer is not rewarded for input order): rank = 1 + the number of irrelevant candidates scoring at
    least as high. Queries without a relevant candidate are left out, as is usual for WikiQA-style sets.

    Raises:
        ValueError: lengths differ or no query has a relevant candidate.
    """
    _check_same_length(scores, relevant, "scores", "relevant")
    reciprocal_ranks = []
    for query, (query_scores, query_relevant) in enumerate(zip(scores, relevant, strict=True)):
        _check_same_length(query_scores, query_relevant, f"scores[{query}]", f"relevant[{query}]")
        values = _finite(query_scores, f"scores[{query}]")
        hits = np.asarray([bool(value) for value in query_relevant])
        if not hits.any():
            continue
        best = values[hits].max()
        rank = 1 + int((values[~hits] >= best).sum())
        reciprocal_ranks.append(1.0 / rank)
    if not reciprocal_ranks:
        msg = "mean_reciprocal_rank needs at least one query with a relevant candidate"
        raise ValueError(msg)
    return float(np.mean(reciprocal_ranks))


def reliability_diagram(
    confidences: Sequence[float],
    correct: Sequence[bool | int],
    path: str | os.PathLike[str],
    title: str = "Reliability diagram",
    n_bins: int = 15,
) -> Path:
    """Write a reliability diagram (accuracy against confidence per bin, with the ECE in the legend) as a PNG.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: matplotlib is not installed (``pip install "gliclass-rag[plot]"``).
    """
    try:
        from matplotlib.figure import Figure  # no pyplot: no global backend or figure state is touched
    except ImportError as error:
        raise MissingDependencyError("matplotlib", "plot", "Reliability plots") from error
    mean_confidence, bin_accuracy, counts = reliability_bins(confidences, correct, n_bins)
    ece = expected_calibration_error(confidences, correct, n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    filled = counts > 0
    figure = Figure(figsize=(4.5, 4.5), dpi=120)
    axis = figure.subplots()
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    axis.bar(
        centres[filled],
        bin_accuracy[filled],
        width=1 / n_bins,
        edgecolor="black",
        alpha=0.7,
        label=f"accuracy (ECE {ece:.3f}, n={int(counts.sum())})",
    )
    axis.plot(mean_confidence[filled], bin_accuracy[filled], marker="o", color="black", linewidth=1)
    axis.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=title)
    axis.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, format="png")
    return target


def _f1(true_positive: int, n_gold: int, n_predicted: int) -> float:
    denominator = n_gold + n_predicted
    return 0.0 if denominator == 0 else 2 * true_positive / denominator


def _classes(labels: Iterable[str] | None, observed: Iterable[str]) -> list[str]:
    classes = list(dict.fromkeys(labels)) if labels is not None else sorted(set(observed))
    if not classes:
        msg = "a macro average needs at least one label (got no labels and no gold rows)"
        raise ValueError(msg)
    return classes


def _finite(values: Sequence[float], name: str) -> _FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        msg = f"{name} must be a flat sequence of numbers, but got shape {array.shape}"
        raise ValueError(msg)
    if not np.isfinite(array).all():
        msg = f"{name} must be finite, but got {array[~np.isfinite(array)][:3].tolist()}"
        raise ValueError(msg)
    return array


def _check_same_length(first: Sequence[object], second: Sequence[object], first_name: str, second_name: str) -> None:
    if len(first) != len(second):
        msg = f"{first_name} and {second_name} must have the same length, but got {len(first)} and {len(second)}"
        raise ValueError(msg)
