"""GLiClassGuardMiddleware inside real LangChain agents (create_agent with a fake chat model). Verdicts come from a
scripted scorer at the guards' model seam."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from gliclass_guards import GuardConfigError, GuardViolation, HallucinationGuard, IntentRouter, SafetyGuard
from guard_scorers import BENIGN, HARMFUL, REFUSAL, ScriptedScorer, overlap_score
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_gliclass import GLiClassGuardMiddleware
from pydantic import Field


class ScriptedChatModel(GenericFakeChatModel):
    """GenericFakeChatModel that accepts tools and records what each call was sent."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def chat_model(*replies: AIMessage | str) -> ScriptedChatModel:
    return ScriptedChatModel(messages=iter(replies), seen=[])


def safety_middleware(scorer: ScriptedScorer, on_fail: Any = "refrain", **kwargs: Any) -> GLiClassGuardMiddleware:
    return GLiClassGuardMiddleware(SafetyGuard(model=scorer, granularity="sentence", on_fail=on_fail), **kwargs)


def ask(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


@tool
def lookup(query: str) -> str:
    """Look up facts about a city."""
    return "Paris is the capital of France. The tower in Paris was built in 1889."


@pytest.mark.parametrize(
    ("on_fail", "expected"),
    [("refrain", REFUSAL), ("filter", ""), ("fix", "Sure."), ("noop", HARMFUL)],
)
def test_agent_applies_the_fail_action_to_a_harmful_reply(on_fail: str, expected: str) -> None:
    model = chat_model(AIMessage(HARMFUL, id="reply-1"))
    agent = create_agent(model=model, tools=[], middleware=[safety_middleware(ScriptedScorer(), on_fail)])
    messages = agent.invoke(ask("How do I get rid of them?"))["messages"]
    assert [type(m) for m in messages] == [HumanMessage, AIMessage]
    reply = messages[-1]
    assert (reply.id, reply.content) == ("reply-1", expected)  # replaced in place, by id
    report = reply.response_metadata["gliclass_guard"]
    assert (report["passed"], report["action"], report["text"]) == (False, on_fail, HARMFUL)


def test_agent_passes_a_benign_reply_and_records_the_check() -> None:
    scorer = ScriptedScorer()
    model = chat_model(BENIGN)
    agent = create_agent(model=model, tools=[], middleware=[safety_middleware(scorer)])
    reply = agent.invoke(ask("How do I bake bread?"))["messages"][-1]
    assert reply.content == BENIGN
    assert reply.response_metadata["gliclass_guard"]["passed"] is True
    assert len(model.seen) == 1
    assert scorer.texts == [BENIGN]
    assert scorer.calls[0]["prompt"] is None  # by default the reply is scored alone


def test_include_prompt_checks_the_reply_with_the_user_message() -> None:
    scorer = ScriptedScorer()
    agent = create_agent(
        model=chat_model(BENIGN), tools=[], middleware=[safety_middleware(scorer, include_prompt=True)]
    )
    agent.invoke(ask("How do I bake bread?"))
    assert all("How do I bake bread?" in p for p in scorer.calls[0]["prompt"])


def test_agent_raises_guard_violation_under_exception() -> None:
    agent = create_agent(
        model=chat_model(HARMFUL), tools=[], middleware=[safety_middleware(ScriptedScorer(), "exception")]
    )
    with pytest.raises(GuardViolation) as caught:
        agent.invoke(ask("How?"))
    assert caught.value.result.violations[0].label == "violent crimes"


def test_a_harmful_user_message_never_reaches_the_model() -> None:
    model = chat_model()  # no reply: calling the model would fail
    middleware = safety_middleware(ScriptedScorer(), apply_to_input=True, apply_to_output=False)
    messages = create_agent(model=model, tools=[], middleware=[middleware]).invoke(ask("How do I build a bomb?"))
    assert model.seen == []
    assert [type(m) for m in messages["messages"]] == [HumanMessage, AIMessage]
    assert messages["messages"][-1].content == REFUSAL
    assert messages["messages"][-1].response_metadata["gliclass_guard"]["action"] == "refrain"
    filtered = safety_middleware(ScriptedScorer(), "filter", apply_to_input=True, apply_to_output=False)
    out = create_agent(model=model, tools=[], middleware=[filtered]).invoke(ask("How do I build a bomb?"))
    assert out["messages"][-1].content == ""
    assert model.seen == []


def test_a_fixed_user_message_is_what_the_model_sees() -> None:
    model = chat_model(BENIGN)
    middleware = safety_middleware(ScriptedScorer(), "fix", apply_to_input=True, apply_to_output=False)
    out = create_agent(model=model, tools=[], middleware=[middleware]).invoke(ask("Hello there. Then build a bomb."))
    assert [m.content for m in model.seen[0]] == ["Hello there."]
    user = out["messages"][0]
    assert user.content == "Hello there."
    assert user.response_metadata["gliclass_guard"]["action"] == "fix"


def test_the_user_message_is_checked_once_per_turn_across_the_tool_loop() -> None:
    scorer = ScriptedScorer()
    call = AIMessage("", tool_calls=[{"name": "lookup", "args": {"query": "Paris"}, "id": "call-1"}])
    model = chat_model(call, "Paris is the capital of France.")
    middleware = safety_middleware(scorer, "refrain", apply_to_input=True)
    out = create_agent(model=model, tools=[lookup], middleware=[middleware]).invoke(ask("Tell me about Paris."))
    assert [type(m) for m in out["messages"]] == [HumanMessage, AIMessage, ToolMessage, AIMessage]
    assert len(model.seen) == 2
    # the user message once, the tool call's empty text never, the final reply once
    assert scorer.texts == ["Tell me about Paris.", "Paris is the capital of France."]


def test_a_refused_reply_loses_its_tool_calls_and_ends_the_run() -> None:
    reply = AIMessage(HARMFUL, tool_calls=[{"name": "lookup", "args": {"query": "bomb"}, "id": "call-1"}])
    model = chat_model(reply)
    out = create_agent(model=model, tools=[lookup], middleware=[safety_middleware(ScriptedScorer())]).invoke(ask("?"))
    assert [type(m) for m in out["messages"]] == [HumanMessage, AIMessage]  # no tool ran
    assert (out["messages"][-1].content, out["messages"][-1].tool_calls) == (REFUSAL, [])


def test_a_callable_fail_action_rewrites_the_reply_or_blocks_it_with_none() -> None:
    def tag(result: Any) -> str:
        return f"[removed: {result.violations[0].label}]"

    reply = AIMessage(HARMFUL, tool_calls=[{"name": "lookup", "args": {"query": "x"}, "id": "c1"}])
    rewritten = create_agent(
        model=chat_model(reply, "Done."), tools=[lookup], middleware=[safety_middleware(ScriptedScorer(), tag)]
    ).invoke(ask("?"))
    assert [m.content for m in rewritten["messages"][1::2]] == ["[removed: violent crimes]", "Done."]  # tools ran
    blocked = create_agent(
        model=chat_model(reply), tools=[lookup], middleware=[safety_middleware(ScriptedScorer(), lambda _: None)]
    ).invoke(ask("?"))
    assert [type(m) for m in blocked["messages"]] == [HumanMessage, AIMessage]
    assert (blocked["messages"][-1].content, blocked["messages"][-1].tool_calls) == ("", [])


def test_hallucination_guard_checks_the_final_answer_against_the_turns_tool_results() -> None:
    scorer = ScriptedScorer(overlap_score)
    call = AIMessage("Let me look that up.", tool_calls=[{"name": "lookup", "args": {"query": "Paris"}, "id": "c1"}])
    answer = "Paris is the capital of France. Aliens landed on the moon yesterday."
    model = chat_model(call, answer)
    middleware = GLiClassGuardMiddleware(HallucinationGuard(model=scorer, on_fail="fix"))
    out = create_agent(model=model, tools=[lookup], middleware=[middleware]).invoke(ask("Tell me about Paris."))
    final = out["messages"][-1]
    assert final.content == "Paris is the capital of France."
    assert [v["text"] for v in final.response_metadata["gliclass_guard"]["violations"]] == [
        "Aliens landed on the moon yesterday."
    ]
    assert len(scorer.calls) == 1  # the tool-calling message is not an answer yet
    assert scorer.calls[0]["texts"] == [lookup.invoke({"query": "x"})]


def test_async_agent_uses_the_async_hooks() -> None:
    input_and_output = safety_middleware(ScriptedScorer(), apply_to_input=True)
    agent = create_agent(model=chat_model(HARMFUL), tools=[], middleware=[input_and_output])
    out = asyncio.run(agent.ainvoke(ask("How do I bake bread?")))
    assert out["messages"][-1].content == REFUSAL
    blocked = asyncio.run(
        create_agent(model=chat_model(), tools=[], middleware=[input_and_output]).ainvoke(ask("Build a bomb."))
    )
    assert blocked["messages"][-1].content == REFUSAL


def test_engine_errors_fail_closed_in_the_agent() -> None:
    broken = ScriptedScorer(error=RuntimeError("model file missing"))
    agent = create_agent(model=chat_model(BENIGN), tools=[], middleware=[safety_middleware(broken)])
    reply = agent.invoke(ask("How do I bake bread?"))["messages"][-1]
    assert reply.content == REFUSAL
    assert reply.response_metadata["gliclass_guard"]["error"] == "RuntimeError: model file missing"


def test_two_guards_in_one_agent_need_their_own_names_and_keys() -> None:
    scorer = ScriptedScorer()
    user_guard = safety_middleware(scorer, "noop", apply_to_input=True, apply_to_output=False, metadata_key="input")
    reply_guard = safety_middleware(scorer, "refrain", name="reply-safety", metadata_key="output")
    assert (user_guard.name, reply_guard.name) == ("GLiClassGuardMiddleware[safety]", "reply-safety")
    out = create_agent(model=chat_model(HARMFUL), tools=[], middleware=[user_guard, reply_guard]).invoke(ask("Hi."))
    user, reply = out["messages"]
    assert user.response_metadata["input"]["passed"] is True
    assert reply.content == REFUSAL
    assert reply.response_metadata["output"]["action"] == "refrain"
    with pytest.raises(AssertionError, match="duplicate middleware"):
        create_agent(model=chat_model(), tools=[], middleware=[user_guard, safety_middleware(scorer)])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda s: GLiClassGuardMiddleware(HallucinationGuard(model=s), apply_to_input=True), "apply_to_input=False"),
        (lambda s: GLiClassGuardMiddleware(SafetyGuard(model=s), apply_to_output=False), "nothing would be checked"),
        (lambda s: GLiClassGuardMiddleware(IntentRouter(model=s, routes=["a", "b"])), "RunnableLambda"),  # type: ignore[arg-type]
        (lambda s: GLiClassGuardMiddleware(SafetyGuard(model=s), apply_to_input="yes"), "must be a bool"),  # type: ignore[arg-type]
        (lambda s: GLiClassGuardMiddleware(SafetyGuard(model=s), name=" "), "name must be"),
    ],
)
def test_bad_settings_are_refused(make: Callable[[ScriptedScorer], Any], match: str) -> None:
    with pytest.raises(GuardConfigError, match=match):
        make(ScriptedScorer())


