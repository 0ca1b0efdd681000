"""Offline, quiet, single-threaded tests on a tiny random classifier built once per session
(``gliclass_rag.testing``), and a scripted scorer for the guards' verdicts (``scripted.py``)."""

from __future__ import annotations

import copy
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"

from pathlib import Path

import pytest
import torch

from gliclass_rag import ZeroShotClassifier, default_model_path
from gliclass_rag.testing import build_classifier

# Tiny models run far faster on one thread than on cores shared with other processes.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_classifier() -> ZeroShotClassifier:
    return build_classifier(seed=0)


@pytest.fixture
def classifier(tiny_classifier: ZeroShotClassifier) -> ZeroShotClassifier:
    """A fresh copy of the tiny classifier for each test."""
    return copy.deepcopy(tiny_classifier)


@pytest.fixture(scope="session")
def model_path(tiny_classifier: ZeroShotClassifier, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tiny classifier saved as a checkpoint directory: components given it serialise to YAML."""
    return str(tiny_classifier.save_pretrained(tmp_path_factory.mktemp("tiny-gliclass")))


@pytest.fixture(scope="session")
def embedded_model() -> None:
    """Skips the test while the embedded default model is not there yet (it is still being trained)."""
    if not (Path(default_model_path()) / "config.json").is_file():
        pytest.skip(f"the embedded default model is not in {default_model_path()} yet")
