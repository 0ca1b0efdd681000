"""What every GLiClass compressor shares: the model setting, lazy shared loading, input checks and copies."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from typing_extensions import Self

from gliclass_rag import InvalidInputError, ZeroShotClassifier, resolve_classifier

__all__ = ["GLiClassCompressorBase", "Probability", "check_documents", "check_query", "copy_with_metadata"]

Probability = Annotated[float, Field(ge=0.0, le=1.0, strict=True)]
"""A score or threshold in [0, 1] (a bool is refused rather than read as 0 or 1)."""


class GLiClassCompressorBase(BaseDocumentCompressor):
    """Settings and lazy model handling shared by the GLiClass document compressors.

    ``model`` is a checkpoint name or path, an already-loaded :class:`~gliclass_rag.ZeroShotClassifier`, or None
    for the embedded default model. Names and paths are resolved on first use (or :meth:`warm_up`) through
    :func:`gliclass_rag.resolve_classifier`, so every component configured with the same name, device and dtype
    holds one model in memory; passing one loaded classifier to several components does the same explicitly.
    """

    model: str | Path | ZeroShotClassifier | None = Field(default=None, frozen=True)
    """Checkpoint name or path, a loaded ``ZeroShotClassifier``, or None for the embedded default model."""

    device: str | None = Field(default=None, frozen=True)
    """Where a named model is loaded: ``"cpu"``, ``"cuda"``, ``"cuda:N"``; None picks CUDA when available."""

    dtype: str | None = Field(default=None, frozen=True)
    """Weights dtype of a named model (``"float32"``, ``"bfloat16"``, ``"float16"``); None keeps the checkpoint's."""

    batch_size: int = Field(default=8, ge=1, strict=True)
    """Documents per forward pass."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", validate_assignment=True)

    _classifier: ZeroShotClassifier | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_model_options(self) -> Self:
        if isinstance(self.model, ZeroShotClassifier) and (self.device is not None or self.dtype is not None):
            msg = (
                f"device={self.device!r} and dtype={self.dtype!r} apply when model is a name or path; "
                "move a loaded classifier yourself with classifier.to(device, dtype)"
            )
            raise ValueError(msg)
        if isinstance(self.model, str) and not self.model.strip():
            msg = f"model must be a checkpoint name or path, a ZeroShotClassifier or None, but got {self.model!r}"
            raise ValueError(msg)
        return self

    @model_serializer(mode="wrap")
    def _serialize_settings(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Settings only: a path becomes a str; a loaded classifier is written as where it was loaded from (None for
        the embedded default), and one built in code cannot be serialised (a rebuilt component would silently run
        another model)."""
        if isinstance(self.model, ZeroShotClassifier):
            source = self.model.name_or_path
            if source is None and not self.model.is_embedded_default:
                msg = (
                    "this component holds a ZeroShotClassifier built in code, which has no name or path to write; "
                    "save it with save_pretrained() and pass that path as model"
                )
                raise ValueError(msg)
            # the handler would try to serialise the torch model: dump a copy with its source instead
            data: dict[str, Any] = handler(self.model_copy(update={"model": None}))
            data["model"] = source
            return data
        data = handler(self)
        if isinstance(data.get("model"), Path):
            data["model"] = str(data["model"])
        return data

    @property
    def classifier(self) -> ZeroShotClassifier:
        """The loaded classifier (loads or fetches the shared instance on first access)."""
        if self._classifier is None:
            self._classifier = resolve_classifier(self.model, device=self.device, dtype=self.dtype)
        return self._classifier

    def warm_up(self) -> None:
        """Load the model now rather than on the first call (idempotent)."""
        _ = self.classifier


def check_query(query: object) -> str:
    if not isinstance(query, str):
        raise InvalidInputError(f"query must be a str, but got {type(query).__name__}: {query!r:.60}")
    return query


def check_documents(documents: object) -> list[Document]:
    """The documents as a list (the caller's sequence is not touched); names the first item that is no Document."""
    if isinstance(documents, (str, bytes, Document)) or not isinstance(documents, Sequence):
        raise InvalidInputError(f"documents must be a sequence of Document, but got {type(documents).__name__}")
    for index, document in enumerate(documents):
        if not isinstance(document, Document):
            raise InvalidInputError(
                f"documents[{index}] must be a langchain_core Document, but got {type(document).__name__}"
            )
    return list(documents)


def copy_with_metadata(document: Document, updates: dict[str, Any]) -> Document:
    """A copy of ``document`` (same id, content and type) whose metadata is a deep copy with ``updates`` applied."""
    metadata = copy.deepcopy(document.metadata)
    metadata.update(updates)
    return document.model_copy(update={"metadata": metadata})
