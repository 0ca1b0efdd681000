"""The one exception tree of gliclass-rag.

Every error the library raises on purpose derives from :class:`GLiClassError`. The typed subclasses also derive
from the matching built-in (``ValueError``, ``OSError``, ``ImportError``) so that code written against the usual
Python exceptions keeps working::

    GLiClassError
    ├── InvalidInputError (ValueError)      bad texts, labels, thresholds or options given to a call
    ├── ConfigError (ValueError)            a configuration names an unknown or inconsistent option
    ├── CheckpointError (OSError)           a checkpoint is missing, incomplete or unreadable
    │   └── UnsafeCheckpointError           pickle weights or remote code: refused, never executed
    ├── MissingDependencyError (ImportError) an optional dependency is not installed (names the pip extra)
    └── ContextOverflowError                inputs cannot be fitted into the model's context with the given options
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConfigError",
    "ContextOverflowError",
    "GLiClassError",
    "InvalidInputError",
    "MissingDependencyError",
    "UnsafeCheckpointError",
]


class GLiClassError(Exception):
    """Base class of every error raised on purpose by gliclass-rag."""


class InvalidInputError(GLiClassError, ValueError):
    """A call received a value outside what it accepts; the message names the value and what is allowed."""


class ConfigError(GLiClassError, ValueError):
    """A configuration field holds an unknown or inconsistent value."""


class CheckpointError(GLiClassError, OSError):
    """A checkpoint cannot be found or read."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint would need pickle deserialisation or remote code to load; gliclass-rag refuses both."""


class MissingDependencyError(GLiClassError, ImportError):
    """An optional dependency is missing; the message names the pip extra that installs it."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        msg = f'{purpose} needs the package {package!r}: pip install "gliclass-rag[{extra}]"'
        super().__init__(msg)


class ContextOverflowError(GLiClassError):
    """The labels, prompt and examples leave no room for the text within the model's maximum length."""
