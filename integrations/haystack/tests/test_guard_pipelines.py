"""Guards in real Haystack pipelines: a generator's harmful reply is blocked end to end, a benign one answered; the
pipelines round-trip through YAML with the default allow-list and run again.

`MockChatGenerator` is Haystack's own chat generator that replies from a fixed list (no LLM here); it serialises,
so the whole pipeline loads from YAML. Verdicts come from a scripted scorer put in with `use_model`; the last test
runs the same plumbing on the tiny random model.
"""

from __future__ import annotations

import asyncio
from typing import Any

from haystack import Document, Pipeline
from haystack.components.builders import AnswerBuilder
from haystack.components.generators.chat import MockChatGenerator
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.dataclasses import ChatMessage
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack_integrations.components.validators.gliclass import GLiClassChatGuard, GLiClassTextGuard
from scripted import ScriptedScorer, overlap_score

from gliclass_rag import ZeroShotClassifier

HARMFUL = "Sure. To hurt your neighbour, plan the violence for a night when he is alone."
BENIGN = "Bake the bread for forty minutes until the crust is golden."
QUESTION = "What should I do tonight?"
# not in name order: the component puts dict settings in key order, as YAML writes them, so that the pipeline
# scores the same after a round trip (the tiny-model test below checks the scores)
CATEGORIES = {"violence": "threats or instructions to hurt people", "hate": "attacks on a group"}


def output_rail(model: str) -> Pipeline:
    """llm -> guard; guard.passed -> answer; guard.failed is left as a pipeline output (what was blocked)."""
    pipeline = Pipeline()
    pipeline.add_component("llm", MockChatGenerator(responses=[HARMFUL, BENIGN]))  # replies in turn
    pipeline.add_component("guard", GLiClassChatGuard("safety", model, settings={"categories": CATEGORIES}))
    pipeline.add_component("answer", AnswerBuilder())
    pipeline.connect("llm.replies", "guard.messages")
    pipeline.connect("guard.passed", "answer.replies")
    return pipeline


def ask(pipeline: Pipeline) -> dict[str, Any]:
    return pipeline.run({"llm": {"messages": [ChatMessage.from_user(QUESTION)]}, "answer": {"query": QUESTION}})


def check_blocks_then_answers(pipeline: Pipeline) -> None:
    blocked = ask(pipeline)  # the generator's first reply is harmful
    assert "answer" not in blocked  # the branch behind `passed` never ran
    assert [m.text for m in blocked["guard"]["failed"]] == [HARMFUL]
    assert blocked["guard"]["results"][0]["violations"][0]["label"] == "violence"

    answered = ask(pipeline)  # the second is benign
    assert [a.data for a in answered["answer"]["answers"]] == [BENIGN]
    assert answered["answer"]["answers"][0].query == QUESTION
    assert "failed" not in answered["guard"]
    assert answered["guard"]["results"][0]["passed"] is True


def test_output_rail_blocks_a_harmful_reply_end_to_end_and_round_trips_through_yaml(model_path: str) -> None:
    pipeline = output_rail(model_path)
    pipeline.get_component("guard").use_model(ScriptedScorer())
    check_blocks_then_answers(pipeline)

    text = pipeline.dumps()
    assert "haystack_integrations.components.validators.gliclass.guard.GLiClassChatGuard" in text
    loaded = Pipeline.loads(text)  # the default deserialisation allow-list
    assert loaded.to_dict()["components"] == pipeline.to_dict()["components"]
    loaded.get_component("guard").use_model(ScriptedScorer())  # a scripted scorer for the verdicts
    check_blocks_then_answers(loaded)


def test_output_rail_with_refrain_answers_with_the_refusal(model_path: str) -> None:
    guard = GLiClassChatGuard("safety", model_path, settings={"categories": CATEGORIES, "on_fail": "refrain"})
    pipeline = Pipeline()
    pipeline.add_component("llm", MockChatGenerator(responses=HARMFUL))
    pipeline.add_component("guard", guard)
    pipeline.add_component("answer", AnswerBuilder())
    pipeline.connect("llm.replies", "guard.messages")
    pipeline.connect("guard.passed", "answer.replies")
    guard.use_model(ScriptedScorer())
    result = ask(pipeline)
    assert [a.data for a in result["answer"]["answers"]] == ["I'm sorry, but I can't help with that."]
    assert [m.text for m in result["guard"]["failed"]] == [HARMFUL]


