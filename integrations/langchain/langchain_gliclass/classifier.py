"""GLiClassDocumentClassifier: label documents zero-shot, annotate copies and keep or drop them by label."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentTransformer, Document
from langchain_core.runnables import run_in_executor
from pydantic import Field, field_validator, model_validator
from typing_extensions import Self, override

from gliclass_rag.requests import flatten_labels

from ._common import GLiClassCompressorBase, Probability, check_documents, copy_with_metadata

__all__ = ["GLiClassDocumentClassifier"]

DEFAULT_THRESHOLD = 0.5  # what gliclass_rag uses for labels a per-label threshold dict does not name


class GLiClassDocumentClassifier(GLiClassCompressorBase, BaseDocumentTransformer):
    """Classify documents against ``labels`` in one encoder pass each; annotate them and/or filter them by label.

    Each returned document is a copy (same id and content, deep-copied metadata) with, by default:

    - ``metadata["labels"]``: the labels that apply, best first. Multi-label: every label whose sigmoid score
      reaches its threshold. Single-label (``multi_label=False``): the top label of a softmax over the labels
      (``threshold`` is not used).
    - ``metadata["label_scores"]``: every label's score, ``{label: float}`` in label order.

    The keys are set by ``labels_key`` / ``scores_key`` (None writes nothing); existing keys of those names are
    overwritten on the copy. With ``keep_labels`` only documents having at least one of them are returned; with
    ``drop_labels`` documents having any of them are removed; the order of the input is kept. Documents whose
    text is empty or whitespace get no labels and scores of 0.0.

    As a compressor (``ContextualCompressionRetriever``, ``DocumentCompressorPipeline``) the query is not used;
    as a document transformer (``transform_documents``) it labels documents before indexing.

    Example:
        .. code-block:: python

            from langchain_gliclass import GLiClassDocumentClassifier

            spam_filter = GLiClassDocumentClassifier(labels=["spam", "advertisement", "news"],
                                                     drop_labels=["spam", "advertisement"])
            tagger = GLiClassDocumentClassifier(labels=["sports", "science", "business"], threshold=0.4)
            tagged = tagger.transform_documents(documents)
    """

    labels: list[str] | dict[str, Any]
    """Candidate labels: a list, or a dict of groups (``{"science": ["space", "biology"]}`` gives the labels
    ``science.space`` and ``science.biology``, as in :meth:`gliclass_rag.ZeroShotClassifier.classify`)."""

    multi_label: bool = Field(default=True, strict=True)
    """Independent sigmoid score per label (True) or one softmax over the labels, top label only (False)."""

    threshold: Probability | dict[str, Probability] = DEFAULT_THRESHOLD
    """Multi-label cut-off in [0, 1]: one for every label, or per label (labels not named use 0.5)."""

    prompt: str | None = None
    """Optional task prompt shown to the model with every document."""

    label_descriptions: dict[str, str] | None = None
    """Optional ``{label: description}`` shown to the model to disambiguate labels."""

    keep_labels: list[str] | None = None
    """Return only documents that have at least one of these labels (None: no such filter)."""

    drop_labels: list[str] | None = None
    """Remove documents that have any of these labels (None: no such filter)."""

    labels_key: str | None = "labels"
    """Metadata key for the applied labels (None: do not write them)."""

    scores_key: str | None = "label_scores"
    """Metadata key for every label's score (None: do not write them)."""

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, labels: list[str] | dict[str, Any]) -> list[str] | dict[str, Any]:
        names = flatten_labels(labels)
        if not names:
            raise ValueError("labels is empty; give at least one label")
        seen: set[str] = set()
        for name in names:
            if not name.strip():
                raise ValueError(f"labels has an empty or whitespace label: {name!r}")
            if name in seen:
                raise ValueError(f"labels has the label {name!r} twice; labels must be unique")
            seen.add(name)
        return labels

    @field_validator("labels_key", "scores_key")
    @classmethod
    def _check_key(cls, key: str | None) -> str | None:
        if key is not None and not key.strip():
            raise ValueError(f"a metadata key must be a non-empty str or None, but got {key!r}")
        return key

    @model_validator(mode="after")
    def _check_against_labels(self) -> Self:
        names = set(self.label_names)
        if isinstance(self.threshold, dict):
            self._check_known("threshold", self.threshold, names)
        if self.label_descriptions is not None:
            self._check_known("label_descriptions", self.label_descriptions, names)
        for field in ("keep_labels", "drop_labels"):
            chosen = getattr(self, field)
            if chosen is not None:
                if not chosen:
                    raise ValueError(f"{field} is empty; give at least one label, or None for no filter")
                self._check_known(field, chosen, names)
        overlap = set(self.keep_labels or ()) & set(self.drop_labels or ())
        if overlap:
            raise ValueError(f"keep_labels and drop_labels both name {sorted(overlap)}; a label can be in one only")
        if self.labels_key is not None and self.labels_key == self.scores_key:
            raise ValueError(f"labels_key and scores_key are both {self.labels_key!r}; give two different keys")
        return self

    @staticmethod
    def _check_known(field: str, given: Sequence[str] | dict[str, Any], names: set[str]) -> None:
        unknown = [label for label in given if label not in names]
        if unknown:
            raise ValueError(f"{field} names {unknown}, which are not among the labels {sorted(names)}")

    @property
    def label_names(self) -> list[str]:
        """The labels as the model scores them (dict groups flattened to ``group.label``), in order."""
        names: list[str] = flatten_labels(self.labels)
        return names

    # --- LangChain interfaces ------------------------------------------------------------------------------
    @override
    def compress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """Annotated copies of the documents that pass the label filters (the query is not used)."""
        return self.transform_documents(documents)

    @override
    async def acompress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """As :meth:`compress_documents`; the model runs in a worker thread, so the event loop is never blocked."""
        return await self.atransform_documents(documents)

    @override
    def transform_documents(self, documents: Sequence[Document], **kwargs: Any) -> Sequence[Document]:
        """Annotated copies of the documents that pass the label filters, in input order."""
        docs = check_documents(documents)
        if not docs:
            return []
        return self._select(docs, self._scores(docs))

    @override
    async def atransform_documents(self, documents: Sequence[Document], **kwargs: Any) -> Sequence[Document]:
        """As :meth:`transform_documents`, with the model in a worker thread."""
        docs = check_documents(documents)
        if not docs:
            return []
        scores = await run_in_executor(None, self._scores, docs)
        return self._select(docs, scores)

    # --- scoring and selection -----------------------------------------------------------------------------
    def _scores(self, documents: list[Document]) -> list[dict[str, float]]:
        """Every label's score per document, in input order (0.0 everywhere for documents without text)."""
        names = self.label_names
        out = [dict.fromkeys(names, 0.0) for _ in documents]
        scored = [i for i, doc in enumerate(documents) if doc.page_content.strip()]
        if scored:
            rows = self.classifier.scores(
                [documents[i].page_content for i in scored],
                self.labels,
                multi_label=self.multi_label,
                prompt=self.prompt,
                label_descriptions=self.label_descriptions,
                batch_size=self.batch_size,
            )
            for i, row in zip(scored, rows, strict=True):
                out[i] = row
        return out

    def _applied(self, scores: dict[str, float], has_text: bool) -> list[str]:
        """The labels that apply, best first (ties in label order)."""
        if not has_text:
            return []
        ranked = sorted(scores, key=lambda label: -scores[label])
        if not self.multi_label:
            return ranked[:1]
        if isinstance(self.threshold, dict):
            cut = self.threshold
            return [label for label in ranked if scores[label] >= cut.get(label, DEFAULT_THRESHOLD)]
        return [label for label in ranked if scores[label] >= self.threshold]

    def _select(self, documents: list[Document], scores: list[dict[str, float]]) -> list[Document]:
        keep = set(self.keep_labels) if self.keep_labels is not None else None
        drop = set(self.drop_labels or ())
        out = []
        for document, row in zip(documents, scores, strict=True):
            applied = self._applied(row, bool(document.page_content.strip()))
            if keep is not None and keep.isdisjoint(applied):
                continue
            if not drop.isdisjoint(applied):
                continue
            updates: dict[str, Any] = {}
            if self.labels_key is not None:
                updates[self.labels_key] = applied
            if self.scores_key is not None:
                updates[self.scores_key] = dict(row)
            out.append(copy_with_metadata(document, updates))
        return out
