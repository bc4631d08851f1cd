"""The submit form in JupyterLab, driven by clicks and typing in a real browser: pasted text and
a file chosen through the file input each end with live progress and a preview of the rows; the
browser's own checks (file size, blank name), the upload handshake, Enter to submit and the
file picker's focus ring."""

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


MiB = 1024 * 1024
#: ~3.1 MiB of the seeded "Products" columns: four chunks of at most 1 MiB.
BIG_ROWS = 29_000

# The form counts what the kernel receives from the browser, by message type.
COUNTING_FORM_CELL = """\
from collections import Counter
import lasso_notebook as ln

form = ln.SubmitForm(result_var="df", max_file_bytes=4 * 1024 * 1024)
seen = Counter()
form.on_msg(lambda _widget, content, _buffers: seen.update([content.get("type")]))
form"""
# Numbered, so a re-run's output is never mistaken for the previous one's.
SEEN_CELL = """\
_check = globals().get("_check", 0) + 1
print(f"check {_check}:", *(f"{k}={seen[k]}" for k in ("file_start", "file_chunk", "submit")))"""


class KernelView:
    """Reads, through a notebook cell, which messages the kernel got from the form."""

    def __init__(self, nb: NotebookPage, cell: int) -> None:
        self.nb = nb
        self.cell = cell
        self.runs = 0

    def seen(self) -> dict[str, int]:
        self.runs += 1
        self.nb.run_cell(self.cell)
        output = self.nb.outputs(self.cell)
        expect(output).to_contain_text(f"check {self.runs}:", timeout=30_000)
        pairs = re.findall(r"(\w+)=(\d+)", output.inner_text())
        return {key: int(value) for key, value in pairs}


