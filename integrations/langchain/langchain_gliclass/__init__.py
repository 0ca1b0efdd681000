"""LangChain integration of gliclass-rag: GLiClass zero-shot reranking and document classification.

- :class:`GLiClassRerank`: a document compressor that reranks by relevance to the query and writes
  ``metadata["relevance_score"]`` (for ``ContextualCompressionRetriever`` / ``DocumentCompressorPipeline``).
- :class:`GLiClassDocumentClassifier`: labels documents zero-shot (multi-label, thresholds), annotates them and
  keeps or drops them by label; a document compressor and a document transformer.

Every component takes ``model`` as a checkpoint name or path, a loaded ``gliclass_rag.ZeroShotClassifier`` or
None (the embedded default model), loads it lazily and shares it with every other component that names it.
"""

from importlib import metadata

from .classifier import GLiClassDocumentClassifier
from .rerank import GLiClassRerank

try:
    __version__ = metadata.version("langchain-gliclass")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["GLiClassDocumentClassifier", "GLiClassRerank", "__version__"]
