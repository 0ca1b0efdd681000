"""Tiny models for this repository's tests: the public builders of :mod:`gliclass_rag.testing`, plus test setup.

Import as ``from tiny import ...`` (``tests/`` is on ``sys.path`` under pytest's default import mode).
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch

from gliclass_rag.testing import (
    ARCHITECTURES,
    HIDDEN,
    LABELS,
    MARKERS,
    PROBE_TEXTS,
    build_classifier,
    build_tokenizer,
    encoder_config,
    probe_scores,
    save_tiny_bert,
    vocabulary,
)

# Tiny models run ~100x faster on one thread than on two cores shared with other processes.
torch.set_num_threads(1)

__all__ = [
    "ARCHITECTURES",
    "HIDDEN",
    "LABELS",
    "MARKERS",
    "PROBE_TEXTS",
    "build_classifier",
    "build_tokenizer",
    "encoder_config",
    "probe_scores",
    "save_tiny_bert",
    "vocabulary",
]
