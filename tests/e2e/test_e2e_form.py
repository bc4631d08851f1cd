"""The submit form in JupyterLab, driven by clicks and typing in a real browser: pasted text and
a file chosen through the file input each end with live progress and a preview of the rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e_catalog import csv_catalog
from jupyter_harness import JupyterServer, NotebookPage, doc_screenshot, write_notebook
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

FORM_CELL = """\
import lasso_notebook as ln

form = ln.SubmitForm(result_var="df")
form"""


def by_testid(root: Locator, testid: str) -> Locator:
    return root.locator(f'[data-testid="{testid}"]')


def pick_schema(form: Locator, name: str) -> None:
    """Choose ``name`` in the schema picker once the list has loaded from the API."""
    select = by_testid(form, "schema-select")
    option = select.locator("option", has_text=re.compile(rf"^\s*{re.escape(name)}\b"))
    expect(option).to_have_count(1, timeout=60_000)
    select.select_option(value=option.get_attribute("value"))
    expect(by_testid(form, "schema-columns")).to_contain_text("price", timeout=30_000)


def progress_values(form: Locator, timeout: float = 90.0) -> list[int]:
    """Bar values seen in the form's job view until the job ends (completed or failed)."""
    box = by_testid(form, "job-progress")
    bar = by_testid(form, "progress-bar")
    expect(box).to_be_visible(timeout=30_000)
    seen: list[int] = []
    page = form.page
    for _ in range(int(timeout / 0.1)):
        state = box.get_attribute("data-state")
        value = bar.get_attribute("aria-valuenow")
        if value is not None and (not seen or seen[-1] != int(value)):
            seen.append(int(value))
        if state in ("completed", "failed"):
            return seen
        page.wait_for_timeout(100)
    raise AssertionError(f"the form's job did not finish in {timeout} s; bar values {seen}")


def open_form(page: Page, lab: JupyterServer, name: str) -> tuple[NotebookPage, Locator]:
    write_notebook(lab.root / name, [FORM_CELL, "print(df.shape, list(df.columns)[:3])"])
    nb = NotebookPage(page, lab, name).open()
    nb.run_cell(0)
    nb.wait_executed(0)
    nb.expect_no_error(0)
    form = by_testid(nb.cell(0), "lasso-form")
    expect(form).to_be_visible(timeout=60_000)
    return nb, form


def test_form_text_submit_shows_progress_then_preview(page: Page, lab: JupyterServer) -> None:
    nb, form = open_form(page, lab, "form_text.ipynb")
    pick_schema(form, "Products")
    name = by_testid(form, "name-input")
    name.fill("E2E form text")
    by_testid(form, "source-tab-text").click()
    by_testid(form, "text-input").fill(csv_catalog(24, prefix="FRM"))
    by_testid(form, "submit-button").click()

    values = progress_values(form)
    running = [v for v in values if 0 < v < 100]
    assert running, f"the form's bar never showed progress: {values}"
    assert values == sorted(values), values

    expect(by_testid(form, "job-progress")).to_have_attribute("data-state", "completed")
    expect(by_testid(form, "job-status")).to_contain_text("completed")
    expect(by_testid(form, "job-name")).to_contain_text("E2E form text")
    table = by_testid(form, "preview-table")
    expect(table.locator("tbody tr")).to_have_count(10, timeout=30_000)
    expect(table).to_contain_text("FRM-001")
    expect(by_testid(form, "preview-count")).to_contain_text("24 rows")
    expect(by_testid(form, "new-extraction")).to_be_visible()

    # The DataFrame reached the kernel's namespace (result_var="df").
    nb.run_cell(1)
    expect(nb.outputs(1)).to_contain_text("(24, 9) ['name', 'sku', 'brand']", timeout=30_000)


def test_form_file_input_upload_extracts_rows(
    page: Page, lab: JupyterServer, tmp_path: Path
) -> None:
    catalog = tmp_path / "spring catalog.csv"
    catalog.write_text(csv_catalog(12, prefix="FILE") + "\n", encoding="utf-8")
    nb, form = open_form(page, lab, "form_file.ipynb")
    pick_schema(form, "Products")
    by_testid(form, "name-input").fill("E2E form file")
    by_testid(form, "source-tab-files").click()
    by_testid(form, "file-input").set_input_files(str(catalog))

    item = by_testid(form, "file-item")
    expect(item).to_have_count(1, timeout=30_000)
    expect(item).to_contain_text("spring catalog.csv")
    by_testid(form, "submit-button").click()

    values = progress_values(form)
    assert values[-1] == 100, values
    expect(by_testid(form, "job-progress")).to_have_attribute("data-state", "completed")
    table = by_testid(form, "preview-table")
    expect(table.locator("tbody tr")).to_have_count(10, timeout=30_000)
    expect(table).to_contain_text("FILE-001")
    expect(by_testid(form, "preview-count")).to_contain_text("12 rows")
    doc_screenshot(form, "form.png")
    nb.run_cell(1)
    expect(nb.outputs(1)).to_contain_text("(12, 9)", timeout=30_000)
