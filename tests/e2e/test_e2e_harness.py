"""Sanity check of the browser harness itself: JupyterLab starts isolated, a notebook opens, a
cell runs, and an anywidget renders. When this fails, the product tests' failures are noise."""

from __future__ import annotations

import pytest
from jupyter_harness import JupyterServer, NotebookPage, write_notebook
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ANYWIDGET_CELL = """\
import anywidget, traitlets
class Probe(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { el.innerHTML = '<b class=probe>' + model.get('v') + '</b>'; } }"
    v = traitlets.Unicode('anywidget ok').tag(sync=True)
Probe()"""


def test_lab_runs_cells_and_renders_anywidget(page: Page, lab: JupyterServer) -> None:
    write_notebook(lab.root / "harness.ipynb", ["print(6 * 7)", ANYWIDGET_CELL])
    nb = NotebookPage(page, lab, "harness.ipynb").open()
    nb.run_all()
    expect(nb.outputs(0)).to_have_text("42", timeout=30_000)
    expect(nb.cell(1).locator("b.probe")).to_have_text("anywidget ok", timeout=30_000)
