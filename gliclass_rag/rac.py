"""ExampleStore: labelled examples for retrieval-augmented classification (RAC).

Store a few labelled examples once; every call retrieves, per input text, the nearest ones whose labels are among
that text's labels (cosine, ties broken by insertion order, optionally k per label) and shows them to the model:
uni-encoders read them in the reference's RAC format (``<<EXAMPLE>> text <<TRUE_LABEL>> a ... <</EXAMPLE>>``),
bi-encoders turn them into label prototypes. Embeddings come from the classifier's own encoder (default) or any
object with ``embed(texts) -> (n, d) array``.

On disk (``save``/``load``) a store is a directory of plain files, no pickle::

    store.json              {"format": "gliclass-rag-example-store", "version": 1, "count": N, "embedder": ...}
    examples.jsonl          one {"text": ..., "labels": [...]} per line, in insertion order
    embeddings.safetensors  {"embeddings": float32 (n, D), L2-normalised} for the first n <= N examples
                            (absent until embedded; the rest are embedded on first use)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import CheckpointError, InvalidInputError
from .requests import normalize_texts

__all__ = ["Embedder", "ExampleStore", "RetrievedHit"]

FORMAT = "gliclass-rag-example-store"
FORMAT_VERSION = 1


class Embedder(Protocol):
    """Anything that maps texts to vectors; ``embedder_id`` tells stores whether saved vectors still fit."""

    @property
    def embedder_id(self) -> str: ...

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray: ...


@dataclass(frozen=True)
class RetrievedHit:
    index: int  # position in the store
    score: float  # cosine similarity to the query
    text: str
    labels: tuple[str, ...]


class ExampleStore:
    """Labelled examples with their embeddings, searchable by cosine similarity."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._texts: list[str] = []
        self._labels: list[tuple[str, ...]] = []
        self._by_label: dict[str, list[int]] = {}
        self._embeddings: np.ndarray | None = None  # (N, D) for the first len(...) examples
        self._embedder_id: str | None = None
        self.embedder = embedder

    def __len__(self) -> int:
        return len(self._texts)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label the stored examples carry, in first-seen order."""
        return tuple(self._by_label)

    def add(self, texts: str | Sequence[str], labels: str | Sequence[str] | Sequence[Sequence[str]]) -> None:
        """Add examples: ``labels`` has one entry per text, a label or a list of labels."""
        texts = normalize_texts(texts, "texts")
        if isinstance(labels, str):
            labels = [labels]
        if len(labels) != len(texts):
            raise InvalidInputError(f"labels has {len(labels)} entries but there are {len(texts)} texts")
        rows: list[tuple[str, ...]] = []
        for index, item in enumerate(labels):
            row = (item,) if isinstance(item, str) else tuple(item)
            if not row or not all(isinstance(x, str) and x.strip() for x in row):
                raise InvalidInputError(f"labels[{index}] must be a label or a non-empty list of labels, got {item!r}")
            rows.append(row)
        for text, row in zip(texts, rows, strict=True):
            position = len(self._texts)
            self._texts.append(text)
            self._labels.append(row)
            for label in dict.fromkeys(row):
                self._by_label.setdefault(label, []).append(position)

    # --- embeddings ---------------------------------------------------------------------------------------
    def embeddings(self, embedder: Embedder | None = None, *, batch_size: int = 32) -> np.ndarray:
        """(N, D) L2-normalised embeddings, computed for new examples (or all, if the embedder changed)."""
        embedder = embedder or self.embedder
        if embedder is None:
            raise InvalidInputError("this ExampleStore has no embedder: pass one, or use it through a classifier")
        if self._embeddings is None or self._embedder_id != embedder.embedder_id:
            self._embeddings, self._embedder_id = None, embedder.embedder_id
        done = 0 if self._embeddings is None else len(self._embeddings)
        if done < len(self):
            fresh = _normalized(embedder.embed(self._texts[done:], batch_size=batch_size))
            self._embeddings = fresh if self._embeddings is None else np.concatenate([self._embeddings, fresh])
        assert self._embeddings is not None
        return self._embeddings

    def search(
        self,
        queries: Sequence[str],
        k: int,
        *,
        labels: Sequence[Sequence[str]] | None = None,
        per_label: bool = False,
        embedder: Embedder | None = None,
        query_embeddings: np.ndarray | None = None,
    ) -> list[list[RetrievedHit]]:
        """The k nearest examples per query (best first). With ``labels`` (one list per query) only examples
        carrying one of that query's labels count; ``per_label`` takes up to k per label instead of k in all."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidInputError(f"k must be a positive int, but got {k!r}")
        if labels is not None and len(labels) != len(queries):
            raise InvalidInputError(f"labels has {len(labels)} lists but there are {len(queries)} queries")
        if not len(self) or not len(queries):
            return [[] for _ in queries]
        matrix = self.embeddings(embedder)
        if query_embeddings is None:
            active = embedder or self.embedder
            assert active is not None
            query_embeddings = active.embed(list(queries))
        similarity = _normalized(query_embeddings) @ matrix.T  # (Q, N)
        wanted_rows: list[list[str] | None] = (
            [None] * len(queries) if labels is None else [list(dict.fromkeys(row)) for row in labels]
        )
        members = {
            label: np.asarray(self._by_label[label], dtype=np.int64)
            for label in dict.fromkeys(x for row in wanted_rows if row for x in row)
            if label in self._by_label
        }  # label -> (n_label,) positions, built once per call
        out = []
        for scores, wanted in zip(similarity, wanted_rows, strict=True):
            if per_label and wanted is not None:
                chosen: dict[int, None] = {}
                for label in wanted:
                    if label in members:
                        chosen.update(dict.fromkeys(self._top(scores, members[label], k)))
                picked = sorted(chosen, key=lambda i: (-scores[i], i))
            elif wanted is None or (len(members) == len(self._by_label) and set(wanted) >= members.keys()):
                picked = self._top(scores, None, k)  # no filter, or one that every stored example passes
            else:
                mask = np.zeros(len(self), dtype=bool)  # (N,) examples carrying one of the wanted labels
                for label in wanted:
                    if label in members:
                        mask[members[label]] = True
                picked = self._top(scores, np.flatnonzero(mask), k)
            out.append([RetrievedHit(i, float(scores[i]), self._texts[i], self._labels[i]) for i in picked])
        return out

    @staticmethod
    def _top(scores: np.ndarray, pool: np.ndarray | None, k: int) -> list[int]:
        """The k best of ``pool`` (ascending positions; None: all), by score then position (stable for ties)."""
        candidates = np.arange(len(scores)) if pool is None else pool
        if not len(candidates):
            return []
        values = scores[candidates]
        if len(values) > k:
            # Keep everything at or above the k-th best score (all its ties), then order that short list exactly.
            kth = np.partition(values, len(values) - k)[len(values) - k]
            keep = values >= kth
            candidates, values = candidates[keep], values[keep]
        order = np.lexsort((candidates, -values))
        return [int(i) for i in candidates[order[:k]]]

    # --- persistence --------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the store to a directory; an existing store there is replaced only once the new one is complete."""
        from safetensors.numpy import save_file

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".store-", dir=target.parent))
        try:
            meta = {"format": FORMAT, "version": FORMAT_VERSION, "count": len(self), "embedder": self._embedder_id}
            (staging / "store.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            with (staging / "examples.jsonl").open("w", encoding="utf-8") as handle:
                for text, row in zip(self._texts, self._labels, strict=True):
                    handle.write(json.dumps({"text": text, "labels": list(row)}, ensure_ascii=False) + "\n")
            if self._embeddings is not None:
                save_file({"embeddings": self._embeddings.astype(np.float32)}, str(staging / "embeddings.safetensors"))
            if target.exists():  # move the old store aside first: a crash never leaves no store at all
                retired = Path(tempfile.mkdtemp(prefix=".store-old-", dir=target.parent))
                target.replace(retired / "store")
                staging.replace(target)
                shutil.rmtree(retired)
            else:
                staging.replace(target)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str], embedder: Embedder | None = None) -> ExampleStore:
        from safetensors.numpy import load_file

        source = Path(path)
        try:
            meta = json.loads((source / "store.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError) as error:
            raise CheckpointError(f"{source} is not an ExampleStore directory: {error}") from error
        if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
            raise CheckpointError(f"{source}: unsupported store format {meta.get('format')!r} v{meta.get('version')}")
        store = cls(embedder)
        with (source / "examples.jsonl").open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                row = json.loads(line)
                if not isinstance(row, dict) or "text" not in row or "labels" not in row:
                    raise CheckpointError(f"{source}/examples.jsonl:{number}: expected {{'text', 'labels'}}")
                store.add([row["text"]], [row["labels"]])
        vectors = source / "embeddings.safetensors"
        if vectors.is_file():
            matrix = load_file(str(vectors))["embeddings"]
            if len(matrix) > len(store):  # fewer is fine: examples added after the last embedding are embedded later
                raise CheckpointError(f"{source}: {len(matrix)} embeddings for {len(store)} examples")
            store._embeddings, store._embedder_id = matrix, meta.get("embedder")
        return store


def _normalized(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
