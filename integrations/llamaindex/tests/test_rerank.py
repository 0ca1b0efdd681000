"""GLiClassRerank on a tiny random model: scores, order, top_n, threshold, copies, events, async, settings."""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
import threading

import pytest
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import ImageNode, MetadataMode, NodeWithScore, QueryBundle, TextNode
from llama_index.postprocessor.gliclass import GLiClassRerank

from gliclass_rag import CheckpointError, ZeroShotClassifier

QUERY = "rocket launch to orbit"
TEXTS = (
    "The team won the final match last night.",
    "Scientists found a new planet near a small star.",
    "Stocks fell sharply today.",
    "The rocket reached orbit after the launch.",
    "My new phone has a great camera.",
)


def make_nodes() -> list[NodeWithScore]:
    nodes = [
        NodeWithScore(node=TextNode(text=text, id_=f"n{i}", metadata={"source": f"doc{i}"}), score=0.5 - i / 10)
        for i, text in enumerate(TEXTS)
    ]
    nodes[1].node.excluded_embed_metadata_keys = ["source"]  # what the model sees follows the node's settings
    return nodes


def expected_scores(classifier: ZeroShotClassifier, nodes: list[NodeWithScore], query: str = QUERY) -> list[float]:
    texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    ranked = classifier.rerank(query, texts)
    scores = [0.0] * len(texts)
    for passage in ranked:
        scores[passage.index] = passage.score
    return scores