def test_form_browser_checks_handshake_big_file_and_enter(
    page: Page, lab: JupyterServer, tmp_path: Path
) -> None:
    """One notebook session: keyboard focus on the file picker shows; a file over the limit
    is refused in the browser (the kernel gets nothing); a ~3 MiB file goes in four chunks; a
    file the kernel refuses at start shows its message and costs no chunk; a blank name is
    refused in the browser; Enter in the name field submits, and all rows come back."""
    huge = tmp_path / "huge.bin"
    huge.write_bytes(b"\0" * (4 * MiB + 1))
    catalog = tmp_path / "big catalog.csv"
    catalog.write_text(csv_catalog(BIG_ROWS, prefix="BIG") + "\n", encoding="utf-8")
    assert 3 * MiB < catalog.stat().st_size <= 4 * MiB
    # The kernel names files safely (no leading dot): a name clash the browser cannot see.
    (tmp_path / "hidden").mkdir()
    clash = tmp_path / "hidden" / ".big catalog.csv"
    clash.write_text(csv_catalog(3, prefix="DOT"), encoding="utf-8")

    write_notebook(
        lab.root / "form_checks.ipynb", [COUNTING_FORM_CELL, SEEN_CELL, "print(len(df))"]
    )
    nb = NotebookPage(page, lab, "form_checks.ipynb").open()
    nb.run_cell(0)
    nb.wait_executed(0)
    nb.expect_no_error(0)
    form = by_testid(nb.cell(0), "lasso-form")
    expect(form).to_be_visible(timeout=60_000)
    kernel = KernelView(nb, 1)
    pick_schema(form, "Products")

    # Keyboard focus on the (visually hidden) file input shows on the drop zone around it.
    drop = by_testid(form, "file-drop")
    # Asserted with retries: the view may still be laying out the form when this runs.
    expect(drop).to_have_css("outline-style", "none")
    by_testid(form, "source-tab-files").click()
    page.keyboard.press("Tab")
    expect(by_testid(form, "file-input")).to_be_focused()
    expect(drop).to_have_css("outline-style", "solid")

    # (a) Over the limit: refused before anything is sent, with the limit in the message.
    by_testid(form, "file-input").set_input_files(str(huge))
    files_error = by_testid(form, "files-error")
    expect(files_error).to_contain_text('"huge.bin" is 4.0 MiB; the limit is 4.0 MiB per file.')
    expect(by_testid(form, "file-item")).to_have_count(0)
    assert kernel.seen() == {"file_start": 0, "file_chunk": 0, "submit": 0}

    # (b) A multi-chunk file through the file input reaches the kernel whole.
    by_testid(form, "file-input").set_input_files(str(catalog))
    item = by_testid(form, "file-item")
    expect(item).to_have_count(1)
    expect(item).to_have_attribute("data-status", "received", timeout=60_000)
    expect(item).to_contain_text("big catalog.csv")
    expect(files_error).to_be_hidden()
    assert kernel.seen() == {"file_start": 1, "file_chunk": 4, "submit": 0}

    # The kernel refuses this one at start: the message shows on that file, no chunk left.
    by_testid(form, "file-input").set_input_files(str(clash))
    refused = item.filter(has_text=".big catalog.csv")
    expect(refused).to_have_attribute("data-status", "error", timeout=30_000)
    expect(refused).to_contain_text('"big catalog.csv" is already in the list.')
    assert kernel.seen() == {"file_start": 2, "file_chunk": 4, "submit": 0}
    by_testid(refused, "file-remove").click()
    expect(item).to_have_count(1)

    # (c) A blank name: the name field says so, the kernel gets no submit.
    name = by_testid(form, "name-input")
    name.fill("   ")
    by_testid(form, "submit-button").click()
    expect(by_testid(form, "name-error")).to_have_text("Give the table a name.")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "")
    assert kernel.seen()["submit"] == 0

    # (d) Enter in the single-line name field submits.
    name.fill("E2E big file")
    expect(by_testid(form, "name-error")).to_be_hidden()
    name.press("Enter")
    values = progress_values(form, timeout=180.0)
    assert values[-1] == 100, values
    expect(by_testid(form, "job-progress")).to_have_attribute("data-state", "completed")
    expect(by_testid(form, "job-name")).to_contain_text("E2E big file")
    expect(by_testid(form, "preview-count")).to_contain_text(f"{BIG_ROWS} rows")
    expect(by_testid(form, "preview-table")).to_contain_text("BIG-001")
    assert kernel.seen() == {"file_start": 2, "file_chunk": 4, "submit": 1}
    nb.run_cell(2)
    expect(nb.outputs(2)).to_have_text(f"{BIG_ROWS}", timeout=30_000)


LOCK_CELLS = [
    FORM_CELL,
    '%load_ext lasso_notebook\n%lasso schema create "E2E fresh schema" sku:text! name price:number',
]


def input_look(locator: Locator) -> dict[str, str]:
    return locator.evaluate(
        """(node) => {
            const style = getComputedStyle(node);
            return {cursor: style.cursor, opacity: style.opacity, background: style.backgroundColor};
        }"""
    )


