"""Evaluate any classifier with a ``scores`` method on the evaluation sets, beside the baseline, on the same rows.

The classifier only needs::

    scores(texts: list[str], labels: list[str] | list[list[str]], *, multi_label: bool, batch_size: int)
        -> list[dict[str, float]]          # one dict per text holding every label of that text

``gliclass_rag.ZeroShotClassifier``, :class:`~gliclass_rag.evaluation.baseline.EmbeddingBaseline` and
:class:`~gliclass_rag.evaluation.baseline.NearestCentroidBaseline` all qualify. Few-shot examples reach the classifier
through a :data:`PassExamples` function; the default, :func:`examples_keyword`, passes them as
``examples=[{"text": ..., "labels": [...]}, ...]``. Another convention (say an example store and ``k``) is a small
function of the same shape::

    def via_store(classifier, texts, labels, examples, *, multi_label, batch_size):
        store = ExampleStore.from_examples(examples)
        return classifier.scores(texts, labels, multi_label=multi_label, batch_size=batch_size,
                                 examples_store=store, k=8)

Tasks per set: a :class:`LabelledSet` is classified (argmax over all its labels; thresholded for multi-label sets);
a :class:`PairSet` gives the AUROC of one score per pair (``sick``/``snli``: premise as text, hypothesis as the only
label, entailment positive; ``qnli``: passage as text, query as the only label, 1 positive), and ``qnli`` is also
ranked per query (MRR).
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypedDict

import numpy as np

from gliclass_rag.evaluation import metrics
from gliclass_rag.evaluation.datasets import (
    LabelledSet,
    PairSet,
    load_labelled,
    load_set,
    sample,
    sample_per_label,
)
from gliclass_rag.evaluation.results import BinaryResult, ClassificationResult, Comparison, RankingResult, Result

__all__ = [
    "Classifier",
    "Example",
    "PassExamples",
    "compare",
    "evaluate_binary",
    "evaluate_classification",
    "evaluate_pairs",
    "evaluate_reranking",
    "evaluate_set",
    "examples_keyword",
    "few_shot_examples",
    "via_example_store",
]

DEFAULT_MAX_ROWS = 1000
MULTI_LABEL_THRESHOLD = 0.5


class Classifier(Protocol):
    """Anything with the classifier's ``scores`` method."""

    def scores(
        self,
        texts: list[str],
        labels: list[str] | list[list[str]],
        *,
        multi_label: bool,
        batch_size: int,
    ) -> list[dict[str, float]]: ...


class Example(TypedDict):
    """A labelled example handed to a few-shot classifier."""

    text: str
    labels: list[str]


class PassExamples(Protocol):
    """Calls ``classifier.scores`` with few-shot ``examples`` passed the way that classifier expects."""

    def __call__(
        self,
        classifier: Classifier,
        texts: list[str],
        labels: list[str] | list[list[str]],
        examples: list[Example],
        *,
        multi_label: bool,
        batch_size: int,
    ) -> list[dict[str, float]]: ...


def examples_keyword(keyword: str = "examples") -> PassExamples:
    """Pass the examples as one keyword argument of ``scores`` (``examples=[{"text":..., "labels":[...]}]``)."""
    if not keyword.isidentifier():
        msg = f"keyword must be a Python identifier, but got {keyword!r}"
        raise ValueError(msg)

    def pass_examples(
        classifier: Classifier,
        texts: list[str],
        labels: list[str] | list[list[str]],
        examples: list[Example],
        *,
        multi_label: bool,
        batch_size: int,
    ) -> list[dict[str, float]]:
        score: Callable[..., list[dict[str, float]]] = classifier.scores
        return score(texts, labels, multi_label=multi_label, batch_size=batch_size, **{keyword: examples})

    return pass_examples


