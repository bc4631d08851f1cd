"""The magic in JupyterLab, in a real browser: the progress widget advances before the DataFrame
appears, a background job keeps moving while another cell sleeps, a failed table turns red with
the server's message, and "Stop watching" detaches a background job."""

from __future__ import annotations

import re

import pytest
from e2e_catalog import csv_catalog
from jupyter_harness import (
    JupyterServer,
    NotebookPage,
    ProgressSample,
    distinct_values,
    doc_screenshot,
    sample_progress,
    write_notebook,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

FINISHED = ("completed", "failed", "cancelled", "detached")


def finished(sample: ProgressSample) -> bool:
    return sample.state in FINISHED


def test_magic_progress_advances_then_dataframe_appears(page: Page, lab: JupyterServer) -> None:
    # Two prices the engine cannot read: the finished widget sums them up.
    catalog = (
        csv_catalog(48, prefix="MAG").replace(",19.50,", ",free,").replace(",20.50,", ",call us,")
    )
    write_notebook(
        lab.root / "magic.ipynb",
        [
            "%load_ext lasso_notebook",
            f'%%lasso_table --schema Products --name "E2E magic"\n{catalog}',
        ],
    )
    nb = NotebookPage(page, lab, "magic.ipynb").open()
    nb.run_all()

    widget = nb.progress_widgets(1).first
    expect(widget).to_be_visible(timeout=60_000)
    frame = nb.cell(1).locator("table.dataframe")
    samples = sample_progress(widget, finished, timeout=90, extra=lambda: frame.count())

    values = distinct_values(samples)
    running = [v for v in values if 0 < v < 100]
    assert len(running) >= 3, f"bar seen at {values}; expected several steps between 0 and 100"
    assert values == sorted(values), f"bar went backwards: {values}"
    # No DataFrame under the cell while the bar was still moving.
    assert all(s.extra == 0 for s in samples if s.state not in FINISHED), samples
    assert samples[-1].state == "completed", samples[-1]

    expect(widget.locator(".lasso-progress__status")).to_have_text("completed", timeout=30_000)
    expect(widget.locator(".lasso-progress__rows")).to_have_text("48 rows", timeout=30_000)
    expect(widget.locator(".lasso-progress__validation")).to_have_text(
        '48 rows: 46 valid · 2 with errors — price: 2 values not a number ("free", "call us")',
        timeout=30_000,
    )
    doc_screenshot(widget, "progress.png")
    expect(frame).to_be_visible(timeout=60_000)
    expect(frame.locator("tbody tr")).to_have_count(48, timeout=10_000)
    expect(frame).to_contain_text("MAG-001")


def test_background_job_updates_while_another_cell_sleeps(page: Page, lab: JupyterServer) -> None:
    catalog = csv_catalog(48, prefix="BG")
    write_notebook(
        lab.root / "background.ipynb",
        [
            "import time\n%load_ext lasso_notebook",
            f'%%lasso_table bg --schema Products --name "E2E background" --background\n{catalog}',
            "time.sleep(5)\nprint('slept')",
            "print(bg.shape)",
        ],
    )
    nb = NotebookPage(page, lab, "background.ipynb").open()
    # Run the first two cells, then the sleeping one: the job runs during the sleep.
    nb.run_cell(0)
    nb.wait_executed(0)
    nb.run_cell(1)
    widget = nb.progress_widgets(1).first
    expect(widget).to_be_visible(timeout=60_000)
    nb.wait_executed(1)
    nb.run_cell(2)
    sleeping = nb.prompt(2)
    expect(sleeping).to_have_text(re.compile(r"\[\*\]"), timeout=10_000)

    samples = sample_progress(
        widget,
        lambda s: finished(s) or s.extra != "[*]:",
        timeout=30,
        extra=lambda: sleeping.inner_text().strip(),
    )
    during_sleep = [s for s in samples if s.extra == "[*]:"]
    values = distinct_values(during_sleep)
    assert len(values) >= 3, f"while the cell slept the bar showed only {values}: {samples}"
    assert values == sorted(values)
    # The elapsed-time and status texts changed too, not only the bar.
    assert len({s.status for s in during_sleep}) >= 2, during_sleep

    nb.wait_executed(2, timeout=30_000)
    expect(nb.outputs(2)).to_have_text("slept")
    expect(widget.locator(".lasso-progress__status")).to_have_text("completed", timeout=60_000)
    expect(widget.locator(".lasso-progress__note")).to_contain_text("bg", timeout=30_000)
    nb.run_cell(3)
    expect(nb.outputs(3)).to_have_text("(48, 9)", timeout=30_000)


def test_failed_table_shows_red_with_the_servers_message(page: Page, lab: JupyterServer) -> None:
    write_notebook(
        lab.root / "failed.ipynb",
        [
            "%load_ext lasso_notebook",
            '%%lasso_table nothing --schema Products --name "E2E nothing"\n'
            "Just a sentence about our lovely shop, with nothing to extract.",
        ],
    )
    nb = NotebookPage(page, lab, "failed.ipynb").open()
    nb.run_all()
    widget = nb.progress_widgets(1).first
    expect(widget).to_have_attribute("data-state", "failed", timeout=60_000)
    error = widget.locator(".lasso-progress__error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Could not find a table in the text")
    expect(widget.locator(".lasso-progress__status")).to_contain_text("failed")

    red = page.evaluate(
        "() => getComputedStyle(document.body).getPropertyValue('--jp-error-color1').trim()"
    )
    border = widget.evaluate("(el) => getComputedStyle(el).borderLeftColor")
    assert _same_color(border, red), (border, red)
    assert _same_color(error.evaluate("(el) => getComputedStyle(el).color"), red)
    # The cell itself ends in a short error (no traceback) naming the table.
    stderr = nb.cell(1).locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(stderr).to_contain_text("Could not find a table", timeout=30_000)
    assert "Traceback" not in nb.cell(1).inner_text()


def _same_color(css: str, reference: str) -> bool:
    """``rgb(211, 47, 47)`` vs a CSS variable value such as ``#d32f2f``."""

    def rgb(value: str) -> tuple[int, ...]:
        value = value.strip()
        if value.startswith("#"):
            hexpart = value[1:]
            if len(hexpart) == 3:
                hexpart = "".join(c * 2 for c in hexpart)
            return tuple(int(hexpart[i : i + 2], 16) for i in (0, 2, 4))
        numbers = re.findall(r"[\d.]+", value)
        return tuple(int(float(n)) for n in numbers[:3])

    return rgb(css) == rgb(reference)


def test_stop_watching_button_detaches_a_background_job(page: Page, lab: JupyterServer) -> None:
    """A click reaches the kernel while it is idle: the job stops being followed (grey), the
    table goes on on the server, and the variable is not set."""
    write_notebook(
        lab.root / "stop.ipynb",
        [
            "import lasso_notebook as ln\n%load_ext lasso_notebook",
            "%%lasso_table stopped --schema Products --name 'E2E stop' --background\n"
            + csv_catalog(48, prefix="STOP"),
            "(job,) = ln.jobs()\n"
            "table = ln.default_client().tables.wait_for_completion(job.id, 0.2, 60)\n"
            "print(job.detached, 'stopped' in globals(), table.status, table.total_rows)",
        ],
    )
    nb = NotebookPage(page, lab, "stop.ipynb").open()
    nb.run_cell(0)
    nb.wait_executed(0)
    nb.run_cell(1)
    widget = nb.progress_widgets(1).first
    stop = widget.get_by_role("button", name="Stop watching")
    expect(stop).to_be_visible(timeout=60_000)
    nb.wait_executed(1)  # the kernel is idle again: clicks are delivered now
    expect(widget).not_to_have_attribute("data-state", "completed")
    stop.click()

    expect(widget).to_have_attribute("data-state", "detached", timeout=30_000)
    expect(widget.locator(".lasso-progress__status")).to_contain_text("detached")
    expect(stop).to_be_hidden()
    nb.run_cell(2)
    expect(nb.outputs(2)).to_have_text("True False completed 48", timeout=60_000)
