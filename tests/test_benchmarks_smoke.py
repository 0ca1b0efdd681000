"""The benchmark machinery end to end on a tiny model (the ``tiny`` grid): every contender, checks, report, plot."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

pytest.importorskip("gliclass")  # the reference contender (benchmark / test extra)
pytest.importorskip("onnxruntime")

from benchmarks.measure import encoder_flops  # noqa: E402
from benchmarks.report import geomean  # noqa: E402
from benchmarks.run import main  # noqa: E402
from benchmarks.workloads import build_tokenizer, label_set, texts_of_length  # noqa: E402


def test_workloads_have_exact_token_lengths() -> None:
    tokenizer = build_tokenizer()
    for tokens in (1, 64, 300):
        texts = texts_of_length(tokenizer, tokens, 3)
        assert len(set(texts)) == 3
        assert {len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]} == {tokens}
    labels = label_set(tokenizer, 128)
    assert len(set(labels)) == 128
    assert {len(ids) for ids in tokenizer(labels, add_special_tokens=False)["input_ids"]} == {2}


def test_flops_and_geomean() -> None:
    # one layer, one token, no attention terms worth counting: 2 * (4 D^2 + 2 D I) + 4 D
    assert encoder_flops([1], layers=1, hidden=2, intermediate=3) == 2 * (4 * 4 + 2 * 2 * 3) + 4 * 2
    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    assert math.isnan(geomean([]))


@pytest.mark.slow
def test_tiny_grid_end_to_end(tmp_path: Path) -> None:
    output = tmp_path / "out"
    assert main(["--grid", "tiny", "--threads", "1", "--output", str(output)]) == 0
    results = json.loads((output / "results.json").read_text())
    names = results["contenders"]
    assert names == ["reference", "ours", "onnx", "onnx-int8", "bare-forward", "cross-encoder"]
    assert len(results["cells"]) == 2
    for cell in results["cells"]:
        assert set(cell["texts_per_second"]) == set(names)
        assert all(v > 0 for v in cell["texts_per_second"].values())
        assert cell["max_abs_diff"]["ours-vs-reference"] <= 1e-4
        assert cell["max_abs_diff"]["onnx-vs-ours"] <= 1e-5
        assert cell["top1_agreement"]["ours"] == 1.0
    assert results["rerank"]["p50_s"] > 0
    assert results["bi_encoder"]["ratio"] > 0
    markdown = (output / "results.md").read_text()
    assert "## Targets" in markdown
    assert "Command: `python benchmarks/run.py --grid tiny" in markdown
    assert (output / "throughput_vs_labels.png").stat().st_size > 1000
    assert (output / "work" / "onnx").is_dir()  # exports went into the work dir under the output, nowhere else