def via_example_store(k: int = 8) -> PassExamples:
    """Put the examples in a :class:`gliclass_rag.ExampleStore` and let the classifier retrieve ``k`` per text
    (retrieval-augmented classification)."""

    def pass_examples(
        classifier: Classifier,
        texts: list[str],
        labels: list[str] | list[list[str]],
        examples: list[Example],
        *,
        multi_label: bool,
        batch_size: int,
    ) -> list[dict[str, float]]:
        from gliclass_rag.rac import ExampleStore

        store = ExampleStore()
        store.add([e["text"] for e in examples], [e["labels"] for e in examples])
        score: Callable[..., list[dict[str, float]]] = classifier.scores
        return score(texts, labels, multi_label=multi_label, batch_size=batch_size, examples_store=store, k=k)

    return pass_examples


def few_shot_examples(pool: LabelledSet, k: int, seed: int = 0) -> list[Example]:
    """``k`` examples per label drawn from ``pool`` (a set's ``train`` split), seeded, as classifier examples."""
    chosen = sample_per_label(pool, k, seed)
    return [{"text": text, "labels": list(gold)} for text, gold in zip(chosen.texts, chosen.gold, strict=True)]


# --------------------------------------------------------------------------------------------------- single sets


def evaluate_classification(
    classifier: Classifier,
    data: LabelledSet,
    *,
    model_name: str = "model",
    examples: Sequence[Example] | None = None,
    pass_examples: PassExamples | None = None,
    batch_size: int = 32,
    threshold: float = MULTI_LABEL_THRESHOLD,
) -> ClassificationResult:
    """Score every row of ``data`` against all of ``data.labels`` and compare with the gold labels.

    Single-label sets: argmax macro-F1 and accuracy, and the ECE of the top score (``multi_label=False``).
    Multi-label sets: labels scoring at least ``threshold`` are predicted (``multi_label=True``); accuracy is
    exact-set accuracy. With ``examples`` the classifier is called through ``pass_examples`` (default
    :func:`examples_keyword`) and the result is reported as ``len(examples) / labels``-shot.
    """
    if len(data) == 0:
        msg = f"{data.name}/{data.split} has no rows to evaluate"
        raise ValueError(msg)
    texts, labels = list(data.texts), list(data.labels)
    started = time.perf_counter()
    if examples:
        caller = pass_examples or examples_keyword()
        scores = caller(classifier, texts, labels, list(examples), multi_label=data.multi_label, batch_size=batch_size)
    else:
        scores = classifier.scores(texts, labels, multi_label=data.multi_label, batch_size=batch_size)
    seconds = time.perf_counter() - started
    _check_scores(scores, len(texts), data.name)
    k_shot = _k_of(examples)
    if data.multi_label:
        predicted_sets = metrics.threshold_labels(scores, threshold)
        gold_sets = [set(gold) for gold in data.gold]
        return ClassificationResult(
            set_name=data.name,
            split=data.split,
            model=model_name,
            n_rows=len(data),
            n_labels=len(labels),
            k_shot=k_shot,
            macro_f1=metrics.multilabel_macro_f1(gold_sets, [set(row) for row in predicted_sets]),
            accuracy=float(np.mean([set(p) == g for p, g in zip(predicted_sets, gold_sets, strict=True)])),
            ece=math.nan,
            seconds=seconds,
        )
    gold = [names[0] for names in data.gold]
    predicted = metrics.argmax_labels(scores)
    confidences = tuple(float(row[label]) for row, label in zip(scores, predicted, strict=True))
    correct = tuple(p == g for p, g in zip(predicted, gold, strict=True))
    in_unit_range = all(0.0 <= value <= 1.0 for value in confidences)
    return ClassificationResult(
        set_name=data.name,
        split=data.split,
        model=model_name,
        n_rows=len(data),
        n_labels=len(labels),
        k_shot=k_shot,
        macro_f1=metrics.macro_f1(gold, predicted),
        accuracy=metrics.accuracy(gold, predicted),
        ece=metrics.expected_calibration_error(confidences, correct) if in_unit_range else math.nan,
        seconds=seconds,
        confidences=confidences,
        correct=correct,
    )


