"""Notebook 7 (the ``notebook`` package, ``jupyter notebook``): the progress widget and the
submit form render and work there too, not only in JupyterLab, and follow its dark theme."""

from __future__ import annotations

import re

import pytest
from e2e_catalog import csv_catalog
from jupyter_harness import JupyterServer, NotebookPage, write_notebook
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e


def test_notebook7_renders_progress_widget_and_form(page: Page, notebook7: JupyterServer) -> None:
    write_notebook(
        notebook7.root / "nb7.ipynb",
        [
            "%load_ext lasso_notebook",
            f'%%lasso_table nb7 --schema Products --name "Notebook 7"\n{csv_catalog(20, "NB7")}',
            "import lasso_notebook as ln\nform = ln.SubmitForm(schema='Products')\nform",
        ],
    )
    nb = NotebookPage(page, notebook7, "nb7.ipynb", ui="notebook").open()
    assert "/notebooks/nb7.ipynb" in page.url
    # Notebook 7's own shell, not JupyterLab's.
    expect(page.locator("#main-panel, .jp-NotebookPanel").first).to_be_visible()
    expect(page.locator(".jp-LabShell")).to_have_count(0)
    nb.run_all()

    widget = nb.progress_widgets(1).first
    expect(widget).to_be_visible(timeout=60_000)
    expect(widget.locator(".lasso-progress__name")).to_have_text("Notebook 7")
    expect(widget).to_have_attribute("data-state", "completed", timeout=90_000)
    expect(widget.locator(".lasso-progress__rows")).to_have_text("20 rows")
    expect(widget.locator(".lasso-progress__note")).to_contain_text("nb7")

    form = nb.cell(2).locator('[data-testid="lasso-form"]')
    expect(form).to_be_visible(timeout=60_000)
    select = form.locator('[data-testid="schema-select"]')
    expect(select.locator("option:checked")).to_contain_text("Products", timeout=60_000)
    expect(form.locator('[data-testid="schema-columns"]')).to_contain_text(
        "release_date", timeout=30_000
    )
    expect(form.locator('[data-testid="submit-button"]')).to_be_enabled()
    form.locator('[data-testid="source-tab-urls"]').click()
    expect(form.locator('[data-testid="urls-input"]')).to_be_visible()

    # Dark theme: both widgets take their colours from the notebook's theme variables.
    assert _luminance(_color(widget)) < 0.4 and _luminance(_color(form)) < 0.4
    page.locator(".lm-MenuBar-item", has_text="Settings").first.click()
    page.locator(".lm-Menu-item", has_text="Theme").first.hover()
    page.locator(".lm-Menu-item", has_text="JupyterLab Dark").first.click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=30_000)
    page.wait_for_function(
        "(el) => { const c = getComputedStyle(el).color.match(/[\\d.]+/g).map(Number);"
        " return (0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]) / 255 > 0.6; }",
        arg=widget.element_handle(),
        timeout=30_000,
    )
    assert _luminance(_color(widget)) > 0.6
    assert _luminance(_color(form)) > 0.6


def _color(element: Locator) -> str:
    return str(element.evaluate("(el) => getComputedStyle(el).color"))


def _luminance(css: str) -> float:
    """Relative brightness 0..1 of ``rgb(r, g, b)``."""
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", css)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
