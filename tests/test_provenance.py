"""Row provenance in DataFrames, through the embedded engine over loopback HTTP: ``_source`` (the
file, URL or "text" of each row) in every frame of a multi-file table and with ``meta=True``,
``_source_location`` ("sheet Tools, row 4", "page 1", "line 2") with ``meta=True``; and the rows a
failed table holds, reachable with ``job.frame()`` / ``attach(id).wait().frame()``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
from transports import CountingTransport

from lasso_notebook import Lasso, TableFailedError, attach, submit
from lasso_notebook.magics import LassoMagics, MagicError

CATALOGS = Path(__file__).parent / "fixtures" / "catalogs"


def csv(tag: str, n: int) -> bytes:
    rows = "".join(f"{tag} item {i},{tag}-{i},{i}.5\n" for i in range(n))
    return ("name,sku,price\n" + rows).encode()


def _exports_and_rows(path: str) -> str:
    """Every table's export counts as ``export``, every rows listing as ``rows``."""
    return "export" if path.endswith("/export") else "rows" if path.endswith("/rows") else path


@pytest.fixture
def transport() -> CountingTransport:
    return CountingTransport(_exports_and_rows)


@pytest.fixture
def client(engine: Any, transport: CountingTransport) -> Iterator[Lasso]:
    with Lasso(api_key=engine.api_key, base_url=engine.base_url, transport=transport) as lasso:
        yield lasso


def test_a_multi_file_table_names_each_rows_file_without_meta(
    client: Lasso, transport: CountingTransport
) -> None:
    files = [("a.csv", csv("A", 3)), ("b.csv", csv("B", 2)), ("c.csv", csv("C", 4))]
    df = submit("Products", "three", files=files, client=client, progress=False).result(timeout=60)
    assert list(df["_source"]) == ["a.csv"] * 3 + ["b.csv"] * 2 + ["c.csv"] * 4
    assert [sku.split("-")[0] for sku in df["sku"]] == [s[0].upper() for s in df["_source"]]
    assert str(df["_source"].dtype) == "string" and df.columns[-1] == "_source"
    assert "_source_location" not in df.columns and "_row_id" not in df.columns
    # Only the rows listing knows each row's file: the export was not used.
    assert transport.counts["GET export"] == 0 and transport.counts["GET rows"] >= 1


def test_a_single_source_table_has_no_source_column_unless_meta(
    client: Lasso, transport: CountingTransport
) -> None:
    job = submit(
        "Products", "one", files=[("only.csv", csv("O", 3))], client=client, progress=False
    )
    df = job.result(timeout=60)
    assert "_source" not in df.columns
    assert transport.counts["GET export"] == 1  # one source: the export is enough
    # Meta asked later: read from the listing, with the one source and each row's line.
    full = job.result(meta=True)
    assert list(full["_source"]) == ["only.csv"] * 3
    assert list(full["_source_location"]) == ["line 2", "line 3", "line 4"]
    assert list(full.columns[-5:]) == [
        "_source",
        "_source_location",
        "_row_id",
        "_validation_status",
        "_validation_errors",
    ]
    assert job.result() is df  # the job's own shape is unchanged


@pytest.mark.parametrize(
    ("fixture", "location"),
    [("catalog.xlsx", "sheet Tools, row 4"), ("catalog_tables.pdf", "page 1")],
)
def test_meta_locations_say_what_the_engine_knows(
    client: Lasso, fixture: str, location: str
) -> None:
    df = submit(
        "Products", fixture, files=[CATALOGS / fixture], client=client, progress=False, meta=True
    ).result(timeout=60)
    assert set(df["_source"]) == {fixture}
    assert df["_source_location"].iloc[0] == location
    assert str(df["_source_location"].dtype) == "string"


def test_meta_on_a_multi_file_table_and_on_text(client: Lasso) -> None:
    files = [("a.csv", csv("A", 2)), ("b.csv", csv("B", 2))]
    df = submit("Products", "two", files=files, client=client, progress=False, meta=True).result(
        timeout=60
    )
    assert list(df["_source"]) == ["a.csv", "a.csv", "b.csv", "b.csv"]
    assert list(df["_source_location"]) == ["line 2", "line 3", "line 2", "line 3"]
    # The other shape keeps _source (several sources) and drops the meta columns.
    job = submit("Products", "two", files=files, client=client, progress=False, meta=True)
    plain = job.result(meta=False, labels=True)
    assert list(plain.columns[-2:]) == ["URL", "_source"] and "_source_location" not in plain

    text = submit(
        "Products", "text", text=csv("T", 2).decode(), client=client, progress=False, meta=True
    ).result(timeout=60)
    assert list(text["_source"]) == ["text", "text"]
    assert list(text["_source_location"]) == ["line 2", "line 3"]


# ------------------------------------------------------------------- rows of failed tables


@pytest.fixture
def crashing(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The engine fails tables after their rows were written (a store failure at the end of
    the run), the way a real crash late in an extraction leaves a table: failed, with rows."""

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(engine.workers.store, "record_validation", broken)
    return engine


def test_a_failed_tables_rows_are_reachable(crashing: Any, client: Lasso) -> None:
    job = submit("Products", "late crash", text=csv("F", 4).decode(), client=client, progress=False)
    with pytest.raises(TableFailedError) as info:
        job.result(timeout=60)
    error = info.value
    assert error.total_rows == 4
    assert f"lasso_notebook.attach({job.id!r}).wait().frame()" in str(error)
    assert "it holds 4 rows" in str(error)
    # result() raises, df stays None; frame() gives the rows the failed table holds.
    assert job.df is None
    df = job.frame()
    assert df is not None and list(df["sku"]) == [f"F-{i}" for i in range(4)]
    assert str(df["price"].dtype) == "Float64" and df.attrs["lasso"]["status"] == "failed"
    # A new job on the table (another session) gets them the documented way.
    again = attach(job.id, client=client, progress=False)
    assert again is not job
    rows = again.wait(timeout=30).frame(meta=True)
    assert rows is not None and list(rows["_source_location"]) == [f"line {i}" for i in range(2, 6)]

    # A failed table without rows: frame() is None, and the message has no hint.
    empty = submit("Products", "nothing", text="no products\n", client=client, progress=False)
    with pytest.raises(TableFailedError) as info:
        empty.result(timeout=60)
    assert info.value.total_rows == 0 and "attach(" not in str(info.value)
    assert empty.frame() is None


def test_the_magic_says_how_to_get_a_failed_tables_rows(
    crashing: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LASSO_API_KEY", crashing.api_key)
    monkeypatch.setenv("LASSO_BASE_URL", crashing.base_url)
    config = Config()
    config.HistoryAccessor.enabled = False
    shell = InteractiveShell(config=config)
    shell.displayhook.flush = lambda: None
    shell.register_magics(LassoMagics(shell=shell))
    result = shell.run_cell(
        f"%%lasso_table df --schema Products --no-widget\n{csv('M', 3).decode()}"
    )
    output = capsys.readouterr()
    assert isinstance(result.error_in_exec, MagicError), output
    first, second = result.error_in_exec.lines
    assert first.startswith("%lasso_table: table tbl_") and "failed" in first
    table_id = first.split()[2]
    assert second == (
        "It holds 3 rows all the same: import lasso_notebook; "
        f"df = lasso_notebook.attach({table_id!r}).wait().frame()"
    )
    assert "df" not in shell.user_ns
    shell.run_cell(second.split(": ", 1)[1])  # what the message says to run works
    assert isinstance(shell.user_ns["df"], pd.DataFrame) and len(shell.user_ns["df"]) == 3