def evaluate_binary(
    classifier: Classifier,
    data: LabelledSet,
    positive: str,
    *,
    model_name: str = "model",
    batch_size: int = 32,
) -> BinaryResult:
    """AUROC of the ``positive`` label's single-label score on a set (e.g. xstest ``unsafe``, hatecheck ``hateful``)."""
    if positive not in data.labels:
        msg = f"positive must be one of {list(data.labels)}, but got {positive!r}"
        raise ValueError(msg)
    started = time.perf_counter()
    scores = classifier.scores(list(data.texts), list(data.labels), multi_label=False, batch_size=batch_size)
    seconds = time.perf_counter() - started
    _check_scores(scores, len(data), data.name)
    is_positive = [positive in gold for gold in data.gold]
    return BinaryResult(
        set_name=data.name,
        split=data.split,
        model=model_name,
        n_rows=len(data),
        n_positive=sum(is_positive),
        positive=positive,
        auroc=metrics.auroc(is_positive, [row[positive] for row in scores]),
        seconds=seconds,
    )


_PAIR_ROLES: Mapping[str, tuple[Literal["first", "second"], str | int]] = {
    # set -> (which side is the text, the positive label); the other side is the only label
    "sick": ("first", "entailment"),
    "snli": ("first", "entailment"),
    "qnli": ("second", 1),
    "qnli_train": ("second", 1),
    "qnli_heldout": ("second", 1),
}


def evaluate_pairs(
    classifier: Classifier,
    pairs: PairSet,
    *,
    model_name: str = "model",
    text_side: Literal["first", "second"] | None = None,
    positive: str | int | None = None,
    batch_size: int = 32,
) -> BinaryResult:
    """AUROC of scoring each pair's label side as the only label of its text side (``multi_label=True``).

    Defaults by set: ``sick``/``snli`` premise as text, hypothesis as label, ``entailment`` positive (neutral and
    contradiction negative); ``qnli`` passage as text, query as label, ``1`` positive.
    """
    default_side, default_positive = _PAIR_ROLES.get(pairs.name, (None, None))
    side = text_side or default_side
    wanted = positive if positive is not None else default_positive
    if side not in ("first", "second") or wanted is None:
        msg = f"{pairs.name}: pass text_side ('first' or 'second') and positive for this pair set"
        raise ValueError(msg)
    texts, labels = (pairs.first, pairs.second) if side == "first" else (pairs.second, pairs.first)
    started = time.perf_counter()
    scores = classifier.scores(list(texts), [[label] for label in labels], multi_label=True, batch_size=batch_size)
    seconds = time.perf_counter() - started
    _check_scores(scores, len(pairs), pairs.name)
    is_positive = [label == wanted for label in pairs.label]
    return BinaryResult(
        set_name=pairs.name,
        split=pairs.split,
        model=model_name,
        n_rows=len(pairs),
        n_positive=sum(is_positive),
        positive=str(wanted),
        auroc=metrics.auroc(is_positive, [row[label] for row, label in zip(scores, labels, strict=True)]),
        seconds=seconds,
    )


