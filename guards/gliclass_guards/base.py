"""Machinery shared by every guard: lazy model resolution, engine-error handling, fail actions, settings as JSON.

A guard's constructor is cheap: the model is resolved (and loaded, once per process per name) on the first check
or on :meth:`ModelUser.warm_up`. ``model`` is a checkpoint name or path, a loaded
:class:`~gliclass_rag.ZeroShotClassifier`, any object with a compatible ``scores`` method (see :class:`Scorer`), or
None for the embedded default model (offline).
"""

from __future__ import annotations

import asyncio
import inspect
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

from gliclass_rag import InvalidInputError, ZeroShotClassifier, resolve_classifier

from ._validation import (
    check_choice,
    check_int,
    check_optional_str,
    check_optional_texts,
    check_text,
    check_texts,
    reject_unknown,
    shown,
)
from .actions import OnFail, apply_action, check_on_fail, on_fail_from_json, on_fail_to_json
from .errors import GuardConfigError
from .results import GuardResult, StreamChunk, Violation
from .streaming import astream_checks, stream_checks

__all__ = ["DescriptionMode", "Guard", "ModelArg", "ModelUser", "OnError", "Scorer", "TextGuard"]

OnError = Literal["closed", "open", "raise"]
DescriptionMode = Literal["auto", "text", "label", "off"]
DEFAULT_REFUSAL = "I'm sorry, but I can't help with that."


@runtime_checkable
class Scorer(Protocol):
    """What a guard needs of a model: :meth:`ZeroShotClassifier.scores` on a list of texts (sigmoid scores when
    ``multi_label``). Other scorers (the evaluation harness's ``EmbeddingBaseline``) may ignore ``prompt`` and
    ``label_descriptions``."""

    def scores(
        self,
        texts: list[str],
        labels: list[str],
        *,
        multi_label: bool = ...,
        prompt: str | Sequence[str] | None = ...,
        label_descriptions: Mapping[str, str] | None = ...,
        batch_size: int = ...,
    ) -> list[dict[str, float]]: ...


ModelArg: TypeAlias = str | os.PathLike[str] | ZeroShotClassifier | Scorer | None
_G = TypeVar("_G", bound="ModelUser")


