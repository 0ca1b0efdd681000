"""GLiClass guards for Haystack: safety, hallucination and rule checks that route their input to `passed` or
`failed` (built on gliclass-guards)."""

from .guard import DEFAULT_ON_FAIL, GLiClassChatGuard, GLiClassTextGuard, GuardKind

__all__ = ["DEFAULT_ON_FAIL", "GLiClassChatGuard", "GLiClassTextGuard", "GuardKind"]
