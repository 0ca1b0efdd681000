"""Fail actions: what a guard does with a failed check (guardrails-ai's ``on_fail`` vocabulary).

=============  =====================================================================================================
``exception``  raise :class:`GuardViolation` carrying the result
``filter``     pass nothing on (``output`` is None)
``fix``        redact the failing spans (sentences, or the whole text for whole-text checks) with ``redaction``
``refrain``    pass the configured ``refusal`` on instead
``noop``       report only: ``output`` is the text unchanged (``passed`` stays False)
callable       ``on_fail(result) -> str | None``: its return value is the output (None: nothing)
=============  =====================================================================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal, TypeAlias

from .errors import GuardConfigError, GuardViolation
from .results import GuardResult, Span

__all__ = ["FAIL_ACTIONS", "FailAction", "FailHandler", "OnFail", "apply_action", "redact"]

FailAction = Literal["exception", "filter", "fix", "refrain", "noop"]
FailHandler: TypeAlias = Callable[[GuardResult], str | None]
OnFail: TypeAlias = FailAction | FailHandler
FAIL_ACTIONS: tuple[FailAction, ...] = ("exception", "filter", "fix", "refrain", "noop")


def check_on_fail(on_fail: object) -> OnFail:
    if callable(on_fail) or on_fail in FAIL_ACTIONS:
        return on_fail
    raise GuardConfigError(f"on_fail must be one of {list(FAIL_ACTIONS)} or a callable, but got {on_fail!r}")


def _import(path: str) -> Any:
    """The object named ``"module:qualname"``."""
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError) as error:
        raise GuardConfigError(f"on_fail callable {path!r} cannot be imported: {error}") from error
    return target


def on_fail_to_json(on_fail: OnFail) -> str | dict[str, str]:
    """A fail action as JSON: its name, or ``{"callable": "module:qualname"}`` for a module-level function (one
    that importing that name gives back; a bound method, a lambda or a nested function is refused)."""
    if isinstance(on_fail, str):
        return on_fail
    module, qualname = getattr(on_fail, "__module__", None), getattr(on_fail, "__qualname__", "")
    refused = f"on_fail {on_fail!r} cannot be serialised: use a named action or a module-level function"
    if not module or not qualname or "<" in qualname:
        raise GuardConfigError(refused)
    path = f"{module}:{qualname}"
    try:
        found = _import(path)
    except GuardConfigError as error:
        raise GuardConfigError(refused) from error
    if found is not on_fail:  # a bound method names its class's function, which takes the instance first
        raise GuardConfigError(refused)
    return {"callable": path}


def on_fail_from_json(value: Any) -> OnFail:
    """The inverse of :func:`on_fail_to_json` (imports the named module for a callable)."""
    if isinstance(value, dict) and set(value) == {"callable"} and isinstance(value["callable"], str):
        return check_on_fail(_import(value["callable"]))
    return check_on_fail(value)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def redact(text: str, spans: list[Span], redaction: str = "") -> str:
    """``text`` with each span replaced by ``redaction``; with an empty redaction the whitespace after a removed
    span goes too, so removing a sentence leaves no double space."""
    out: list[str] = []
    position = 0
    for start, end in _merge(spans):
        if start < position:
            start = position
        out.append(text[position:start])
        out.append(redaction)
        if not redaction:
            while end < len(text) and text[end] in " \t":
                end += 1
        position = end
    out.append(text[position:])
    result = "".join(out)
    if not redaction and not text[-1:].isspace():  # a removed last sentence leaves no trailing space
        result = result.rstrip()
    return result


def apply_action(
    result: GuardResult, on_fail: OnFail, *, refusal: str, redaction: str, index: int | None = None
) -> GuardResult:
    """The result with ``action`` and ``output`` set; raises :class:`GuardViolation` under ``exception``."""
    if result.passed:
        return replace(result, action="none", output=result.text)
    if callable(on_fail):
        output = on_fail(result)
        if output is not None and not isinstance(output, str):
            msg = f"an on_fail callable must return a str or None, but {on_fail!r} returned {type(output).__name__}"
            raise GuardConfigError(msg)
        return replace(result, action="custom", output=output)
    if on_fail == "exception":
        raise GuardViolation(replace(result, action="exception", output=None), index)
    if on_fail == "filter":
        return replace(result, action="filter", output=None)
    if on_fail == "refrain":
        return replace(result, action="refrain", output=refusal)
    if on_fail == "fix":
        spans = [v.span if v.span is not None else (0, len(result.text)) for v in result.violations]
        return replace(result, action="fix", output=redact(result.text, spans, redaction))
    return replace(result, action="noop", output=result.text)
