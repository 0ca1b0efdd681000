"""Shared fixtures. Tests never reach the network: the hub is switched off before anything imports transformers."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import transformers

transformers.utils.logging.disable_progress_bar()


def _freeze(value: Any) -> Any:
    """A hashable, order-independent stand-in for keyword arguments (dicts, lists and tuples nest)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _freeze(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


@pytest.fixture(scope="session")
def reference_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``reference_checkpoint(**kwargs) -> Path``: a tiny checkpoint written by the reference library.

    Keyword arguments are those of ``reference_checkpoints.build_reference_checkpoint``. Each distinct set is built
    once per session; tests must treat the directory as read-only (save copies under their own ``tmp_path``).
    Skips when the reference package (the ``test`` extra) is not installed.
    """
    pytest.importorskip("gliclass")
    from reference_checkpoints import build_reference_checkpoint

    built: dict[Any, Path] = {}

    def make(**kwargs: Any) -> Path:
        key = _freeze(kwargs)
        if key not in built:
            directory = tmp_path_factory.mktemp("reference-checkpoint")
            built[key] = build_reference_checkpoint(directory, **kwargs)
        return built[key]

    return make
