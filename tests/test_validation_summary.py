"""Validation at a glance: the summary (rows valid / with warnings / with errors, top reasons
with samples) as the engine stores it per table, as ``df.attrs["lasso"]`` carries it (from the
rows listing or, for rows without validation fields, from the table), as one line in the job's
text and widget; values the server set to null in ``unparsed`` and the warning; ``valid_only``;
the extraction report as one line."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import lasso_notebook as ln
from lasso_notebook import Lasso, UnparsedValuesWarning
from lasso_notebook._validation import (
    MAX_REASONS,
    Tally,
    reason_of,
    report_line,
    summary_line,
)
from lasso_notebook.frames import build_frame, unparsed_summary
from lasso_notebook.models import Table

# Six rows: two clean, "free" / "gratis" prices, an impossible date and a "maybe" flag (errors),
# "5 pcs" (a number kept from longer text: a warning).
BAD_CSV = """name;sku;price;release_date;in_stock
Drill;D1;129.00;2025-01-02;yes
Saw;S1;free;2025-01-03;no
Sander;S2;Q3 2025;31/02/2024;maybe
Plane;P1;12.50;2025-02-01;yes
Router;R1;gratis;2025-02-01;yes
Level;L1;5 pcs;2025-03-01;yes
"""


@pytest.fixture(scope="module")
def module_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    with serve(port=0, data_dir=tmp_path_factory.mktemp("validation-engine")) as handle:
        yield handle


@pytest.fixture(scope="module")
def client(module_engine: Any) -> Iterator[Lasso]:
    with Lasso(api_key=module_engine.api_key, base_url=module_engine.base_url) as c:
        yield c


@pytest.fixture(scope="module")
def bad_job(client: Lasso) -> Any:
    job = ln.submit("Products", "bad values", text=BAD_CSV, client=client, progress="widget")
    job.wait(timeout=60)
    return job


# --------------------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    ("message", "reason", "sample"),
    [
        ("'free' is not a number", "not a number", "free"),
        ("'31/02/2024' is not a valid date", "not a valid date", "31/02/2024"),
        ('"it\'s" is not a web address', "not a web address", "it's"),
        ("required value is missing", "required value is missing", None),
        ("kept the number 2025.0 from 'Q3 2025'", "number taken from longer text", "Q3 2025"),
        ("dropped values that are not web addresses: a, b", "dropped values that are not web addresses", "a, b"),
        ("value 12 is out of range", "value … is out of range", None),
    ],
)  # fmt: skip
def test_a_message_becomes_a_reason_and_a_sample(
    message: str, reason: str, sample: str | None
) -> None:
    assert reason_of(message) == (reason, sample)


def test_the_tally_ranks_errors_first_keeps_few_samples_and_caps_reasons() -> None:
    tally = Tally()
    for value in ("free", "Q3 2025", "n/a", "tbd", "free"):
        tally.add("error", [{"column_key": "price", "message": f"{value!r} is not a number"}])
    tally.add("warning", [{"column_key": "price", "message": "kept the number 3 from '3 pcs'"}])
    tally.add("valid", [])
    tally.add(None, None)  # a server that does not validate: counted valid
    for n in range(MAX_REASONS + 5):
        tally.add("error", [{"column_key": f"c{n}", "message": "required value is missing"}])
    summary = tally.summary()
    assert (summary["rows"], summary["valid"], summary["warning"]) == (33, 2, 1)
    assert summary["error"] == 5 + MAX_REASONS + 5
    top = summary["reasons"][0]
    assert top == {
        "column": "price",
        "severity": "error",
        "reason": "not a number",
        "count": 5,
        "samples": ["free", "Q3 2025", "n/a"],
        "rows": [0, 1, 2, 3, 4],  # the rows it was counted in, in order from the first
    }
    assert len(summary["reasons"]) == MAX_REASONS
    assert all(r["severity"] == "error" for r in summary["reasons"])  # the warning fell off


def test_the_summary_line() -> None:
    tally = Tally()
    for value in ("free", "Q3 2025", "n/a"):
        tally.add("error", [{"column_key": "price", "message": f"{value!r} is not a number"}])
    tally.add("error", [{"column_key": "sku", "message": "required value is missing"}])
    for _ in range(20):
        tally.add("valid", [])
    line = summary_line(tally.summary())
    assert line == (
        '24 rows: 20 valid · 4 with errors — price: 3 values not a number ("free", '
        '"Q3 2025", "n/a"); sku: required value is missing (1 row)'
    )
    tally.add("error", [{"column_key": "price", "message": "'tbd' is not a number"}])
    assert '("free", "Q3 2025", "n/a" …)' in summary_line(tally.summary())
    clean = Tally()
    clean.add("valid", [])
    assert summary_line(clean.summary()) == "1 row, all valid"
    assert summary_line(None) == "" and summary_line({"rows": 0}) == ""


def test_the_report_line_renders_what_is_present() -> None:
    contract = {
        "rows": 24,
        "skipped": {"total": 2, "section": 3},
        "failed_files": [{"source": "bad.pdf", "reason": "bad.pdf is damaged"}],
        "sources": [
            {"source": "catalog.xlsx", "status": "ok", "unmapped_source_columns": ["Lieferbar ab"]},
            {"source": "bad.pdf", "status": "failed", "error": "bad.pdf is damaged"},
        ],
    }
    assert report_line(contract) == (
        "5 rows skipped (2 totals, 3 section headings) · not mapped: Lieferbar ab · "
        "1 of 2 files failed: bad.pdf (is damaged)"
    )
    # Per-source counts only (older engine data): added up, reasons unknown.
    older = {"sources": [{"skipped": 2, "unmapped_source_columns": []}, {"skipped": 1}]}
    assert report_line(older) == "3 rows skipped"
    # Failures named only per source.
    per_source = {
        "sources": [
            {"source": "x.pdf", "status": "failed", "error": "no text"},
            {"source": "y.csv", "status": "ok"},
        ]
    }
    assert report_line(per_source) == "1 of 2 files failed: x.pdf (no text)"
    # Every source failed: the table failed, and its error already names them.
    per_source["sources"].pop()
    assert report_line(per_source) == ""
    assert report_line({"sources": [{"skipped": 0, "unmapped_source_columns": []}]}) == ""
    assert report_line(None) == "" and report_line("nonsense") == ""  # type: ignore[arg-type]


# --------------------------------------------------------------------------- engine and job


def test_the_engine_stores_the_summary_of_the_rows_it_wrote(client: Lasso, bad_job: Any) -> None:
    table = client.tables.get(bad_job.id)
    summary = table["validation_summary"]
    rows = list(client.tables.rows(bad_job.id, limit=100))
    by_status = {
        s: sum(r.validation_status == s for r in rows) for s in ("valid", "warning", "error")
    }
    assert summary["rows"] == len(rows) == 6
    assert {k: summary[k] for k in by_status} == by_status
    price = next(
        r for r in summary["reasons"] if r["column"] == "price" and r["severity"] == "error"
    )
    assert price["reason"] == "not a number" and price["count"] == 2
    assert price["samples"] == ["free", "gratis"]


def test_the_frame_carries_the_summary_and_the_server_flagged_values(
    client: Lasso, bad_job: Any
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = bad_job.result(timeout=1)
    attrs = df.attrs["lasso"]
    assert attrs["validation"] == client.tables.get(bad_job.id)["validation_summary"]
    unparsed = attrs["unparsed"]
    assert unparsed["price"]["count"] == 2 and unparsed["price"]["rows"] == [1, 4]
    assert unparsed["price"]["examples"] == ["free", "gratis"]
    assert unparsed["price"]["reasons"] == ["not a number"]
    assert unparsed["release_date"]["examples"] == ["31/02/2024"]
    assert unparsed["in_stock"]["examples"] == ["maybe"]
    assert attrs["extraction_report"]["sources"][0]["source"] == "text"
    messages = [str(w.message) for w in caught if issubclass(w.category, UnparsedValuesWarning)]
    assert len(messages) == 1 and "price (2)" in messages[0], messages
    assert "4 values did not fit" in unparsed_summary(df)


def test_the_job_text_and_widget_show_the_summary_line(bad_job: Any) -> None:
    line = summary_line(bad_job.df.attrs["lasso"]["validation"])
    assert line.startswith("6 rows: 2 valid · 1 with warnings · 3 with errors — price: 2 values")
    lines = repr(bad_job).splitlines()
    assert "completed" in lines[0] and lines[1] == line
    assert bad_job.widget.validation == line
    assert bad_job.widget.text().splitlines()[1] == line


def test_valid_only_drops_error_rows_and_keeps_warnings(client: Lasso, bad_job: Any) -> None:
    everything = bad_job.result(timeout=1)
    valid = bad_job.result(timeout=1, valid_only=True)
    statuses = {r.row_index: r.validation_status for r in client.tables.rows(bad_job.id)}
    assert list(valid.index) == [i for i, s in sorted(statuses.items()) if s != "error"]
    assert "warning" in {statuses[i] for i in valid.index}  # warnings count as valid
    assert valid.attrs["lasso"]["dropped_error_rows"] == 3 and len(everything) == 6
    assert len(bad_job.frame(valid_only=True, meta=True)) == 3
    # Every unread value was in a dropped row: nothing left to warn about.
    assert valid.attrs["lasso"]["unparsed"] == {}
    assert everything.attrs["lasso"]["unparsed"]["price"]["count"] == 2
    again = ln.submit(
        "Products", "valid only", text=BAD_CSV, client=client, progress=False, valid_only=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnparsedValuesWarning)
        assert len(again.result(timeout=60)) == 3


def test_rows_without_validation_fields_take_the_tables_summary() -> None:
    """What the export path builds from: flat rows, and the summary the engine stored."""
    summary = {
        "rows": 2,
        "valid": 1,
        "warning": 0,
        "error": 1,
        "reasons": [
            {"column": "price", "severity": "error", "reason": "not a number", "count": 1, "samples": ["free"]}
        ],
    }  # fmt: skip
    table = Table(id="tbl_x", status="completed", total_rows=2, validation_summary=summary)
    rows = [{"row_index": 0, "data": {"price": 1.5}}, {"row_index": 1, "data": {"price": None}}]
    df = build_frame(rows, [{"key": "price", "type": "number"}], table=table)
    assert df.attrs["lasso"]["validation"] == summary
    assert df.attrs["lasso"]["unparsed"]["price"] == {
        "count": 1,
        "rows": [],
        "examples": ["free"],
        "reasons": ["not a number"],
    }
    bare = build_frame(rows, [{"key": "price", "type": "number"}], table=Table(id="t"))
    assert bare.attrs["lasso"]["validation"] is None and bare.attrs["lasso"]["unparsed"] == {}
    assert isinstance(bare["price"].dtype, pd.Float64Dtype)


def test_the_magic_prints_the_summary_and_keeps_valid_rows(
    module_engine: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_magics import TestingShell, run

    monkeypatch.setenv("LASSO_API_KEY", module_engine.api_key)
    monkeypatch.setenv("LASSO_BASE_URL", module_engine.base_url)
    shell = TestingShell.make()
    shell.run_line_magic("load_ext", "lasso_notebook")
    result, output = run(
        shell, f"%%lasso_table df --schema Products --no-widget --valid-only\n{BAD_CSV}", capsys
    )
    assert result.success, output
    assert "→ df (3 rows, table tbl_" in output
    assert "6 rows: 2 valid · 1 with warnings · 3 with errors — price: 2 values" in output
    assert len(shell.user_ns["df"]) == 3
    # The cell shows the summary itself: no UnparsedValuesWarning on top of it.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnparsedValuesWarning)
        result, output = run(
            shell, f"%%lasso_table all_rows --schema Products --no-widget\n{BAD_CSV}", capsys
        )
    assert result.success and "6 rows: 2 valid" in output
    assert len(shell.user_ns["all_rows"]) == 6