def evaluate_reranking(
    classifier: Classifier,
    pairs: PairSet,
    *,
    model_name: str = "model",
    max_queries: int | None = None,
    n_distractors: int = 0,
    seed: int = 0,
    batch_size: int = 32,
) -> RankingResult:
    """MRR of ranking each query's passages (query/passage/1|0 pairs, e.g. ``qnli_heldout``) by the query's score.

    Every passage is scored with its query as the only label (``multi_label=True``). ``n_distractors`` passages of
    other queries are added to each query's candidates as irrelevant (seeded). Queries without a relevant or an
    irrelevant candidate are left out; ``max_queries`` keeps a seeded random subset of the rest.
    """
    if n_distractors < 0:
        msg = f"n_distractors must be >= 0, but got {n_distractors}"
        raise ValueError(msg)
    groups: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for query, passage, label in zip(pairs.first, pairs.second, pairs.label, strict=True):
        groups[query].append((passage, label == 1 or label == "1"))
    rng = np.random.default_rng(seed)
    all_passages = sorted({passage for passage in pairs.second})
    candidates: dict[str, list[tuple[str, bool]]] = {}
    for query in sorted(groups):
        own = groups[query]
        extra: list[tuple[str, bool]] = []
        if n_distractors:
            mine = {passage for passage, _ in own}
            pool = [passage for passage in all_passages if passage not in mine]
            picked = rng.permutation(len(pool))[:n_distractors]
            extra = [(pool[int(index)], False) for index in picked]
        group = own + extra
        if any(relevant for _, relevant in group) and not all(relevant for _, relevant in group):
            candidates[query] = group
    queries = sorted(candidates)
    if max_queries is not None and len(queries) > max_queries:
        queries = sorted(str(query) for query in rng.choice(queries, size=max_queries, replace=False))
    if not queries:
        msg = f"{pairs.name}: no query has both a relevant and an irrelevant candidate"
        raise ValueError(msg)
    texts = [passage for query in queries for passage, _ in candidates[query]]
    labels = [[query] for query in queries for _ in candidates[query]]
    started = time.perf_counter()
    scores = classifier.scores(texts, labels, multi_label=True, batch_size=batch_size)
    seconds = time.perf_counter() - started
    _check_scores(scores, len(texts), pairs.name)
    flat = [row[label[0]] for row, label in zip(scores, labels, strict=True)]
    query_scores: list[list[float]] = []
    query_relevant: list[list[bool]] = []
    position = 0
    for query in queries:
        size = len(candidates[query])
        query_scores.append(flat[position : position + size])
        query_relevant.append([relevant for _, relevant in candidates[query]])
        position += size
    return RankingResult(
        set_name=pairs.name,
        split=pairs.split,
        model=model_name,
        n_queries=len(queries),
        mean_candidates=len(texts) / len(queries),
        n_distractors=n_distractors,
        mrr=metrics.mean_reciprocal_rank(query_scores, query_relevant),
        seconds=seconds,
    )


# ------------------------------------------------------------------------------------------------------- comparing


def evaluate_set(
    classifier: Classifier,
    data: LabelledSet | PairSet,
    *,
    model_name: str = "model",
    max_rows: int | None = DEFAULT_MAX_ROWS,
    seed: int = 0,
    examples: Sequence[Example] | None = None,
    pass_examples: PassExamples | None = None,
    batch_size: int = 32,
    n_distractors: int = 0,
) -> list[Result]:
    """The set's tasks (see the module docstring) for one classifier, on a seeded stratified sample of at most
    ``max_rows`` rows (reranking: at most ``max_rows`` queries, all their pairs). The same arguments always select
    the same rows, so two classifiers evaluated with them are compared on identical data."""
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows <= 0):
        msg = f"max_rows must be a positive integer or None, but got {max_rows!r}"
        raise ValueError(msg)
    rows = sample(data, max_rows, seed) if max_rows is not None else data
    if isinstance(rows, LabelledSet):
        return [
            evaluate_classification(
                classifier,
                rows,
                model_name=model_name,
                examples=examples,
                pass_examples=pass_examples,
                batch_size=batch_size,
            )
        ]
    results: list[Result] = [evaluate_pairs(classifier, rows, model_name=model_name, batch_size=batch_size)]
    if isinstance(data, PairSet) and data.name.startswith("qnli"):
        results.append(
            evaluate_reranking(
                classifier,
                data,
                model_name=model_name,
                max_queries=max_rows,
                n_distractors=n_distractors,
                seed=seed,
                batch_size=batch_size,
            )
        )
    return results


