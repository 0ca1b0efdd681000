"""The ONNX Runtime backend: the model's forward exported to ONNX, optionally int8-quantised, run by ONNX Runtime.

Only the model's forward moves: planning, tokenisation, chunking, batching and aggregation stay the torch
pipeline's (:class:`~gliclass_rag.scoring.ScoringEngine` calls an :class:`OnnxForward` instead of the module), so an
ONNX classifier accepts every option and returns the same structures. Bi-encoders export the text side; label
embeddings still come from the torch label encoder and its per-label cache (a one-off cost per label).

Exports are cached in a directory the caller gives (nothing is written anywhere else), under a name derived from
the weights, the config and the export settings, so that a changed model never reuses a stale file::

    clf = ZeroShotClassifier.from_pretrained(path).to_onnx("onnx-cache/", quantize=True)

Needs the ``onnx`` extra (``onnxruntime`` and ``onnx``); the rest of the package imports without it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._version import __version__
from .errors import InvalidInputError, MissingDependencyError
from .modeling.model import GLiClassModel
from .modeling.network import ModelBatch

__all__ = ["ONNX_OPSET", "OnnxForward", "export_onnx", "onnx_paths", "quantize_onnx"]

ONNX_OPSET = 17
EXPORT_FORMAT = 2  # bump when the exported graph's inputs/outputs change: old cached files are then not reused


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise MissingDependencyError("onnxruntime", "onnx", "The ONNX backend") from error
    return onnxruntime


class _Exportable(nn.Module):
    """GLiClassModel.forward with tensor-only inputs: the number of label slots is the length of ``label_slots``."""

    def __init__(self, model: GLiClassModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,  # (B, L)
        attention_mask: torch.Tensor,  # (B, L)
        label_slots: torch.Tensor,  # (C,) any values: only its length is read
        label_embeddings: torch.Tensor | None = None,  # (B, C, D) bi-encoders
        label_mask: torch.Tensor | None = None,  # (B, C) bi-encoders
    ) -> torch.Tensor:
        batch = ModelBatch(input_ids, attention_mask, label_slots.shape[0], label_embeddings, label_mask)
        return self.model(batch).logits  # (B, C)


def _uses_label_encoder(model: GLiClassModel) -> bool:
    return bool(model.model.architecture.uses_label_encoder)


def _fingerprint(model: GLiClassModel) -> str:
    """Identifies weights + config + export settings (a changed model never reuses a cached export)."""
    digest = hashlib.sha256()
    config = model.config
    digest.update(json.dumps(config.to_dict(), sort_keys=True, default=str).encode())
    digest.update(f"{ONNX_OPSET}:{EXPORT_FORMAT}:{torch.__version__}".encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class OnnxPaths:
    fp32: Path
    int8: Path


def onnx_paths(model: GLiClassModel, directory: str | os.PathLike[str]) -> OnnxPaths:
    """Where the float32 and int8 exports of ``model`` live in ``directory``."""
    stem = f"gliclass-{_fingerprint(model)}"
    return OnnxPaths(Path(directory) / f"{stem}.onnx", Path(directory) / f"{stem}-int8.onnx")


def export_onnx(model: GLiClassModel, path: str | os.PathLike[str]) -> Path:
    """Export ``model``'s forward (float32, CPU) to ``path`` with dynamic batch, sequence and label axes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = model
    if model.device.type != "cpu" or model.dtype != torch.float32:
        source = copy.deepcopy(model).to("cpu", torch.float32)
    wrapper = _Exportable(source).eval()
    config = source.config
    ids = torch.full((2, 12), 5, dtype=torch.long)  # (B, L); any in-vocabulary id
    mask = torch.ones_like(ids)
    inputs: tuple[torch.Tensor, ...] = (ids, mask, torch.arange(2))
    names = ["input_ids", "attention_mask", "label_slots"]
    axes: dict[str, dict[int, str]] = {
        "input_ids": {0: "batch", 1: "sequence"},
        "attention_mask": {0: "batch", 1: "sequence"},
        "label_slots": {0: "labels"},
        "logits": {0: "batch", 1: "labels"},
    }
    if config.architecture_type != "bi-encoder":
        ids[:, 1:3] = config.class_token_index  # uni-encoder / fused: two label markers
        ids[:, 3] = config.text_token_index
    if _uses_label_encoder(source):
        width = int(config.hidden_size or config.encoder_hidden_size)
        inputs += (torch.randn(2, 2, width), torch.ones(2, 2, dtype=torch.bool))
        names += ["label_embeddings", "label_mask"]
        axes |= {"label_embeddings": {0: "batch", 1: "labels"}, "label_mask": {0: "batch", 1: "labels"}}
    partial = path.with_name(path.name + ".partial")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's tracer warnings are about shapes we made dynamic on purpose
        torch.onnx.export(
            wrapper,
            inputs,
            str(partial),
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            do_constant_folding=True,
        )
    os.replace(partial, path)  # a crash mid-export never leaves a file that looks complete
    return path


