"""Fixtures. The tests never reach the network: the hub is switched off, LlamaIndex reads the NLTK and tiktoken data
bundled in llama-index-core, and any attempt to open an outside connection fails the test that makes it."""

from __future__ import annotations

import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import socket
from collections.abc import Iterator
from typing import Any

import llama_index.core
import pytest
import torch
import transformers
from llama_index.core.bridge.pydantic import Field
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.base import BaseEvent

from gliclass_rag import ZeroShotClassifier, default_model_path, resolve_classifier
from gliclass_rag.testing import build_classifier

# LlamaIndex reads these on first use (not at import): stopwords and punkt_tab, and the default tokenizer's BPE
# file, ship inside llama-index-core; pointing at them keeps a stray NLTK_DATA or TIKTOKEN_CACHE_DIR from
# sending it to the network.
_STATIC = Path(llama_index.core.__file__).parent / "_static"
os.environ["NLTK_DATA"] = str(_STATIC / "nltk_cache")
os.environ["TIKTOKEN_CACHE_DIR"] = str(_STATIC / "tiktoken_cache")

transformers.utils.logging.disable_progress_bar()
torch.set_num_threads(1)  # tiny models: one thread beats two cores shared with other processes


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """Refuse every outbound internet connection (local sockets, as asyncio's self-pipe uses, stay allowed)."""
    original = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise OSError(f"network access attempted during the tests: {address!r}")
        return original(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    yield
    socket.socket.connect = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def classifier() -> ZeroShotClassifier:
    """A tiny random classifier shared by the session (components only read it)."""
    return build_classifier("uni-encoder", seed=0)


@pytest.fixture(scope="session")
def embedded() -> ZeroShotClassifier:
    """The embedded default model; skips while it has not been trained into the package yet."""
    if not (default_model_path() / "config.json").is_file():
        pytest.skip(f"the embedded default model is not in {default_model_path()} yet")
    return resolve_classifier()  # the process-wide instance, as components given model=None get it


class EventRecorder(BaseEventHandler):
    """A real instrumentation event handler that keeps every event it sees."""

    events: list[BaseEvent] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "EventRecorder"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    def of(self, name: str) -> list[BaseEvent]:
        return [event for event in self.events if event.class_name() == name]


@pytest.fixture
def recorder() -> Iterator[EventRecorder]:
    """An EventRecorder attached to the root dispatcher for one test."""
    root = get_dispatcher()
    handler = EventRecorder()
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)
