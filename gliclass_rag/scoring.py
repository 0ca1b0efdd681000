"""The hot path: planned sequences -> length-sorted padded batches -> model -> one logit per (text, label).

Batches are sorted by length (then results restored to input order), padding is masked everywhere, so a text's
logits do not depend on what else is in its batch. Bi-encoder label embeddings are computed once per label text and
cached, so thousands of labels cost one text pass.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from .inputs import ChunkingOptions, InputBuilder, PlannedSequence, Request
from .modeling.model import GLiClassModel
from .modeling.network import ModelBatch

__all__ = ["ForwardFn", "ScoringEngine", "collate"]

LABEL_CACHE_SIZE = 200_000
LABEL_BATCH = 256
# Few-shot for bi-encoders: weight of the label name against its examples' prototype (fixed a priori, not tuned).
PROTOTYPE_NAME_WEIGHT = 0.5

ForwardFn = Callable[[ModelBatch], torch.Tensor]  # a padded batch -> logits (B, C); the model's, or ONNX Runtime's


class ScoringEngine:
    def __init__(
        self,
        model: GLiClassModel,
        builder: InputBuilder,
        *,
        pad_token_id: int,
        label_tokenizer: Any | None = None,
        label_max_length: int = 128,
        forward: ForwardFn | None = None,
    ) -> None:
        self.model = model
        self.forward: ForwardFn = forward if forward is not None else self._torch_forward
        self.builder = builder
        self.pad_token_id = pad_token_id
        self.label_tokenizer = label_tokenizer
        self.label_max_length = label_max_length
        self.uses_label_encoder = model.model.architecture.uses_label_encoder
        self._label_cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.weights_version = 0  # bumped whenever cached embeddings may be stale

    def embed_texts(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """(N, D) L2-normalised text vectors from the model's own encoder, for retrieval and prototypes.

        Bi-encoders: the text embedding the scorer reads (pooled, projected). Uni-encoders: the mean of the
        encoder's states over the text alone.
        """
        segments = self.builder.segments
        ids = segments.encode([(None, text, None) for text in texts])
        limit = self.builder.budget
        planned = [PlannedSequence(i, (), tuple(segments.frame(row[:limit]))) for i, row in enumerate(ids)]
        order = sorted(range(len(planned)), key=lambda i: -len(planned[i].input_ids))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        network = self.model.model
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = collate(
                    [planned[i] for i in rows], [], pad_token_id=self.pad_token_id, label_input=_no_labels,
                    label_table=None, device=self.device,
                )  # fmt: skip
                hidden, _ = network.encode_sequence(batch.input_ids, batch.attention_mask)  # (B, L, D)
                mask = batch.attention_mask.bool()
                if self.uses_label_encoder:
                    vectors = network.project_text(network.pooler(hidden, mask))  # (B, D)
                else:
                    weights = mask.unsqueeze(-1).to(hidden.dtype)
                    vectors = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1)  # (B, D)
                unit = torch.nn.functional.normalize(vectors.float(), dim=-1).cpu().numpy()
                if out.shape[1] == 0:
                    out = np.zeros((len(texts), unit.shape[1]), dtype=np.float32)
                out[rows] = unit
        return out

    def _torch_forward(self, batch: ModelBatch) -> torch.Tensor:
        return self.model(batch).logits  # (B, C)

    def with_forward(self, forward: ForwardFn | None) -> ScoringEngine:
        """A copy of this engine whose batches go through ``forward`` (None: the torch model); own label cache."""
        return ScoringEngine(
            self.model, self.builder, pad_token_id=self.pad_token_id, label_tokenizer=self.label_tokenizer,
            label_max_length=self.label_max_length, forward=forward,
        )  # fmt: skip

    def clear_label_cache(self) -> None:
        """Forget cached label embeddings (call after changing the model's weights, device or dtype)."""
        self._label_cache.clear()
        self.weights_version += 1

    @property
    def device(self) -> torch.device:
        return self.model.device

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(self.device)

    # --- bi-encoder labels --------------------------------------------------------------------------------
    def label_embeddings(self, labels: Sequence[str]) -> torch.Tensor:
        """(N, D) embeddings of label texts from the label encoder, cached per text."""
        missing = [label for label in dict.fromkeys(labels) if label not in self._label_cache]
        for start in range(0, len(missing), LABEL_BATCH):
            chunk = missing[start : start + LABEL_BATCH]
            assert self.label_tokenizer is not None
            encoded = self.label_tokenizer(
                chunk, truncation=True, max_length=self.label_max_length, padding="longest", return_tensors="pt"
            )
            with torch.inference_mode():
                vectors = self.model.encode_labels(
                    self._to_device(encoded["input_ids"]), self._to_device(encoded["attention_mask"])
                )
            for label, vector in zip(chunk, vectors, strict=True):
                self._label_cache[label] = vector
                if len(self._label_cache) > LABEL_CACHE_SIZE:
                    self._label_cache.popitem(last=False)
        return torch.stack([self._label_cache[label] for label in labels])

    # --- sequences ----------------------------------------------------------------------------------------
    def _batch(
        self,
        sequences: Sequence[PlannedSequence],
        requests: Sequence[Request],
        prototypes: Sequence[Mapping[int, np.ndarray]] | None = None,
    ) -> ModelBatch:
        batch = collate(
            sequences,
            requests,
            pad_token_id=self.pad_token_id,
            label_input=self.builder.label_input,
            label_table=self.label_embeddings if self.uses_label_encoder else None,
            device=self.device,
        )
        if prototypes is None or batch.label_embeddings is None:
            return batch
        # Few-shot for bi-encoders: a label's vector becomes a mix of its name's and its examples' prototype,
        # so the dot product is a weighted sum of the two cosine similarities.
        mixed = batch.label_embeddings.clone()  # (B, C, D)
        for row, sequence in enumerate(sequences):
            for slot, label in enumerate(sequence.labels):
                prototype = prototypes[sequence.request].get(label)
                if prototype is not None:
                    vector = torch.as_tensor(prototype, dtype=mixed.dtype, device=mixed.device)
                    mixed[row, slot] = PROTOTYPE_NAME_WEIGHT * mixed[row, slot] + (1 - PROTOTYPE_NAME_WEIGHT) * vector
        return replace(batch, label_embeddings=mixed)

    def logits(
        self,
        requests: Sequence[Request],
        *,
        chunking: ChunkingOptions,
        batch_size: int,
        prototypes: Sequence[Mapping[int, np.ndarray]] | None = None,
    ) -> list[np.ndarray]:
        """One float64 logit per label of every request, windows aggregated as ``chunking`` says.

        ``prototypes`` (bi-encoders): per request, label index -> the mean embedding of that label's examples.
        """
        planned = self.builder.plan(requests, chunking)
        order = sorted(range(len(planned)), key=lambda i: -len(planned[i].input_ids))
        per_sequence: list[np.ndarray] = [np.empty(0)] * len(planned)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self._batch([planned[i] for i in rows], requests, prototypes)
                logits = self.forward(batch).float().cpu().numpy()  # (B, C)
                for row, index in enumerate(rows):
                    per_sequence[index] = logits[row, : len(planned[index].labels)].astype(np.float64)
        return self._aggregate(requests, planned, per_sequence, chunking)

    @staticmethod
    def _aggregate(
        requests: Sequence[Request],
        planned: Sequence[PlannedSequence],
        per_sequence: Sequence[np.ndarray],
        chunking: ChunkingOptions,
    ) -> list[np.ndarray]:
        use_max = chunking.window_aggregation == "max"
        totals = [np.full(len(r.labels), -np.inf if use_max else 0.0) for r in requests]
        counts = [np.zeros(len(r.labels)) for r in requests]
        for sequence, values in zip(planned, per_sequence, strict=True):
            where = np.asarray(sequence.labels, dtype=np.int64)
            if use_max:
                totals[sequence.request][where] = np.maximum(totals[sequence.request][where], values)
            else:
                totals[sequence.request][where] += values
            counts[sequence.request][where] += 1
        if use_max:
            return totals
        return [total / np.maximum(count, 1) for total, count in zip(totals, counts, strict=True)]


def collate(
    sequences: Sequence[PlannedSequence],
    requests: Sequence[Request],
    *,
    pad_token_id: int,
    label_input: Callable[[Request, int], str],
    label_table: Callable[[list[str]], torch.Tensor] | None,
    device: torch.device,
) -> ModelBatch:
    """Pad planned sequences into a ModelBatch; bi-encoders get label embeddings from ``label_table``."""
    longest = max(len(s.input_ids) for s in sequences)
    ids = torch.full((len(sequences), longest), pad_token_id, dtype=torch.long)  # (B, L)
    mask = torch.zeros((len(sequences), longest), dtype=torch.long)  # (B, L)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence.input_ids)] = torch.tensor(sequence.input_ids, dtype=torch.long)
        mask[row, : len(sequence.input_ids)] = 1
    num_slots = max(len(s.labels) for s in sequences)
    pinned = device.type == "cuda"
    ids = (ids.pin_memory() if pinned else ids).to(device, non_blocking=pinned)
    mask = (mask.pin_memory() if pinned else mask).to(device, non_blocking=pinned)
    if label_table is None:
        return ModelBatch(ids, mask, num_slots)
    names = [[label_input(requests[s.request], i) for i in s.labels] for s in sequences]
    unique = list(dict.fromkeys(name for row in names for name in row))
    table = label_table(unique)  # (N, D)
    position = {name: i for i, name in enumerate(unique)}
    index = torch.zeros((len(sequences), num_slots), dtype=torch.long)  # (B, C)
    label_mask = torch.zeros((len(sequences), num_slots), dtype=torch.bool)  # (B, C)
    for row, row_names in enumerate(names):
        index[row, : len(row_names)] = torch.tensor([position[n] for n in row_names], dtype=torch.long)
        label_mask[row, : len(row_names)] = True
    label_embeddings = table[index.to(table.device)]  # (B, C, D)
    return ModelBatch(ids, mask, num_slots, label_embeddings, label_mask.to(device))


def _no_labels(request: Request, index: int) -> str:
    raise AssertionError("text-only batches have no labels")  # pragma: no cover
