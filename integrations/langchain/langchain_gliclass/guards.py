"""GLiClassGuardRunnable: a gliclass-guards guard as an LCEL Runnable (invoke, ainvoke, batch, abatch, stream)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias

from gliclass_guards import GuardResult, GuardViolation, HallucinationGuard
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from pydantic import ConfigDict, Field, field_validator
from typing_extensions import override

from gliclass_rag import InvalidInputError

from ._guarding import GUARD_METADATA_KEY, CheckableGuard, apply_result, check_guard, context_texts, message_text

__all__ = ["GLiClassGuardRunnable", "GuardInput"]

GuardInput: TypeAlias = str | BaseMessage | dict[str, Any]
"""What the runnable takes and gives back: a text, a message (an LLM's or a chat model's output) or a dict."""


@dataclass(frozen=True)
class _Item:
    """One thing to check: the text, the user message it answers (text guards), the passages (hallucination)."""

    text: str
    prompt: str | None = None
    context: list[str] | None = None


class GLiClassGuardRunnable(RunnableSerializable[GuardInput, GuardInput]):
    """Run a gliclass-guards guard as a step of an LCEL chain, applying the guard's fail action (``on_fail``).

    The input's shape is kept in the output:

    - a **str** (an LLM's output) gives the text to pass on: unchanged when the check passed (and under ``noop``),
      redacted under ``fix``, the guard's refusal under ``refrain``, ``""`` under ``filter``;
    - a **message** (a chat model's output) gives a copy whose content is that text, with the guard's result
      (``GuardResult.to_dict()``) in ``response_metadata[metadata_key]``; under ``refrain`` and ``filter`` an AI
      message also loses its tool calls;
    - a **dict** gives a copy with ``text_key`` replaced in the same way and the result under ``metadata_key``
      (on the message instead, when ``text_key`` holds a message). ``prompt_key`` names the user message a
      ``SafetyGuard`` / ``RuleGuard`` checks the text with, ``context_key`` the passages (str, Documents or a
      list of them) a ``HallucinationGuard`` checks the answer against; a hallucination guard needs a dict.

    Under ``on_fail="exception"`` a failed check raises :class:`gliclass_guards.GuardViolation` (``.result`` holds
    the result). Engine errors follow the guard's ``on_error`` (default: fail closed, then the fail action runs).

    ``batch``/``abatch`` score every input in one model call (the guard's batch forms); ``ainvoke``/``abatch``
    run the model in a worker thread. Streamed text (an LLM's or a chat model's token stream) is checked piece by
    piece with the guard's streaming form (``chunk_size``/``context_size``, as NeMo's streaming output rails):
    pieces that passed are emitted while the rest is generated; streamed pieces carry the text only (no
    metadata, no tool-call chunks).

    Example:
        .. code-block:: python

            from gliclass_guards import SafetyGuard
            from langchain_gliclass import GLiClassGuardRunnable

            chain = prompt | llm | GLiClassGuardRunnable(SafetyGuard(on_fail="refrain"))
            chain.invoke({"question": "..."})  # the answer, or the refusal when it was harmful
    """

    guard: CheckableGuard
    """A ``SafetyGuard``, ``RuleGuard``, ``HallucinationGuard`` (or another ``TextGuard``), with its fail action."""

    text_key: str = Field(default="answer", min_length=1)
    """For dict inputs: the key holding the text to check (a str or a message)."""

    prompt_key: str | None = "question"
    """For dict inputs: the key holding the user message the text answers (text guards; absent or None: none)."""

    context_key: str = Field(default="context", min_length=1)
    """For dict inputs: the key holding the context of a ``HallucinationGuard`` (str, Document, or a list)."""

    metadata_key: str | None = GUARD_METADATA_KEY
    """Where ``GuardResult.to_dict()`` goes (a message's ``response_metadata``, or the dict); None: nowhere."""

    chunk_size: int = Field(default=800, ge=1, strict=True)
    """Streaming: characters buffered before a piece is checked."""

    context_size: int = Field(default=200, ge=0, strict=True)
    """Streaming: characters already emitted that are checked again with the next piece."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", validate_assignment=True)

    def __init__(self, guard: CheckableGuard, **kwargs: Any) -> None:
        """``guard`` may be given by position: ``GLiClassGuardRunnable(SafetyGuard(), text_key="output")``."""
        super().__init__(guard=guard, **kwargs)  # type: ignore[call-arg]

    @field_validator("guard", mode="before")
    @classmethod
    def _check_guard(cls, guard: object) -> CheckableGuard:
        return check_guard(guard, cls.__name__)

    # --- invoke / ainvoke ----------------------------------------------------------------------------------------
    @override
    def invoke(self, input: GuardInput, config: RunnableConfig | None = None, **kwargs: Any) -> GuardInput:
        """Check ``input`` and return it after the fail action (see the class docstring)."""
        return self._call_with_config(self._invoke, input, config, **kwargs)

    @override
    async def ainvoke(self, input: GuardInput, config: RunnableConfig | None = None, **kwargs: Any) -> GuardInput:
        """As :meth:`invoke`, with the guard's async form (the model runs in a worker thread)."""
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def _invoke(self, value: GuardInput) -> GuardInput:
        return self._output(value, self._check(self._item(value)))

    async def _ainvoke(self, value: GuardInput) -> GuardInput:
        return self._output(value, await self._acheck(self._item(value)))

    # --- batch / abatch ------------------------------------------------------------------------------------------
    @override
    def batch(
        self,
        inputs: list[GuardInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[GuardInput]:
        """Check every input in one model call (the guard's ``check_batch``).

        Under ``on_fail="exception"`` the first failing input raises (``GuardViolation.index`` says which); with
        ``return_exceptions=True`` each failing input gets its own ``GuardViolation`` instead, which takes one
        model call per input.
        """
        return self._batch_with_config(
            partial(self._batch, return_exceptions=return_exceptions),
            list(inputs),
            config,
            return_exceptions=return_exceptions,
            **kwargs,
        )

    @override
    async def abatch(
        self,
        inputs: list[GuardInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[GuardInput]:
        """As :meth:`batch`, with the guard's async forms."""
        return await self._abatch_with_config(
            partial(self._abatch, return_exceptions=return_exceptions),
            list(inputs),
            config,
            return_exceptions=return_exceptions,
            **kwargs,
        )

    def _batch(self, values: list[GuardInput], *, return_exceptions: bool) -> list[GuardInput | Exception]:
        outputs, items = self._items(values, return_exceptions)
        if return_exceptions and self.guard.on_fail == "exception":
            for index, item in items:
                try:
                    outputs[index] = self._output(values[index], self._check(item))
                except GuardViolation as violation:
                    outputs[index] = GuardViolation(violation.result, index)
            return outputs
        results = self._check_batch([item for _, item in items])
        for (index, _), result in zip(items, results, strict=True):
            outputs[index] = self._output(values[index], result)
        return outputs

    async def _abatch(self, values: list[GuardInput], *, return_exceptions: bool) -> list[GuardInput | Exception]:
        outputs, items = self._items(values, return_exceptions)
        if return_exceptions and self.guard.on_fail == "exception":
            for index, item in items:
                try:
                    outputs[index] = self._output(values[index], await self._acheck(item))
                except GuardViolation as violation:
                    outputs[index] = GuardViolation(violation.result, index)
            return outputs
        results = await self._acheck_batch([item for _, item in items])
        for (index, _), result in zip(items, results, strict=True):
            outputs[index] = self._output(values[index], result)
        return outputs

    def _items(
        self, values: list[GuardInput], return_exceptions: bool
    ) -> tuple[list[GuardInput | Exception], list[tuple[int, _Item]]]:
        """Outputs to fill (bad inputs already hold their error) and the items to check, with their positions."""
        outputs: list[GuardInput | Exception] = list(values)
        items = []
        for index, value in enumerate(values):
            try:
                items.append((index, self._item(value)))
            except InvalidInputError as error:
                if not return_exceptions:
                    raise
                outputs[index] = error
        return outputs, items

    # --- streaming -----------------------------------------------------------------------------------------------
    @override
    def transform(
        self, input: Iterator[GuardInput], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[GuardInput]:
        """Check a stream as it comes: str or AI message chunks are checked piece by piece (the guard's
        ``check_stream``); a stream of dicts is gathered and checked whole."""
        yield from self._transform_stream_with_config(input, self._transform, config, **kwargs)

    @override
    async def atransform(
        self, input: AsyncIterator[GuardInput], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[GuardInput]:
        """As :meth:`transform`, with the guard's ``acheck_stream``."""
        async for chunk in self._atransform_stream_with_config(input, self._atransform, config, **kwargs):
            yield chunk

    def _transform(self, chunks: Iterator[GuardInput]) -> Iterator[GuardInput]:
        first = next(chunks, None)
        if first is None:
            return
        chunks = itertools.chain([first], chunks)
        if not self._streams(first):
            yield self._invoke(_gather(chunks))
            return
        texts = (self._chunk_text(chunk) for chunk in chunks)
        for piece in self.guard.check_stream(texts, chunk_size=self.chunk_size, context_size=self.context_size):
            yield _piece(first, piece.text)

    async def _atransform(self, chunks: AsyncIterator[GuardInput]) -> AsyncIterator[GuardInput]:
        first = await anext(chunks, None)
        if first is None:
            return
        rest = _prepend(first, chunks)
        if not self._streams(first):
            gathered = [chunk async for chunk in rest]
            yield await self._ainvoke(_gather(iter(gathered)))
            return
        texts = (self._chunk_text(chunk) async for chunk in rest)
        pieces = self.guard.acheck_stream(texts, chunk_size=self.chunk_size, context_size=self.context_size)
        async for piece in pieces:
            yield _piece(first, piece.text)

    def _streams(self, first: GuardInput) -> bool:
        """Whether a stream starting with ``first`` is checked piece by piece (text guards on text streams)."""
        streamable = isinstance(first, (str, AIMessage))
        return streamable and not isinstance(self.guard, HallucinationGuard)

    def _chunk_text(self, chunk: GuardInput) -> str:
        if isinstance(chunk, str):
            return chunk
        if isinstance(chunk, BaseMessage):
            return message_text(chunk)
        raise InvalidInputError(f"a streamed text must be str or message chunks, but got a {type(chunk).__name__}")

    # --- checks --------------------------------------------------------------------------------------------------
    def _item(self, value: GuardInput) -> _Item:
        if isinstance(value, str):
            item = _Item(value)
        elif isinstance(value, BaseMessage):
            item = _Item(message_text(value))
        elif isinstance(value, Mapping):
            item = self._dict_item(value)
        else:
            msg = f"{self.get_name()} takes a str, a message or a dict, but got {type(value).__name__}: {value!r:.60}"
            raise InvalidInputError(msg)
        if isinstance(self.guard, HallucinationGuard) and item.context is None:
            msg = (
                f"a HallucinationGuard needs the answer's context: pass a dict with the answer under "
                f"{self.text_key!r} and the context under {self.context_key!r}"
            )
            raise InvalidInputError(msg)
        return item

    def _dict_item(self, value: Mapping[str, Any]) -> _Item:
        if self.text_key not in value:
            msg = f"the input dict has no {self.text_key!r} key (text_key); its keys are {sorted(map(str, value))}"
            raise InvalidInputError(msg)
        text = _text(value[self.text_key], f"input[{self.text_key!r}]")
        prompt = None
        if self.prompt_key is not None and value.get(self.prompt_key) is not None:
            prompt = _text(value[self.prompt_key], f"input[{self.prompt_key!r}]")
        context = None
        if isinstance(self.guard, HallucinationGuard) and self.context_key in value:
            context = context_texts(value[self.context_key], f"input[{self.context_key!r}]")
        return _Item(text, prompt, context)

    def _check(self, item: _Item) -> GuardResult:
        if isinstance(self.guard, HallucinationGuard):
            return self.guard.check(item.text, item.context or [])
        return self.guard.check(item.text, prompt=item.prompt)

    async def _acheck(self, item: _Item) -> GuardResult:
        if isinstance(self.guard, HallucinationGuard):
            return await self.guard.acheck(item.text, item.context or [])
        return await self.guard.acheck(item.text, prompt=item.prompt)

    def _check_batch(self, items: list[_Item]) -> list[GuardResult]:
        if not items:
            return []
        if isinstance(self.guard, HallucinationGuard):
            return self.guard.check_batch([i.text for i in items], [i.context or [] for i in items])
        return self.guard.check_batch([i.text for i in items], prompts=[i.prompt for i in items])

    async def _acheck_batch(self, items: list[_Item]) -> list[GuardResult]:
        if not items:
            return []
        if isinstance(self.guard, HallucinationGuard):
            return await self.guard.acheck_batch([i.text for i in items], [i.context or [] for i in items])
        return await self.guard.acheck_batch([i.text for i in items], prompts=[i.prompt for i in items])

    def _output(self, value: GuardInput, result: GuardResult) -> GuardInput:
        """``value`` after the fail action, in its own shape (see the class docstring)."""
        if isinstance(value, str):
            return result.output if result.output is not None else ""
        if isinstance(value, BaseMessage):
            return apply_result(value, result, self.metadata_key)
        inner = value[self.text_key]
        out = dict(value)
        if isinstance(inner, BaseMessage):
            out[self.text_key] = apply_result(inner, result, self.metadata_key)
        else:
            out[self.text_key] = result.output if result.output is not None else ""
            if self.metadata_key is not None:
                out[self.metadata_key] = result.to_dict()
        return out


def _text(value: object, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return message_text(value)
    raise InvalidInputError(f"{name} must be a str or a message, but got {type(value).__name__}: {value!r:.60}")


def _gather(chunks: Iterator[GuardInput]) -> GuardInput:
    """The chunks added up (as Runnable.transform does), or the last one when they cannot be added."""
    final: Any = next(chunks)
    for chunk in chunks:
        try:
            final = final + chunk
        except TypeError:
            final = chunk
    return final


async def _prepend(first: GuardInput, rest: AsyncIterator[GuardInput]) -> AsyncIterator[GuardInput]:
    yield first
    async for chunk in rest:
        yield chunk


def _piece(first: GuardInput, text: str) -> GuardInput:
    """A streamed piece in the stream's own type: a str, or an AI message chunk of the first chunk's id."""
    if isinstance(first, str):
        return text
    return AIMessageChunk(content=text, id=first.id if isinstance(first, BaseMessage) else None)
