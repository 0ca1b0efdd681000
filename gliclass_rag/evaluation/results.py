"""Evaluation results and their markdown table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["BinaryResult", "ClassificationResult", "Comparison", "RankingResult", "Result", "format_table"]


@dataclass(frozen=True)
class ClassificationResult:
    """Single- or multi-label classification of a :class:`~gliclass_rag.evaluation.datasets.LabelledSet`.

    Attributes:
        set_name, split: the rows evaluated.
        model: the name the classifier was evaluated under.
        n_rows, n_labels: rows scored and labels offered to the classifier for each row.
        k_shot: labelled examples per label given to the classifier (0: zero-shot).
        macro_f1: macro-F1 over the gold labels (argmax for single-label sets, score >= threshold for multi-label).
        accuracy: argmax accuracy (single-label) or exact-set accuracy (multi-label).
        ece: expected calibration error of the top score as confidence (single-label; NaN for multi-label).
        seconds: wall-clock time of the scoring call.
        confidences, correct: top score and whether the argmax was right, per row (for reliability diagrams).
    """

    set_name: str
    split: str
    model: str
    n_rows: int
    n_labels: int
    k_shot: int
    macro_f1: float
    accuracy: float
    ece: float
    seconds: float
    confidences: tuple[float, ...] = field(default=(), repr=False, compare=False)
    correct: tuple[bool, ...] = field(default=(), repr=False, compare=False)

    @property
    def task(self) -> str:
        return "zero-shot" if self.k_shot == 0 else f"{self.k_shot}-shot"

    @property
    def n(self) -> int:
        return self.n_rows

    def metrics(self) -> dict[str, float]:
        """The headline numbers in table order."""
        values = {"macro-F1": self.macro_f1, "accuracy": self.accuracy}
        if not math.isnan(self.ece):
            values["ECE"] = self.ece
        return values


@dataclass(frozen=True)
class BinaryResult:
    """AUROC of one score separating positives from negatives (pairs: the hypothesis or query as the only label).

    Attributes:
        positive: the label counted as positive (``entailment``, ``1``, ``unsafe`` ...).
        n_positive: positive rows among ``n_rows``.
    """

    set_name: str
    split: str
    model: str
    n_rows: int
    n_positive: int
    positive: str
    auroc: float
    seconds: float

    @property
    def task(self) -> str:
        return f"AUROC ({self.positive} vs rest)"

    @property
    def n(self) -> int:
        return self.n_rows

    def metrics(self) -> dict[str, float]:
        return {"AUROC": self.auroc}


@dataclass(frozen=True)
class RankingResult:
    """Mean reciprocal rank of the relevant passages of each query among its candidates.

    Attributes:
        n_queries: queries ranked (those with a relevant and at least one irrelevant candidate).
        mean_candidates: average candidates per query (their own passages plus ``n_distractors`` others).
        n_distractors: passages of other queries added to each query's candidates.
    """

    set_name: str
    split: str
    model: str
    n_queries: int
    mean_candidates: float
    n_distractors: int
    mrr: float
    seconds: float

    @property
    def task(self) -> str:
        suffix = f", +{self.n_distractors} distractors" if self.n_distractors else ""
        return f"rerank ({self.mean_candidates:.1f} candidates{suffix})"

    @property
    def n(self) -> int:
        return self.n_queries

    def metrics(self) -> dict[str, float]:
        return {"MRR": self.mrr}


Result = ClassificationResult | BinaryResult | RankingResult


@dataclass(frozen=True)
class Comparison:
    """One evaluation of the model and, on the same rows, of the baseline (``None`` when none was run)."""

    model: Result
    baseline: Result | None = None


def format_table(rows: Sequence[Comparison | Result], digits: int = 3) -> str:
    """A markdown table with one line per set and metric: the model's value, the baseline's beside it and the
    difference (model - baseline). Baseline columns are left out when no row has a baseline."""
    comparisons = [row if isinstance(row, Comparison) else Comparison(row) for row in rows]
    if not comparisons:
        return ""
    with_baseline = any(item.baseline is not None for item in comparisons)
    model_name = _shared_name([item.model.model for item in comparisons], "model")
    header = ["set", "split", "task", "n", "metric", model_name]
    if with_baseline:
        baseline_name = _shared_name([item.baseline.model for item in comparisons if item.baseline], "baseline")
        header += [baseline_name, "Δ"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for item in comparisons:
        result = item.model
        baseline_metrics = item.baseline.metrics() if item.baseline is not None else {}
        for metric, value in result.metrics().items():
            cells = [result.set_name, result.split, result.task, str(result.n), metric, f"{value:.{digits}f}"]
            if with_baseline:
                other = baseline_metrics.get(metric)
                cells.append("–" if other is None else f"{other:.{digits}f}")
                cells.append("–" if other is None else f"{value - other:+.{digits}f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _shared_name(names: Sequence[str], fallback: str) -> str:
    distinct = list(dict.fromkeys(names))
    return distinct[0] if len(distinct) == 1 else fallback
