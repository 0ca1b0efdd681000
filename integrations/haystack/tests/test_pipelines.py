"""Real Haystack pipelines: BM25 retrieval -> our ranker, routers, YAML round trips with the default allow-list."""

from __future__ import annotations

import asyncio

import pytest
from haystack import Document, Pipeline
from haystack.components.builders import PromptBuilder
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack_integrations.components.classifiers.gliclass import GLiClassDocumentClassifier
from haystack_integrations.components.rankers.gliclass import GLiClassRanker
from haystack_integrations.components.routers.gliclass import GLiClassDocumentRouter, GLiClassTextRouter

from gliclass_rag import ZeroShotClassifier, resolve_classifier

CORPUS = [
    "The team won the final match last night.",
    "The home team lost the match in the last minute.",
    "Stocks fell sharply today after the bank reported profits.",
    "Scientists found a new planet near a small star.",
    "The minister called an election and the government will vote.",
]
QUERY = "team match"
LABELS = ["sports", "business", "science"]


def store() -> InMemoryDocumentStore:
    document_store = InMemoryDocumentStore()
    document_store.write_documents([Document(id=f"d{i}", content=text) for i, text in enumerate(CORPUS)])
    return document_store


def ranking_pipeline(model: object, document_store: InMemoryDocumentStore) -> Pipeline:
    pipeline = Pipeline()
    pipeline.add_component("retriever", InMemoryBM25Retriever(document_store, top_k=4))
    pipeline.add_component("ranker", GLiClassRanker(model, top_k=2, query_prefix="topic: "))
    pipeline.connect("retriever.documents", "ranker.documents")
    return pipeline


def ids(documents: list[Document]) -> list[str]:
    return [doc.id for doc in documents]


def test_bm25_retriever_then_ranker(model_path: str) -> None:
    document_store = store()
    result = ranking_pipeline(model_path, document_store).run(
        {"retriever": {"query": QUERY}, "ranker": {"query": QUERY}}
    )
    retrieved = InMemoryBM25Retriever(document_store, top_k=4).run(query=QUERY)["documents"]
    direct = GLiClassRanker(model_path, top_k=2, query_prefix="topic: ").run(QUERY, retrieved)
    assert ids(result["ranker"]["documents"]) == ids(direct["documents"])
    assert [doc.score for doc in result["ranker"]["documents"]] == [doc.score for doc in direct["documents"]]
    assert all(0.0 <= doc.score <= 1.0 for doc in result["ranker"]["documents"])
    assert set(ids(result["ranker"]["documents"])) <= set(ids(retrieved))


def test_ranking_pipeline_yaml_round_trip(model_path: str) -> None:
    document_store = store()
    pipeline = ranking_pipeline(model_path, document_store)
    text = pipeline.dumps()
    assert "haystack_integrations.components.rankers.gliclass.ranker.GLiClassRanker" in text
    loaded = Pipeline.loads(text)  # the default deserialisation allow-list
    assert loaded.dumps() == text
    inputs = {"retriever": {"query": QUERY}, "ranker": {"query": QUERY}}
    assert loaded.run(inputs)["ranker"]["documents"] == pipeline.run(inputs)["ranker"]["documents"]


def router_pipeline(model: object) -> Pipeline:
    pipeline = Pipeline()
    pipeline.add_component("router", GLiClassTextRouter(LABELS, model, threshold=0.4, label_thresholds={"sports": 0.2}))
    for label in [*LABELS, "unmatched"]:
        pipeline.add_component(label, PromptBuilder(template=label + ": {{ query }}"))
        pipeline.connect(f"router.{label}", f"{label}.query")
    return pipeline


def test_router_pipeline_yaml_round_trip(model_path: str, tiny_classifier: ZeroShotClassifier) -> None:
    pipeline = router_pipeline(model_path)
    loaded = Pipeline.loads(pipeline.dumps())
    assert loaded.dumps() == pipeline.dumps()
    for text in CORPUS[:3]:
        result = loaded.run({"router": {"text": text}})
        assert result == pipeline.run({"router": {"text": text}})
        scores = result["router"]["scores"]
        assert scores == pytest.approx(tiny_classifier.scores(text, LABELS), abs=1e-5)
        thresholds = {"sports": 0.2, "business": 0.4, "science": 0.4}
        routed = {label for label in LABELS if scores[label] >= thresholds[label]} or {"unmatched"}
        assert set(result) == {"router", *routed}  # each matched branch ran, the others did not
        assert all(result[label]["prompt"] == f"{label}: {text}" for label in routed)


def test_document_components_yaml_round_trip(model_path: str) -> None:
    pipeline = Pipeline()
    pipeline.add_component("retriever", InMemoryBM25Retriever(store(), top_k=3))
    pipeline.add_component("classifier", GLiClassDocumentClassifier(LABELS, model_path))
    pipeline.add_component("router", GLiClassDocumentRouter(LABELS, model_path, threshold=0.0))
    pipeline.connect("retriever.documents", "classifier.documents")
    pipeline.connect("classifier.documents", "router.documents")
    loaded = Pipeline.loads(pipeline.dumps())
    result = loaded.run({"retriever": {"query": QUERY}})
    assert result == pipeline.run({"retriever": {"query": QUERY}})
    for label in LABELS:  # threshold 0: every document on every output, carrying its classification
        assert len(result["router"][label]) == len(result["router"]["scores"]) > 0
        assert all("classification" in doc.meta for doc in result["router"][label])


def test_async_pipeline_run(model_path: str) -> None:
    pipeline = ranking_pipeline(model_path, store())
    inputs = {"retriever": {"query": QUERY}, "ranker": {"query": QUERY}}
    assert asyncio.run(pipeline.run_async(inputs)) == pipeline.run(inputs)


def test_components_share_one_model(model_path: str, tiny_classifier: ZeroShotClassifier) -> None:
    ranker = GLiClassRanker(model_path)
    router = GLiClassTextRouter(LABELS, model_path)
    classifier = GLiClassDocumentClassifier(LABELS, model_path)
    for component in (ranker, router, classifier):
        component.warm_up()
    assert ranker._classifier is router._classifier is classifier._classifier is resolve_classifier(model_path)
    # an already-loaded classifier is used as is, by as many components as you like
    given = [
        GLiClassRanker(tiny_classifier),
        GLiClassTextRouter(LABELS, tiny_classifier),
        GLiClassDocumentRouter(LABELS, tiny_classifier),
    ]
    assert all(component._classifier is tiny_classifier for component in given)


def test_a_loaded_classifier_serialises_as_its_path(model_path: str) -> None:
    loaded = resolve_classifier(model_path)
    ranker = GLiClassRanker(loaded)
    restored = GLiClassRanker.from_dict(ranker.to_dict())
    assert restored.model == loaded.name_or_path
    restored.warm_up()
    assert restored._classifier is loaded  # the same name resolves to the same shared instance
