"""GLiClassModel: loads and saves reference-format checkpoints (same config, same safetensors keys)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import GLiClassConfig
from ..errors import CheckpointError
from .base_weights import apply_base_weights
from .calibrator import LearnedCalibrator
from .checkpoint import WEIGHTS_NAME, aliases, read_weights, refuse_pickle_only, resolve_checkpoint, write_weights
from .network import GLiClassNetwork, ModelBatch, ScoreOutput

__all__ = ["GLiClassModel"]

# Unexpected keys that are dropped silently (the reference ignores these too).
IGNORED_KEY_PARTS = ("position_embeddings", "position_ids")


class GLiClassModel(nn.Module):
    """A GLiClass model: ``model`` (the network) and, when the checkpoint has one, ``calibrator``."""

    def __init__(self, config: GLiClassConfig, *, initialize: bool = True) -> None:
        super().__init__()
        self.config = config
        self.model = GLiClassNetwork(config, initialize=initialize)
        self.calibrator: LearnedCalibrator | None = None
        if config.use_calibrator:
            self.calibrator = LearnedCalibrator(
                config.encoder_hidden_size,
                hidden_size=config.calibrator_hidden_size,
                beta_max=config.calibrator_beta_max,
                dropout=config.calibrator_dropout,
                use_bias=config.calibrator_use_bias,
            )

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def forward(self, batch: ModelBatch) -> ScoreOutput:
        output: ScoreOutput = self.model(batch)
        if self.calibrator is None:
            return output
        logits = self.calibrator(output.text_embeddings, output.class_embeddings, output.logits, output.label_mask)
        return ScoreOutput(logits, output.label_mask, output.text_embeddings, output.class_embeddings)

    def encode_labels(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.encode_labels(input_ids, attention_mask)

    # --- loading ------------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool | None = None,
    ) -> GLiClassModel:
        """Load ``config.json`` + ``model.safetensors`` from a directory or a hub repo id (safetensors only)."""
        directory = resolve_checkpoint(
            name_or_path, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only
        )
        refuse_pickle_only(directory)  # before the config: a pickle-only directory is unsafe, not just incomplete
        config = GLiClassConfig.from_pretrained(directory)
        model = cls(config, initialize=False)
        weights = read_weights(directory)
        weights = apply_base_weights(config, directory, weights)
        model.load_weights(weights, source=str(directory))
        model.eval()
        if device is not None or dtype is not None:
            model.to(device=device, dtype=dtype)
        return model

    def load_weights(self, weights: Mapping[str, torch.Tensor], *, source: str = "checkpoint") -> None:
        """Load a full state dict; a key missing from it is an error unless it is tied to one that is present."""
        expected = self.state_dict(keep_vars=True)
        tied = aliases(expected.items())
        provided = {k: v for k, v in weights.items() if k in expected}
        for keys in tied.values():  # a tied weight saved once satisfies all its names
            present = next((k for k in keys if k in provided), None)
            if present is not None:
                provided.update({k: provided[present] for k in keys})
        missing = sorted(k for k in expected if k not in provided and not k.endswith("position_ids"))
        if missing:
            shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
            msg = f"{source} lacks {len(missing)} weights this config needs: {shown}"
            raise CheckpointError(msg)
        unexpected = sorted(k for k in weights if k not in expected and not any(p in k for p in IGNORED_KEY_PARTS))
        if unexpected:
            shown = ", ".join(unexpected[:8]) + (" ..." if len(unexpected) > 8 else "")
            warnings.warn(f"{source} has {len(unexpected)} weights this config does not use: {shown}", stacklevel=3)
        for key, tensor in provided.items():
            if tuple(tensor.shape) != tuple(expected[key].shape):
                msg = (
                    f"{source}: {key} has shape {tuple(tensor.shape)}, the config expects {tuple(expected[key].shape)}"
                )
                raise CheckpointError(msg)
        self.load_state_dict(provided, strict=False)

    # --- saving -------------------------------------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (reference layout) into ``directory``."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.config.save_pretrained(path)
        state = {k: v for k, v in self.state_dict().items() if not k.endswith("position_ids")}
        write_weights(state, path / WEIGHTS_NAME, metadata={k: str(v) for k, v in (metadata or {}).items()})
        return path
