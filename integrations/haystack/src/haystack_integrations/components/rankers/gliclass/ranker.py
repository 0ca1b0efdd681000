"""GLiClassRanker: rerank Documents by how well the query, read as a label, fits each document."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from haystack import Document, component
from haystack.utils import ComponentDevice
from haystack_integrations.common.gliclass.utils import (
    ModelArg,
    ModelComponent,
    check_documents,
    check_positive_int,
    check_probability,
)


@component
class GLiClassRanker(ModelComponent):
    """Ranks Documents by their relevance to the query with a GLiClass zero-shot model.

    Each document is scored against the query as its single label (a sigmoid probability in [0, 1]); documents come
    back best first, as copies with `score` set, the inputs untouched.

    Usage example:
    ```python
    from haystack import Document
    from haystack_integrations.components.rankers.gliclass import GLiClassRanker

    ranker = GLiClassRanker(top_k=2)  # the embedded default model, offline
    docs = [Document(content="Paris is in France"), Document(content="Berlin is in Germany")]
    result = ranker.run(query="a city in Germany", documents=docs)
    print(result["documents"][0].content)
    # Berlin is in Germany
    ```
    """

    _serialized = (
        "top_k",
        "score_threshold",
        "query_prefix",
        "document_prefix",
        "meta_fields_to_embed",
        "embedding_separator",
        "batch_size",
    )

    def __init__(
        self,
        model: ModelArg = None,
        *,
        top_k: int = 10,
        score_threshold: float | None = None,
        query_prefix: str = "",
        document_prefix: str = "",
        meta_fields_to_embed: list[str] | None = None,
        embedding_separator: str = "\n",
        batch_size: int = 8,
        device: ComponentDevice | None = None,
        dtype: str | None = None,
    ) -> None:
        """Create a GLiClassRanker; the model is loaded by `warm_up()` (or the first `run`).

        :param model: A GLiClass checkpoint directory or hub id, `None` for the embedded default model, or a loaded
            `ZeroShotClassifier`. Components given the same name or path share one model in memory; a loaded
            classifier is used as is but cannot be serialised (`to_dict` raises `SerializationError`).
        :param top_k: The maximum number of documents to return.
        :param score_threshold: If set, only documents scoring at least this (in [0, 1]) are returned.
        :param query_prefix: Text put before the query (an instruction, for example).
        :param document_prefix: Text put before each document's text.
        :param meta_fields_to_embed: Meta fields whose values are put before the content, joined by
            `embedding_separator` (fields a document lacks, or holds as `None`, are skipped).
        :param embedding_separator: Separator between the meta values and the content.
        :param batch_size: How many documents go through the model at once.
        :param device: Where to load the model (`None`: a GPU when there is one); not with a loaded classifier.
        :param dtype: `"float32"`, `"bfloat16"` or `"float16"` to load the weights in (`None`: as saved);
            not with a loaded classifier.
        :raises ValueError: If `top_k` or `batch_size` is below 1, `score_threshold` is outside [0, 1], or device or
            dtype is given with a loaded classifier.
        :raises TypeError: If an argument has the wrong type.
        """
        self._init_model(model, device, dtype)
        check_positive_int(top_k, "top_k")
        check_probability(score_threshold, "score_threshold", optional=True)
        check_positive_int(batch_size, "batch_size")
        for name, value in (
            ("query_prefix", query_prefix),
            ("document_prefix", document_prefix),
            ("embedding_separator", embedding_separator),
        ):
            if not isinstance(value, str):
                msg = f"{name} must be a str, but got {type(value).__name__}: {value!r}"
                raise TypeError(msg)
        if meta_fields_to_embed is not None and (
            isinstance(meta_fields_to_embed, str) or not all(isinstance(f, str) for f in meta_fields_to_embed)
        ):
            msg = f"meta_fields_to_embed must be a list of str or None, but got {meta_fields_to_embed!r}"
            raise TypeError(msg)

        self.top_k = top_k
        self.score_threshold = score_threshold
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.meta_fields_to_embed = list(meta_fields_to_embed or [])
        self.embedding_separator = embedding_separator
        self.batch_size = batch_size

    def _document_text(self, document: Document) -> str:
        meta_values = [
            str(document.meta[key])
            for key in self.meta_fields_to_embed
            if key in document.meta and document.meta[key] is not None
        ]
        return self.document_prefix + self.embedding_separator.join([*meta_values, document.content or ""])

    @component.output_types(documents=list[Document])
    def run(
        self,
        query: str,
        documents: list[Document],
        top_k: int | None = None,
        score_threshold: float | None = None,
    ) -> dict[str, list[Document]]:
        """Rank the documents by relevance to the query, best first.

        :param query: The query to rank the documents against.
        :param documents: The documents to rank (not modified: copies with `score` set are returned).
        :param top_k: The maximum number of documents to return; `None` uses the value given at init.
        :param score_threshold: Minimum score of a returned document; `None` uses the value given at init.
        :returns: A dictionary with `documents`: at most `top_k` documents, best first, with `score` in [0, 1].
        :raises TypeError: If `documents` is not a list of Documents or `query` not a str.
        :raises ValueError: If `query` is blank, a document has no text to rank, or an override is out of range.
        """
        check_documents(documents, "GLiClassRanker")
        if not isinstance(query, str):
            msg = f"GLiClassRanker expects query to be a str, but got {type(query).__name__}"
            raise TypeError(msg)
        if not query.strip():
            msg = "GLiClassRanker got an empty query; give it some text"
            raise ValueError(msg)
        check_positive_int(top_k, "top_k", optional=True)
        check_probability(score_threshold, "score_threshold", optional=True)
        top_k = self.top_k if top_k is None else top_k
        score_threshold = self.score_threshold if score_threshold is None else score_threshold
        if not documents:
            return {"documents": []}

        texts = [self._document_text(doc) for doc in documents]
        blank = [doc.id for doc, text in zip(documents, texts, strict=True) if not text.strip()]
        if blank:
            msg = f"GLiClassRanker cannot rank documents without text (no content, no meta_fields_to_embed): {blank}"
            raise ValueError(msg)

        ranked = self._loaded().rerank(self.query_prefix + query, texts, batch_size=self.batch_size)
        if score_threshold is not None:
            ranked = [passage for passage in ranked if passage.score >= score_threshold]
        return {"documents": [replace(documents[passage.index], score=passage.score) for passage in ranked[:top_k]]}

    @component.output_types(documents=list[Document])
    async def run_async(
        self,
        query: str,
        documents: list[Document],
        top_k: int | None = None,
        score_threshold: float | None = None,
    ) -> dict[str, list[Document]]:
        """Asynchronously rank the documents by relevance to the query (the model runs in a worker thread).

        Takes and returns the same as `run` (see there).
        """
        return await asyncio.to_thread(
            self.run, query=query, documents=documents, top_k=top_k, score_threshold=score_threshold
        )