def ranking(scores: list[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def test_is_a_node_postprocessor() -> None:
    reranker = GLiClassRerank(model="unused/name")
    assert isinstance(reranker, BaseNodePostprocessor)
    assert reranker.class_name() == "GLiClassRerank"
    assert reranker.top_n == 2  # the peer's default


def test_scores_and_order_are_the_engines(classifier: ZeroShotClassifier) -> None:
    nodes = make_nodes()
    scores = expected_scores(classifier, nodes)
    out = GLiClassRerank(model=classifier, top_n=None).postprocess_nodes(nodes, query_str=QUERY)
    assert [n.node.node_id for n in out] == [f"n{i}" for i in ranking(scores)]
    assert [n.score for n in out] == pytest.approx([scores[i] for i in ranking(scores)])
    assert all(isinstance(n.score, float) and 0.0 <= n.score <= 1.0 for n in out)
    assert len(set(scores)) == len(scores)  # the order is decided by the scores, not by ties


@pytest.mark.parametrize("top_n", [1, 2, 3, 10])
def test_top_n(classifier: ZeroShotClassifier, top_n: int) -> None:
    nodes = make_nodes()
    scores = expected_scores(classifier, nodes)
    out = GLiClassRerank(model=classifier, top_n=top_n).postprocess_nodes(nodes, QueryBundle(QUERY))
    assert [n.node.node_id for n in out] == [f"n{i}" for i in ranking(scores)[:top_n]]


def test_score_threshold(classifier: ZeroShotClassifier) -> None:
    nodes = make_nodes()
    scores = sorted(expected_scores(classifier, nodes), reverse=True)
    threshold = (scores[2] + scores[3]) / 2  # three nodes pass
    out = GLiClassRerank(model=classifier, top_n=None, score_threshold=threshold).postprocess_nodes(
        nodes, query_str=QUERY
    )
    assert [n.score for n in out] == pytest.approx(scores[:3])
    capped = GLiClassRerank(model=classifier, top_n=2, score_threshold=threshold).postprocess_nodes(
        nodes, query_str=QUERY
    )
    assert [n.score for n in capped] == pytest.approx(scores[:2])
    none = GLiClassRerank(model=classifier, score_threshold=1.0).postprocess_nodes(nodes, query_str=QUERY)
    assert none == []


def test_keep_retrieval_score(classifier: ZeroShotClassifier) -> None:
    nodes = make_nodes()
    out = GLiClassRerank(model=classifier, top_n=None, keep_retrieval_score=True).postprocess_nodes(
        nodes, query_str=QUERY
    )
    original = {n.node.node_id: n.score for n in nodes}
    for node in out:
        assert node.node.metadata["retrieval_score"] == original[node.node.node_id]
        assert node.node.metadata["source"].startswith("doc")
        # kept for the caller, not shown to embedding models or LLMs downstream
        assert "retrieval_score" not in node.node.get_content(metadata_mode=MetadataMode.EMBED)
        assert "retrieval_score" not in node.node.get_content(metadata_mode=MetadataMode.LLM)
        assert "retrieval_score" in node.node.get_content(metadata_mode=MetadataMode.ALL)
    assert all("retrieval_score" not in n.node.metadata for n in nodes)

    # a second reranker keeps the retrieval score the first one stored
    again = GLiClassRerank(model=classifier, top_n=None, keep_retrieval_score=True).postprocess_nodes(
        out, query_str="stocks fell"
    )
    assert {n.node.node_id: n.node.metadata["retrieval_score"] for n in again} == original
    plain = GLiClassRerank(model=classifier, top_n=None).postprocess_nodes(nodes, query_str=QUERY)
    assert all("retrieval_score" not in n.node.metadata for n in plain)


def test_inputs_are_not_mutated(classifier: ZeroShotClassifier) -> None:
    nodes = make_nodes()
    before = [n.model_dump() for n in nodes]
    inner = [n.node for n in nodes]
    listed = list(nodes)
    out = GLiClassRerank(model=classifier, top_n=None, keep_retrieval_score=True).postprocess_nodes(
        nodes, query_str=QUERY
    )
    assert [n.model_dump() for n in nodes] == before
    assert nodes == listed
    assert [n.node for n in nodes] == inner
    assert not {id(n) for n in out} & {id(n) for n in nodes}
    assert not {id(n.node) for n in out} & {id(n.node) for n in nodes}
    assert not {id(n.node.metadata) for n in out} & {id(n.node.metadata) for n in nodes}
    # the copies keep the node's identity and content
    by_id = {n.node.node_id: n.node for n in nodes}
    for node in out:
        assert type(node.node) is type(by_id[node.node.node_id])
        assert node.node.text == by_id[node.node.node_id].text
    # and writing to a result does not reach the caller's node
    out[0].node.metadata["source"] = "changed"
    out[0].node.set_content("changed")
    assert [n.model_dump() for n in nodes] == before


def test_empty_nodes_return_empty(classifier: ZeroShotClassifier) -> None:
    assert GLiClassRerank(model=classifier).postprocess_nodes([], query_str=QUERY) == []
    assert asyncio.run(GLiClassRerank(model=classifier).apostprocess_nodes([], query_str=QUERY)) == []


def test_a_query_is_required(classifier: ZeroShotClassifier) -> None:
    reranker = GLiClassRerank(model=classifier)
    with pytest.raises(ValueError, match="needs a query"):
        reranker.postprocess_nodes(make_nodes())
    with pytest.raises(ValueError, match="needs a query"):
        asyncio.run(reranker.apostprocess_nodes(make_nodes()))
    with pytest.raises(ValueError, match="non-empty str"):
        reranker.postprocess_nodes(make_nodes(), query_str="   ")


def test_bad_nodes_are_named(classifier: ZeroShotClassifier) -> None:
    reranker = GLiClassRerank(model=classifier)
    with pytest.raises(ValueError, match=r"nodes\[1\] must be a NodeWithScore, but got TextNode"):
        reranker.postprocess_nodes([make_nodes()[0], TextNode(text="x")], query_str=QUERY)


def test_nodes_without_text_score_zero(classifier: ZeroShotClassifier) -> None:
    nodes = [*make_nodes()[:2], NodeWithScore(node=ImageNode(image="aGk=", id_="image"), score=0.9)]
    out = GLiClassRerank(model=classifier, top_n=None).postprocess_nodes(nodes, query_str=QUERY)
    assert out[-1].node.node_id == "image"
    assert out[-1].score == 0.0
    assert [n.score for n in out[:2]] == pytest.approx(sorted(expected_scores(classifier, nodes[:2]), reverse=True))


def test_rerank_events_are_emitted(classifier: ZeroShotClassifier, recorder) -> None:
    nodes = make_nodes()
    out = GLiClassRerank(model=classifier, top_n=3).postprocess_nodes(nodes, query_str=QUERY)
    (start,) = recorder.of("ReRankStartEvent")
    (end,) = recorder.of("ReRankEndEvent")
    assert start.query.query_str == QUERY
    assert start.nodes == nodes
    assert start.top_n == 3
    assert start.model_name.startswith("ZeroShotClassifier")
    assert end.nodes == out
    assert recorder.events.index(start) < recorder.events.index(end)


def test_events_on_the_async_path_and_for_empty_input(classifier: ZeroShotClassifier, recorder) -> None:
    reranker = GLiClassRerank(model="some/name", top_n=None)  # never loaded: no nodes to score
    assert asyncio.run(reranker.apostprocess_nodes([], query_str=QUERY)) == []
    (start,) = recorder.of("ReRankStartEvent")
    (end,) = recorder.of("ReRankEndEvent")
    assert start.model_name == "some/name"
    assert start.top_n == 0
    assert end.nodes == []
    out = asyncio.run(GLiClassRerank(model=classifier).apostprocess_nodes(make_nodes(), query_str=QUERY))
    assert recorder.of("ReRankEndEvent")[-1].nodes == out


def test_async_equals_sync_and_runs_the_model_off_the_event_loop(classifier: ZeroShotClassifier) -> None:
    reranker = GLiClassRerank(model=classifier, top_n=3, keep_retrieval_score=True)
    sync = reranker.postprocess_nodes(make_nodes(), query_str=QUERY)
    threads: list[int] = []
    handle = classifier.model.register_forward_hook(lambda *_: threads.append(threading.get_ident()))

    async def run() -> tuple[list[NodeWithScore], int]:
        return await reranker.apostprocess_nodes(make_nodes(), query_str=QUERY), threading.get_ident()

    try:
        out, loop_thread = asyncio.run(run())
    finally:
        handle.remove()
    assert [n.model_dump() for n in out] == [n.model_dump() for n in sync]
    assert threads
    assert loop_thread not in threads


def test_batch_size_does_not_change_scores(classifier: ZeroShotClassifier) -> None:
    one = GLiClassRerank(model=classifier, top_n=None, batch_size=1).postprocess_nodes(make_nodes(), query_str=QUERY)
    all_ = GLiClassRerank(model=classifier, top_n=None, batch_size=64).postprocess_nodes(make_nodes(), query_str=QUERY)
    assert [n.score for n in one] == pytest.approx([n.score for n in all_], abs=1e-5)


# --- settings ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"top_n": 0}, "top_n must be a positive int or None, but got 0"),
        ({"top_n": True}, "top_n must be a positive int or None, but got True"),
        ({"top_n": "3"}, "top_n must be a positive int or None, but got '3'"),
        ({"score_threshold": 1.5}, r"score_threshold must be a number in \[0, 1\] or None, but got 1.5"),
        ({"score_threshold": "high"}, "score_threshold must be .* but got 'high'"),
        ({"keep_retrieval_score": "yes"}, "keep_retrieval_score must be True or False, but got 'yes'"),
        ({"batch_size": 0}, "batch_size must be a positive int, but got 0"),
        ({"model": 3}, "model must be a name, a path, a ZeroShotClassifier or None, but got int: 3"),
        ({"model": " "}, "model must be a non-empty name or path"),
        ({"device": "gpu0"}, "device must be .* but got 'gpu0'"),
        ({"dtype": 16}, "dtype must be .* but got 16"),
    ],
)
def test_bad_settings_name_the_value(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GLiClassRerank(**settings)


def test_settings_are_validated_on_assignment() -> None:
    reranker = GLiClassRerank(model="some/name")
    reranker.top_n = 5
    assert reranker.top_n == 5
    with pytest.raises(ValueError, match="top_n must be a positive int or None, but got -1"):
        reranker.top_n = -1


def test_loading_options_are_for_named_models(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(ValueError, match="a loaded ZeroShotClassifier is used as it is"):
        GLiClassRerank(model=classifier, device="cpu")


def test_settings_serialise_and_round_trip(tmp_path) -> None:
    reranker = GLiClassRerank(
        model=tmp_path / "model", top_n=4, score_threshold=0.25, keep_retrieval_score=True, batch_size=16, device="cpu"
    )
    data = json.loads(reranker.to_json())
    assert data == {
        "class_name": "GLiClassRerank",
        "model": str(tmp_path / "model"),
        "top_n": 4,
        "score_threshold": 0.25,
        "keep_retrieval_score": True,
        "batch_size": 16,
        "device": "cpu",
        "dtype": None,
    }
    again = GLiClassRerank.from_json(reranker.to_json())
    assert again.to_dict() == reranker.to_dict()
    assert pickle.loads(pickle.dumps(reranker)).to_dict() == reranker.to_dict()
    assert copy.deepcopy(reranker).to_dict() == reranker.to_dict()
    assert GLiClassRerank().to_dict()["model"] is None  # the embedded default model


def test_a_loaded_model_is_not_silently_serialised(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(ValueError, match="cannot be written as a setting"):
        GLiClassRerank(model=classifier).to_dict()


def test_names_load_lazily(tmp_path) -> None:
    reranker = GLiClassRerank(model=tmp_path / "missing")  # nothing is read yet
    assert reranker.postprocess_nodes([], query_str=QUERY) == []  # nor for empty input
    with pytest.raises(CheckpointError):
        reranker.warm_up()
