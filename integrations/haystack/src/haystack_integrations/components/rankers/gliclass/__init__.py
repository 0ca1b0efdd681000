"""GLiClass zero-shot reranking for Haystack."""

from .ranker import GLiClassRanker

__all__ = ["GLiClassRanker"]
