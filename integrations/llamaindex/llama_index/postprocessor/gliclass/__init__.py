"""LlamaIndex integration of gliclass-rag: GLiClass zero-shot reranking of nodes and routing of queries.

- :class:`GLiClassRerank`: a node postprocessor (``node_postprocessors=[GLiClassRerank(top_n=3)]``).
- :class:`GLiClassSelector`: a selector for ``RouterQueryEngine`` / ``RouterRetriever``.

Every component takes ``model``: a name or path, a loaded ``gliclass_rag.ZeroShotClassifier`` (one model in memory
for many components), or None for the model embedded in gliclass-rag.
"""

from llama_index.postprocessor.gliclass.base import GLiClassRerank
from llama_index.postprocessor.gliclass.selector import GLiClassSelector

__all__ = ["GLiClassRerank", "GLiClassSelector"]
