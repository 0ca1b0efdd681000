"""What the trainers share: training examples -> planned sequences -> padded batches -> model outputs with grad,
and label-slot values mapped back to the examples' labels.

One row of a batch is one planned sequence. A long text is trained on its first window only; with label chunking
an example can take several rows (one per label chunk), so per-example quantities gather over ``rows_of``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import torch

from ..inputs import InputBuilder, PlannedSequence, Request
from ..modeling.model import GLiClassModel
from ..modeling.network import ModelBatch, ScoreOutput
from ..pipeline import ZeroShotClassifier
from ..scoring import collate
from .data import TrainingExample, load_examples

__all__ = ["BatchBuilder", "PlannedBatch", "as_examples", "progress_bar"]

LABEL_MAX_LENGTH = 64  # label names are short; the label encoder reads at most this many tokens of one


@dataclass(frozen=True)
class PlannedBatch:
    """Training examples planned into sequences: row ``r`` scores ``examples[sequences[r].request]``'s labels
    ``sequences[r].labels`` (indices into its ``all_labels``) in slots ``0 .. len(labels) - 1``."""

    examples: tuple[TrainingExample, ...]
    requests: tuple[Request, ...]
    sequences: tuple[PlannedSequence, ...]

    def slot_labels(self, row: int) -> tuple[str, ...]:
        """The label names in row ``row``'s slots, in slot order."""
        sequence = self.sequences[row]
        names = self.examples[sequence.request].all_labels
        return tuple(names[i] for i in sequence.labels)

    def targets(self, like: torch.Tensor) -> torch.Tensor:
        """The examples' targets in the rows' label slots: (S, C) shaped, typed and placed like ``like``; 0 in
        padded slots."""
        targets = torch.zeros_like(like)
        for row, sequence in enumerate(self.sequences):
            values = [self.examples[sequence.request].targets[i] for i in sequence.labels]
            targets[row, : len(values)] = torch.tensor(values, device=like.device)
        return targets

    @cached_property
    def rows_of(self) -> tuple[tuple[int, ...], ...]:
        """Per example, the rows that score its labels (none when it had no labels left to plan)."""
        rows: list[list[int]] = [[] for _ in self.examples]
        for row, sequence in enumerate(self.sequences):
            rows[sequence.request].append(row)
        return tuple(tuple(r) for r in rows)


class BatchBuilder:
    """Plans and collates :class:`TrainingExample` batches for a classifier's model (the training-time twin of the
    scoring engine's batching: no label cache, so bi-encoder label embeddings keep their gradient)."""

    def __init__(self, classifier: ZeroShotClassifier, *, max_length: int | None, device: torch.device) -> None:
        self.classifier = classifier
        engine = classifier.engine
        config = classifier.model.config
        self.builder = InputBuilder(
            engine.builder.segments,
            architecture=config.architecture_type,
            prompt_first=config.prompt_first,
            max_length=max_length or engine.builder.max_length,
            lowercase_labels=classifier.lowercase_labels,
        )
        self.device = device
        self.pad_token_id = engine.pad_token_id
        self.uses_label_encoder = engine.uses_label_encoder

    def plan(self, examples: Sequence[TrainingExample]) -> PlannedBatch:
        requests = tuple(Request(e.text, e.all_labels, e.prompt, e.examples) for e in examples)
        chunking = replace(self.classifier.chunking, max_length=self.builder.max_length)
        first: dict[tuple[int, tuple[int, ...]], PlannedSequence] = {}
        for sequence in self.builder.plan(requests, chunking):  # a long text: train on its first window only
            first.setdefault((sequence.request, sequence.labels), sequence)
        return PlannedBatch(tuple(examples), requests, tuple(first.values()))

    def collate(self, planned: PlannedBatch, model: GLiClassModel) -> ModelBatch:
        """The padded batch; bi-encoders get label embeddings from ``model``'s label encoder (with grad when
        enabled, so the label encoder trains)."""

        def label_table(names: list[str]) -> torch.Tensor:
            tokenizer: Any = self.classifier.label_tokenizer
            encoded = tokenizer(
                names, truncation=True, max_length=LABEL_MAX_LENGTH, padding="longest", return_tensors="pt"
            )
            return model.encode_labels(encoded["input_ids"].to(self.device), encoded["attention_mask"].to(self.device))

        return collate(
            planned.sequences,
            planned.requests,
            pad_token_id=self.pad_token_id,
            label_input=self.builder.label_input,
            label_table=label_table if self.uses_label_encoder else None,
            device=self.device,
        )

    def forward(
        self, model: GLiClassModel, planned: PlannedBatch, *, mixed_precision: Literal["bf16", "fp16"] | None = None
    ) -> ScoreOutput:
        """Run ``model`` on the batch (autograd as the caller's context says); logits (S, C) as the model gives
        them (cast to float by the caller)."""
        batch = self.collate(planned, model)
        autocast = (
            torch.autocast(self.device.type, dtype=torch.bfloat16 if mixed_precision == "bf16" else torch.float16)
            if mixed_precision
            else nullcontext()
        )
        with autocast:
            output: ScoreOutput = model(batch)
        return output


def as_examples(data: Iterable[Any] | str | Path) -> list[TrainingExample]:
    """Training examples from a file, TrainingExamples, or reference-format row dicts (validated)."""
    if isinstance(data, (str, Path)):
        return list(load_examples(data))
    rows = list(data)
    if all(isinstance(row, TrainingExample) for row in rows):
        return rows
    return list(load_examples(rows))


def progress_bar(total: int, show: bool, description: str = "training") -> Any:
    """A tqdm bar when ``show`` and tqdm is installed, else a silent stand-in."""
    if show:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=description)
        except ImportError:
            pass

    class _Silent:
        def update(self, _: int) -> None: ...
        def set_postfix(self, **_: Any) -> None: ...
        def close(self) -> None: ...

    return _Silent()