def rag_pipeline(model: str, document_store: InMemoryDocumentStore, reply: str) -> Pipeline:
    """retriever -> guard.documents; llm.replies -> guard.messages: the reply is checked against what was retrieved."""
    pipeline = Pipeline()
    pipeline.add_component("retriever", InMemoryBM25Retriever(document_store, top_k=2))
    pipeline.add_component("llm", MockChatGenerator(responses=reply))
    pipeline.add_component("guard", GLiClassChatGuard("hallucination", model, settings={"threshold": 0.8}))
    pipeline.connect("retriever.documents", "guard.documents")
    pipeline.connect("llm.replies", "guard.messages")
    return pipeline


def test_hallucination_guard_checks_the_reply_against_the_retrieved_documents(model_path: str) -> None:
    document_store = InMemoryDocumentStore()
    document_store.write_documents(
        [
            Document(content="Paris is the capital of France."),
            Document(content="The Eiffel tower was built in 1889 for the world fair."),
        ]
    )
    inputs = {"retriever": {"query": "Eiffel tower built"}, "llm": {"messages": [ChatMessage.from_user("When?")]}}
    supported = "The Eiffel tower was built in 1889."
    unsupported = "The Eiffel tower was built in 1999 by aliens."
    for reply, routed in ((supported, "passed"), (unsupported, "failed")):
        loaded = Pipeline.loads(rag_pipeline(model_path, document_store, reply).dumps())
        loaded.get_component("guard").use_model(ScriptedScorer(overlap_score))
        result = loaded.run(inputs)["guard"]
        assert [m.text for m in result[routed]] == [reply]
        assert ({"passed", "failed"} - {routed}).isdisjoint(result)  # the other output was not emitted


def test_input_rail_with_the_text_guard(model_path: str) -> None:
    """The user's question is checked before the generator sees it: a blocked question never reaches it."""
    pipeline = Pipeline()
    pipeline.add_component("guard", GLiClassTextGuard("safety", model_path, settings={"categories": CATEGORIES}))
    pipeline.add_component("llm", MockChatGenerator())  # echoes the question
    pipeline.connect("guard.passed", "llm.messages")  # a str: MockChatGenerator takes list[ChatMessage] | str
    loaded = Pipeline.loads(pipeline.dumps())
    loaded.get_component("guard").use_model(ScriptedScorer())
    asked = loaded.run({"guard": {"text": "How long do I bake bread?"}})
    assert [m.text for m in asked["llm"]["replies"]] == ["How long do I bake bread?"]
    refused = loaded.run({"guard": {"text": "Help me plan violence."}})
    assert "llm" not in refused
    assert refused["guard"]["failed"] == "Help me plan violence."


def test_the_tiny_model_through_yaml_and_async(model_path: str, tiny_classifier: ZeroShotClassifier) -> None:
    """Plumbing on a real (random) model: the loaded pipeline and run_async give the same routing and scores."""
    pipeline = output_rail(model_path)
    loaded = Pipeline.loads(pipeline.dumps())
    first, again = ask(pipeline), ask(loaded)
    assert first["guard"]["results"] == again["guard"]["results"]
    scores = first["guard"]["results"][0]["checks"]
    assert {c["label"] for c in scores} == set(CATEGORIES)
    assert all(0.0 <= c["score"] <= 1.0 for c in scores)
    inputs = {"llm": {"messages": [ChatMessage.from_user(QUESTION)]}, "answer": {"query": QUESTION}}
    asynchronous = asyncio.run(Pipeline.loads(pipeline.dumps()).run_async(inputs))
    assert asynchronous["guard"]["results"] == first["guard"]["results"]
