"""Deterministic, label-stratified row samples and few-shot example draws."""

from __future__ import annotations

from collections import defaultdict
from typing import overload

import numpy as np

from gliclass_rag.evaluation.sets import LabelledSet, PairSet

__all__ = ["sample", "sample_per_label"]


@overload
def sample(data: LabelledSet, n: int, seed: int = 0) -> LabelledSet: ...
@overload
def sample(data: PairSet, n: int, seed: int = 0) -> PairSet: ...
@overload
def sample(data: LabelledSet | PairSet, n: int, seed: int = 0) -> LabelledSet | PairSet: ...


def sample(data: LabelledSet | PairSet, n: int, seed: int = 0) -> LabelledSet | PairSet:
    """A deterministic sample of ``n`` rows, stratified by label, in the set's own row order.

    Each label (the first gold label of a row; a pair set's label) gets ``n * share`` rows rounded by largest
    remainder, so label proportions are kept. The same ``(data, n, seed)`` always gives the same rows; when ``n`` is
    at least the set's size the set is returned unchanged.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        msg = f"n must be a positive integer, but got {n!r}"
        raise ValueError(msg)
    if n >= len(data):
        return data
    keys = _strata(data)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        groups[key].append(index)
    rng = np.random.default_rng(seed)
    order = sorted(groups)
    exact = {key: n * len(groups[key]) / len(data) for key in order}
    quota = {key: int(exact[key]) for key in order}
    ties = rng.permutation(len(order))  # random tie-break between equal remainders, still seeded
    by_remainder = sorted(range(len(order)), key=lambda i: (-(exact[order[i]] - quota[order[i]]), ties[i]))
    for position in by_remainder[: n - sum(quota.values())]:
        quota[order[position]] += 1
    chosen: list[int] = []
    for key in order:
        members = np.asarray(groups[key])
        chosen.extend(int(index) for index in rng.permutation(members)[: quota[key]])
    return data.select(sorted(chosen))


def sample_per_label(data: LabelledSet, k: int, seed: int = 0) -> LabelledSet:
    """Up to ``k`` rows for each label of ``data`` (fewer where a label has fewer rows), seeded, grouped by label.

    This is the few-shot example draw: a label with no row in ``data`` gets none.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        msg = f"k must be a positive integer, but got {k!r}"
        raise ValueError(msg)
    rows_of: dict[str, list[int]] = defaultdict(list)
    for index, names in enumerate(data.gold):
        rows_of[names[0]].append(index)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for label in data.labels:
        members = rows_of.get(label)
        if members:
            picked = rng.permutation(np.asarray(members))[:k]
            chosen.extend(sorted(int(index) for index in picked))
    return data.select(chosen)


def _strata(data: LabelledSet | PairSet) -> list[str]:
    if isinstance(data, LabelledSet):
        return [names[0] for names in data.gold]
    return [str(label) for label in data.label]
