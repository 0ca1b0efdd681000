"""The notebooks run: every code cell of each notebook, in order, on the embedded default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gliclass_rag import default_model_path

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(notebook: Path) -> None:
    if not (default_model_path() / "config.json").is_file():
        pytest.skip("the embedded default model is not built")
    if "guards" in notebook.name:
        pytest.importorskip("gliclass_guards")
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    for number, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            exec(compile(source, f"{notebook.name}[{number}]", "exec"), namespace)


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ should hold the walkthroughs"
