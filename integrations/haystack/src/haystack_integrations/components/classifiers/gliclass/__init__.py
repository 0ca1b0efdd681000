"""GLiClass zero-shot document classification for Haystack."""

from .classifier import GLiClassDocumentClassifier

__all__ = ["GLiClassDocumentClassifier"]
