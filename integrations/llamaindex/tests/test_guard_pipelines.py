"""Real LlamaIndex query engines, offline, where the guards block a harmful output end to end.

The mechanism: GLiClassGuardPostprocessor drops a harmful retrieved node, so the LLM never reads it (MockLLM echoes
its prompt, so without the guard the harmful text comes out as the answer); and GLiClassFaithfulnessEvaluator marks
an answer that the remaining sources do not support (an LLM producing harmful instructions on its own) as failing.
Verdicts come from a scripted scorer at the guards' model seam; VectorStoreIndex, MockEmbedding, MockLLM, CustomLLM,
Response and BatchEvalRunner are LlamaIndex's own.
"""

from __future__ import annotations

import asyncio

import pytest
from gliclass_guards import HallucinationGuard, SafetyGuard
from llama_index.core import Document, MockEmbedding, VectorStoreIndex
from llama_index.core.evaluation import BatchEvalRunner
from llama_index.core.llms import MockLLM
from llama_index.core.schema import MetadataMode
from llama_index.postprocessor.gliclass import (
    GLiClassFaithfulnessEvaluator,
    GLiClassGuardPostprocessor,
    GLiClassRerank,
)
from scripted import FixedLLM, ScriptedScorer, overlap

from gliclass_rag import ZeroShotClassifier

COOKING = [
    "Knead the dough for ten minutes, then let it rise for an hour.",
    "Bake the bread in a hot oven until the crust is brown.",
    "Simmer the tomato sauce with garlic and basil.",
]
HARMFUL = "To build a pipe bomb, pack the pipe with explosive powder and fit a detonator."
HARMFUL_ANSWER = "Pack a pipe with explosive powder. Then fit a detonator to the cap."
QUERY = "How do I make it?"


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    documents = [Document(text=text) for text in [*COOKING, HARMFUL]]
    return VectorStoreIndex.from_documents(documents, embed_model=MockEmbedding(embed_dim=8))  # retrieval: all alike


def safety_guard() -> GLiClassGuardPostprocessor:
    return GLiClassGuardPostprocessor(guard=SafetyGuard(model=ScriptedScorer(), categories=["weapons", "hate"]))


def faithfulness() -> GLiClassFaithfulnessEvaluator:
    return GLiClassFaithfulnessEvaluator(HallucinationGuard(model=ScriptedScorer(overlap)))


def test_without_the_guard_the_harmful_node_reaches_the_answer(index: VectorStoreIndex) -> None:
    response = index.as_query_engine(llm=MockLLM(), similarity_top_k=4).query(QUERY)
    assert "detonator" in str(response)  # MockLLM echoes the prompt: the retrieved harmful passage comes out


def test_the_guard_keeps_the_harmful_node_from_the_llm(index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=4, node_postprocessors=[safety_guard()])
    for response in (engine.query(QUERY), asyncio.run(engine.aquery(QUERY))):
        assert "detonator" not in str(response)
        assert sorted(n.node.get_content() for n in response.source_nodes) == sorted(COOKING)
        assert all(n.node.metadata["gliclass_guard"]["safety"]["risk"] < 0.5 for n in response.source_nodes)
        for text in COOKING:
            assert text in str(response)  # the safe passages still reach the LLM, without the guard's record
        assert "gliclass_guard" not in str(response)

    llm = FixedLLM(answer="Knead the dough for ten minutes.")
    index.as_query_engine(llm=llm, similarity_top_k=4, node_postprocessors=[safety_guard()]).query(QUERY)
    assert llm.prompts
    assert not any("detonator" in prompt for prompt in llm.prompts)


def test_the_evaluator_fails_a_harmful_answer_its_sources_do_not_support(index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(
        llm=FixedLLM(answer=HARMFUL_ANSWER), similarity_top_k=4, node_postprocessors=[safety_guard()]
    )
    response = engine.query(QUERY)
    assert str(response) == HARMFUL_ANSWER  # the LLM produced it on its own: the guard removed its source
    verdict = faithfulness().evaluate_response(query=QUERY, response=response)
    assert verdict.passing is False
    assert verdict.score < 0.5
    assert verdict.contexts == [n.node.get_content() for n in response.source_nodes]
    assert "- " in verdict.feedback
    assert "Pack a pipe with explosive powder." in verdict.feedback
    assert "Then fit a detonator to the cap." in verdict.feedback
    assert asyncio.run(faithfulness().aevaluate_response(query=QUERY, response=response)) == verdict

    # faithfulness is not safety: unguarded, the harmful passage is retrieved and the same answer is "supported"
    unguarded = index.as_query_engine(llm=FixedLLM(answer=HARMFUL_ANSWER), similarity_top_k=4).query(QUERY)
    assert faithfulness().evaluate_response(query=QUERY, response=unguarded).score > verdict.score


def test_the_evaluator_passes_a_supported_answer(index: VectorStoreIndex) -> None:
    answer = "Knead the dough for ten minutes. Bake the bread in a hot oven."
    engine = index.as_query_engine(
        llm=FixedLLM(answer=answer), similarity_top_k=4, node_postprocessors=[safety_guard()]
    )
    verdict = faithfulness().evaluate_response(query="How do I make bread?", response=engine.query("bread"))
    assert (verdict.passing, verdict.score) == (True, 1.0)


@pytest.mark.filterwarnings("ignore:asyncio_module:DeprecationWarning")  # inside BatchEvalRunner itself
def test_batch_eval_runner_over_guarded_responses(index: VectorStoreIndex) -> None:
    answers = {"bread": "Knead the dough for ten minutes.", "a bomb": HARMFUL_ANSWER}
    responses = [
        index.as_query_engine(
            llm=FixedLLM(answer=answer), similarity_top_k=4, node_postprocessors=[safety_guard()]
        ).query(query)
        for query, answer in answers.items()
    ]
    runner = BatchEvalRunner({"faithfulness": faithfulness()}, workers=2)
    results = runner.evaluate_responses(queries=list(answers), responses=responses)["faithfulness"]
    assert [r.passing for r in results] == [True, False]
    assert [r.query for r in results] == list(answers)


def test_guard_then_rerank_in_one_engine(classifier: ZeroShotClassifier, index: VectorStoreIndex) -> None:
    postprocessors = [safety_guard(), GLiClassRerank(model=classifier, top_n=2)]
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=4, node_postprocessors=postprocessors)
    response = engine.query("bread dough")
    texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in response.source_nodes]
    assert len(texts) == 2
    assert all(text in COOKING for text in texts)  # the guard's record is excluded from the text reranked
    best = classifier.rerank("bread dough", COOKING, top_k=2)
    assert texts == [COOKING[p.index] for p in best]
    assert "detonator" not in str(response)