class _EngineFailure(Exception):
    """Internal: the model could not be resolved or could not score (the original error is ``error``)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class ModelUser:
    """Lazy model resolution and JSON settings (the part every guard and the router share)."""

    kind: ClassVar[str] = "guard"

    def __init__(
        self, model: ModelArg = None, *, device: str | None = None, dtype: str | None = None, batch_size: int = 8
    ) -> None:
        loaded = model is not None and not isinstance(model, (str, os.PathLike))
        if loaded and not isinstance(model, ZeroShotClassifier) and not callable(getattr(model, "scores", None)):
            msg = (
                "model must be a name, a path, a ZeroShotClassifier, an object with a scores() method or None, "
                f"but got {type(model).__name__}: {shown(model)}"
            )
            raise GuardConfigError(msg)
        self.model = model
        self.device = check_optional_str("device", device)
        self.dtype = check_optional_str("dtype", dtype)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self._scorer: Scorer | None = cast(Scorer, model) if loaded else None

    # --- the model -----------------------------------------------------------------------------------------------
    @property
    def scorer(self) -> Scorer:
        """The resolved model (loading it on first use; shared per process by name, device and dtype)."""
        if self._scorer is None:
            model = self.model if isinstance(self.model, (str, os.PathLike)) or self.model is None else None
            self._scorer = resolve_classifier(model, device=self.device, dtype=self.dtype)
        return self._scorer

    def warm_up(self) -> None:
        """Load the model now rather than on the first check (errors surface here, whatever ``on_error`` says)."""
        _ = self.scorer

    def _resolved(self) -> Scorer:
        try:
            return self.scorer
        except Exception as error:
            raise _EngineFailure(error) from error

    def _model_scores(
        self,
        texts: list[str],
        labels: list[str] | list[list[str]],
        *,
        prompt: str | list[str] | None = None,
        label_descriptions: Mapping[str, str] | None = None,
    ) -> list[dict[str, float]]:
        """One ``scores`` call (sigmoid); any error of the engine comes out as :class:`_EngineFailure`."""
        scorer = self._resolved()
        try:
            kwargs: dict[str, Any] = {"multi_label": True, "batch_size": self.batch_size}
            if prompt is not None:
                kwargs["prompt"] = prompt
            if label_descriptions:
                kwargs["label_descriptions"] = label_descriptions
            rows = scorer.scores(texts, labels, **kwargs)  # type: ignore[arg-type]
            if not isinstance(rows, list) or len(rows) != len(texts):
                raise TypeError(f"the model returned {shown(rows)} for {len(texts)} texts; expected one dict a text")
            return rows
        except Exception as error:
            raise _EngineFailure(error) from error

    def _description_mode(self, mode: DescriptionMode) -> Literal["text", "label", "off"]:
        if mode != "auto":
            return mode
        scorer = self._resolved()
        if isinstance(scorer, ZeroShotClassifier) and scorer.model.config.architecture_type == "uni-encoder":
            return "text"
        return "label"

    def _labels(
        self, names: Sequence[str], descriptions: Mapping[str, str], mode: DescriptionMode
    ) -> tuple[list[str], dict[str, str] | None, dict[str, str]]:
        """(labels to score, label_descriptions to pass, label -> name) for names with optional descriptions.

        ``text``: the engine's ``label_descriptions`` (``"name: description"`` sentences beside the text, the
        layout GLiClass uni-encoders are trained with); ``label``: ``"name: description"`` as the label itself
        (bi-encoders, whose text vector a dozen description sentences would swamp); ``off``: names only.
        """
        used = self._description_mode(mode) if descriptions else "off"
        if used == "label":
            labels = [f"{name}: {descriptions[name]}" if name in descriptions else name for name in names]
            return labels, None, dict(zip(labels, names, strict=True))
        passed = {name: descriptions[name] for name in names if name in descriptions} if used == "text" else None
        return list(names), passed or None, {name: name for name in names}

    # --- settings ------------------------------------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        """The constructor arguments of this guard's own kind, as JSON values (subclasses extend)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The constructor arguments as JSON values: ``type(guard).from_dict(guard.to_dict())`` rebuilds it.

        Raises:
            GuardConfigError: ``model`` is a loaded object (give a name or path to serialise) or ``on_fail`` is a
                callable that cannot be imported by name.
        """
        if self.model is not None and not isinstance(self.model, (str, os.PathLike)):
            msg = (
                f"{type(self).__name__}.to_dict needs model as a name or path, not a loaded {type(self.model).__name__}"
            )
            raise GuardConfigError(msg)
        model = None if self.model is None else os.fspath(self.model)
        common = {"model": model, "device": self.device, "dtype": self.dtype, "batch_size": self.batch_size}
        return {**common, **self._settings()}

    @classmethod
    def from_dict(cls: type[_G], data: Mapping[str, Any]) -> _G:
        """A guard from :meth:`to_dict`'s output (unknown keys are refused)."""
        if not isinstance(data, Mapping):
            raise GuardConfigError(f"{cls.__name__}.from_dict needs a dict, but got {type(data).__name__}")
        parameters = inspect.signature(cls.__init__).parameters
        reject_unknown(cls.__name__, data, [name for name in parameters if name != "self"])
        arguments = dict(data)
        if "on_fail" in arguments:
            arguments["on_fail"] = on_fail_from_json(arguments["on_fail"])
        return cls(**arguments)

    def __repr__(self) -> str:
        model = self.model if self.model is None or isinstance(self.model, str) else type(self.model).__name__
        return f"{type(self).__name__}(model={model!r})"


class Guard(ModelUser):
    """A checker with fail actions and engine-error handling.

    Args (shared by every guard):
        model: see the module docstring.
        on_fail: ``"exception"``, ``"filter"``, ``"fix"``, ``"refrain"``, ``"noop"`` (default: report only) or a
            callable ``(GuardResult) -> str | None`` (see :mod:`gliclass_guards.actions`).
        on_error: when the engine fails (missing checkpoint, context overflow, out of memory): ``"closed"``
            (default: the check fails with risk 1.0 and the error in ``result.error``, then ``on_fail`` runs),
            ``"open"`` (the check passes, the error is reported), ``"raise"`` (the engine's exception propagates).
        refusal: the output of ``refrain``.
        redaction: what replaces a failing span under ``fix`` (default "": the span is removed).
        device, dtype: where and how a named model is loaded (see :func:`gliclass_rag.resolve_classifier`).
        batch_size: texts per forward pass.
    """

    def __init__(
        self,
        model: ModelArg = None,
        *,
        on_fail: OnFail = "noop",
        on_error: OnError = "closed",
        refusal: str = DEFAULT_REFUSAL,
        redaction: str = "",
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 8,
    ) -> None:
        super().__init__(model, device=device, dtype=dtype, batch_size=batch_size)
        self.on_fail: OnFail = check_on_fail(on_fail)
        self.on_error: OnError = check_choice("on_error", on_error, ("closed", "open", "raise"))  # type: ignore[assignment]
        if not isinstance(refusal, str):
            raise GuardConfigError(f"refusal must be a str, but got {type(refusal).__name__}: {shown(refusal)}")
        if not isinstance(redaction, str):
            raise GuardConfigError(f"redaction must be a str, but got {type(redaction).__name__}: {shown(redaction)}")
        self.refusal = refusal
        self.redaction = redaction

    def to_dict(self) -> dict[str, Any]:
        guard = {
            "on_fail": on_fail_to_json(self.on_fail),
            "on_error": self.on_error,
            "refusal": self.refusal,
            "redaction": self.redaction,
        }
        return {**super().to_dict(), **guard}

    # --- results -------------------------------------------------------------------------------------------------
    def _error_result(self, text: str, error: BaseException) -> GuardResult:
        message = describe_error(error)
        if self.on_error == "open":
            return GuardResult(self.kind, text, passed=True, score=0.0, error=message)
        violation = Violation("guard_error", 1.0, None, f"the engine failed, so the check fails closed: {message}")
        return GuardResult(self.kind, text, passed=False, score=1.0, violations=(violation,), error=message)

    def _guarded(self, texts: Sequence[str], compute: Callable[[], list[GuardResult]]) -> list[GuardResult]:
        """Raw results (no action yet) of ``compute``, or error results for every text when the engine failed."""
        try:
            return compute()
        except _EngineFailure as failure:
            if self.on_error == "raise":
                raise failure.error from None
            return [self._error_result(text, failure.error) for text in texts]

    def _act(self, result: GuardResult, index: int | None = None) -> GuardResult:
        return apply_action(result, self.on_fail, refusal=self.refusal, redaction=self.redaction, index=index)

    def _act_all(self, results: list[GuardResult], batch: bool) -> list[GuardResult]:
        return [self._act(result, index if batch else None) for index, result in enumerate(results)]


