"""Widgets never execute what the server or the user wrote (issue 9): a table name like
``<img src=x onerror=…>``, an error message carrying ``<script>``, hostile preview cells and a
hostile schema (name, description, column labels and keys) are shown literally in the progress
widget and the form, and nothing runs."""

from __future__ import annotations

import pytest
from jupyter_harness import JupyterServer, NotebookPage, write_notebook
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

IMG_NAME = "<img src=x onerror=window.__lassoXss=1>"
SCRIPT = "<script>window.__lassoXss=2</script>"
SVG = "<svg onload=window.__lassoXss=3>"
# Headers the Products schema cannot use: the engine fails the table and quotes them in its
# error_message, so the server itself hands the widget a message containing <script>.
HOSTILE_HEADERS = f"{SCRIPT},{SVG}\n1,2\n"
# A table that extracts, with markup in its cells: the form's preview must show it as text.
HOSTILE_ROWS = f"name,sku,brand,price\n{IMG_NAME},X-1,{SCRIPT},1.5\n{SVG},X-2,Plain,2.5\n"
# A schema as hostile as the engine lets it be: its name, description and column labels.
IMG_SCHEMA = "<img src=x onerror=window.__lassoXss=4> Schema"
IMG_LABEL = "<img src=x onerror=window.__lassoXss=5>"
HOSTILE_COLUMNS = [
    {"key": "name", "label": IMG_LABEL, "type": "text"},
    {"key": "sku", "label": SVG, "type": "text"},
    {"key": "brand", "type": "text"},
    {"key": "price", "type": "number"},
]
SCHEMA_CELL = f"""\
import lasso_notebook as ln
hostile = ln.default_client().schemas.create(
    {IMG_SCHEMA!r}, {HOSTILE_COLUMNS!r}, description={SCRIPT!r}
)
form = ln.SubmitForm(schema='Products')
form"""
# The engine refuses such a column key (its key pattern); another server might not, and the
# client does not check, so the form's state gets one the way a server's answer would put it.
IMG_KEY = "<img src=x onerror=window.__lassoXss=6>"
HOSTILE_KEY_CELL = f"""\
key = {{"key": {IMG_KEY!r}, "label": {IMG_KEY!r}, "type": "text", "description": {SVG!r}}}
form.schema_preview = {{**form.schema_preview, "columns": [key, *form.schema_preview["columns"]]}}
form.preview = {{**form.preview, "columns": [key, *form.preview["columns"][1:]]}}
print("hostile key set")"""


def assert_nothing_ran(page: Page, dialogs: list[str], root: Locator) -> None:
    assert page.evaluate("() => window.__lassoXss ?? null") is None, "injected code ran"
    assert dialogs == [], dialogs
    # The markup never became elements inside the widget.
    assert root.locator("img, script, svg[onload], [onerror]").count() == 0, root.inner_html()


def test_hostile_name_and_error_message_render_as_text(page: Page, lab: JupyterServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    write_notebook(
        lab.root / "xss.ipynb",
        [
            "%load_ext lasso_notebook",
            f"%%lasso_table --schema Products --name '{IMG_NAME}'\n{HOSTILE_HEADERS}",
            SCHEMA_CELL,
            HOSTILE_KEY_CELL,
        ],
    )
    nb = NotebookPage(page, lab, "xss.ipynb").open()
    # One cell at a time: Run All would stop at the magic cell, which ends in error on purpose.
    nb.run_cell(0)
    nb.wait_executed(0)
    nb.run_cell(1)

    widget = nb.progress_widgets(1).first
    expect(widget).to_have_attribute("data-state", "failed", timeout=90_000)
    expect(widget.locator(".lasso-progress__name")).to_have_text(IMG_NAME)
    error = widget.locator(".lasso-progress__error")
    expect(error).to_contain_text(SCRIPT)
    expect(error).to_contain_text(SVG)
    assert_nothing_ran(page, dialogs, widget)
    nb.wait_executed(1)
    nb.run_cell(2)

    # The form: a hostile name and a failed table, then hostile cells in the preview.
    form = nb.cell(2).locator('[data-testid="lasso-form"]')
    expect(form.locator('[data-testid="schema-select"] option:checked')).to_contain_text(
        "Products", timeout=60_000
    )
    form.locator('[data-testid="name-input"]').fill(IMG_NAME)
    form.locator('[data-testid="text-input"]').fill(HOSTILE_HEADERS)
    form.locator('[data-testid="submit-button"]').click()
    job = form.locator('[data-testid="job-progress"]')
    expect(job).to_have_attribute("data-state", "failed", timeout=90_000)
    expect(form.locator('[data-testid="job-name"]')).to_contain_text(IMG_NAME)
    expect(form.locator('[data-testid="job-error"]')).to_contain_text(SCRIPT)
    assert_nothing_ran(page, dialogs, form)

    # The hostile schema: its name in the picker, its description and labels with its columns.
    select = form.locator('[data-testid="schema-select"]')
    option = select.locator("option", has_text=IMG_SCHEMA)
    expect(option).to_have_text(f"{IMG_SCHEMA} (4 columns)")
    select.select_option(value=option.get_attribute("value"))
    columns = form.locator('[data-testid="schema-columns"]')
    expect(columns).to_contain_text(SCRIPT)  # the description
    column = columns.locator(".lasso-form__column")
    expect(column).to_have_count(4)
    expect(column.first).to_have_attribute("title", IMG_LABEL)
    expect(column.nth(1)).to_have_attribute("title", SVG)
    assert_nothing_ran(page, dialogs, form)

    form.locator('[data-testid="text-input"]').fill(HOSTILE_ROWS)
    form.locator('[data-testid="submit-button"]').click()
    expect(job).to_have_attribute("data-state", "completed", timeout=90_000)
    preview = form.locator('[data-testid="preview-table"]')
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview).to_contain_text(SCRIPT)
    expect(preview).to_contain_text(SVG)
    expect(preview).to_contain_text("<img src=x onerror=")
    header = preview.locator("thead th")
    expect(header.nth(1)).to_have_attribute("title", f"{IMG_LABEL} · text")
    assert_nothing_ran(page, dialogs, form)

    # A hostile column key: text in the column list and in the preview's header.
    nb.run_cell(3)
    expect(nb.outputs(3)).to_contain_text("hostile key set", timeout=30_000)
    expect(column.first.locator(".lasso-form__column-key")).to_have_text(IMG_KEY)
    expect(column.first).to_have_attribute("title", SVG)  # its description
    expect(header.nth(1)).to_have_text(IMG_KEY)
    assert_nothing_ran(page, dialogs, form)
    # And nowhere else in the page either (the notebook's own outputs included).
    assert page.locator(".jp-Notebook img[src='x'], .jp-Notebook svg[onload]").count() == 0
