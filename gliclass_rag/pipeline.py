"""ZeroShotClassifier: the pipeline users call — classify, scores, rerank."""

from __future__ import annotations

import copy
import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np
import torch

from .calibration import Calibration
from .errors import CheckpointError, InvalidInputError
from .inputs import ChunkingOptions, InputBuilder, Request, RetrievedExample
from .modeling.checkpoint import resolve_checkpoint
from .modeling.model import GLiClassModel
from .rac import ExampleStore
from .requests import (
    ExamplesArg,
    LabelsArg,
    build_requests,
    normalize_texts,
    validate_batch_size,
    validate_threshold,
    validate_top_k,
)
from .results import LabelScore, RankedPassage
from .scoring import ScoringEngine
from .tokens import SegmentTokenizer

__all__ = ["SUPPORTED_DTYPES", "ZeroShotClassifier", "default_model_path", "parse_device", "parse_dtype"]

REFERENCE_MAX_LENGTH = 1024  # the reference pipeline's max_length
LABEL_TOKENIZER_DIR = "label_tokenizer"
DTYPES = {
    "float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
}  # fmt: skip


SUPPORTED_DTYPES = tuple(DTYPES)  # the dtype names from_pretrained accepts


def default_model_path() -> Path:
    """Where the embedded default model lives (inside the installed package)."""
    return Path(__file__).parent / "models" / "default"


def parse_device(device: str | torch.device | None) -> torch.device:
    """A torch device from ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"`` or None (auto: cuda when present)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise InvalidInputError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', but got {device!r}") from error


def parse_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """A torch dtype from a dtype or one of SUPPORTED_DTYPES' names; None stays None."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype.lower() in DTYPES:
        return DTYPES[dtype.lower()]
    raise InvalidInputError(f"dtype must be a torch.dtype or one of {sorted(DTYPES)}, but got {dtype!r}")


def _position_limit(encoder_config: Any) -> int | None:
    """Longest input the backbone's position embeddings allow (None: relative positions, no hard limit)."""
    model_type = getattr(encoder_config, "model_type", "")
    if model_type in ("t5", "mt5", "umt5"):
        return None
    if model_type in ("deberta-v2", "deberta") and not getattr(encoder_config, "position_biased_input", True):
        return None
    limit = getattr(encoder_config, "max_position_embeddings", None)
    return int(limit) if limit else None


