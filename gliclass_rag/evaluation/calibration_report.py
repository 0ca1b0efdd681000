"""Calibration before/after: fit on a set's small ``train`` pool, measure ECE on its ``test`` rows.

Two views, as the pipeline has two modes: single-label (softmax top-1 confidence vs correct; a temperature is
fitted) and multi-label (every (text, label) sigmoid vs whether the label is true; temperature + bias, and
optionally per-label biases). The fit never sees the rows it is measured on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gliclass_rag.calibration import Calibration, fit_calibration
from gliclass_rag.evaluation import metrics
from gliclass_rag.evaluation.datasets import load_labelled, sample

__all__ = ["CalibrationRow", "calibration_report", "format_calibration_table"]


@dataclass(frozen=True)
class CalibrationRow:
    set_name: str
    mode: str  # "single-label" or "multi-label"
    fit_rows: int
    test_rows: int
    calibration: Calibration
    ece_before: float
    ece_after: float
    plots: tuple[str, ...]


def _confidences(
    classifier: Any, texts: list[str], labels: list[str], gold: list[tuple[str, ...]], multi_label: bool
) -> tuple[list[float], list[bool]]:
    scores = classifier.scores(texts, labels, multi_label=multi_label, batch_size=16)
    if not multi_label:
        top = [max(row, key=row.__getitem__) for row in scores]
        return [row[t] for row, t in zip(scores, top, strict=True)], [t in g for t, g in zip(top, gold, strict=True)]
    confidences = [row[label] for row in scores for label in labels]
    truth = [label in g for g in gold for label in labels]
    return confidences, truth


def calibration_report(
    classifier: Any,
    set_names: list[str],
    *,
    fit_rows: int = 300,
    max_rows: int = 1000,
    seed: int = 0,
    per_label_bias: bool = False,
    plots: Path | None = None,
    data_dir: str | None = None,
) -> list[CalibrationRow]:
    """ECE before/after post-hoc calibration per set and mode; the classifier's own calibration is restored."""
    original = classifier.calibration
    rows: list[CalibrationRow] = []
    try:
        for name in set_names:
            pool = sample(load_labelled(name, "train", data_dir=data_dir), fit_rows, seed)
            test = sample(load_labelled(name, "test", data_dir=data_dir), max_rows, seed)
            labels = list(test.labels)
            for multi_label in (False, True):
                mode = "multi-label" if multi_label else "single-label"
                classifier.with_calibration(original)
                before = _confidences(classifier, list(test.texts), labels, list(test.gold), multi_label)
                fitted = fit_calibration(
                    classifier, list(pool.texts), labels, list(pool.gold),
                    multi_label=multi_label, per_label_bias=per_label_bias and multi_label,
                )  # fmt: skip
                classifier.with_calibration(fitted)
                after = _confidences(classifier, list(test.texts), labels, list(test.gold), multi_label)
                written: list[str] = []
                if plots is not None:
                    for tag, (conf, ok) in (("before", before), ("after", after)):
                        path = plots / f"{name}-{mode}-{tag}.png"
                        metrics.reliability_diagram(conf, ok, path, f"{name} ({mode}), {tag} calibration")
                        written.append(str(path))
                rows.append(
                    CalibrationRow(
                        name,
                        mode,
                        len(pool),
                        len(test),
                        fitted,
                        metrics.expected_calibration_error(*before),
                        metrics.expected_calibration_error(*after),
                        tuple(written),
                    )
                )
    finally:
        classifier.with_calibration(original)
    return rows


def format_calibration_table(rows: list[CalibrationRow]) -> str:
    lines = [
        "| set | mode | fit rows | test rows | temperature | bias | ECE before | ECE after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c = row.calibration
        lines.append(
            f"| {row.set_name} | {row.mode} | {row.fit_rows} | {row.test_rows} | {c.temperature:.3f} | "
            f"{c.bias:+.3f} | {row.ece_before:.3f} | {row.ece_after:.3f} |"
        )
    mean = np.mean([r.ece_before - r.ece_after for r in rows]) if rows else 0.0
    return "\n".join(lines) + f"\n\nmean ECE reduction: {mean:.3f}\n"
