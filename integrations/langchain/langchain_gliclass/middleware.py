"""GLiClassGuardMiddleware: a gliclass-guards guard in a LangChain agent (``create_agent(middleware=[...])``).

Needs the ``langchain`` package (LangChain 1.x agents): ``pip install "langchain-gliclass[agents]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gliclass_guards import GuardConfigError, GuardResult, HallucinationGuard
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from typing_extensions import override

from ._guarding import GUARD_METADATA_KEY, CheckableGuard, apply_result, check_guard, message_text, stops

try:
    from langchain.agents.middleware import AgentMiddleware, AgentState, hook_config
except ImportError as error:  # pragma: no cover - exercised by a test that hides langchain
    msg = (
        "GLiClassGuardMiddleware needs LangChain agents (the langchain package, 1.0 or newer): "
        'pip install "langchain-gliclass[agents]"'
    )
    raise ImportError(msg, name="langchain") from error

if TYPE_CHECKING:
    from langgraph.runtime import Runtime

__all__ = ["GLiClassGuardMiddleware"]


class GLiClassGuardMiddleware(AgentMiddleware):
    """Check an agent's user messages and/or replies with a gliclass-guards guard and apply its fail action.

    ``before_model`` (``apply_to_input``) checks the latest user message once, before the first model call of its
    turn; ``after_model`` (``apply_to_output``) checks every reply the model gives (its text; tool-call arguments
    are not checked). The guard's ``on_fail`` maps onto the agent as follows:

    ==============  ==========================================================  ===================================
    ``on_fail``     user message (``before_model``)                             reply (``after_model``)
    ==============  ==========================================================  ===================================
    ``exception``   raises ``GuardViolation`` out of ``agent.invoke``            the same
    ``refrain``     the model is not called: the refusal is added as an AI      the reply is replaced by the
                    message and the run ends (``jump_to: "end"``)               refusal (no tool calls); run ends
    ``filter``      as ``refrain``, with an empty AI message                    the reply is emptied; run ends
    ``fix``         the message is replaced by its redacted text                the reply's text is redacted (tool
                                                                                calls kept)
    ``noop``        unchanged (the result is recorded)                          unchanged (the result is recorded)
    callable        its text replaces the message (as ``fix``); None: as        the same; None: as ``filter``
                    ``filter``
    ==============  ==========================================================  ===================================

    Every checked message (or the AI message that replaces it) carries ``GuardResult.to_dict()`` in
    ``response_metadata[metadata_key]``. Replaced messages keep their id, so the agent state's ``add_messages``
    reducer swaps them in place. Engine errors follow the guard's ``on_error``: by default the check fails closed
    and the fail action runs (a refusal under ``refrain``).

    With ``include_prompt=True`` a reply is checked with the user message it answers as the guard's ``prompt``; a
    ``HallucinationGuard`` checks final replies (those without tool calls) against the tool results of the turn
    (the ``ToolMessage`` contents since the latest user message), and cannot check user messages.

    Example:
        .. code-block:: python

            from gliclass_guards import SafetyGuard
            from langchain.agents import create_agent
            from langchain_gliclass import GLiClassGuardMiddleware

            agent = create_agent(
                "openai:gpt-5",
                tools=[...],
                middleware=[GLiClassGuardMiddleware(SafetyGuard(on_fail="refrain"), apply_to_input=True)],
            )
    """

    def __init__(
        self,
        guard: CheckableGuard,
        *,
        apply_to_input: bool = False,
        apply_to_output: bool = True,
        include_prompt: bool = False,
        metadata_key: str | None = GUARD_METADATA_KEY,
        name: str | None = None,
    ) -> None:
        """Wrap ``guard``.

        Args:
            guard: a ``SafetyGuard``, ``RuleGuard``, ``HallucinationGuard`` (or another ``TextGuard``) with its
                fail action.
            apply_to_input: check the latest user message before the model answers it.
            apply_to_output: check the model's replies.
            include_prompt: check a reply with the user message it answers as the guard's prompt (text guards).
                Off by default: the embedded default model is a bi-encoder that reads the prompt as a prefix of the
                reply, which dilutes it (a bomb-making reply scored 0.59 alone, 0.17 after "How?"); turn it on
                for uni-encoder checkpoints trained with prompts.
            metadata_key: the ``response_metadata`` key for the guard's result (None: not written).
            name: the middleware's name (default ``GLiClassGuardMiddleware[<guard kind>]``); agents refuse two
                middleware of one name, so name a second guard of the same kind.

        Raises:
            GuardConfigError: ``guard`` is not a guard the middleware can run, neither input nor output is checked,
                or a ``HallucinationGuard`` is asked to check user messages.
        """
        super().__init__()
        self.guard = check_guard(guard, type(self).__name__)
        for setting, value in (("apply_to_input", apply_to_input), ("apply_to_output", apply_to_output)):
            if not isinstance(value, bool):
                raise GuardConfigError(f"{setting} must be a bool, but got {type(value).__name__}: {value!r}")
        if not apply_to_input and not apply_to_output:
            raise GuardConfigError("apply_to_input and apply_to_output are both False: nothing would be checked")
        if apply_to_input and isinstance(guard, HallucinationGuard):
            msg = "a HallucinationGuard checks answers against their context, not user messages: apply_to_input=False"
            raise GuardConfigError(msg)
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise GuardConfigError(f"name must be a non-empty str or None, but got {name!r}")
        self.apply_to_input = apply_to_input
        self.apply_to_output = apply_to_output
        self.include_prompt = include_prompt
        self.metadata_key = metadata_key
        self._name = name

    @property
    @override
    def name(self) -> str:
        """The middleware's name: ``name=``, or ``GLiClassGuardMiddleware[<guard kind>]``."""
        return self._name or f"{type(self).__name__}[{self.guard.kind}]"

    # --- user messages -------------------------------------------------------------------------------------------
    @hook_config(can_jump_to=["end"])
    @override
    def before_model(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Check the latest user message before the first model call of its turn (see the class docstring).

        Raises:
            GuardViolation: the check failed and the guard's ``on_fail`` is ``"exception"``.
        """
        message = self._input_message(state["messages"]) if self.apply_to_input else None
        if message is None:
            return None
        return self._input_update(message, self.guard.check(message_text(message)))

    @hook_config(can_jump_to=["end"])
    @override
    async def abefore_model(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """As :meth:`before_model`, with the guard's async form (the model runs in a worker thread)."""
        message = self._input_message(state["messages"]) if self.apply_to_input else None
        if message is None:
            return None
        return self._input_update(message, await self.guard.acheck(message_text(message)))

    @staticmethod
    def _input_message(messages: Sequence[AnyMessage]) -> HumanMessage | None:
        """The latest user message if the model has not answered it yet (so a turn's tool loop checks it once)."""
        for message in reversed(messages):
            if isinstance(message, HumanMessage):
                return message if message_text(message).strip() else None
            if isinstance(message, AIMessage):
                return None
        return None

    def _input_update(self, message: HumanMessage, result: GuardResult) -> dict[str, Any] | None:
        if stops(result):
            text = result.output if result.output is not None else ""
            metadata = {} if self.metadata_key is None else {self.metadata_key: result.to_dict()}
            return {"messages": [AIMessage(content=text, response_metadata=metadata)], "jump_to": "end"}
        checked = apply_result(message, result, self.metadata_key)
        return None if checked is message else {"messages": [checked]}

    # --- replies -------------------------------------------------------------------------------------------------
    @hook_config(can_jump_to=["end"])
    @override
    def after_model(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Check the model's reply (see the class docstring).

        Raises:
            GuardViolation: the check failed and the guard's ``on_fail`` is ``"exception"``.
        """
        target = self._output_target(state["messages"]) if self.apply_to_output else None
        if target is None:
            return None
        reply, prompt, context = target
        if isinstance(self.guard, HallucinationGuard):
            result = self.guard.check(message_text(reply), context)
        else:
            result = self.guard.check(message_text(reply), prompt=prompt)
        return self._output_update(reply, result)

    @hook_config(can_jump_to=["end"])
    @override
    async def aafter_model(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """As :meth:`after_model`, with the guard's async form (the model runs in a worker thread)."""
        target = self._output_target(state["messages"]) if self.apply_to_output else None
        if target is None:
            return None
        reply, prompt, context = target
        if isinstance(self.guard, HallucinationGuard):
            result = await self.guard.acheck(message_text(reply), context)
        else:
            result = await self.guard.acheck(message_text(reply), prompt=prompt)
        return self._output_update(reply, result)

    def _output_target(self, messages: Sequence[AnyMessage]) -> tuple[AIMessage, str | None, list[str]] | None:
        """(the reply to check, the user message it answers, the turn's tool results), or None: nothing to check."""
        found = next(((i, m) for i, m in reversed(list(enumerate(messages))) if isinstance(m, AIMessage)), None)
        if found is None:
            return None
        reply_index, reply = found
        if not message_text(reply).strip():
            return None  # a tool call without text
        is_hallucination = isinstance(self.guard, HallucinationGuard)
        if is_hallucination and reply.tool_calls:
            return None  # not an answer yet: its context is still being fetched
        turn_start = next((i for i in range(reply_index - 1, -1, -1) if isinstance(messages[i], HumanMessage)), None)
        prompt = None
        if self.include_prompt and turn_start is not None and not is_hallucination:
            prompt = message_text(messages[turn_start]) or None
        start = 0 if turn_start is None else turn_start + 1
        context = [message_text(m) for m in messages[start:reply_index] if isinstance(m, ToolMessage)]
        return reply, prompt, context

    def _output_update(self, reply: AIMessage, result: GuardResult) -> dict[str, Any] | None:
        checked = apply_result(reply, result, self.metadata_key)
        if stops(result):
            return {"messages": [checked], "jump_to": "end"}
        return None if checked is reply else {"messages": [checked]}
