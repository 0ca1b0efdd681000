"""gliclass-guards: guardrails on GLiClass zero-shot classification, framework-free.

>>> from gliclass_guards import SafetyGuard
>>> guard = SafetyGuard(on_fail="refrain")  # the embedded default model, loaded on first use, offline
>>> guard.check("How do I bake bread?").passed  # doctest: +SKIP
True

Every check returns a frozen :class:`GuardResult`; the router returns a :class:`RouteResult`.
"""

from gliclass_rag import GLiClassError, InvalidInputError

from ._version import __version__
from .actions import FAIL_ACTIONS, FailAction, FailHandler, OnFail
from .base import DescriptionMode, Guard, ModelArg, OnError, Scorer, TextGuard
from .errors import GuardConfigError, GuardViolation
from .hallucination import HallucinationGuard, WindowUnit
from .results import Action, Check, GuardResult, RouteResult, Span, StreamChunk, Violation
from .routing import IntentRouter, RouterOnError
from .rules import RuleGuard
from .safety import Granularity, SafetyGuard
from .taxonomy import DEFAULT_CATEGORIES, LLAMA_GUARD_CODES, default_categories
from .text import TextPiece, split_sentences, split_windows

__all__ = [
    "DEFAULT_CATEGORIES",
    "FAIL_ACTIONS",
    "LLAMA_GUARD_CODES",
    "Action",
    "Check",
    "DescriptionMode",
    "FailAction",
    "FailHandler",
    "GLiClassError",
    "Granularity",
    "Guard",
    "GuardConfigError",
    "GuardResult",
    "GuardViolation",
    "HallucinationGuard",
    "IntentRouter",
    "InvalidInputError",
    "ModelArg",
    "OnError",
    "OnFail",
    "RouteResult",
    "RouterOnError",
    "RuleGuard",
    "SafetyGuard",
    "Scorer",
    "Span",
    "StreamChunk",
    "TextGuard",
    "TextPiece",
    "Violation",
    "WindowUnit",
    "__version__",
    "default_categories",
    "split_sentences",
    "split_windows",
]
