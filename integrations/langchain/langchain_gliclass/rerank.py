"""GLiClassRerank: a LangChain document compressor that reranks documents by their relevance to the query."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.callbacks import Callbacks
from langchain_core.documents import Document
from langchain_core.runnables import run_in_executor
from pydantic import Field
from typing_extensions import override

from ._common import GLiClassCompressorBase, Probability, check_documents, check_query, copy_with_metadata

__all__ = ["RELEVANCE_SCORE_KEY", "GLiClassRerank"]

RELEVANCE_SCORE_KEY = "relevance_score"


class GLiClassRerank(GLiClassCompressorBase):
    """Rerank documents with a GLiClass model: the query is scored as the single label of each document.

    Returns copies of the best ``top_n`` documents, best first, each with its score in
    ``metadata["relevance_score"]`` (a float in [0, 1]); the other metadata keys are kept (deep-copied), a
    ``relevance_score`` already there is overwritten on the copy (as CohereRerank does) and the caller's documents
    are never modified. Documents whose text is empty or whitespace score 0.0 instead of failing the call.

    Example:
        .. code-block:: python

            from langchain_classic.retrievers import ContextualCompressionRetriever
            from langchain_gliclass import GLiClassRerank

            retriever = ContextualCompressionRetriever(
                base_compressor=GLiClassRerank(top_n=3), base_retriever=vector_store.as_retriever()
            )
            retriever.invoke("How do rockets reach orbit?")
    """

    top_n: int | None = Field(default=3, ge=1, strict=True)
    """Number of documents to return; None returns every document that passes ``score_threshold``."""

    score_threshold: Probability | None = None
    """Drop documents scoring below this (in [0, 1]); None keeps every document up to ``top_n``."""

    @override
    def compress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """Rerank ``documents`` by relevance to ``query``; returns new Document objects (see the class docstring)."""
        docs = check_documents(documents)
        check_query(query)
        if not docs:
            return []
        return self._select(docs, self._scores(docs, query))

    @override
    async def acompress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """As :meth:`compress_documents`; the model runs in a worker thread, so the event loop is never blocked."""
        docs = check_documents(documents)
        check_query(query)
        if not docs:
            return []
        scores = await run_in_executor(None, self._scores, docs, query)
        return self._select(docs, scores)

    def _scores(self, documents: list[Document], query: str) -> list[float]:
        """One relevance score per document, in input order (0.0 for documents without text)."""
        scored = [i for i, doc in enumerate(documents) if doc.page_content.strip()]
        scores = [0.0] * len(documents)
        if scored:
            ranked = self.classifier.rerank(
                query, [documents[i].page_content for i in scored], batch_size=self.batch_size
            )
            for passage in ranked:
                scores[scored[passage.index]] = passage.score
        return scores

    def _select(self, documents: list[Document], scores: list[float]) -> list[Document]:
        order = sorted(range(len(documents)), key=lambda i: (-scores[i], i))
        if self.score_threshold is not None:
            order = [i for i in order if scores[i] >= self.score_threshold]
        return [copy_with_metadata(documents[i], {RELEVANCE_SCORE_KEY: scores[i]}) for i in order[: self.top_n]]
