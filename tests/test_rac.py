"""ExampleStore retrieval and retrieval-augmented classification; shared classifier resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny import build_classifier

from gliclass_rag import (
    CheckpointError,
    ExampleStore,
    InvalidInputError,
    ZeroShotClassifier,
    clear_shared_classifiers,
    resolve_classifier,
)
from gliclass_rag.inputs import Request


class AxisEmbedder:
    """Texts map to fixed vectors: deterministic similarities for retrieval tests."""

    def __init__(self, version: str = "v1") -> None:
        self.embedder_id = f"axis:{version}"
        self.calls = 0

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        self.calls += 1
        table = {"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0], "c": [0.0, 0.0, 1.0], "ab": [1.0, 1.0, 0.0]}
        return np.array([table[t.split()[0]] for t in texts], dtype=np.float32)


def _store() -> ExampleStore:
    store = ExampleStore(AxisEmbedder())
    store.add(["a one", "b one", "a two", "c one", "ab one"], ["x", "y", "x", "z", ["x", "y"]])
    return store


def test_search_is_cosine_ordered_with_ties_in_insertion_order() -> None:
    hits = _store().search(["a query"], 3)[0]
    assert [h.text for h in hits] == ["a one", "a two", "ab one"]
    assert hits[0].score == pytest.approx(1.0)
    assert hits[2].score == pytest.approx(1 / np.sqrt(2), abs=1e-6)


def test_search_keeps_examples_with_one_of_the_querys_labels() -> None:
    hits = _store().search(["a query"], 5, labels=[["y", "z"]])[0]
    assert {h.text for h in hits} == {"b one", "c one", "ab one"}


def test_per_label_search_takes_k_for_each_label() -> None:
    hits = _store().search(["a query"], 1, labels=[["x", "z"]], per_label=True)[0]
    assert [h.text for h in hits] == ["a one", "c one"]


class TableEmbedder:
    """Each text is an index into a fixed table of vectors."""

    embedder_id = "table"

    def __init__(self, table: np.ndarray) -> None:
        self.table = table

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        return self.table[[int(t) for t in texts]]


@pytest.mark.parametrize("k", [1, 3, 8, 500])
def test_search_equals_a_full_sort_with_many_ties(k: int) -> None:
    # Vectors from a 3-value grid make many exactly equal scores: the fast top-k must return what a full stable
    # sort (score descending, then position) does, with and without label filters.
    rng = np.random.default_rng(0)
    table = rng.integers(-1, 2, size=(400, 4)).astype(np.float32) + np.float32(0.0)
    table[np.all(table == 0, axis=1)] = 1.0
    names = ["p", "q", "r", "s"]
    rows = [[names[i % 4]] if i % 5 else [names[i % 4], names[(i + 1) % 4]] for i in range(300)]
    store = ExampleStore(TableEmbedder(table))
    store.add([str(i) for i in range(300)], rows)
    queries = [str(i) for i in range(300, 310)]
    filters = [None, [["q"]] * 10, [["p", "s"]] * 10]
    query_vectors = table[300:310] / np.linalg.norm(table[300:310], axis=1, keepdims=True)
    similarity = query_vectors @ store.embeddings().T  # the same product the store computes: same float ties
    for labels in filters:
        hits = store.search(queries, k, labels=labels)
        for row in range(len(queries)):
            scores = similarity[row]
            allowed = [i for i in range(300) if labels is None or set(rows[i]) & set(labels[row])]
            expected = sorted(allowed, key=lambda i: (-scores[i], i))[:k]
            assert [h.index for h in hits[row]] == expected


def test_save_and_load_round_trip_and_replace(tmp_path: Path) -> None:
    store = _store()
    store.embeddings()
    target = store.save(tmp_path / "store")
    loaded = ExampleStore.load(target, AxisEmbedder())
    assert len(loaded) == 5
    assert loaded.labels == ("x", "y", "z")
    np.testing.assert_allclose(loaded.embeddings(), store.embeddings())
    assert loaded.embedder.calls == 0  # type: ignore[union-attr]  # saved vectors reused: same embedder id
    store.add(["c two"], ["z"])
    store.save(target)  # replaces the old store
    assert len(ExampleStore.load(target)) == 6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".store")]


def test_a_changed_embedder_re_embeds() -> None:
    store = _store()
    store.embeddings()
    other = AxisEmbedder("v2")
    store.embeddings(other)
    assert other.calls == 1


def test_bad_store_inputs_are_refused(tmp_path: Path) -> None:
    store = ExampleStore(AxisEmbedder())
    with pytest.raises(InvalidInputError, match="3 entries"):
        store.add(["a one", "b one"], ["x", "y", "z"])
    with pytest.raises(InvalidInputError, match="labels\\[0\\]"):
        store.add(["a one"], [[]])
    with pytest.raises(InvalidInputError, match="k must be"):
        _store().search(["a"], 0)
    with pytest.raises(CheckpointError):
        ExampleStore.load(tmp_path)


def test_uni_encoder_reads_retrieved_examples_in_the_rac_format() -> None:
    classifier = build_classifier("uni-encoder")
    store = ExampleStore()
    store.add(["the team won the match", "stocks fell sharply today"], ["sports", "business"])
    labels = ["sports", "business", "science"]
    plain = classifier.scores("the team won the final", labels)
    augmented = classifier.scores("the team won the final", labels, examples_store=store, k=1)
    assert augmented != pytest.approx(plain, abs=1e-6)
    # the retrieved example joins the request, with the labels it shares with the text
    requests, _ = classifier._few_shot([Request("the team won the final", tuple(labels))], store, 1, 8)
    assert requests[0].retrieved[0].text == "the team won the match"
    assert requests[0].retrieved[0].true_labels == ("sports",)


def test_bi_encoder_prototypes_change_only_labels_with_examples() -> None:
    classifier = build_classifier("bi-encoder")
    labels = ["sports", "business", "science"]
    plain = classifier.scores("the team won the final", labels)
    shots = classifier.scores(
        "the team won the final", labels, examples=[{"text": "the team won the match", "labels": ["sports"]}]
    )
    assert shots["business"] == pytest.approx(plain["business"], abs=1e-6)
    assert shots["science"] == pytest.approx(plain["science"], abs=1e-6)
    assert shots["sports"] != pytest.approx(plain["sports"], abs=1e-6)


def test_embedder_id_changes_when_the_weights_may_have(tmp_path: Path) -> None:
    classifier = build_classifier("bi-encoder")
    before = classifier.embedder_id
    classifier.engine.clear_label_cache()
    assert classifier.embedder_id != before


def test_shared_resolution_normalises_device_and_dtype(tmp_path: Path) -> None:
    path = build_classifier("uni-encoder").save_pretrained(tmp_path / "model")
    clear_shared_classifiers()
    try:
        first = resolve_classifier(str(path))
        assert resolve_classifier(path, device="cpu") is first
        assert resolve_classifier(str(path), device="auto", dtype="float32") is resolve_classifier(
            str(path), dtype="fp32"
        )
        loaded = ZeroShotClassifier.from_pretrained(path)
        assert resolve_classifier(loaded) is loaded
        with pytest.raises(InvalidInputError, match="model must be"):
            resolve_classifier(42)  # type: ignore[arg-type]
    finally:
        clear_shared_classifiers()
