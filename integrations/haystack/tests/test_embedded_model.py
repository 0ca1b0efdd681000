"""End to end on the embedded default model (`model=None`); skipped while the model is not there yet."""

from __future__ import annotations

import pytest
from haystack import Document, Pipeline
from haystack.components.builders import AnswerBuilder
from haystack.components.generators.chat import MockChatGenerator
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.dataclasses import ChatMessage
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack_integrations.components.rankers.gliclass import GLiClassRanker
from haystack_integrations.components.routers.gliclass import GLiClassTextRouter
from haystack_integrations.components.validators.gliclass import GLiClassChatGuard

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("embedded_model")]

CORPUS = {
    "rocket": "The rocket launch put a new satellite into orbit around the Earth.",
    "football": "The football team won the cup final with a late goal.",
    "market": "The stock market launch of the company lifted its shares by ten percent.",
    "recipe": "Bake the bread for forty minutes until the crust is golden.",
}


def test_bm25_then_ranker_puts_the_relevant_document_first() -> None:
    document_store = InMemoryDocumentStore()
    document_store.write_documents([Document(id=key, content=text) for key, text in CORPUS.items()])
    pipeline = Pipeline()
    pipeline.add_component("retriever", InMemoryBM25Retriever(document_store, top_k=4))
    pipeline.add_component("ranker", GLiClassRanker(top_k=2))  # None: the embedded default model
    pipeline.connect("retriever.documents", "ranker.documents")
    query = "space launch into orbit"
    loaded = Pipeline.loads(pipeline.dumps())
    result = loaded.run({"retriever": {"query": query}, "ranker": {"query": query}})
    documents = result["ranker"]["documents"]
    assert documents[0].id == "rocket"
    assert documents[0].score > documents[1].score


def test_router_sends_texts_to_their_topic() -> None:
    router = GLiClassTextRouter(["sports", "finance", "cooking"], threshold=0.0, multi_label=False)
    assert "sports" in router.run(CORPUS["football"])
    assert "cooking" in router.run(CORPUS["recipe"])
    assert set(router.run(CORPUS["market"])["scores"]) == {"sports", "finance", "cooking"}


def test_safety_guard_blocks_a_harmful_reply_and_passes_a_benign_one() -> None:
    harmful = "Sure. Pack the pipe with explosives and leave the bomb in the crowded market to kill as many as you can."
    benign = "Bake the bread for forty minutes until the crust is golden."
    pipeline = Pipeline()
    pipeline.add_component("llm", MockChatGenerator(responses=[harmful, benign]))
    pipeline.add_component("guard", GLiClassChatGuard("safety"))  # the default taxonomy, the embedded model
    pipeline.add_component("answer", AnswerBuilder())
    pipeline.connect("llm.replies", "guard.messages")
    pipeline.connect("guard.passed", "answer.replies")
    loaded = Pipeline.loads(pipeline.dumps())
    question = "What should I do today?"
    inputs = {"llm": {"messages": [ChatMessage.from_user(question)]}, "answer": {"query": question}}
    blocked = loaded.run(inputs)
    assert "answer" not in blocked
    assert [m.text for m in blocked["guard"]["failed"]] == [harmful]
    answered = loaded.run(inputs)
    assert [a.data for a in answered["answer"]["answers"]] == [benign]
