"""Fixtures: the hub is off before transformers loads; tiny classifiers are built once per session."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest
import torch

from gliclass_rag import ZeroShotClassifier

torch.set_num_threads(1)  # tiny models run far faster on one thread than on cores shared with other jobs


@pytest.fixture(scope="session")
def tiny_uni() -> ZeroShotClassifier:
    from guards_tiny import build_classifier

    return build_classifier("uni-encoder")


@pytest.fixture(scope="session")
def tiny_bi() -> ZeroShotClassifier:
    from guards_tiny import build_classifier

    return build_classifier("bi-encoder", seed=1)


@pytest.fixture(scope="session")
def default_classifier() -> ZeroShotClassifier:
    """The embedded default model; skips while it is not built yet."""
    from gliclass_rag import default_model_path

    if not (default_model_path() / "config.json").is_file():
        pytest.skip(f"the embedded default model is not built yet ({default_model_path()})")
    return ZeroShotClassifier.from_pretrained()
