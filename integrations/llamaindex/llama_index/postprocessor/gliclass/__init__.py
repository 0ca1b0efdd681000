"""LlamaIndex integration of gliclass-rag: GLiClass zero-shot reranking, routing and guards.

- :class:`GLiClassRerank`: a node postprocessor (``node_postprocessors=[GLiClassRerank(top_n=3)]``).
- :class:`GLiClassSelector`: a selector for ``RouterQueryEngine`` / ``RouterRetriever``.
- :class:`GLiClassGuardPostprocessor`: a node postprocessor that drops unsafe nodes, nodes breaking rules, or
  nodes that do not support the query (gliclass-guards' SafetyGuard, RuleGuard, HallucinationGuard).
- :class:`GLiClassFaithfulnessEvaluator`: a ``BaseEvaluator`` scoring how well a response is supported by its
  contexts, with a continuous score and no LLM.

Every component takes a model: a name or path, a loaded ``gliclass_rag.ZeroShotClassifier`` (one model in memory
for many components), or None for the model embedded in gliclass-rag (the guards take it through their guard).
"""

from llama_index.postprocessor.gliclass.base import GLiClassRerank
from llama_index.postprocessor.gliclass.evaluation import GLiClassFaithfulnessEvaluator
from llama_index.postprocessor.gliclass.guards import GLiClassGuardPostprocessor
from llama_index.postprocessor.gliclass.selector import GLiClassSelector

__all__ = ["GLiClassFaithfulnessEvaluator", "GLiClassGuardPostprocessor", "GLiClassRerank", "GLiClassSelector"]