DEFAULT_CHUNK_SIZE = 800
DEFAULT_CONTEXT_SIZE = 200


def check_stream_sizes(chunk_size: int, context_size: int) -> None:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidInputError(f"chunk_size must be a positive int (characters), but got {shown(chunk_size)}")
    if isinstance(context_size, bool) or not isinstance(context_size, int) or context_size < 0:
        raise InvalidInputError(f"context_size must be an int >= 0 (characters), but got {shown(context_size)}")


class TextGuard(Guard, ABC):
    """A guard over single texts (with an optional user prompt they answer): check, batch, async and streaming
    forms on top of one method, ``_evaluate(texts, prompts) -> raw results`` (one model call for all texts)."""

    @abstractmethod
    def _evaluate(self, texts: list[str], prompts: list[str | None]) -> list[GuardResult]:
        """One model call for all ``texts``: a raw result per text, before the fail action."""

    def check(self, text: str, *, prompt: str | None = None) -> GuardResult:
        """Check one text; ``prompt`` is the user message it answers, when checking a response."""
        return self._act(self._evaluate([check_text("text", text)], [check_prompt(prompt)])[0])

    def check_batch(
        self, texts: Sequence[str], *, prompts: str | Sequence[str | None] | None = None
    ) -> list[GuardResult]:
        """Check many texts in one model call; ``prompts``: one for all, or one (or None) per text.

        Under ``on_fail="exception"`` the first failing text raises (``GuardViolation.index`` says which).
        """
        items = check_texts("texts", texts)
        asked = check_optional_texts("prompts", prompts, len(items))
        return self._act_all(self._evaluate(items, asked), batch=True)

    async def acheck(self, text: str, *, prompt: str | None = None) -> GuardResult:
        """:meth:`check` in a worker thread."""
        return await asyncio.to_thread(self.check, text, prompt=prompt)

    async def acheck_batch(
        self, texts: Sequence[str], *, prompts: str | Sequence[str | None] | None = None
    ) -> list[GuardResult]:
        """:meth:`check_batch` in a worker thread."""
        return await asyncio.to_thread(self.check_batch, texts, prompts=prompts)

    def check_stream(
        self,
        chunks: Iterable[str],
        *,
        prompt: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        context_size: int = DEFAULT_CONTEXT_SIZE,
    ) -> Iterator[StreamChunk]:
        """Check a streamed output piece by piece (see :mod:`gliclass_guards.streaming`)."""
        check_stream_sizes(chunk_size, context_size)
        asked = check_prompt(prompt)
        return stream_checks(
            chunks,
            lambda window: self._evaluate([window], [asked])[0],
            self._act,
            chunk_size=chunk_size,
            context_size=context_size,
        )

    def acheck_stream(
        self,
        chunks: AsyncIterable[str] | Iterable[str],
        *,
        prompt: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        context_size: int = DEFAULT_CONTEXT_SIZE,
    ) -> AsyncIterator[StreamChunk]:
        """:meth:`check_stream` over an async (or plain) iterable; model calls run in a worker thread."""
        check_stream_sizes(chunk_size, context_size)
        asked = check_prompt(prompt)
        return astream_checks(
            chunks,
            lambda window: self._evaluate([window], [asked])[0],
            self._act,
            chunk_size=chunk_size,
            context_size=context_size,
        )


def check_prompt(prompt: object) -> str | None:
    if prompt is not None and not isinstance(prompt, str):
        raise InvalidInputError(f"prompt must be a str or None, but got {type(prompt).__name__}: {shown(prompt)}")
    return prompt