class ZeroShotClassifier:
    """Score texts against any labels in one encoder pass per text (GLiClass).

    >>> clf = ZeroShotClassifier.from_pretrained()  # the embedded default model, offline
    >>> clf.classify("The rocket reached orbit", ["space", "sports"])  # doctest: +SKIP
    [LabelScore(label='space', score=0.93)]
    """

    def __init__(
        self,
        model: GLiClassModel,
        tokenizer: Any,
        *,
        label_tokenizer: Any | None = None,
        chunking: ChunkingOptions | None = None,
        lowercase_labels: bool = False,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.label_tokenizer = label_tokenizer
        config = model.config
        default_length = REFERENCE_MAX_LENGTH
        limit = _position_limit(config.encoder_config)
        if limit is not None:
            default_length = min(default_length, limit)
        chunking = chunking or ChunkingOptions()
        rag_chunk = config.rag.get("label_chunk_size")
        if chunking.label_chunk_size is None and rag_chunk:
            chunking = replace(chunking, label_chunk_size=int(rag_chunk))
        if chunking.max_length is None:
            chunking = replace(chunking, max_length=default_length)
        self.chunking = chunking
        self.lowercase_labels = lowercase_labels
        uses_label_encoder = model.model.architecture.uses_label_encoder
        if uses_label_encoder and label_tokenizer is None:
            raise InvalidInputError(f"a {config.architecture_type} model needs label_tokenizer")
        segments = SegmentTokenizer(tokenizer)
        assert chunking.max_length is not None
        builder = InputBuilder(
            segments,
            architecture=config.architecture_type,
            prompt_first=config.prompt_first,
            max_length=chunking.max_length,
            lowercase_labels=lowercase_labels,
        )
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (config.pad_token_id or 0)
        self._engine = ScoringEngine(model, builder, pad_token_id=int(pad), label_tokenizer=label_tokenizer)
        self._calibration = Calibration.from_dict(config.rag.get("calibration"))
        # One call at a time: caches are shared, and two threads on one CPU model gain nothing.
        self._lock = threading.RLock()
        self.name_or_path: str | None = None  # where from_pretrained found it (None when built in code)
        self.is_embedded_default = False  # loaded by from_pretrained() with no name: serialise as model=None

    def __getstate__(self) -> dict[str, Any]:  # copies (copy.deepcopy) get a lock of their own
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # --- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str] | None = None,
        *,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        lowercase_labels: bool = False,
        chunking: ChunkingOptions | None = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool | None = None,
    ) -> ZeroShotClassifier:
        """Load a GLiClass checkpoint (directory or hub id); with no name, the embedded default model (offline).

        ``lowercase_labels=True`` lower-cases labels as releases before 2026-01 did (for older checkpoints).
        """
        from transformers import AutoTokenizer

        if name_or_path is None:
            name_or_path = default_model_path()
            if not (Path(name_or_path) / "config.json").is_file():
                raise CheckpointError(
                    f"the embedded default model is missing from {name_or_path}; reinstall gliclass-rag"
                )
        directory = resolve_checkpoint(
            name_or_path, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only
        )
        model = GLiClassModel.from_pretrained(directory, device=parse_device(device), dtype=parse_dtype(dtype))
        # config= keeps transformers from reading our config.json (it is not a tokenizer's model type)
        tokenizer = AutoTokenizer.from_pretrained(
            str(directory), config=model.config.encoder_config, trust_remote_code=False
        )
        label_tokenizer = None
        if model.model.architecture.uses_label_encoder:
            label_tokenizer = cls._load_label_tokenizer(directory, model.config.label_model_name)
        classifier = cls(
            model, tokenizer, label_tokenizer=label_tokenizer, chunking=chunking, lowercase_labels=lowercase_labels
        )
        classifier.is_embedded_default = Path(name_or_path) == default_model_path()
        classifier.name_or_path = None if classifier.is_embedded_default else str(name_or_path)
        return classifier

    @staticmethod
    def _load_label_tokenizer(directory: Path, label_model_name: str | None) -> Any:
        from transformers import AutoTokenizer

        candidates = [directory / LABEL_TOKENIZER_DIR]
        if label_model_name:
            candidates += [directory / label_model_name, Path(label_model_name).expanduser()]
        for candidate in candidates:
            if candidate.is_dir():
                return AutoTokenizer.from_pretrained(str(candidate), trust_remote_code=False)
        if not label_model_name:
            raise CheckpointError(f"{directory} is a bi-encoder without label_model_name or {LABEL_TOKENIZER_DIR}/")
        return AutoTokenizer.from_pretrained(str(resolve_checkpoint(label_model_name)), trust_remote_code=False)

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write a self-contained checkpoint: config, weights, tokenizer (and label tokenizer for bi-encoders)."""
        path = self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(str(path))
        if self.label_tokenizer is not None:
            self.label_tokenizer.save_pretrained(str(path / LABEL_TOKENIZER_DIR))
        return path

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def engine(self) -> ScoringEngine:
        """The batching/scoring engine (for the training and benchmark code of this package)."""
        return self._engine

    @property
    def calibration(self) -> Calibration:
        return self._calibration

    def with_calibration(self, calibration: Calibration) -> ZeroShotClassifier:
        """Use ``calibration`` from now on (saved with the model by :meth:`save_pretrained`); returns self."""
        if not isinstance(calibration, Calibration):
            raise InvalidInputError(f"calibration must be a Calibration, not {type(calibration).__name__}")
        self._calibration = calibration
        self.model.config = self.model.config.replace(
            rag={**self.model.config.rag, "calibration": calibration.to_dict()}
        )
        return self

    def to(
        self, device: str | torch.device | None = None, dtype: str | torch.dtype | None = None
    ) -> ZeroShotClassifier:
        """Move the model (in place, like ``nn.Module.to``); cached label embeddings are dropped."""
        self.model.to(device=parse_device(device) if device is not None else None, dtype=parse_dtype(dtype))
        self._engine.clear_label_cache()
        return self

    def to_onnx(
        self, directory: str | os.PathLike[str], *, quantize: bool = False, num_threads: int | None = None
    ) -> ZeroShotClassifier:
        """A classifier that runs this model's forward with ONNX Runtime on the CPU (the ``onnx`` extra).

        The export (and, with ``quantize=True``, its int8 dynamic quantisation) is written into ``directory`` once
        and reused while the weights stay the same. Tokenisation, chunking and batching are unchanged; ``self`` is
        not modified (both share the torch model, which bi-encoders still use for label embeddings).
        """
        from .onnx import OnnxForward

        forward = OnnxForward.from_model(self.model, directory, quantize=quantize, num_threads=num_threads)
        clone = copy.copy(self)
        clone._engine = self._engine.with_forward(forward)
        clone._lock = self._lock  # the torch model and tokenisation caches stay shared: so does the lock
        return clone

    @property
    def backend(self) -> str:
        """``"torch"``, or ``"onnx"`` / ``"onnx-int8"`` for a classifier made by :meth:`to_onnx`."""
        forward = getattr(self._engine.forward, "path", None)
        if forward is None:
            return "torch"
        return "onnx-int8" if str(forward).endswith("-int8.onnx") else "onnx"

    # --- embeddings and few-shot ---------------------------------------------------------------------------
    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """(N, D) L2-normalised text vectors from this model's own encoder (an ExampleStore embedder)."""
        validate_batch_size(batch_size)
        with self._lock:
            return self._engine.embed_texts(normalize_texts(list(texts)), batch_size=batch_size)

    @property
    def embedder_id(self) -> str:
        """Identifies this model's embedding space (stores re-embed when it changes): a digest of some weights,
        plus a counter that training and ``to()`` bump through ``engine.clear_label_cache()``."""
        return f"{self._weights_digest}:{self._engine.weights_version}"

    @cached_property
    def _weights_digest(self) -> str:
        digest = hashlib.sha1(self.model.config.architecture_type.encode())
        for _, parameter in list(self.model.named_parameters())[:3] + list(self.model.named_parameters())[-3:]:
            digest.update(parameter.detach().float().cpu().numpy().tobytes()[:4096])
        return f"gliclass:{digest.hexdigest()[:16]}"

    def _few_shot(
        self, requests: list[Request], store: ExampleStore | None, k: int, batch_size: int
    ) -> tuple[list[Request], list[dict[int, np.ndarray]] | None]:
        """Retrieved examples into the requests (uni-encoder, fused) or label prototypes (bi-encoder)."""
        prototype_mode = self.model.config.architecture_type == "bi-encoder"
        hits: list[list[Any]] = [[] for _ in requests]
        if store is not None:
            if not isinstance(store, ExampleStore):
                raise InvalidInputError(f"examples_store must be an ExampleStore, not {type(store).__name__}")
            queries = self.embed([r.text for r in requests], batch_size=batch_size)
            hits = store.search(
                [r.text for r in requests], k, labels=[r.labels for r in requests], per_label=prototype_mode,
                embedder=self, query_embeddings=queries,
            )  # fmt: skip
        if not prototype_mode:
            if store is None:
                return requests, None
            retrieved = [
                tuple(RetrievedExample(h.text, tuple(x for x in h.labels if x in r.labels), ()) for h in row)
                for r, row in zip(requests, hits, strict=True)
            ]
            return [replace(r, retrieved=found) for r, found in zip(requests, retrieved, strict=True)], None
        if store is None and not any(r.examples for r in requests):
            return requests, None
        stored = store.embeddings(self) if store is not None else None
        shown = list(dict.fromkeys(e.text for r in requests for e in r.examples))
        shown_vectors = dict(zip(shown, self.embed(shown, batch_size=batch_size), strict=True)) if shown else {}
        prototypes: list[dict[int, np.ndarray]] = []
        for request, row in zip(requests, hits, strict=True):
            vectors: dict[int, list[np.ndarray]] = {}
            where = {label: i for i, label in enumerate(request.labels)}
            sources = [(e.labels, shown_vectors[e.text]) for e in request.examples]
            sources += [(h.labels, stored[h.index]) for h in row] if stored is not None else []
            for example_labels, vector in sources:
                for label in example_labels:
                    if label in where:
                        vectors.setdefault(where[label], []).append(vector)
            prototypes.append({i: _unit(np.mean(v, axis=0)) for i, v in vectors.items()})
        return [replace(r, examples=()) for r in requests], prototypes

    # --- scoring ------------------------------------------------------------------------------------------
    def _probabilities(
        self,
        requests: list[Request],
        *,
        multi_label: bool,
        batch_size: int,
        examples_store: ExampleStore | None = None,
        k: int = 8,
    ) -> list[np.ndarray]:
        validate_batch_size(batch_size)
        if not isinstance(multi_label, bool):
            raise InvalidInputError(f"multi_label must be True or False, but got {multi_label!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidInputError(f"k must be a positive int, but got {k!r}")
        with self._lock:
            requests, prototypes = self._few_shot(requests, examples_store, k, batch_size)
            logits = self._engine.logits(requests, chunking=self.chunking, batch_size=batch_size, prototypes=prototypes)
        logits = [self._calibration.apply(row, r.labels) for row, r in zip(logits, requests, strict=True)]
        if multi_label:
            return [1.0 / (1.0 + np.exp(-row)) for row in logits]
        return [np.exp(row - row.max()) / np.exp(row - row.max()).sum() for row in logits]

    def _requests(
        self,
        texts: str | Sequence[str],
        labels: LabelsArg,
        prompt: str | Sequence[str] | None,
        examples: ExamplesArg | None,
        label_descriptions: Mapping[str, str] | None,
    ) -> list[Request]:
        return build_requests(
            normalize_texts(texts), labels, prompt=prompt, examples=examples, label_descriptions=label_descriptions
        )

    @overload
    def scores(  # type: ignore[overload-overlap]  # a str is also a Sequence[str]
        self,
        texts: str,
        labels: LabelsArg,
        *,
        multi_label: bool = ...,
        prompt: str | Sequence[str] | None = ...,
        examples: ExamplesArg | None = ...,
        label_descriptions: Mapping[str, str] | None = ...,
        batch_size: int = ...,
        examples_store: ExampleStore | None = ...,
        k: int = ...,
    ) -> dict[str, float]: ...
    @overload
    def scores(
        self,
        texts: Sequence[str],
        labels: LabelsArg,
        *,
        multi_label: bool = ...,
        prompt: str | Sequence[str] | None = ...,
        examples: ExamplesArg | None = ...,
        label_descriptions: Mapping[str, str] | None = ...,
        batch_size: int = ...,
        examples_store: ExampleStore | None = ...,
        k: int = ...,
    ) -> list[dict[str, float]]: ...
    def scores(
        self,
        texts: str | Sequence[str],
        labels: LabelsArg,
        *,
        multi_label: bool = True,
        prompt: str | Sequence[str] | None = None,
        examples: ExamplesArg | None = None,
        label_descriptions: Mapping[str, str] | None = None,
        batch_size: int = 8,
        examples_store: ExampleStore | None = None,
        k: int = 8,
    ) -> dict[str, float] | list[dict[str, float]]:
        """Every label's score for every text, in label order (sigmoid; softmax when ``multi_label=False``).

        Few-shot: ``examples`` (``{"text", "labels"}`` dicts, shared or one list per text) are shown to the model;
        ``examples_store`` retrieves the ``k`` nearest stored examples per text (see :class:`ExampleStore`).
        """
        requests = self._requests(texts, labels, prompt, examples, label_descriptions)
        probabilities = self._probabilities(
            requests, multi_label=multi_label, batch_size=batch_size, examples_store=examples_store, k=k
        )
        out = [
            {label: float(p) for label, p in zip(r.labels, row, strict=True)}
            for r, row in zip(requests, probabilities, strict=True)
        ]
        return out[0] if isinstance(texts, str) else out

    @overload
    def classify(  # type: ignore[overload-overlap]  # a str is also a Sequence[str]
        self,
        texts: str,
        labels: LabelsArg,
        *,
        multi_label: bool = ...,
        threshold: float | Mapping[str, float] = ...,
        top_k: int | None = ...,
        prompt: str | Sequence[str] | None = ...,
        examples: ExamplesArg | None = ...,
        label_descriptions: Mapping[str, str] | None = ...,
        batch_size: int = ...,
        examples_store: ExampleStore | None = ...,
        k: int = ...,
    ) -> list[LabelScore]: ...
    @overload
    def classify(
        self,
        texts: Sequence[str],
        labels: LabelsArg,
        *,
        multi_label: bool = ...,
        threshold: float | Mapping[str, float] = ...,
        top_k: int | None = ...,
        prompt: str | Sequence[str] | None = ...,
        examples: ExamplesArg | None = ...,
        label_descriptions: Mapping[str, str] | None = ...,
        batch_size: int = ...,
        examples_store: ExampleStore | None = ...,
        k: int = ...,
    ) -> list[list[LabelScore]]: ...
    def classify(
        self,
        texts: str | Sequence[str],
        labels: LabelsArg,
        *,
        multi_label: bool = True,
        threshold: float | Mapping[str, float] = 0.5,
        top_k: int | None = None,
        prompt: str | Sequence[str] | None = None,
        examples: ExamplesArg | None = None,
        label_descriptions: Mapping[str, str] | None = None,
        batch_size: int = 8,
        examples_store: ExampleStore | None = None,
        k: int = 8,
    ) -> list[LabelScore] | list[list[LabelScore]]:
        """Labels that apply to each text, best first.

        Multi-label: every label whose sigmoid score reaches its threshold (a float, or a dict label -> float
        with 0.5 for labels it does not name). Single-label: the top label of a softmax over the text's labels
        (``top_k`` to see more); the threshold is not used. ``top_k`` caps the list.
        """
        validate_top_k(top_k)
        requests = self._requests(texts, labels, prompt, examples, label_descriptions)
        validate_threshold(threshold, {label for r in requests for label in r.labels})
        probabilities = self._probabilities(
            requests, multi_label=multi_label, batch_size=batch_size, examples_store=examples_store, k=k
        )
        out = []
        for request, row in zip(requests, probabilities, strict=True):
            ranked = sorted(zip(request.labels, row.tolist(), strict=True), key=lambda pair: -pair[1])
            if multi_label:
                cut = threshold if isinstance(threshold, Mapping) else {}
                default = 0.5 if isinstance(threshold, Mapping) else float(threshold)
                ranked = [(label, s) for label, s in ranked if s >= float(cut.get(label, default))]
            else:
                ranked = ranked[: top_k or 1]
            out.append([LabelScore(label, score) for label, score in ranked[:top_k]])
        return out[0] if isinstance(texts, str) else out

    def rerank(
        self, query: str, passages: Sequence[str], *, top_k: int | None = None, batch_size: int = 8
    ) -> list[RankedPassage]:
        """Passages ranked by relevance to the query (the query is scored as the single label of each passage)."""
        validate_top_k(top_k)
        (query,) = normalize_texts(query, "query")
        if isinstance(passages, str):
            raise InvalidInputError("passages must be a list of str, not one str")
        if len(passages) == 0:
            return []
        passages = normalize_texts(list(passages), "passages")
        requests = [Request(passage, (query,)) for passage in passages]
        scores = [float(row[0]) for row in self._probabilities(requests, multi_label=True, batch_size=batch_size)]
        order = sorted(range(len(passages)), key=lambda i: (-scores[i], i))
        return [RankedPassage(i, scores[i], passages[i]) for i in order[:top_k]]


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)
