"""The contenders: one object per way of scoring texts against labels, all loading the same checkpoint.

Each contender has ``name``, ``kind`` ("pipeline": scores come back and are checked; "forward": timing only) and
``run(texts, labels, batch_size) -> np.ndarray | None`` (probabilities, (texts, labels)). Everything a contender
needs that is not its own work (tokenised batches of the bare forward, pair batches of the cross-encoder) is prepared
by ``prepare`` outside the timed region.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "BareForward",
    "Contender",
    "CrossEncoder",
    "OursOnnx",
    "OursTorch",
    "ReferencePipeline",
    "synchronize",
]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _matrix(rows: list[dict[str, float]], labels: list[str]) -> np.ndarray:
    return np.array([[row[label] for label in labels] for row in rows], dtype=np.float64)


@dataclass
class Contender(ABC):
    name: str
    kind: str = "pipeline"  # "pipeline" (scores checked) or "forward" (timing only)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def prepare(self, texts: list[str], labels: list[str], batch_size: int) -> None:  # noqa: B027 (optional hook)
        """Work done outside the timed region (nothing for a pipeline: tokenising is part of its job)."""

    @abstractmethod
    def run(self, texts: list[str], labels: list[str], batch_size: int) -> np.ndarray | None:
        """One timed call: the (texts, labels) probabilities, or None for a timing-only contender."""

    def pairs_per_call(self, texts: list[str], labels: list[str]) -> int | None:
        """For contenders that time a sample of their work: how many of the work items one call covers."""
        return None


@dataclass
class ReferencePipeline(Contender):
    """``gliclass.ZeroShotClassificationPipeline`` (the reference library, benchmark extra), progress bar off."""

    checkpoint: Path = Path()
    dtype: torch.dtype = torch.float32

    def __post_init__(self) -> None:
        import gliclass
        from transformers import AutoTokenizer

        model = gliclass.GLiClassModel.from_pretrained(str(self.checkpoint)).to(self.device, self.dtype).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(self.checkpoint))
        self.model = model
        self.pipeline = gliclass.ZeroShotClassificationPipeline(
            model, tokenizer, classification_type="multi-label", device=str(self.device), progress_bar=False
        )

    def run(self, texts: list[str], labels: list[str], batch_size: int) -> np.ndarray:
        rows = self.pipeline(texts, labels, threshold=0.0, batch_size=batch_size, return_hierarchical=True)
        return _matrix(rows, labels)


@dataclass
class OursTorch(Contender):
    """``gliclass_rag.ZeroShotClassifier`` (torch), optionally in bf16/fp16."""

    checkpoint: Path = Path()
    dtype: torch.dtype = torch.float32

    def __post_init__(self) -> None:
        from gliclass_rag import ZeroShotClassifier

        self.classifier = ZeroShotClassifier.from_pretrained(self.checkpoint, device=self.device, dtype=self.dtype)

    def run(self, texts: list[str], labels: list[str], batch_size: int) -> np.ndarray:
        return _matrix(self.classifier.scores(texts, labels, batch_size=batch_size), labels)


@dataclass
class OursOnnx(Contender):
    """``ZeroShotClassifier.to_onnx(cache, quantize=...)``: ONNX Runtime on the CPU, fp32 or int8 dynamic."""

    checkpoint: Path = Path()
    cache: Path = Path()
    quantize: bool = False

    def __post_init__(self) -> None:
        from gliclass_rag import ZeroShotClassifier

        base = ZeroShotClassifier.from_pretrained(self.checkpoint)
        self.classifier = base.to_onnx(self.cache, quantize=self.quantize)

    def run(self, texts: list[str], labels: list[str], batch_size: int) -> np.ndarray:
        return _matrix(self.classifier.scores(texts, labels, batch_size=batch_size), labels)


@dataclass
class BareForward(Contender):
    """The reference model's forward alone (transformers' DeBERTa, encoder + GLiClass heads) on the batches the
    reference pipeline itself would build, tokenised beforehand: the ceiling for any pipeline over that model."""

    reference: ReferencePipeline | None = None
    kind: str = "forward"

    def prepare(self, texts: list[str], labels: list[str], batch_size: int) -> None:
        assert self.reference is not None
        pipe = self.reference.pipeline.pipe
        self.batches = [
            pipe.prepare_inputs(texts[i : i + batch_size], labels, True) for i in range(0, len(texts), batch_size)
        ]
        self.num_labels = len(labels)

    @torch.inference_mode()
    def run(self, texts: list[str], labels: list[str], batch_size: int) -> None:
        assert self.reference is not None
        for inputs in self.batches:
            self.reference.model(**inputs, max_num_classes=self.num_labels)
        synchronize(self.device)
        return None


@dataclass
class CrossEncoder(Contender):
    """A pairwise cross-encoder on the same backbone shape: one forward per (text, label) pair, a linear head on
    [CLS] (``DebertaV2ForSequenceClassification``, the encoder weights copied from the checkpoint).

    Its cost is exactly linear in the number of pairs, so a call times a sample of ``max_pairs`` pairs (the first
    labels of each text, in batches of ``batch_size`` pairs) and the runner scales texts/s by the share sampled.
    """

    checkpoint: Path = Path()
    max_pairs: int = 64
    kind: str = "forward"
    dtype: torch.dtype = torch.float32

    def __post_init__(self) -> None:
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, DebertaV2ForSequenceClassification

        from gliclass_rag import GLiClassConfig

        config = GLiClassConfig.from_pretrained(self.checkpoint)
        encoder_config = copy.deepcopy(config.encoder_config)
        encoder_config.vocab_size = int(config.vocab_size or encoder_config.vocab_size)
        encoder_config.num_labels = 1
        model = DebertaV2ForSequenceClassification(encoder_config)
        weights = load_file(str(self.checkpoint / "model.safetensors"))
        prefix = "model.encoder_model."
        encoder = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
        model.deberta.load_state_dict(encoder, strict=False)
        self.model = model.to(self.device, self.dtype).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.checkpoint))

    def _pairs(self, texts: list[str], labels: list[str]) -> list[tuple[str, str]]:
        pairs = [(text, label) for label in labels for text in texts]  # label-major: every text, label by label
        return pairs[: self.max_pairs]

    def pairs_per_call(self, texts: list[str], labels: list[str]) -> int:
        return len(self._pairs(texts, labels))

    def prepare(self, texts: list[str], labels: list[str], batch_size: int) -> None:
        pairs = self._pairs(texts, labels)
        self.batches = []
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            encoded = self.tokenizer(
                [p[0] for p in chunk], [p[1] for p in chunk], padding="longest", truncation=True,
                max_length=1024, return_tensors="pt",
            )  # fmt: skip
            self.batches.append({k: v.to(self.device) for k, v in encoded.items() if k != "token_type_ids"})

    @torch.inference_mode()
    def run(self, texts: list[str], labels: list[str], batch_size: int) -> None:
        for inputs in self.batches:
            self.model(**inputs)
        synchronize(self.device)
        return None

    def tokens_per_call(self) -> list[int]:
        return [int(mask.sum()) for batch in self.batches for mask in batch["attention_mask"]]
