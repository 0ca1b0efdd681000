"""Shared fixtures. Tests never reach the network: the hub is switched off before anything imports transformers."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from langchain_core.documents import Document

from gliclass_rag import ZeroShotClassifier, clear_shared_classifiers, default_model_path
from gliclass_rag.testing import build_classifier

# Tiny models run far faster on one thread than on cores shared with other processes.
torch.set_num_threads(1)

TEXTS = (
    "The team won the final match and the player scored two goals.",
    "A rocket launch put the space probe in orbit around the moon.",
    "Stocks fell sharply today as the bank raised its price.",
    "Bake the bread in a hot oven for one hour.",
    "The election vote was close and the government lost.",
    "The doctor said the hospital medicine works.",
)


@pytest.fixture(scope="session")
def tiny_classifier() -> ZeroShotClassifier:
    """One tiny random classifier for the session (components only read it)."""
    return build_classifier(seed=0)


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_classifier: ZeroShotClassifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny classifier saved as a checkpoint directory (read-only for tests)."""
    return tiny_classifier.save_pretrained(tmp_path_factory.mktemp("tiny-gliclass"))


@pytest.fixture
def shared_cache() -> Iterator[None]:
    """Tests that load by name start and end with an empty process-wide model cache."""
    clear_shared_classifiers()
    yield
    clear_shared_classifiers()


@pytest.fixture
def documents() -> list[Document]:
    """Documents with ids and nested metadata (to prove the copies are deep)."""
    return [
        Document(page_content=text, metadata={"source": f"doc-{i}", "tags": ["news", str(i)]}, id=f"id-{i}")
        for i, text in enumerate(TEXTS)
    ]


@pytest.fixture
def embedded_model() -> None:
    """Skips while the embedded default model (what ``model=None`` loads) is not built yet."""
    if not (default_model_path() / "config.json").is_file():
        pytest.skip(f"the embedded default model is not built yet ({default_model_path()})")
