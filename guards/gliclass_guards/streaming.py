"""Checking a streamed output as it arrives (NeMo's streaming output rails: ``chunk_size`` and ``context_size``).

Incoming chunks are buffered until at least ``chunk_size`` characters wait; the buffer is then cut after its last
complete sentence (or, with none, taken whole) and that piece is checked together with the last ``context_size``
characters already emitted before it, so that a claim or a phrase split across pieces is seen whole. Only what
overlaps the new piece counts: checks and violations lying wholly in the context were reported before. Each checked
piece comes out as a :class:`StreamChunk` whose ``text`` is what to emit after the fail action: the piece itself,
its redaction (``fix``), the refusal (``refrain``, which ends the stream), nothing (``filter``, which ends the
stream), or whatever a callable returned (None ends the stream). Under ``exception`` the :class:`GuardViolation`
propagates from the iterator; the chunks emitted before it had passed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from gliclass_rag import InvalidInputError

from .results import GuardResult, Span, StreamChunk, Violation
from .text import boundaries, last_boundary

__all__ = ["StreamBuffer", "astream_checks", "rebase", "stream_checks"]

Evaluate = Callable[[str], GuardResult]
Act = Callable[[GuardResult], GuardResult]


@dataclass
class _Piece:
    window: str  # context + new
    context_length: int
    offset: int  # where the new part starts in the stream


class StreamBuffer:
    """Accumulates chunks and hands out the pieces to check (see the module docstring)."""

    def __init__(self, chunk_size: int, context_size: int) -> None:
        self.chunk_size = chunk_size
        self.context_size = context_size
        self.pending = ""
        self.context = ""
        self.offset = 0
        self._recent = ""

    def _take(self, length: int) -> _Piece:
        new, self.pending = self.pending[:length], self.pending[length:]
        piece = _Piece(self.context + new, len(self.context), self.offset)
        self.offset += len(new)
        return piece

    def add(self, chunk: str) -> None:
        if not isinstance(chunk, str):
            raise InvalidInputError(f"a stream must yield str chunks, but one was {type(chunk).__name__}")
        self.pending += chunk

    def ready(self) -> _Piece | None:
        """The next piece to check once ``chunk_size`` characters wait (its context is what was emitted so far)."""
        if len(self.pending) < self.chunk_size:
            return None
        return self._take(last_boundary(self.pending) or len(self.pending))

    def rest(self) -> _Piece | None:
        """What is left at the end of the stream."""
        return self._take(len(self.pending)) if self.pending else None

    def emitted(self, text: str) -> None:
        """Remember what was emitted; its last ``context_size`` characters are the next piece's context, starting
        at the first sentence that starts inside them, or else at a word (never inside one)."""
        if not self.context_size:
            return
        self._recent = (self._recent + text)[-(self.context_size + 1) :]
        tail = self._recent[-self.context_size :]
        starts = [end for end in boundaries(tail) if end < len(tail)]
        start = starts[0] if starts else 0
        if not starts and len(self._recent) > len(tail) and not self._recent[-len(tail) - 1].isspace():
            space = re.search(r"\s+", tail)  # the tail starts inside a word: skip it
            start = space.end() if space else len(tail)
        self.context = tail[start:]


def _rebase_span(span: Span | None, shift: int, new: str) -> Span | None:
    """``span`` relative to the new part; a span clipped at the context's end starts after any whitespace there."""
    if span is None:
        return None
    start, end = max(span[0], shift) - shift, span[1] - shift
    while start < end and new[start].isspace():
        start += 1
    return (start, end)


def rebase(raw: GuardResult, context_length: int) -> GuardResult:
    """A window's result restricted to its new part: checks and violations wholly inside the context dropped,
    spans made relative to the new part, ``passed`` and ``score`` recomputed from what is left."""
    new = raw.text[context_length:]

    def overlaps(span: Span | None) -> bool:
        return span is None or span[1] > context_length

    checks = tuple(replace(c, span=_rebase_span(c.span, context_length, new)) for c in raw.checks if overlaps(c.span))
    violations: list[Violation] = []
    for violation in raw.violations:
        if overlaps(violation.span):
            span = _rebase_span(violation.span, context_length, new)
            text = new[span[0] : span[1]] if span is not None else ""
            violations.append(replace(violation, span=span, text=text))
    risks = [c.risk for c in checks] + [v.score for v in violations]
    return replace(
        raw, text=new, checks=checks, violations=tuple(violations), passed=not violations, score=max(risks, default=0.0)
    )


def _emit(piece: _Piece, raw: GuardResult, act: Act, buffer: StreamBuffer) -> StreamChunk:
    result = act(rebase(raw, piece.context_length))
    stopped = result.output is None or result.action == "refrain"
    text = result.output or ""
    buffer.emitted(text)
    return StreamChunk(text=text, result=result, offset=piece.offset, stopped=stopped)


def stream_checks(
    chunks: Iterable[str], evaluate: Evaluate, act: Act, *, chunk_size: int, context_size: int
) -> Iterator[StreamChunk]:
    """The synchronous driver: ``evaluate(window)`` gives the raw result, ``act`` applies the fail action."""
    buffer = StreamBuffer(chunk_size, context_size)
    for chunk in chunks:
        buffer.add(chunk)
        while (piece := buffer.ready()) is not None:
            out = _emit(piece, evaluate(piece.window), act, buffer)
            yield out
            if out.stopped:
                return
    if (piece := buffer.rest()) is not None:
        yield _emit(piece, evaluate(piece.window), act, buffer)


async def _aiterate(chunks: AsyncIterable[str] | Iterable[str]) -> AsyncIterator[str]:
    if isinstance(chunks, AsyncIterable):
        async for chunk in chunks:
            yield chunk
    else:
        for chunk in chunks:
            yield chunk


async def astream_checks(
    chunks: AsyncIterable[str] | Iterable[str], evaluate: Evaluate, act: Act, *, chunk_size: int, context_size: int
) -> AsyncIterator[StreamChunk]:
    """The asynchronous driver: model calls run in a worker thread, so the event loop stays free."""
    buffer = StreamBuffer(chunk_size, context_size)
    async for chunk in _aiterate(chunks):
        buffer.add(chunk)
        while (piece := buffer.ready()) is not None:
            out = _emit(piece, await asyncio.to_thread(evaluate, piece.window), act, buffer)
            yield out
            if out.stopped:
                return
    if (piece := buffer.rest()) is not None:
        yield _emit(piece, await asyncio.to_thread(evaluate, piece.window), act, buffer)