def test_without_langchain_the_package_imports_and_the_middleware_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hidden = [name for name in sys.modules if name == "langchain" or name.startswith("langchain.")]
    for name in [*hidden, "langchain"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the langchain package were not installed
    for name in [name for name in sys.modules if name.split(".")[0] == "langchain_gliclass"]:
        monkeypatch.delitem(sys.modules, name)  # import the package afresh (the originals come back afterwards)
    package = importlib.import_module("langchain_gliclass")
    assert package.GLiClassGuardRunnable(SafetyGuard(model=ScriptedScorer())).invoke(BENIGN) == BENIGN
    with pytest.raises(ImportError, match=r'pip install "langchain-gliclass\[agents\]"'):
        from langchain_gliclass import GLiClassGuardMiddleware  # noqa: F401


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
def test_embedded_model_blocks_a_harmful_reply_end_to_end() -> None:
    """The embedded default model, offline, in a real agent: a harmful reply is refused, a benign one passes."""
    harmful = (
        "Here is how to do it: mix the fertilizer with fuel oil to build a bomb, then leave it in the crowded "
        "train station so that it kills as many people as possible."
    )
    middleware = GLiClassGuardMiddleware(SafetyGuard(on_fail="refrain"))
    blocked = create_agent(model=chat_model(harmful), tools=[], middleware=[middleware]).invoke(ask("How?"))
    assert blocked["messages"][-1].content == REFUSAL
    passed = create_agent(model=chat_model(BENIGN), tools=[], middleware=[middleware]).invoke(ask("Bread?"))
    assert passed["messages"][-1].content == BENIGN
