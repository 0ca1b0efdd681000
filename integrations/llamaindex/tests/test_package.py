"""The distribution's promises: a namespace package under llama_index, a curated API, no other framework needed."""

from __future__ import annotations

import importlib.util
import re
import socket
from importlib.metadata import distribution
from pathlib import Path

import llama_index.postprocessor.gliclass as package
import pytest

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def source_version() -> str:
    """The version written in pyproject.toml: the one place it is written."""
    match = re.search(r'^version = "([^"]+)"$', PYPROJECT.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert match is not None, f"no version in {PYPROJECT}"
    return match.group(1)


def test_public_api() -> None:
    assert package.__all__ == [
        "GLiClassFaithfulnessEvaluator",
        "GLiClassGuardPostprocessor",
        "GLiClassRerank",
        "GLiClassSelector",
    ]
    dist = distribution("llama-index-postprocessor-gliclass")
    assert dist.version == source_version()  # the installed distribution is this source tree
    assert {"gliclass-rag>=0.1", "gliclass-guards>=0.1", "llama-index-core>=0.14"} <= set(dist.requires or [])


def test_namespace_layout() -> None:
    root = Path(package.__file__).parent  # .../llama_index/postprocessor/gliclass
    assert (root / "py.typed").is_file()
    assert not (root.parent / "__init__.py").exists()  # llama_index.postprocessor: a namespace
    assert not (root.parent.parent / "__init__.py").exists()  # llama_index: a namespace
    assert importlib.util.find_spec("llama_index.core") is not None  # merged with llama-index-core's namespace


def test_no_other_framework_is_needed() -> None:
    for module in ("langchain_core", "langchain", "haystack"):
        assert importlib.util.find_spec(module) is None, f"{module} is installed: run these tests in their own venv"


def test_the_tests_cannot_reach_the_network() -> None:
    with pytest.raises(OSError, match="network access attempted"):
        socket.create_connection(("203.0.113.1", 80), timeout=1)  # TEST-NET-3: never routed
