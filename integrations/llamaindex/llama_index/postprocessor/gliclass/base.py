"""GLiClassRerank: a node postprocessor that reorders retrieved nodes by their GLiClass relevance to the query."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any

from llama_index.core.bridge.pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_validator,
)
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from gliclass_rag import InvalidInputError, ZeroShotClassifier

from ._model import (
    LazyClassifier,
    check_batch_size,
    check_bool,
    check_device,
    check_dtype,
    check_loading_options,
    check_model,
    check_nodes,
    check_positive_int,
    check_probability,
    check_query,
    model_display_name,
    serializable_model,
)

__all__ = ["RETRIEVAL_SCORE_KEY", "GLiClassRerank"]

dispatcher = get_dispatcher(__name__)

RETRIEVAL_SCORE_KEY = "retrieval_score"


class GLiClassRerank(BaseNodePostprocessor):
    """Rerank nodes by GLiClass relevance to the query: one encoder pass per node, the query scored as its label.

    Returns new ``NodeWithScore`` objects, best first, whose ``score`` is the GLiClass relevance (a sigmoid in
    [0, 1], comparable across queries, so ``score_threshold`` means the same thing for every query). The nodes
    given are never modified: each result wraps a shallow copy of its node with a metadata dict of its own.

    Args:
        model: A GLiClass model name or path, a loaded :class:`~gliclass_rag.ZeroShotClassifier` (share one
            among many components), or None for the embedded default model. Names are loaded on first use or by
            :meth:`warm_up`; components given the same name share one model in memory.
        top_n: How many nodes to return (None: all that pass ``score_threshold``).
        score_threshold: Drop nodes scoring below this value in [0, 1] (None: keep all).
        keep_retrieval_score: Keep each node's incoming score in ``node.metadata["retrieval_score"]`` (left as it
            is when an earlier reranker already stored it; excluded from the text that embedding models and LLMs see).
        batch_size: Nodes per forward pass.
        device, dtype: Where and how to load a named model (None: the engine's defaults); not for loaded models.

    Nodes whose text is empty (an image node, say) score 0.0 instead of failing the whole query.
    Bad settings raise ``ValueError`` naming the value, at construction and on assignment.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True)

    model: Annotated[str | ZeroShotClassifier | None, WithJsonSchema({"type": ["string", "null"]})] = Field(
        default=None,
        description="GLiClass model name or path, a loaded ZeroShotClassifier, or None for the embedded model.",
    )
    top_n: int | None = Field(default=2, description="Number of nodes to return sorted by score (None: all).")
    score_threshold: float | None = Field(
        default=None, description="Minimum GLiClass score in [0, 1] a node needs to be returned (None: no minimum)."
    )
    keep_retrieval_score: bool = Field(
        default=False, description="Whether to keep the retrieval score in metadata['retrieval_score']."
    )
    batch_size: int = Field(default=8, description="Nodes scored per forward pass.")
    device: str | None = Field(default=None, description="Device to load a named model on (None: automatic).")
    dtype: str | None = Field(default=None, description="dtype to load a named model in (None: as saved).")

    _lazy: LazyClassifier = PrivateAttr(default_factory=LazyClassifier)

    # --- settings ------------------------------------------------------------------------------------------
    @field_validator("model", mode="before")
    @classmethod
    def _check_model(cls, value: Any) -> str | ZeroShotClassifier | None:
        return check_model(value)

    @field_validator("top_n", mode="before")
    @classmethod
    def _check_top_n(cls, value: Any) -> int | None:
        return check_positive_int(value, "top_n", optional=True)

    @field_validator("score_threshold", mode="before")
    @classmethod
    def _check_score_threshold(cls, value: Any) -> float | None:
        return check_probability(value, "score_threshold", optional=True)

    @field_validator("keep_retrieval_score", mode="before")
    @classmethod
    def _check_keep_retrieval_score(cls, value: Any) -> bool:
        return check_bool(value, "keep_retrieval_score")

    @field_validator("batch_size", mode="before")
    @classmethod
    def _check_batch_size(cls, value: Any) -> int:
        return check_batch_size(value)

    @field_validator("device", mode="before")
    @classmethod
    def _check_device(cls, value: Any) -> str | None:
        return check_device(value)

    @field_validator("dtype", mode="before")
    @classmethod
    def _check_dtype(cls, value: Any) -> str | None:
        return check_dtype(value)

    @model_validator(mode="after")
    def _check_loading_options(self) -> GLiClassRerank:
        check_loading_options(self.model, self.device, self.dtype)
        return self

    @field_serializer("model")
    def _serialize_model(self, model: str | ZeroShotClassifier | None) -> str | None:
        return serializable_model(model, self.class_name())

    @classmethod
    def class_name(cls) -> str:
        return "GLiClassRerank"

    # --- model ---------------------------------------------------------------------------------------------
    @property
    def classifier(self) -> ZeroShotClassifier:
        """The classifier in use, loaded (or taken from the process-wide share) on first access."""
        return self._lazy.get(self.model, self.device, self.dtype)

    def warm_up(self) -> None:
        """Load the model now rather than on the first query (idempotent)."""
        _ = self.classifier

    @property
    def model_name(self) -> str:
        """How events name the model."""
        return model_display_name(self.model)

    # --- postprocessing ------------------------------------------------------------------------------------
    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        check_nodes(nodes)
        dispatcher.event(self._start_event(nodes, query_bundle))
        query = _query_text(query_bundle)
        if not nodes:
            dispatcher.event(ReRankEndEvent(nodes=[]))
            return []
        with self.callback_manager.event(CBEventType.RERANKING, payload=self._payload(nodes, query)) as event:
            scores = self._score(query, _texts(nodes))
            reranked = self._reranked(nodes, scores)
            event.on_end(payload={EventPayload.NODES: reranked})
        dispatcher.event(ReRankEndEvent(nodes=reranked))
        return reranked

    @dispatcher.span
    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        check_nodes(nodes)
        await dispatcher.aevent(self._start_event(nodes, query_bundle))
        query = _query_text(query_bundle)
        if not nodes:
            await dispatcher.aevent(ReRankEndEvent(nodes=[]))
            return []
        with self.callback_manager.event(CBEventType.RERANKING, payload=self._payload(nodes, query)) as event:
            # the model (and its first load) runs in a worker thread: the event loop stays free
            scores = await asyncio.to_thread(self._score, query, _texts(nodes))
            reranked = self._reranked(nodes, scores)
            event.on_end(payload={EventPayload.NODES: reranked})
        await dispatcher.aevent(ReRankEndEvent(nodes=reranked))
        return reranked

    def _start_event(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None) -> ReRankStartEvent:
        top_n = len(nodes) if self.top_n is None else self.top_n
        return ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=top_n, model_name=self.model_name)

    def _payload(self, nodes: list[NodeWithScore], query: str) -> dict[str, Any]:
        return {
            EventPayload.NODES: nodes,
            EventPayload.MODEL_NAME: self.model_name,
            EventPayload.QUERY_STR: query,
            EventPayload.TOP_K: self.top_n,
        }

    def _score(self, query: str, texts: Sequence[str]) -> list[float]:
        """One score per text, in input order; empty texts score 0.0 without reaching the model."""
        present = [i for i, text in enumerate(texts) if text.strip()]
        scores = [0.0] * len(texts)
        if present:
            ranked = self.classifier.rerank(query, [texts[i] for i in present], batch_size=self.batch_size)
            for passage in ranked:
                scores[present[passage.index]] = passage.score
        return scores

    def _reranked(self, nodes: list[NodeWithScore], scores: list[float]) -> list[NodeWithScore]:
        order = sorted(range(len(nodes)), key=lambda i: (-scores[i], i))  # stable: ties keep retrieval order
        if self.score_threshold is not None:
            order = [i for i in order if scores[i] >= self.score_threshold]
        return [self._rescored(nodes[i], scores[i]) for i in order[: self.top_n]]

    def _rescored(self, original: NodeWithScore, score: float) -> NodeWithScore:
        node = original.node
        update: dict[str, Any] = {"metadata": dict(node.metadata)}
        if self.keep_retrieval_score and RETRIEVAL_SCORE_KEY not in node.metadata:
            update["metadata"][RETRIEVAL_SCORE_KEY] = original.score
            for field in ("excluded_embed_metadata_keys", "excluded_llm_metadata_keys"):
                excluded = list(getattr(node, field))
                update[field] = excluded if RETRIEVAL_SCORE_KEY in excluded else [*excluded, RETRIEVAL_SCORE_KEY]
        return original.model_copy(update={"node": node.model_copy(update=update), "score": score})


def _query_text(query_bundle: QueryBundle | None) -> str:
    if query_bundle is None:
        raise InvalidInputError("GLiClassRerank needs a query: pass query_bundle or query_str to postprocess_nodes")
    if not isinstance(query_bundle, QueryBundle):
        raise InvalidInputError(f"query_bundle must be a QueryBundle, but got {type(query_bundle).__name__}")
    return check_query(query_bundle.query_str)


def _texts(nodes: Sequence[NodeWithScore]) -> list[str]:
    return [node.node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
