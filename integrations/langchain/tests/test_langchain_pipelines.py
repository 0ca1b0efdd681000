"""Real LangChain pipelines: ContextualCompressionRetriever over InMemoryVectorStore, DocumentCompressorPipeline,
one model shared by many components, and end-to-end runs on the embedded default model."""

from __future__ import annotations

import asyncio
import copy

import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_classic.retrievers.document_compressors import DocumentCompressorPipeline
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_gliclass import GLiClassDocumentClassifier, GLiClassRerank

QUERY = "space rocket launch"
LABELS = ["sports", "science", "business", "politics", "health"]


def vector_store(documents: list[Document]) -> InMemoryVectorStore:
    store = InMemoryVectorStore(embedding=DeterministicFakeEmbedding(size=16))
    store.add_documents(copy.deepcopy(documents))
    return store


def test_contextual_compression_retriever_reranks_retrieved_documents(tiny_classifier, documents):
    store = vector_store(documents)
    base = store.as_retriever(search_kwargs={"k": 5})
    reranker = GLiClassRerank(model=tiny_classifier, top_n=3)
    retriever = ContextualCompressionRetriever(base_compressor=reranker, base_retriever=base)

    out = retriever.invoke(QUERY)

    retrieved = base.invoke(QUERY)
    assert len(retrieved) == 5
    assert out == list(reranker.compress_documents(retrieved, QUERY))
    assert len(out) == 3
    assert {d.id for d in out} <= {d.id for d in retrieved}
    scores = [d.metadata["relevance_score"] for d in out]
    assert scores == sorted(scores, reverse=True)
    assert all(d.metadata["source"].startswith("doc-") for d in out)  # the store's metadata is kept
    assert asyncio.run(retriever.ainvoke(QUERY)) == out
    assert base.invoke(QUERY) == retrieved  # the store's documents were not touched


def test_contextual_compression_retriever_with_a_label_filter(tiny_classifier, documents):
    base = vector_store(documents).as_retriever(search_kwargs={"k": 6})
    tagger = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, threshold=0.5)
    retriever = ContextualCompressionRetriever(base_compressor=tagger, base_retriever=base)

    out = retriever.invoke(QUERY)

    assert out == list(tagger.compress_documents(base.invoke(QUERY), QUERY))
    assert all("labels" in d.metadata and "label_scores" in d.metadata for d in out)
    assert asyncio.run(retriever.ainvoke(QUERY)) == out


def test_document_compressor_pipeline_filters_then_reranks(tiny_classifier, documents):
    tagged = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS).transform_documents(documents)
    # a label that some documents have and others do not, so that the filter really removes documents
    drop_label = next(label for label in LABELS if 0 < sum(label in d.metadata["labels"] for d in tagged) < 6)
    label_filter = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, drop_labels=[drop_label])
    reranker = GLiClassRerank(model=tiny_classifier, top_n=None)
    pipeline = DocumentCompressorPipeline(transformers=[label_filter, reranker])
    before = copy.deepcopy(documents)

    out = pipeline.compress_documents(documents, QUERY)

    expected = reranker.compress_documents(label_filter.compress_documents(documents, QUERY), QUERY)
    assert out == expected
    assert 0 < len(out) < len(documents)
    assert all(drop_label not in d.metadata["labels"] and "relevance_score" in d.metadata for d in out)
    assert asyncio.run(pipeline.acompress_documents(documents, QUERY)) == out
    assert documents == before

    retriever = ContextualCompressionRetriever(
        base_compressor=pipeline, base_retriever=vector_store(documents).as_retriever(search_kwargs={"k": 6})
    )
    assert {d.id for d in retriever.invoke(QUERY)} == {d.id for d in out}


def test_one_loaded_model_serves_many_components(tiny_classifier, documents):
    reranker = GLiClassRerank(model=tiny_classifier)
    tagger = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS)
    pipeline = DocumentCompressorPipeline(transformers=[tagger, reranker])

    pipeline.compress_documents(documents, QUERY)

    assert reranker.classifier is tiny_classifier
    assert tagger.classifier is tiny_classifier


def test_components_naming_one_checkpoint_share_one_model(tiny_checkpoint, shared_cache, documents):
    reranker = GLiClassRerank(model=str(tiny_checkpoint))
    tagger = GLiClassDocumentClassifier(model=tiny_checkpoint, labels=LABELS)  # a Path names the same model
    assert reranker._classifier is None  # nothing loaded before first use
    reranker.warm_up()
    reranker.warm_up()  # idempotent

    out = tagger.transform_documents(documents)

    assert tagger.classifier is reranker.classifier
    assert len(out) == len(documents)
    assert len(reranker.compress_documents(documents, QUERY)) == 3


# --- end to end on the embedded default model (skipped while it is being built) ------------------------------
SPACE = "The rocket launch put the probe into orbit around Mars."
DOCS = [
    "The striker scored twice and the home team won the cup final.",
    "Preheat the oven and knead the dough before baking the bread.",
    SPACE,
    "Shares in the bank fell after the quarterly profit warning.",
    "Parliament passed the budget after a long debate.",
]


@pytest.mark.slow
def test_embedded_model_ranks_the_relevant_document_first(embedded_model):
    documents = [Document(page_content=text, metadata={"n": i}, id=str(i)) for i, text in enumerate(DOCS)]
    base = vector_store(documents).as_retriever(search_kwargs={"k": 5})
    reranker = GLiClassRerank(top_n=2)  # model=None: the embedded default model
    retriever = ContextualCompressionRetriever(base_compressor=reranker, base_retriever=base)

    out = retriever.invoke("How did the spacecraft get to Mars?")

    assert out[0].page_content == SPACE
    assert out[0].metadata["relevance_score"] > out[1].metadata["relevance_score"]
    assert asyncio.run(retriever.ainvoke("How did the spacecraft get to Mars?")) == out


@pytest.mark.slow
def test_embedded_model_labels_and_filters_documents(embedded_model):
    documents = [Document(page_content=text) for text in DOCS]
    sports_only = GLiClassDocumentClassifier(
        labels=["sports", "cooking", "space", "finance", "politics"], multi_label=False, keep_labels=["sports"]
    )

    out = sports_only.transform_documents(documents)

    assert [d.page_content for d in out] == [DOCS[0]]
    assert out[0].metadata["labels"] == ["sports"]
    assert sports_only.classifier is GLiClassRerank().classifier  # model=None everywhere: one shared instance