def quantize_onnx(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """int8 dynamic quantisation of the backbone's MatMuls (weights int8 per tensor, activations at run time).

    The heads (projectors, scorer, calibrator) stay float32: they run once per pooled vector, so they cost nothing,
    and they are where quantisation hurts most (an identity-initialised projector adds a large shift before its
    activation, which a per-tensor int8 range cannot resolve). Per-tensor weight scales: on AVX2 machines (no VNNI)
    per-channel scales gave larger errors in our measurements.
    """
    _onnxruntime()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = Path(target)
    graph = onnx.load(str(source), load_external_data=False).graph
    heads = [n.name for n in graph.node if n.op_type in ("MatMul", "Gemm") and "/encoder_model/" not in n.name]
    partial = target.with_name(target.name + ".partial")
    quantize_dynamic(
        str(source), str(partial), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
        nodes_to_exclude=heads,
    )  # fmt: skip
    os.replace(partial, target)
    return target


class OnnxForward:
    """An ONNX Runtime session with the engine's forward signature: ``ModelBatch -> logits (B, C)``."""

    def __init__(self, path: str | os.PathLike[str], *, num_threads: int | None = None) -> None:
        ort = _onnxruntime()
        if num_threads is not None and (isinstance(num_threads, bool) or num_threads < 1):
            raise InvalidInputError(f"num_threads must be a positive int or None, but got {num_threads!r}")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = num_threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.path = Path(path)
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.input_names = {item.name for item in self.session.get_inputs()}

    def __call__(self, batch: ModelBatch) -> torch.Tensor:
        feed: dict[str, np.ndarray] = {
            "input_ids": batch.input_ids.cpu().numpy().astype(np.int64, copy=False),
            "attention_mask": batch.attention_mask.cpu().numpy().astype(np.int64, copy=False),
        }
        if "label_slots" in self.input_names:  # bi-encoders take the slot count from label_embeddings instead
            feed["label_slots"] = np.arange(batch.num_slots, dtype=np.int64)
        if "label_embeddings" in self.input_names:
            if batch.label_embeddings is None or batch.label_mask is None:
                raise InvalidInputError("this ONNX model is a bi-encoder: batches need label_embeddings")
            feed["label_embeddings"] = batch.label_embeddings.detach().float().cpu().numpy()
            feed["label_mask"] = batch.label_mask.cpu().numpy().astype(bool, copy=False)
        (logits,) = self.session.run(["logits"], feed)
        return torch.from_numpy(logits)  # (B, C)

    @classmethod
    def from_model(
        cls,
        model: GLiClassModel,
        directory: str | os.PathLike[str],
        *,
        quantize: bool = False,
        num_threads: int | None = None,
    ) -> OnnxForward:
        """Export (and quantise) ``model`` into ``directory`` unless a matching export is already there."""
        _onnxruntime()
        if not isinstance(quantize, bool):
            raise InvalidInputError(f"quantize must be True or False, but got {quantize!r}")
        paths = onnx_paths(model, directory)
        if not paths.fp32.is_file():
            export_onnx(model, paths.fp32)
        if quantize and not paths.int8.is_file():
            quantize_onnx(paths.fp32, paths.int8)
        return cls(paths.int8 if quantize else paths.fp32, num_threads=num_threads)

    def __repr__(self) -> str:
        return f"OnnxForward({str(self.path)!r}, gliclass_rag {__version__})"
