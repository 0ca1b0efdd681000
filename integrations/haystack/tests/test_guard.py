"""The guard components: verdicts driven by a scripted scorer, fail actions as routing, fail-closed, async, inputs
untouched, init checks, serialisation."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from gliclass_guards import GuardResult, GuardViolation
from haystack import Document
from haystack.core.errors import SerializationError
from haystack.dataclasses import ChatMessage, ToolCall
from haystack.utils import ComponentDevice
from haystack_integrations.components.validators.gliclass import GLiClassChatGuard, GLiClassTextGuard
from scripted import ScriptedScorer, overlap_score

from gliclass_rag import CheckpointError, ZeroShotClassifier, resolve_classifier

CATEGORIES = {"violence": "threats or instructions to hurt people", "hate": None}
HARMFUL = "Here is how to plan violence against your neighbour."
BENIGN = "Bake the bread for forty minutes."
MIXED = "Bake the bread for forty minutes. Then plan violence against the baker."
REFUSAL = "I'm sorry, but I can't help with that."


def safety(kind: type = GLiClassTextGuard, scorer: Any = None, **settings: Any) -> Any:
    return kind("safety", scorer or ScriptedScorer(), settings={"categories": CATEGORIES, **settings})


def shout(result: GuardResult) -> str | None:
    """A module-level fail action (serialisable by name)."""
    return None if "hate" in result.text else result.text.upper()


# --- text guard: routing -------------------------------------------------------------------------------------
def test_text_guard_routes_a_harmful_text_to_failed_and_a_benign_one_to_passed() -> None:
    guard = safety()
    blocked = guard.run(text=HARMFUL)
    assert set(blocked) == {"failed", "result"}  # filter (the default): nothing is passed on
    assert blocked["failed"] == HARMFUL
    assert blocked["result"]["passed"] is False
    assert blocked["result"]["action"] == "filter"
    assert [v["label"] for v in blocked["result"]["violations"]] == ["violence"]
    assert blocked["result"]["score"] == pytest.approx(0.9)

    allowed = guard.run(text=BENIGN)
    assert set(allowed) == {"passed", "result"}
    assert allowed["passed"] == BENIGN
    assert allowed["result"]["passed"] is True
    assert allowed["result"]["action"] == "none"


@pytest.mark.parametrize(
    ("on_fail", "passed"),
    [
        ("filter", None),
        ("refrain", REFUSAL),
        ("fix", "Bake the bread for forty minutes."),  # sentence granularity: only the violent sentence goes
        ("noop", MIXED),  # report only: passed on unchanged, and reported on `failed`
        (f"{__name__}:shout", MIXED.upper()),
    ],
)
def test_fail_actions_decide_what_passed_gets_and_failed_always_gets_the_input(on_fail: str, passed: str) -> None:
    action: Any = {"callable": on_fail} if ":" in on_fail else on_fail
    result = safety(on_fail=action, granularity="sentence").run(text=MIXED)
    assert result["failed"] == MIXED
    assert result.get("passed") == passed
    assert result["result"]["action"] == ("custom" if ":" in on_fail else on_fail)


def test_fail_action_exception_raises_the_guard_violation() -> None:
    guard = safety(on_fail="exception")
    with pytest.raises(GuardViolation, match="violence") as raised:
        guard.run(text=HARMFUL)
    assert raised.value.result.passed is False
    assert guard.run(text=BENIGN)["passed"] == BENIGN


def test_a_callable_returning_none_passes_nothing_on() -> None:
    result = GLiClassTextGuard("safety", ScriptedScorer(), settings={"categories": ["hate"], "on_fail": shout}).run(
        text="hate speech"
    )
    assert set(result) == {"failed", "result"}


def test_the_prompt_reaches_the_model_for_safety_and_rules() -> None:
    scorer = ScriptedScorer()
    safety(scorer=scorer).run(text=BENIGN, prompt="How long do I bake bread?")
    assert "How long do I bake bread?" in str(scorer.calls[-1]["prompt"])
    rules = GLiClassTextGuard("rules", scorer, settings={"rules": {"polite": "polite"}, "domain": "a bakery"})
    verdict = rules.run(text="Please bake it, thank you", prompt="How do I bake?")
    assert verdict["failed"] == "Please bake it, thank you"  # "polite" is not in the text: the rule is not followed
    assert "a bakery" in str(scorer.calls[-1]["prompt"])
    assert rules.run(text="A polite answer")["passed"] == "A polite answer"


# --- hallucination: the context ------------------------------------------------------------------------------
def hallucination(kind: type = GLiClassTextGuard, **settings: Any) -> Any:
    return kind("hallucination", ScriptedScorer(overlap_score), settings={"threshold": 0.8, **settings})


PASSAGES = [
    Document(content="Paris is the capital of France."),
    Document(content=None, meta={"note": "no content"}),
    Document(content="The Eiffel tower was built in 1889."),
]


def test_hallucination_guard_reads_documents_and_context() -> None:
    guard = hallucination(on_fail="fix")
    answer = "Paris is the capital of France. The tower was built in 1889. Berlin has ten moons today."
    result = guard.run(text=answer, documents=PASSAGES)
    assert result["failed"] == answer
    assert result["passed"] == "Paris is the capital of France. The tower was built in 1889."
    assert [v["text"] for v in result["result"]["violations"]] == ["Berlin has ten moons today."]
    supported = guard.run(text="Berlin has ten moons today.", documents=PASSAGES, context=["Berlin has ten moons"])
    assert supported["passed"] == "Berlin has ten moons today."
    assert guard.run(text="Berlin has ten moons today.", context="Berlin has ten moons")["result"]["passed"]


def test_hallucination_guard_with_no_retrieved_documents_fails_closed() -> None:
    result = hallucination().run(text="Paris is the capital of France.", documents=[])
    assert set(result) == {"failed", "result"}
    assert result["result"]["violations"][0]["reason"] == "there is no context to support it"


def test_wiring_mistakes_raise() -> None:
    with pytest.raises(ValueError, match="needs a context"):
        hallucination().run(text="Paris is the capital of France.")
    with pytest.raises(ValueError, match="takes none"):
        hallucination().run(text="Paris.", context="Paris.", prompt="Where?")
    with pytest.raises(ValueError, match="safety guard takes none"):
        safety().run(text=BENIGN, documents=PASSAGES)
    with pytest.raises(TypeError, match="text to be a str"):
        safety().run(text=["a list"])
    with pytest.raises(TypeError, match="context must be"):
        hallucination().run(text="Paris.", context=[1, 2])
    with pytest.raises(TypeError, match="list of Documents"):
        hallucination().run(text="Paris.", documents=["Paris."])
    with pytest.raises(TypeError, match="list of ChatMessages"):
        safety(GLiClassChatGuard).run(messages=["a str"])


# --- chat guard ----------------------------------------------------------------------------------------------
def replies() -> list[ChatMessage]:
    return [
        ChatMessage.from_assistant(HARMFUL, meta={"model": "mock", "index": 0}),
        ChatMessage.from_assistant(BENIGN, meta={"model": "mock", "index": 1}),
        ChatMessage.from_assistant(tool_calls=[ToolCall(tool_name="search", arguments={"q": "bread"})]),
        ChatMessage.from_assistant(
            MIXED, tool_calls=[ToolCall(tool_name="order", arguments={"item": "knife"})], meta={"index": 3}
        ),
    ]


def test_chat_guard_routes_each_message() -> None:
    messages = replies()
    scorer = ScriptedScorer()
    result = safety(GLiClassChatGuard, scorer).run(messages=messages)
    assert result["failed"] == [messages[0], messages[3]]
    assert result["failed"][0] is messages[0]  # the input messages themselves, unchanged
    assert result["passed"] == [messages[1], messages[2]]
    assert [r if r is None else r["passed"] for r in result["results"]] == [False, True, None, False]
    assert len(scorer.calls) == 1  # every message in one model call
    assert scorer.calls[0]["texts"] == [HARMFUL, BENIGN, MIXED]  # the tool-call-only message is not checked


def test_chat_guard_refrain_and_fix_pass_copies_holding_only_the_text() -> None:
    messages = replies()
    before = copy.deepcopy(messages)
    refused = safety(GLiClassChatGuard, on_fail="refrain").run(messages=messages)
    assert [m.text for m in refused["passed"]] == [REFUSAL, BENIGN, None, REFUSAL]
    assert refused["passed"][0].meta == {"model": "mock", "index": 0}
    assert refused["passed"][0].role == messages[0].role
    assert refused["passed"][3].tool_calls == []  # a failed message passes none of its tool calls on
    assert refused["passed"][0].meta is not messages[0].meta
    fixed = safety(GLiClassChatGuard, on_fail="fix", granularity="sentence").run(messages=messages)
    assert fixed["passed"][-1].text == "Bake the bread for forty minutes."
    noop = safety(GLiClassChatGuard, on_fail="noop").run(messages=messages)
    assert noop["passed"] == messages
    assert noop["failed"] == [messages[0], messages[3]]
    assert messages == before  # inputs untouched


def test_chat_guard_emits_only_non_empty_outputs() -> None:
    guard = safety(GLiClassChatGuard)
    assert guard.run(messages=[]) == {"results": []}
    only_bad = guard.run(messages=[ChatMessage.from_assistant(HARMFUL)])
    assert set(only_bad) == {"failed", "results"}
    only_good = guard.run(messages=[ChatMessage.from_user(BENIGN)])
    assert set(only_good) == {"passed", "results"}


def test_chat_guard_checks_messages_against_retrieved_documents() -> None:
    messages = [ChatMessage.from_assistant("Paris is the capital of France."), ChatMessage.from_assistant(MIXED)]
    result = hallucination(GLiClassChatGuard).run(messages=messages, documents=PASSAGES)
    assert result["passed"] == messages[:1]
    assert result["failed"] == messages[1:]


# --- engine errors -------------------------------------------------------------------------------------------
def test_fails_closed_when_the_engine_errors() -> None:
    broken = ScriptedScorer(error=RuntimeError("CUDA out of memory"))
    text = safety(scorer=broken).run(text=BENIGN)
    assert set(text) == {"failed", "result"}
    assert text["result"]["error"] == "RuntimeError: CUDA out of memory"
    assert text["result"]["score"] == 1.0
    assert text["result"]["violations"][0]["label"] == "guard_error"
    chat = safety(GLiClassChatGuard, broken, on_fail="refrain").run(messages=[ChatMessage.from_assistant(BENIGN)])
    assert chat["failed"][0].text == BENIGN
    assert chat["passed"][0].text == REFUSAL
    assert safety(scorer=broken, on_error="open").run(text=BENIGN)["passed"] == BENIGN
    with pytest.raises(RuntimeError, match="out of memory"):
        safety(scorer=broken, on_error="raise").run(text=BENIGN)


def test_a_model_that_cannot_load_fails_closed_at_run_and_raises_at_warm_up() -> None:
    guard = GLiClassTextGuard("safety", "/no/such/checkpoint")  # nothing loads at init
    result = guard.run(text=BENIGN)
    assert set(result) == {"failed", "result"}
    assert "CheckpointError" in result["result"]["error"]
    with pytest.raises(CheckpointError):
        guard.warm_up()


# --- async ---------------------------------------------------------------------------------------------------
def test_run_async_equals_run() -> None:
    text_guard = safety(on_fail="fix", granularity="sentence")
    for text in (HARMFUL, BENIGN, MIXED):
        assert asyncio.run(text_guard.run_async(text=text, prompt="q")) == text_guard.run(text=text, prompt="q")
    chat_guard = hallucination(GLiClassChatGuard)
    messages = [ChatMessage.from_assistant("Paris is the capital of France."), ChatMessage.from_assistant(MIXED)]
    sync = chat_guard.run(messages=messages, documents=PASSAGES, context="More.")
    assert asyncio.run(chat_guard.run_async(messages=messages, documents=PASSAGES, context="More.")) == sync


# --- init ----------------------------------------------------------------------------------------------------
def test_init_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match=r"guard must be one of \['safety', 'hallucination', 'rules'\]"):
        GLiClassTextGuard("toxicity")
    with pytest.raises(TypeError, match="settings must be a dict"):
        GLiClassTextGuard("safety", settings=["threshold", 0.5])
    with pytest.raises(ValueError, match="settings cannot hold 'model'"):
        GLiClassTextGuard("safety", settings={"model": "x"})
    with pytest.raises(ValueError, match=r"needs settings\['rules'\]"):
        GLiClassChatGuard("rules")
    with pytest.raises(ValueError, match="threshold"):  # the guard's own check (GuardConfigError)
        GLiClassTextGuard("safety", settings={"threshold": 1.5})
    with pytest.raises(ValueError, match="treshold"):  # an unknown setting is refused, not ignored
        GLiClassTextGuard("safety", settings={"treshold": 0.5})
    with pytest.raises(ValueError, match="on_fail"):
        GLiClassTextGuard("safety", settings={"on_fail": "block"})
    with pytest.raises(TypeError, match=r"settings\['categories'\] must be a JSON value"):
        GLiClassTextGuard("safety", settings={"categories": {"violence", "hate"}})
    with pytest.raises(TypeError, match="model must be"):
        GLiClassTextGuard("safety", model=42)
    with pytest.raises(ValueError, match="device and dtype"):
        GLiClassTextGuard("safety", ScriptedScorer(), dtype="float16")


def test_settings_are_copied() -> None:
    settings = {"categories": ["violence"], "thresholds": {"violence": 0.7}}
    guard = GLiClassTextGuard("safety", ScriptedScorer(), settings=settings)
    settings["thresholds"]["violence"] = 0.95
    settings["categories"].append("hate")
    assert guard.settings == {"categories": ["violence"], "thresholds": {"violence": 0.7}}
    assert guard.run(text="violence")["result"]["checks"][0]["threshold"] == 0.7


def test_dict_settings_are_put_in_key_order_as_yaml_writes_them() -> None:
    guard = GLiClassTextGuard("rules", ScriptedScorer(), settings={"rules": {"polite": "polite", "brief": "brief"}})
    assert list(guard.settings["rules"]) == ["brief", "polite"]
    assert [check["label"] for check in guard.run(text="polite")["result"]["checks"]] == ["brief", "polite"]


def test_warm_up_is_lazy_idempotent_and_shares_the_model(model_path: str) -> None:
    guard = GLiClassChatGuard("safety", model_path)
    guard.warm_up()
    guard.warm_up()
    assert guard._checker.scorer is resolve_classifier(model_path)


def test_use_model_replaces_the_model_but_not_the_settings(model_path: str) -> None:
    guard = GLiClassTextGuard("safety", model_path, settings={"categories": CATEGORIES, "threshold": 0.6})
    data = guard.to_dict()
    guard.use_model(ScriptedScorer())
    assert guard.run(text=HARMFUL)["result"]["checks"][0]["threshold"] == 0.6
    assert guard.to_dict() == data  # still the init arguments
    with pytest.raises(TypeError, match="use_model needs"):
        guard.use_model("another/path")


# --- serialisation -------------------------------------------------------------------------------------------
def test_to_dict_from_dict(model_path: str) -> None:
    settings = {"categories": CATEGORIES, "thresholds": {"hate": 0.3}, "on_fail": "refrain", "granularity": "sentence"}
    guard = GLiClassChatGuard("safety", model_path, settings=settings, device=ComponentDevice.from_str("cpu"))
    data = guard.to_dict()
    assert data == {
        "type": "haystack_integrations.components.validators.gliclass.guard.GLiClassChatGuard",
        "init_parameters": {
            "guard": "safety",
            "settings": settings,
            "model": model_path,
            "device": {"type": "single", "device": "cpu"},
            "dtype": None,
        },
    }
    restored = GLiClassChatGuard.from_dict(data)
    assert restored.to_dict() == data
    assert restored._checker.to_dict() == guard._checker.to_dict()
    default = GLiClassTextGuard("hallucination").to_dict()["init_parameters"]
    assert default == {"guard": "hallucination", "settings": {}, "model": None, "device": None, "dtype": None}


def test_a_callable_on_fail_serialises_by_name() -> None:
    guard = GLiClassTextGuard("safety", settings={"on_fail": shout})
    data = guard.to_dict()
    assert data["init_parameters"]["settings"] == {"on_fail": {"callable": f"{__name__}:shout"}}
    assert GLiClassTextGuard.from_dict(data)._checker.on_fail is shout
    with pytest.raises(SerializationError, match="module-level function"):
        GLiClassTextGuard("safety", settings={"on_fail": lambda result: None}).to_dict()


def test_a_loaded_model_without_a_name_cannot_be_serialised(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(SerializationError, match="ScriptedScorer"):
        safety().to_dict()
    with pytest.raises(SerializationError, match="does not record a name or path"):
        GLiClassTextGuard("safety", classifier).to_dict()
