"""LangChain integration of gliclass-rag: GLiClass zero-shot reranking, document classification and guards.

- :class:`GLiClassRerank`: a document compressor that reranks by relevance to the query and writes
  ``metadata["relevance_score"]`` (for ``ContextualCompressionRetriever`` / ``DocumentCompressorPipeline``).
- :class:`GLiClassDocumentClassifier`: labels documents zero-shot (multi-label, thresholds), annotates them and
  keeps or drops them by label; a document compressor and a document transformer.
- :class:`GLiClassGuardRunnable`: a gliclass-guards guard (safety, rules, hallucination) as an LCEL step that
  applies the guard's fail action.
- :class:`GLiClassGuardMiddleware`: the same guards in a LangChain agent (``create_agent``), before and after the
  model; needs the ``agents`` extra (``pip install "langchain-gliclass[agents]"``) and is imported on first use.

Every component takes ``model`` as a checkpoint name or path, a loaded ``gliclass_rag.ZeroShotClassifier`` or
None (the embedded default model), loads it lazily and shares it with every other component that names it.
"""

from importlib import metadata
from typing import TYPE_CHECKING, Any

from .classifier import GLiClassDocumentClassifier
from .guards import GLiClassGuardRunnable
from .rerank import GLiClassRerank

if TYPE_CHECKING:
    from .middleware import GLiClassGuardMiddleware

try:
    __version__ = metadata.version("langchain-gliclass")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "GLiClassDocumentClassifier",
    "GLiClassGuardMiddleware",
    "GLiClassGuardRunnable",
    "GLiClassRerank",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # The middleware needs the optional langchain package: import it on first use, so that everything else
    # works without it; without it, the import raises an ImportError naming the extra to install.
    if name == "GLiClassGuardMiddleware":
        from .middleware import GLiClassGuardMiddleware

        return GLiClassGuardMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
