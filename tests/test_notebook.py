"""The example notebook ``examples/notebook.ipynb`` runs from top to bottom.

``test_notebook_runs`` is in the slow lane (``pytest -m slow``): it runs
three short simulations in a Jupyter kernel. nbclient, nbformat and ipykernel
are in the ``test`` extra; if they are missing the test fails (it never
skips). The kernel is the ``python3`` one, which jupyter_client starts with
the interpreter running pytest, so the notebook sees this environment's
``model``. The check that the notebook is stored without outputs is fast and
in the default lane.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


def _text(output: dict) -> str:
    """The text of one cell output (stream or plain-text result)."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "")


def _outputs(cell) -> list[dict]:
    return [dict(o) for o in cell.get("outputs", [])]


def test_notebook_is_stored_clean() -> None:
    """Stored without outputs, so diffs stay readable and nothing stale is shown."""
    data = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert data["nbformat"] == 4
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.slow
def test_notebook_runs() -> None:
    import nbformat  # a missing package is an error here, not a skip
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    n_stored = len(nb.cells)
    # A check cell added only for this run: the kernel is this interpreter, importing this checkout's model.
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, model\nprint('kernel:', sys.executable)\nprint('model from:', model.__file__)"))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()  # where Jupyter opens it

    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        errors = [o for o in _outputs(cell) if o.get("output_type") == "error"]
        assert not errors, f"cell failed:\n{cell.source}\n{errors}"
        assert cell.execution_count is not None

    check = "".join(_text(o) for o in _outputs(nb.cells[-1]))
    assert f"kernel: {sys.executable}" in check
    assert f"model from: {ROOT / 'model' / '__init__.py'}" in check

    stored = [c for c in nb.cells[:n_stored] if c.cell_type == "code"]
    all_outputs = [o for c in stored for o in _outputs(c)]
    text = "\n".join(_text(o) for o in all_outputs)

    # the investments table, the corridor table and the paired differences were displayed
    html = [o.get("data", {}).get("text/html", "") for o in all_outputs]
    assert any("aktau_hub_phase1" in h for h in html)
    assert any("delivered_ci95_lo_mt" in h for h in html)
    assert any("ferry_shortfall" in h and "mean_difference" in h for h in html)
    # a figure was drawn
    assert any("image/png" in o.get("data", {}) for o in all_outputs)
    # the results read back equal
    assert "read back equal: True" in text
    assert "manifest.json" in text
