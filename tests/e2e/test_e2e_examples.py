"""The example notebook on background jobs, run with "Run All" in JupyterLab: every cell
succeeds, its check cell passes (``%lasso wait`` makes the background cell's variable ready),
and each job's widget and the wait's display in the page end completed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jupyter_harness import JupyterServer, NotebookPage
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_background_jobs_example_runs_in_jupyterlab(page: Page, lab: JupyterServer) -> None:
    shutil.copy(NOTEBOOKS / "02_background_jobs.ipynb", lab.root / "02_background_jobs.ipynb")
    nb = NotebookPage(page, lab, "02_background_jobs.ipynb").open()
    nb.run_all()

    last = nb.cells.last
    expect(last.locator(".jp-OutputArea-output")).to_contain_text(
        "background jobs ok: (3, 9) (2, 9) (2, 9)", timeout=120_000
    )
    assert nb.notebook.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    # Three jobs, then the combined display of `%lasso wait audio`.
    widgets = nb.notebook.locator(".lasso-progress")
    expect(widgets).to_have_count(4)
    for index in range(4):
        expect(widgets.nth(index)).to_have_attribute("data-state", "completed", timeout=30_000)
    expect(widgets.nth(0).locator(".lasso-progress__note")).to_have_text("→ audio (3 rows)")
    wait = widgets.nth(3)
    expect(wait.locator(".lasso-progress__name")).to_have_text("waiting for 1 job: audio")
    expect(wait.locator(".lasso-progress__status")).to_have_text("1 of 1 done")
