"""The guards' exceptions, as branches of gliclass-rag's one exception tree::

    gliclass_rag.GLiClassError
    ├── InvalidInputError (ValueError)     a call received a bad argument (a text that is not a str, ...)
    ├── ConfigError (ValueError)
    │   └── GuardConfigError               a guard was configured with a bad setting (threshold, on_fail, ...)
    └── GuardViolation                     a check failed and the guard's ``on_fail`` is ``"exception"``

Errors of the engine itself (a missing checkpoint, a context overflow) never escape a check unless the guard's
``on_error`` is ``"raise"``: by default the guard fails closed and reports the error in its result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gliclass_rag import ConfigError, GLiClassError, InvalidInputError

if TYPE_CHECKING:
    from .results import GuardResult

__all__ = ["GLiClassError", "GuardConfigError", "GuardViolation", "InvalidInputError"]


class GuardConfigError(ConfigError):
    """A guard setting is outside what it accepts; the message names the value and what is allowed."""


class GuardViolation(GLiClassError):
    """A check failed under ``on_fail="exception"``; ``result`` holds the full :class:`GuardResult`.

    ``index`` is the position of the failing item in a batch (None for a single check or a stream).
    """

    def __init__(self, result: GuardResult, index: int | None = None) -> None:
        self.result = result
        self.index = index
        labels = ", ".join(dict.fromkeys(v.label for v in result.violations)) or "no label"
        where = f" (item {index})" if index is not None else ""
        super().__init__(f"{result.guard} guard failed{where}: {labels}; risk {result.score:.3f}")

    def __reduce__(self) -> tuple[type[GuardViolation], tuple[GuardResult, int | None]]:
        return (type(self), (self.result, self.index))
