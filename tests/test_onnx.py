"""The ONNX Runtime backend on tiny models: same scores as torch, cached exports, int8, errors without the extra."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from tiny import LABELS, PROBE_TEXTS, build_classifier

from gliclass_rag import ChunkingOptions, InvalidInputError, MissingDependencyError, ZeroShotClassifier

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

ARCHS = ("uni-encoder", "bi-encoder", "bi-encoder-fused")
TOLERANCE = 1e-5  # probabilities, float32 ONNX Runtime vs float32 torch


@pytest.fixture(scope="module")
def make() -> Callable[..., ZeroShotClassifier]:
    built: dict[Any, ZeroShotClassifier] = {}

    def factory(architecture: str = "uni-encoder", **overrides: Any) -> ZeroShotClassifier:
        key = (architecture, tuple(sorted(overrides.items())))
        if key not in built:
            built[key] = build_classifier(architecture, **overrides)
        return built[key]

    return factory


def _matrix(classifier: ZeroShotClassifier, texts: tuple[str, ...] = PROBE_TEXTS, **kwargs: Any) -> np.ndarray:
    rows = classifier.scores(list(texts), list(LABELS), **kwargs)
    return np.array([[row[label] for label in LABELS] for row in rows])


@pytest.mark.parametrize("architecture", ARCHS)
def test_onnx_scores_match_torch(make: Callable[..., ZeroShotClassifier], architecture: str, tmp_path: Path) -> None:
    torch_clf = make(architecture)
    onnx_clf = torch_clf.to_onnx(tmp_path)
    assert onnx_clf.backend == "onnx"
    assert torch_clf.backend == "torch"
    expected = _matrix(torch_clf)
    assert np.abs(_matrix(onnx_clf) - expected).max() <= TOLERANCE
    # the torch classifier is not modified by the export
    assert np.abs(_matrix(torch_clf) - expected).max() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"pooling_strategy": "avg", "scorer_type": "mlp"},
        {"scorer_type": "weighted-dot", "normalize_features": True},
        {"use_calibrator": True},
        {"pooling_strategy": "pass", "scorer_type": "cross-attn", "scorer_num_heads": 4},
    ],
)
def test_onnx_matches_torch_across_heads(
    make: Callable[..., ZeroShotClassifier], overrides: dict[str, Any], tmp_path: Path
) -> None:
    torch_clf = make("uni-encoder", **overrides)
    assert np.abs(_matrix(torch_clf.to_onnx(tmp_path)) - _matrix(torch_clf)).max() <= TOLERANCE


def test_onnx_handles_batching_chunking_and_label_counts(
    make: Callable[..., ZeroShotClassifier], tmp_path: Path
) -> None:
    torch_clf = copy.copy(make("uni-encoder"))
    torch_clf.chunking = ChunkingOptions(max_length=24, label_chunk_size=3, min_text_tokens=8, window_overlap=4)
    onnx_clf = torch_clf.to_onnx(tmp_path)
    long_texts = (*PROBE_TEXTS, " ".join(PROBE_TEXTS))
    for batch_size in (1, 3, 8):
        expected = _matrix(torch_clf, long_texts, batch_size=batch_size)
        assert np.abs(_matrix(onnx_clf, long_texts, batch_size=batch_size) - expected).max() <= TOLERANCE
    single = onnx_clf.scores("the team won the match", ["sports"])
    assert single["sports"] == pytest.approx(torch_clf.scores("the team won the match", ["sports"])["sports"], abs=1e-5)


def test_export_is_cached_and_keyed_by_weights(make: Callable[..., ZeroShotClassifier], tmp_path: Path) -> None:
    torch_clf = make("uni-encoder")
    first = torch_clf.to_onnx(tmp_path)
    files = sorted(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".onnx"]
    stamp = files[0].stat().st_mtime_ns
    torch_clf.to_onnx(tmp_path)
    assert sorted(tmp_path.iterdir()) == files
    assert files[0].stat().st_mtime_ns == stamp
    changed = copy.deepcopy(torch_clf)
    with torch.no_grad():
        changed.model.model.text_projector.linear_2.weight.mul_(2.0)
    second = changed.to_onnx(tmp_path)
    assert len(list(tmp_path.iterdir())) == 2  # new weights, new file
    assert np.abs(_matrix(second) - _matrix(first)).max() > 1e-3
    assert not list(tmp_path.glob("*.partial"))


def test_int8_quantised_path_runs_and_stays_close(make: Callable[..., ZeroShotClassifier], tmp_path: Path) -> None:
    torch_clf = make("uni-encoder")
    quantised = torch_clf.to_onnx(tmp_path, quantize=True)
    assert quantised.backend == "onnx-int8"
    assert any(p.name.endswith("-int8.onnx") for p in tmp_path.iterdir())
    scores = _matrix(quantised)
    assert scores.shape == (len(PROBE_TEXTS), len(LABELS))
    assert np.isfinite(scores).all()
    assert (scores >= 0).all()
    assert (scores <= 1).all()
    # a 32-wide random model is the worst case for int8; the real check (top-1 agreement) is the benchmark's
    assert np.abs(scores - _matrix(torch_clf)).max() < 0.5


def test_onnx_rerank_and_classify(make: Callable[..., ZeroShotClassifier], tmp_path: Path) -> None:
    torch_clf = make("bi-encoder")
    onnx_clf = torch_clf.to_onnx(tmp_path)
    passages = list(PROBE_TEXTS)
    assert [p.index for p in onnx_clf.rerank("sports", passages)] == [
        p.index for p in torch_clf.rerank("sports", passages)
    ]
    assert onnx_clf.classify(PROBE_TEXTS[0], list(LABELS), threshold=0.0)[0].label in LABELS


def test_invalid_arguments(make: Callable[..., ZeroShotClassifier], tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="quantize"):
        make("uni-encoder").to_onnx(tmp_path, quantize="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="num_threads"):
        make("uni-encoder").to_onnx(tmp_path, num_threads=0)


def test_missing_onnxruntime_names_the_extra(
    make: Callable[..., ZeroShotClassifier], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with pytest.raises(MissingDependencyError) as error:
        make("uni-encoder").to_onnx(tmp_path)
    assert error.value.extra == "onnx"
    assert error.value.package == "onnxruntime"
    assert not list(tmp_path.iterdir())  # nothing written
