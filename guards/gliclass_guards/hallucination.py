"""HallucinationGuard: is every sentence of an answer supported by the retrieved context?

Recipe (GLiClass's NLI use: the premise as the text, the claim as the label): the context is cut into windows of
whole sentences; every window is scored, in one pass, against all the answer's sentences as labels (sigmoid);
a sentence's support is its best score over the windows. A sentence is unsupported when its support is below the
threshold; the risk is ``1 - support`` of the least supported sentence. One model call covers a whole batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

from gliclass_rag import InvalidInputError

from ._validation import check_choice, check_int, check_probability, check_text, check_texts, shown
from .actions import OnFail
from .base import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONTEXT_SIZE,
    DEFAULT_REFUSAL,
    Guard,
    ModelArg,
    OnError,
    check_stream_sizes,
)
from .errors import GuardConfigError
from .results import Check, GuardResult, StreamChunk, Violation
from .streaming import astream_checks, stream_checks
from .text import TextPiece, split_sentences, split_windows

__all__ = ["HallucinationGuard", "WindowUnit"]

WindowUnit = Literal["chars", "tokens"]
Context = str | Sequence[str]


def _passages(context: object, name: str) -> list[str]:
    if isinstance(context, str):
        return [context]
    return check_texts(name, context)


class HallucinationGuard(Guard):
    """Flags the sentences of an answer that the context does not support.

    Args:
        threshold: the support a sentence needs (NeMo's fact-check rail uses 0.5). Calibrated for the embedded
            default model; another model needs its own.
        window_size, window_overlap: context windows, in ``window_unit`` (characters, or the model tokenizer's
            tokens); windows hold whole sentences where they fit.
        min_words: sentences with fewer words ("Sure!", "Yes.") are not checked.
        on_fail, on_error, refusal, redaction, device, dtype, batch_size: see :class:`gliclass_guards.base.Guard`;
            under ``fix`` the unsupported sentences are removed (or replaced by ``redaction``).
    """

    kind = "hallucination"

    def __init__(
        self,
        model: ModelArg = None,
        *,
        threshold: float = 0.5,
        window_size: int = 800,
        window_overlap: int = 200,
        window_unit: WindowUnit = "chars",
        min_words: int = 3,
        on_fail: OnFail = "noop",
        on_error: OnError = "closed",
        refusal: str = DEFAULT_REFUSAL,
        redaction: str = "",
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 8,
    ) -> None:
        super().__init__(
            model, on_fail=on_fail, on_error=on_error, refusal=refusal, redaction=redaction, device=device,
            dtype=dtype, batch_size=batch_size,
        )  # fmt: skip
        self.threshold = check_probability("threshold", threshold)
        self.window_size = check_int("window_size", window_size, 1)
        self.window_overlap = check_int("window_overlap", window_overlap, 0)
        if self.window_overlap >= self.window_size:
            msg = f"window_overlap must be smaller than window_size ({window_size}), but got {window_overlap}"
            raise GuardConfigError(msg)
        self.window_unit: WindowUnit = check_choice("window_unit", window_unit, ("chars", "tokens"))  # type: ignore[assignment]
        self.min_words = check_int("min_words", min_words, 1)

    def _settings(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "window_size": self.window_size,
            "window_overlap": self.window_overlap,
            "window_unit": self.window_unit,
            "min_words": self.min_words,
        }

    # --- public forms --------------------------------------------------------------------------------------------
    def check(self, answer: str, context: Context) -> GuardResult:
        """Check one answer against its context (a str, or a list of retrieved passages)."""
        return self._act(self._evaluate([check_text("answer", answer)], [_passages(context, "context")])[0])

    def check_batch(self, answers: Sequence[str], contexts: Sequence[Context]) -> list[GuardResult]:
        """Check many answers, each against its own context, in one model call."""
        items = check_texts("answers", answers)
        if isinstance(contexts, str) or not isinstance(contexts, Sequence) or len(contexts) != len(items):
            msg = f"contexts must be a list with one context (str or list of str) per answer, but got {shown(contexts)}"
            raise InvalidInputError(msg)
        passages = [_passages(context, f"contexts[{i}]") for i, context in enumerate(contexts)]
        return self._act_all(self._evaluate(items, passages), batch=True)

    async def acheck(self, answer: str, context: Context) -> GuardResult:
        """:meth:`check` in a worker thread."""
        return await asyncio.to_thread(self.check, answer, context)

    async def acheck_batch(self, answers: Sequence[str], contexts: Sequence[Context]) -> list[GuardResult]:
        """:meth:`check_batch` in a worker thread."""
        return await asyncio.to_thread(self.check_batch, answers, contexts)

    def check_stream(
        self,
        chunks: Iterable[str],
        context: Context,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        context_size: int = DEFAULT_CONTEXT_SIZE,
    ) -> Iterator[StreamChunk]:
        """Check a streamed answer piece by piece (see :mod:`gliclass_guards.streaming`)."""
        check_stream_sizes(chunk_size, context_size)
        evaluate = self._window_evaluator(_passages(context, "context"))
        return stream_checks(chunks, evaluate, self._act, chunk_size=chunk_size, context_size=context_size)

    def acheck_stream(
        self,
        chunks: AsyncIterable[str] | Iterable[str],
        context: Context,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        context_size: int = DEFAULT_CONTEXT_SIZE,
    ) -> AsyncIterator[StreamChunk]:
        """:meth:`check_stream` over an async (or plain) iterable; model calls run in a worker thread."""
        check_stream_sizes(chunk_size, context_size)
        evaluate = self._window_evaluator(_passages(context, "context"))
        return astream_checks(chunks, evaluate, self._act, chunk_size=chunk_size, context_size=context_size)

    def _window_evaluator(self, passages: list[str]) -> Callable[[str], GuardResult]:
        return lambda window: self._evaluate([window], [passages])[0]

    # --- scoring -------------------------------------------------------------------------------------------------
    def _length(self) -> Callable[[str], int]:
        if self.window_unit == "chars":
            return len
        tokenizer = getattr(self._resolved(), "tokenizer", None)
        if tokenizer is None:
            raise GuardConfigError("window_unit='tokens' needs a model with a tokenizer; use window_unit='chars'")
        return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def _claims(self, answer: str) -> list[TextPiece]:
        return [s for s in split_sentences(answer) if len(s.text.split()) >= self.min_words]

    def _evaluate(self, answers: list[str], contexts: list[list[str]]) -> list[GuardResult]:
        def compute() -> list[GuardResult]:
            claims = [self._claims(answer) for answer in answers]
            length = self._length() if any(claims) else len
            windows: list[list[str]] = []
            for passages, found in zip(contexts, claims, strict=True):
                cut = [
                    w.text
                    for p in passages
                    for w in split_windows(p, self.window_size, self.window_overlap, length=length)
                ]
                windows.append(list(dict.fromkeys(cut)) if found else [])
            texts = [w for item in windows for w in item]
            labels = [
                list(dict.fromkeys(c.text for c in found))
                for found, item in zip(claims, windows, strict=True)
                for _ in item
            ]
            rows = self._model_scores(texts, labels) if texts else []
            results = []
            position = 0
            for answer, found, item in zip(answers, claims, windows, strict=True):
                support = {claim.text: 0.0 for claim in found}
                for row in rows[position : position + len(item)]:
                    for sentence, score in row.items():
                        support[sentence] = max(support[sentence], float(score))
                position += len(item)
                results.append(self._result(answer, found, support, len(item)))
            return results

        return self._guarded(answers, compute)

    def _result(self, answer: str, claims: list[TextPiece], support: dict[str, float], n_windows: int) -> GuardResult:
        checks = []
        violations = []
        for claim in claims:
            score = support[claim.text]
            span = (claim.start, claim.end)
            checks.append(Check(claim.text, score, 1.0 - score, self.threshold, score >= self.threshold, span))
            if score < self.threshold:
                reason = (
                    f"support {score:.3f} is below the threshold {self.threshold:.2f} (best of {n_windows} "
                    "context windows)"
                    if n_windows
                    else "there is no context to support it"
                )
                violations.append(Violation("unsupported", 1.0 - score, span, reason, claim.text))
        return GuardResult(
            self.kind,
            answer,
            passed=not violations,
            score=max((c.risk for c in checks), default=0.0),
            violations=tuple(violations),
            checks=tuple(checks),
        )