def compare(
    model: Classifier,
    baseline: Classifier | None,
    sets: Sequence[str | LabelledSet | PairSet],
    *,
    model_name: str = "model",
    baseline_name: str = "baseline",
    split: str | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    k_shot: int = 0,
    seed: int = 0,
    batch_size: int = 32,
    pass_examples: PassExamples | None = None,
    baseline_pass_examples: PassExamples | None = None,
    n_distractors: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], Any] | None = None,
) -> list[Comparison]:
    """Evaluate ``model`` and ``baseline`` on the same rows of each set; the baseline may be ``None``.

    Args:
        sets: set names (loaded at ``split``, default ``test``) or already loaded sets.
        max_rows: rows per set, a seeded label-stratified :func:`sample` (``None``: every row); for reranking,
            queries (each with all its passages).
        k_shot: examples per label drawn (seeded) from the set's ``train`` split and given to both classifiers
            through ``pass_examples`` (labelled sets, named by string; pair sets are always zero-shot). Give the
            baseline a :class:`~gliclass_rag.evaluation.baseline.NearestCentroidBaseline` to make use of them.
        pass_examples: how the model gets the examples (default :func:`examples_keyword`).
        baseline_pass_examples: how the baseline gets them (default :func:`examples_keyword`, the baselines'
            convention); separate, so that a model fed through an example store still has its baseline see the
            same examples.
        n_distractors: extra irrelevant passages per query for reranking.
        progress: called with a short line before each evaluation (the CLI prints it; the library never does).

    Raises:
        DataUnavailableError: a named set's package or file is missing (nothing is skipped silently).
    """
    if k_shot < 0:
        msg = f"k_shot must be >= 0, but got {k_shot}"
        raise ValueError(msg)
    comparisons: list[Comparison] = []
    for item in sets:
        data = load_set(item, split, data_dir=data_dir) if isinstance(item, str) else item
        examples: list[Example] | None = None
        if k_shot and isinstance(data, LabelledSet):
            if not isinstance(item, str):
                msg = (
                    f"k_shot needs the set's name to draw examples from its train split; pass {data.name!r} by name, "
                    "or call evaluate_classification(..., examples=few_shot_examples(pool, k))"
                )
                raise ValueError(msg)
            examples = few_shot_examples(load_labelled(item, "train", data_dir=data_dir), k_shot, seed)
        options: dict[str, Any] = {
            "max_rows": max_rows,
            "seed": seed,
            "examples": examples,
            "pass_examples": pass_examples,
            "batch_size": batch_size,
            "n_distractors": n_distractors,
        }
        shown = min(len(data), max_rows) if max_rows is not None else len(data)
        if progress is not None:
            progress(f"{data.name}/{data.split}: {shown} of {len(data)} rows, {model_name}")
        model_results = evaluate_set(model, data, model_name=model_name, **options)
        baseline_results: list[Result | None] = [None] * len(model_results)
        if baseline is not None:
            if progress is not None:
                progress(f"{data.name}/{data.split}: {shown} of {len(data)} rows, {baseline_name}")
            options["pass_examples"] = baseline_pass_examples
            baseline_results = list(evaluate_set(baseline, data, model_name=baseline_name, **options))
        comparisons.extend(
            Comparison(model=result, baseline=other)
            for result, other in zip(model_results, baseline_results, strict=True)
        )
    return comparisons


def _k_of(examples: Sequence[Example] | None) -> int:
    if not examples:
        return 0
    per_label: dict[str, int] = defaultdict(int)
    for example in examples:
        for label in example["labels"]:
            per_label[label] += 1
    return max(per_label.values())


def _check_scores(scores: object, n_texts: int, name: str) -> None:
    if not isinstance(scores, list) or len(scores) != n_texts:
        got = len(scores) if isinstance(scores, list) else type(scores).__name__
        msg = f"{name}: the classifier must return one score dict per text ({n_texts}), but returned {got}"
        raise ValueError(msg)