def test_form_picks_up_a_new_schema_then_locks_visibly(page: Page, lab: JupyterServer) -> None:
    """A schema created in another cell appears in the open form's picker without a click on
    refresh; after completion the fields are disabled and look it; numbers in the preview are
    formatted per column (money with two decimals) and booleans are marks."""
    write_notebook(lab.root / "form_lock.ipynb", LOCK_CELLS)
    nb = NotebookPage(page, lab, "form_lock.ipynb").open()
    nb.run_cell(0)
    nb.wait_executed(0)
    form = by_testid(nb.cell(0), "lasso-form")
    expect(form).to_be_visible(timeout=60_000)
    select = by_testid(form, "schema-select")
    expect(select.locator("option", has_text="Products")).to_have_count(1, timeout=60_000)
    fresh = select.locator("option", has_text="E2E fresh schema")
    expect(fresh).to_have_count(0)

    nb.run_cell(1)
    nb.wait_executed(1)
    nb.expect_no_error(1)
    expect(nb.outputs(1)).to_contain_text("created schema 'E2E fresh schema'", timeout=30_000)
    expect(fresh).to_have_count(1, timeout=30_000)  # no refresh click

    pick_schema(form, "Products")
    name = by_testid(form, "name-input")
    name.fill("E2E locked form")
    text = by_testid(form, "text-input")
    text.fill(csv_catalog(6, prefix="LCK"))
    editable = input_look(name)
    assert editable["cursor"] != "not-allowed" and float(editable["opacity"]) == 1.0
    by_testid(form, "submit-button").click()

    expect(by_testid(form, "job-progress")).to_have_attribute(
        "data-state", "completed", timeout=90_000
    )
    for field in (name, text, select, by_testid(form, "source-tab-text")):
        expect(field).to_be_disabled()
        looks = input_look(field)
        assert looks["cursor"] == "not-allowed" and float(looks["opacity"]) < 1.0, looks
    assert input_look(name)["background"] != editable["background"]
    expect(by_testid(form, "job-validation")).to_have_text("6 rows, all valid")
    table = by_testid(form, "preview-table")
    expect(table.locator("tbody tr")).to_have_count(6, timeout=30_000)
    price = table.locator('tbody tr:first-child td[data-type="number"]').first
    expect(price).to_have_text("19.50")
    expect(table.locator('tbody tr:first-child td[data-type="boolean"]')).to_have_text("✗")
    expect(table.locator('tbody tr:nth-child(2) td[data-type="boolean"]')).to_have_text("✓")
    assert price.evaluate("(node) => getComputedStyle(node).textAlign") == "right"


def test_form_reused_result_offers_extract_again(page: Page, lab: JupyterServer) -> None:
    """The same request twice: the second result reuses the first table and says so; "Extract
    again" extracts it anew (progress runs again) and the notice goes away."""
    nb, form = open_form(page, lab, "form_reuse.ipynb")
    pick_schema(form, "Products")
    catalog = csv_catalog(18, prefix="RUS")

    def extract(name: str) -> list[int]:
        by_testid(form, "name-input").fill(name)
        by_testid(form, "source-tab-text").click()
        by_testid(form, "text-input").fill(catalog)
        by_testid(form, "submit-button").click()
        return progress_values(form)

    extract("E2E reuse first")
    expect(by_testid(form, "job-progress")).to_have_attribute("data-state", "completed")
    expect(by_testid(form, "reuse-note")).to_be_hidden()
    expect(by_testid(form, "extract-again")).to_be_hidden()
    first_id = by_testid(form, "job-name").inner_text().rsplit("· ", 1)[-1]

    by_testid(form, "new-extraction").click()
    extract("E2E reuse second")
    expect(by_testid(form, "job-progress")).to_have_attribute("data-state", "completed")
    note = by_testid(form, "reuse-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"reused {first_id[:6]}… from ")
    expect(note).to_contain_text('no new extraction; click "Extract again" to extract again')
    expect(by_testid(form, "job-name")).to_contain_text(first_id)
    expect(by_testid(form, "preview-count")).to_contain_text("18 rows")
    again = by_testid(form, "extract-again")
    expect(again).to_be_visible()

    again.click()
    values = progress_values(form)
    box = by_testid(form, "job-progress")
    ended = f"{box.get_attribute('data-state')}: {box.inner_text()!r}"  # why, if it failed
    assert any(0 < v < 100 for v in values), f"no new extraction ran: {values}, {ended}"
    expect(by_testid(form, "job-progress")).to_have_attribute("data-state", "completed")
    expect(by_testid(form, "reuse-note")).to_be_hidden()
    expect(again).to_be_hidden()
    expect(by_testid(form, "job-name")).not_to_contain_text(first_id)
    expect(by_testid(form, "preview-count")).to_contain_text("18 rows")
    nb.run_cell(1)
    expect(nb.outputs(1)).to_contain_text("(18, 9)", timeout=30_000)
