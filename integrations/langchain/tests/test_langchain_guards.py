"""GLiClassGuardRunnable in real LCEL chains (prompt | fake LLM | guard). Verdicts come from a scripted scorer at the
guards' model seam; the tiny random classifier covers the plumbing on a real model."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gliclass_guards import (
    DEFAULT_CATEGORIES,
    GuardResult,
    GuardViolation,
    HallucinationGuard,
    IntentRouter,
    SafetyGuard,
)
from guard_scorers import BENIGN, HARMFUL, HARMFUL_SENTENCE, REFUSAL, ScriptedScorer, overlap_score
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.language_models.fake import FakeListLLM, FakeStreamingListLLM
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_gliclass import GLiClassGuardRunnable
from pydantic import ValidationError

from gliclass_rag import InvalidInputError, ZeroShotClassifier

PROMPT = PromptTemplate.from_template("Answer the question: {question}")


def safety(scorer: ScriptedScorer, on_fail: Any = "refrain", **kwargs: Any) -> GLiClassGuardRunnable:
    return GLiClassGuardRunnable(SafetyGuard(model=scorer, granularity="sentence", on_fail=on_fail), **kwargs)


def llm_chain(guard: GLiClassGuardRunnable, *responses: str) -> Any:
    return PROMPT | FakeListLLM(responses=list(responses)) | guard


def blocked_label(result: GuardResult) -> str | None:
    return f"[blocked: {result.violations[0].label}]"


@pytest.mark.parametrize(
    ("on_fail", "expected"),
    [
        ("refrain", REFUSAL),
        ("fix", "Sure."),  # only the harmful sentence is removed (granularity="sentence")
        ("filter", ""),
        ("noop", HARMFUL),
        (blocked_label, "[blocked: violent crimes]"),
    ],
)
def test_chain_applies_each_fail_action_to_a_harmful_output(on_fail: Any, expected: str) -> None:
    chain = llm_chain(safety(ScriptedScorer(), on_fail), HARMFUL)
    assert chain.invoke({"question": "How do I get rid of them?"}) == expected


def test_chain_raises_guard_violation_under_exception() -> None:
    chain = llm_chain(safety(ScriptedScorer(), "exception"), HARMFUL)
    with pytest.raises(GuardViolation) as caught:
        chain.invoke({"question": "How do I get rid of them?"})
    result = caught.value.result
    assert (result.action, result.text, result.output) == ("exception", HARMFUL, None)
    assert [(v.label, v.text) for v in result.violations] == [("violent crimes", HARMFUL_SENTENCE)]


@pytest.mark.parametrize("on_fail", ["exception", "refrain", "fix", "filter", "noop"])
def test_benign_output_passes_unchanged(on_fail: str) -> None:
    assert llm_chain(safety(ScriptedScorer(), on_fail), BENIGN).invoke({"question": "Bread?"}) == BENIGN


def test_chat_chain_returns_the_message_with_the_result_in_its_metadata() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    chain = prompt | FakeListChatModel(responses=[HARMFUL, BENIGN]) | safety(ScriptedScorer())
    blocked = chain.invoke({"question": "How?"})
    assert isinstance(blocked, AIMessage)
    assert blocked.content == REFUSAL
    report = blocked.response_metadata["gliclass_guard"]
    assert (report["passed"], report["action"], report["text"]) == (False, "refrain", HARMFUL)
    assert [v["label"] for v in report["violations"]] == ["violent crimes"]
    passed = chain.invoke({"question": "Bread?"})
    assert passed.content == BENIGN
    assert passed.response_metadata["gliclass_guard"]["passed"] is True
    assert (chain | StrOutputParser()).invoke({"question": "Bread?"}) == REFUSAL  # the responses cycle


def test_messages_are_copied_never_modified() -> None:
    reply = AIMessage(content=HARMFUL, id="reply-1", tool_calls=[{"name": "shop", "args": {}, "id": "call-1"}])
    out = safety(ScriptedScorer()).invoke(reply)
    assert (out.id, out.content, out.tool_calls) == ("reply-1", REFUSAL, [])  # a refused reply runs no tool
    assert (reply.content, len(reply.tool_calls), reply.response_metadata) == (HARMFUL, 1, {})
    fixed = safety(ScriptedScorer(), "fix").invoke(reply)
    assert (fixed.content, len(fixed.tool_calls)) == ("Sure.", 1)
    assert safety(ScriptedScorer(), metadata_key=None).invoke(AIMessage(BENIGN)).response_metadata == {}


def test_dict_input_checks_the_answer_against_its_retrieved_context() -> None:
    documents = [Document("Paris is the capital of France."), Document("The tower in Paris was built in 1889.")]
    guard = GLiClassGuardRunnable(HallucinationGuard(model=ScriptedScorer(overlap_score), on_fail="fix"))
    answer = "Paris is the capital of France. Aliens landed on the moon yesterday."
    rag = RunnablePassthrough.assign(answer=PROMPT | FakeListLLM(responses=[answer])) | guard
    out = rag.invoke({"question": "Tell me about Paris.", "context": documents})
    assert out["answer"] == "Paris is the capital of France."
    assert out["context"] is documents
    assert out["question"] == "Tell me about Paris."
    report = out["gliclass_guard"]
    assert (report["guard"], report["action"]) == ("hallucination", "fix")
    assert [v["text"] for v in report["violations"]] == ["Aliens landed on the moon yesterday."]


def test_dict_keys_are_configurable_and_the_question_is_the_guards_prompt() -> None:
    scorer = ScriptedScorer()
    guard = safety(scorer, text_key="output", prompt_key="input", metadata_key="safety")
    out = guard.invoke({"input": "Where do I hide?", "output": AIMessage(HARMFUL)})
    assert out["output"].content == REFUSAL
    assert "safety" in out["output"].response_metadata
    assert "safety" not in out  # the result rides on the message
    assert all("Where do I hide?" in p for p in scorer.calls[0]["prompt"])
    safety(scorer, prompt_key=None).invoke({"question": "Where do I hide?", "answer": BENIGN})
    assert scorer.calls[-1]["prompt"] is None


def test_an_input_guard_stops_a_chain_through_fallbacks() -> None:
    """LCEL cannot end a chain early: raise on the input and answer from a fallback."""
    scorer = ScriptedScorer()
    guard = safety(scorer, "exception", text_key="question", prompt_key=None)
    chain = (guard | PROMPT | FakeListLLM(responses=["an answer"])).with_fallbacks(
        [RunnableLambda(lambda _: REFUSAL)], exceptions_to_handle=(GuardViolation,)
    )
    assert chain.invoke({"question": "How do I build a bomb?"}) == REFUSAL
    assert chain.invoke({"question": "How do I bake bread?"}) == "an answer"


def test_batch_is_one_model_call_and_keeps_each_inputs_shape() -> None:
    scorer = ScriptedScorer()
    out = safety(scorer).batch([HARMFUL, BENIGN, AIMessage(HARMFUL), {"answer": BENIGN}])
    assert out[:2] == [REFUSAL, BENIGN]
    assert out[2].content == REFUSAL
    assert out[3]["gliclass_guard"]["passed"] is True
    assert len(scorer.calls) == 1
    assert safety(scorer).batch([]) == []


def test_batch_under_exception_raises_for_the_first_failing_input_or_returns_each_error() -> None:
    guard = safety(ScriptedScorer(), "exception")
    with pytest.raises(GuardViolation) as caught:
        guard.batch([BENIGN, HARMFUL, HARMFUL])
    assert caught.value.index == 1
    out = guard.batch([BENIGN, HARMFUL, 42, BENIGN], return_exceptions=True)  # type: ignore[list-item]
    assert out[0] == BENIGN
    assert out[3] == BENIGN
    assert isinstance(out[1], GuardViolation)
    assert out[1].index == 1
    assert isinstance(out[2], InvalidInputError)


def test_ainvoke_and_abatch_use_the_async_forms() -> None:
    scorer = ScriptedScorer()
    chain = llm_chain(safety(scorer), HARMFUL, BENIGN)

    async def run() -> tuple[Any, Any]:
        return await chain.ainvoke({"question": "q"}), await chain.abatch([{"question": "a"}, {"question": "b"}])

    single, many = asyncio.run(run())
    assert single == REFUSAL
    assert many == [BENIGN, REFUSAL]
    out = asyncio.run(safety(ScriptedScorer(), "exception").abatch([HARMFUL, BENIGN], return_exceptions=True))
    assert isinstance(out[0], GuardViolation)
    assert out[1] == BENIGN


def test_stream_emits_checked_pieces_and_stops_at_the_refusal() -> None:
    text = "The oven is hot. Bake the bread well. Then build a bomb. Serve the bread warm."
    guard = safety(ScriptedScorer(), chunk_size=20, context_size=0)
    pieces = list((PROMPT | FakeStreamingListLLM(responses=[text]) | guard).stream({"question": "q"}))
    assert len(pieces) >= 3
    assert pieces[-1] == REFUSAL
    assert "".join(pieces[:-1]).strip() == "The oven is hot. Bake the bread well."
    benign = list((PROMPT | FakeStreamingListLLM(responses=[BENIGN * 3]) | guard).stream({"question": "q"}))
    assert len(benign) > 1
    assert "".join(benign) == BENIGN * 3


def test_stream_raises_after_the_pieces_that_passed() -> None:
    text = "The oven is hot. Bake the bread well. Then build a bomb. Serve it."
    guard = safety(ScriptedScorer(), "exception", chunk_size=20, context_size=0)
    seen: list[str] = []
    stream = (PROMPT | FakeStreamingListLLM(responses=[text]) | guard).stream({"question": "q"})
    with pytest.raises(GuardViolation):
        seen.extend(stream)  # keeps the pieces that came before the violation
    assert "".join(seen).strip() == "The oven is hot. Bake the bread well."


def test_chat_stream_yields_message_chunks_and_astream_matches() -> None:
    reply = "The oven is hot. Bake the bread well. Then build a bomb. Serve it."
    guard = safety(ScriptedScorer(), chunk_size=20, context_size=0)

    def chain() -> Any:
        return GenericFakeChatModel(messages=iter([AIMessage(reply)])) | guard

    chunks = list(chain().stream("q"))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len({c.id for c in chunks}) == 1
    joined = chunks[0]
    for chunk in chunks[1:]:
        joined += chunk
    assert joined.content == "The oven is hot. Bake the bread well." + REFUSAL

    async def collect() -> list[Any]:
        return [chunk async for chunk in chain().astream("q")]

    assert [c.content for c in asyncio.run(collect())] == [c.content for c in chunks]


def test_a_stream_of_dicts_is_checked_whole() -> None:
    guard = GLiClassGuardRunnable(HallucinationGuard(model=ScriptedScorer(overlap_score), on_fail="refrain"))
    rag = RunnablePassthrough.assign(answer=PROMPT | FakeStreamingListLLM(responses=["Cheese grows on trees."]))
    chunks = list((rag | guard).stream({"question": "q", "context": "The moon is rock."}))
    assert len(chunks) == 1
    assert chunks[0]["answer"] == REFUSAL


def test_engine_errors_fail_closed() -> None:
    broken = ScriptedScorer(error=RuntimeError("CUDA out of memory"))
    out = safety(broken).invoke(AIMessage(BENIGN))
    assert out.content == REFUSAL
    report = out.response_metadata["gliclass_guard"]
    assert report["error"] == "RuntimeError: CUDA out of memory"
    assert report["violations"][0]["label"] == "guard_error"
    with pytest.raises(GuardViolation) as caught:
        llm_chain(safety(broken, "exception"), BENIGN).invoke({"question": "q"})
    assert caught.value.result.error == "RuntimeError: CUDA out of memory"
    open_guard = GLiClassGuardRunnable(SafetyGuard(model=broken, on_fail="refrain", on_error="open"))
    assert open_guard.invoke(BENIGN) == BENIGN


def test_plumbing_on_a_tiny_model(tiny_classifier: ZeroShotClassifier) -> None:
    # descriptions inside the labels: sixteen descriptions beside the text overflow the tiny vocabulary's 512 tokens
    guard = GLiClassGuardRunnable(SafetyGuard(model=tiny_classifier, descriptions="label", on_fail="noop"))
    texts = [BENIGN, HARMFUL, "The team won the final match."]
    single = [guard.invoke(AIMessage(text)).response_metadata["gliclass_guard"] for text in texts]
    batched = [m.response_metadata["gliclass_guard"] for m in guard.batch([AIMessage(t) for t in texts])]
    for one, many, text in zip(single, batched, texts, strict=True):
        assert [c["label"] for c in one["checks"]] == list(DEFAULT_CATEGORIES)
        assert one["text"] == text
        assert one["action"] in ("none", "noop")
        assert [c["score"] for c in one["checks"]] == pytest.approx([c["score"] for c in many["checks"]], abs=1e-4)
    assert asyncio.run(guard.ainvoke(BENIGN)) == BENIGN


def test_one_traced_run_per_input() -> None:
    class Runs(BaseCallbackHandler):
        def __init__(self) -> None:
            self.names: list[str] = []

        def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
            self.names.append(kwargs.get("name") or "")

    runs = Runs()
    safety(ScriptedScorer()).batch([BENIGN, HARMFUL], config={"callbacks": [runs]})
    safety(ScriptedScorer()).invoke(BENIGN, config={"callbacks": [runs], "run_name": "output-guard"})
    assert runs.names == ["GLiClassGuardRunnable", "GLiClassGuardRunnable", "output-guard"]


def test_bad_settings_and_inputs_are_refused() -> None:
    with pytest.raises(ValidationError, match="RunnableLambda"):
        GLiClassGuardRunnable(IntentRouter(model=ScriptedScorer(), routes=["billing", "tech"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="SafetyGuard, RuleGuard, HallucinationGuard"):
        GLiClassGuardRunnable("safety")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown"):
        safety(ScriptedScorer(), unknown=1)
    with pytest.raises(ValidationError, match="chunk_size"):
        safety(ScriptedScorer(), chunk_size=0)
    guard = safety(ScriptedScorer())
    with pytest.raises(InvalidInputError, match="takes a str, a message or a dict"):
        guard.invoke(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="no 'answer' key"):
        guard.invoke({"output": BENIGN})
    hallucination = GLiClassGuardRunnable(HallucinationGuard(model=ScriptedScorer(overlap_score)))
    with pytest.raises(InvalidInputError, match="needs the answer's context"):
        hallucination.invoke(BENIGN)
    with pytest.raises(InvalidInputError, match=r"input\['context'\]\[0\]"):
        hallucination.invoke({"answer": BENIGN, "context": [1]})


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
def test_embedded_model_refuses_a_harmful_answer_in_a_chain() -> None:
    """The embedded default model, offline, at the end of a real chain: harmful text refused, benign text passed."""
    harmful = (
        "Here is how to do it: mix the fertilizer with fuel oil to build a bomb, then leave it in the crowded "
        "train station so that it kills as many people as possible."
    )
    chain = llm_chain(GLiClassGuardRunnable(SafetyGuard(on_fail="refrain")), harmful, BENIGN)
    assert chain.invoke({"question": "How?"}) == REFUSAL
    assert chain.invoke({"question": "Bread?"}) == BENIGN
