"""GLiClass zero-shot routing for Haystack: texts or Documents to one output per label, plus `unmatched`."""

from .router import GLiClassDocumentRouter, GLiClassTextRouter

__all__ = ["GLiClassDocumentRouter", "GLiClassTextRouter"]
