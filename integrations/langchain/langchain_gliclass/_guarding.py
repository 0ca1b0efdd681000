"""What the guard runnable and the guard middleware share: the guards they take, message text, fail actions on
messages and the result annotation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from gliclass_guards import GuardConfigError, GuardResult, HallucinationGuard, IntentRouter, TextGuard
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage

from gliclass_rag import InvalidInputError

__all__ = [
    "GUARD_METADATA_KEY",
    "CheckableGuard",
    "apply_result",
    "check_guard",
    "context_texts",
    "message_text",
    "stops",
]

CheckableGuard: TypeAlias = HallucinationGuard | TextGuard
"""The guards an adapter can run: :class:`~gliclass_guards.HallucinationGuard` (an answer and its context) and any
:class:`~gliclass_guards.TextGuard` (``SafetyGuard``, ``RuleGuard``: a text and the user message it answers)."""

GUARD_METADATA_KEY = "gliclass_guard"
"""The default ``response_metadata`` key (or dict key) under which ``GuardResult.to_dict()`` is written."""


def check_guard(guard: object, owner: str) -> CheckableGuard:
    """``guard`` if an adapter can run it, else a :class:`GuardConfigError` saying what it takes."""
    if isinstance(guard, (HallucinationGuard, TextGuard)):
        return guard
    hint = (
        " (a router has no fail actions: call router.route in a RunnableLambda or a RunnableBranch)"
        if isinstance(guard, IntentRouter)
        else ""
    )
    msg = (
        f"{owner} needs a gliclass_guards guard (SafetyGuard, RuleGuard, HallucinationGuard or another TextGuard), "
        f"but got {type(guard).__name__}{hint}"
    )
    raise GuardConfigError(msg)


def message_text(message: BaseMessage) -> str:
    """The text of a message: its content if a str, else its text blocks joined (other blocks are skipped)."""
    return str(message.text)


def stops(result: GuardResult) -> bool:
    """Whether the fail action ends the exchange: ``refrain`` (a refusal replaces the text) or nothing to pass on
    (``filter``, or a callable that returned None)."""
    return result.action == "refrain" or result.output is None


def apply_result(message: BaseMessage, result: GuardResult, metadata_key: str | None) -> BaseMessage:
    """``message`` after the guard's fail action, as a copy (the same object when nothing is to change).

    The content becomes ``result.output`` when that differs from the message's text ("" when nothing is to be
    passed on); when the action stops the exchange (:func:`stops`), an AI message also loses its tool calls, so
    that no tool runs on a blocked reply. ``metadata_key`` (None: none) gets ``result.to_dict()`` in
    ``response_metadata``.
    """
    text = result.output if result.output is not None else ""
    update: dict[str, Any] = {}
    if text != message_text(message):
        update["content"] = text
    if stops(result) and isinstance(message, AIMessage):
        if message.tool_calls or message.invalid_tool_calls:
            update["tool_calls"] = []
            update["invalid_tool_calls"] = []
        if "tool_calls" in message.additional_kwargs or "function_call" in message.additional_kwargs:
            # providers' raw tool calls, which some converters send when ``tool_calls`` is empty
            kept = {k: v for k, v in message.additional_kwargs.items() if k not in ("tool_calls", "function_call")}
            update["additional_kwargs"] = kept
    if metadata_key is not None:
        update["response_metadata"] = {**message.response_metadata, metadata_key: result.to_dict()}
    return message.model_copy(update=update) if update else message


def context_texts(context: object, name: str) -> list[str]:
    """Passages for a hallucination check: a str, a Document, a message, or a list of them."""
    if isinstance(context, (str, Document, BaseMessage)):
        context = [context]
    if not isinstance(context, Sequence):
        msg = (
            f"{name} must be a str, a Document, a message or a list of them, but got "
            f"{type(context).__name__}: {context!r:.60}"
        )
        raise InvalidInputError(msg)
    passages = []
    for index, item in enumerate(context):
        if isinstance(item, str):
            passages.append(item)
        elif isinstance(item, Document):
            passages.append(item.page_content)
        elif isinstance(item, BaseMessage):
            passages.append(message_text(item))
        else:
            msg = f"{name}[{index}] must be a str, a Document or a message, but got {type(item).__name__}"
            raise InvalidInputError(msg)
    return passages
