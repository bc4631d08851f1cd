"""``%lasso schema`` (show, create), ``%lasso delete``, ``%lasso prune``, the human listings
(durations, local timestamps, empty cells) and the data-dir size in ``%lasso config``, driven
through a real IPython shell against the embedded engine over loopback HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pandas as pd
import pytest
from test_magics import TestingShell, assert_short_error, magics_of, run

import lasso_notebook as ln
from lasso_notebook import Lasso, NotFoundError
from lasso_notebook._human import duration_text, size_text, tidy, timestamp_text
from lasso_notebook._magic_housekeeping import parse_age

CSV = "name;sku;price\n" + "".join(f"Widget {i};W{i:03d};{i}.50\n" for i in range(4))
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    with serve(port=0, data_dir=tmp_path_factory.mktemp("housekeeping-engine")) as handle:
        yield handle


@pytest.fixture(autouse=True)
def own_reuse_index(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's tests share one engine but not a reuse index: two tables made from the
    same text in one test are two tables, whatever an earlier test extracted."""
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "lasso-data"))


@pytest.fixture
def ip(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestingShell]:
    monkeypatch.setenv("LASSO_API_KEY", engine.api_key)
    monkeypatch.setenv("LASSO_BASE_URL", engine.base_url)
    engine.workers.pace = 0.0
    shell = TestingShell.make()
    shell.run_line_magic("load_ext", "lasso_notebook")
    yield shell
    engine.workers.pace = 0.0


@pytest.fixture
def client(engine: Any) -> Iterator[Lasso]:
    with Lasso(api_key=engine.api_key, base_url=engine.base_url) as c:
        yield c


def table(client: Lasso, name: str, text: str = CSV) -> Any:
    # A table of its own each time (reuse would hand back the earlier one of the same text).
    return ln.submit("Products", name, text=text, client=client, progress=False, reuse=False)


# --------------------------------------------------------------------------- formats


def test_human_values() -> None:
    assert [duration_text(s) for s in (0.442903, 1.23, 42.4, 180, 185, 3725)] == [
        "0.4 s", "1.2 s", "42 s", "3 min", "3 min 5 s", "1 h 2 min",
    ]  # fmt: skip
    assert duration_text(None) == duration_text(float("nan")) == duration_text(-1) == ""
    utc = "2026-03-10T14:30:00.000Z"
    local = datetime(2026, 3, 10, 14, 30, tzinfo=timezone.utc).astimezone()
    assert timestamp_text(utc) == local.strftime("%Y-%m-%d %H:%M:%S")
    assert timestamp_text(datetime(2026, 3, 10, 14, 30)) == timestamp_text(utc)  # naive is UTC
    assert timestamp_text(None) == "" and timestamp_text("soon") == "soon"
    assert [size_text(n) for n in (812, 3500, 228 * 2**20, int(1.2 * 2**30))] == [
        "812 bytes", "3.4 KiB", "228 MiB", "1.2 GiB",
    ]  # fmt: skip
    frame = tidy(
        pd.DataFrame(
            {
                "id": ["tbl_1", None],
                "count": [3, None],
                "ratio": [0.5, None],
                "elapsed": [0.44, None],
                "created_at": ["2026-03-10T14:30:00Z", None],
            }
        )
    )
    assert frame.to_dict("list") == {
        "id": ["tbl_1", ""],
        "count": [3, ""],
        "ratio": [0.5, ""],
        "elapsed": ["0.4 s", ""],
        "created_at": [timestamp_text(utc), ""],
    }


@pytest.mark.parametrize(
    ("text", "seconds"), [("7d", 7 * 86400), ("12h", 43200), ("30m", 1800), ("2w", 1209600), ("3", 3 * 86400), ("1.5h", 5400)]
)  # fmt: skip
def test_ages(text: str, seconds: float) -> None:
    assert parse_age(text).total_seconds() == seconds


# --------------------------------------------------------------------------- listings


def test_listings_are_tidy(
    ip: TestingShell, client: Lasso, capsys: pytest.CaptureFixture[str]
) -> None:
    run(ip, f"%%lasso_table listed --schema Products\n{CSV}", capsys)
    ln.submit("Products", "no var", text=CSV, client=client, progress=False).result(timeout=60)
    for command in ("%lasso jobs", "%lasso tables", "%lasso schemas"):
        df = ip.run_cell(command).result
        assert isinstance(df, pd.DataFrame) and len(df), command
        cells = df.to_numpy().ravel().tolist()
        assert not any(c is None or (isinstance(c, float) and c != c) for c in cells), command
        for column in ("created_at", "updated_at"):
            if column in df:
                assert all(TIMESTAMP.match(v) for v in df[column]), (command, df[column].tolist())
    jobs = ip.run_cell("%lasso jobs").result
    assert all(re.fullmatch(r"\d+\.\d s|\d+ s|\d+ min( \d+ s)?", e) for e in jobs["elapsed"])
    assert jobs["var"].tolist()[-2:] == ["listed", ""]
    tables = ip.run_cell("%lasso tables --search listed").result
    created = client.tables.get(tables["id"].iloc[0]).created_at
    assert tables["created_at"].iloc[0] == timestamp_text(created)


# --------------------------------------------------------------------------- schemas


def test_schema_create_show_and_rerun(
    ip: TestingShell, client: Lasso, capsys: pytest.CaptureFixture[str]
) -> None:
    line = (
        '%lasso schema create "Garden prices" sku:text! name price:number qty:integer '
        '"release date:date" category:enum(Power Tools|Garden) --description "spring list"'
    )
    result, output = run(ip, line, capsys)
    assert result.success, output
    assert output.startswith("created schema 'Garden prices' (schema_")
    assert 'sku:text! name:text price:number qty:integer "release date":date' in output
    assert "category:enum(Power Tools|Garden)" in output
    result, again = run(ip, line, capsys)  # the notebook run a second time
    assert result.success and "exists with these columns; nothing changed" in again
    assert sum(s.name == "Garden prices" for s in client.schemas.list(limit=100)) == 1

    shown = ip.run_cell('%lasso schema "garden prices"').result
    assert shown["key"].tolist() == ["sku", "name", "price", "qty", "release_date", "category"]
    assert shown["type"].tolist() == ["text", "text", "number", "integer", "date", "enum"]
    assert shown["required"].tolist() == [True, False, False, False, False, False]
    assert shown["label"].tolist()[4] == "release date"
    assert shown["enum_values"].tolist()[5] == "Power Tools, Garden"
    assert shown.attrs["lasso"]["name"] == "Garden prices"
    capsys.readouterr()  # the frame as the cell's result

    result, output = run(ip, '%lasso schema create "Garden prices" sku:text', capsys)
    assert_short_error(result, output, "exists already", "schemas.update(")
    result, output = run(ip, "%lasso schema create Oops price:nubmer", capsys)
    assert_short_error(result, output, "column 'price'", "did you mean 'number'")
    result, output = run(ip, "%lasso schema Gardn prices", capsys)
    assert_short_error(result, output, "one schema at a time", '"Gardn prices"')
    result, output = run(ip, "%lasso schema Prodcts", capsys)
    assert_short_error(result, output, "unknown schema 'Prodcts'", "Products")
    result, output = run(ip, "%lasso schema", capsys)
    assert_short_error(result, output, "%lasso schema create NAME COLUMN")


def test_a_created_schema_reaches_an_open_form(ip: TestingShell, engine: Any) -> None:
    form = ln.SubmitForm(client=Lasso(api_key=engine.api_key, base_url=engine.base_url))
    form.refresh_schemas(wait=True)
    assert "Fresh for the form" not in [s["name"] for s in form.schemas]
    ip.run_cell('%lasso schema create "Fresh for the form" sku:text! price:number')
    deadline = time.monotonic() + 20
    while "Fresh for the form" not in [s["name"] for s in form.schemas]:
        assert time.monotonic() < deadline, "the form did not reload its schemas"
        time.sleep(0.05)
    form.close()


# --------------------------------------------------------------------------- delete and prune


def test_delete_names_what_it_removed(
    ip: TestingShell, client: Lasso, engine: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = table(client, "to delete 1"), table(client, "to delete 2")
    first.result(timeout=60), second.result(timeout=60)
    result, output = run(ip, f"%lasso delete {first.id} {second.id} tbl_missing --dry-run", capsys)
    assert result.success and output.startswith("would delete 2 tables (8 rows): ")
    client.tables.get(first.id)  # still there
    result, output = run(ip, f"%lasso delete {first.id} {second.id} tbl_missing", capsys)
    assert result.success, output
    assert output.strip() == (
        f"deleted 2 tables (8 rows): {first.id} ('to delete 1', 4 rows), "
        f"{second.id} ('to delete 2', 4 rows); not found: tbl_missing"
    )
    for gone in (first, second):
        with pytest.raises(NotFoundError):
            client.tables.get(gone.id)
    result, output = run(ip, "%lasso delete tbl_missing", capsys)
    assert_short_error(result, output, "no table tbl_missing", "%lasso tables")
    result, output = run(ip, "%lasso delete", capsys)
    assert_short_error(result, output, "name the tables to delete")

    # A table this kernel follows: the job stops following it instead of failing on a 404.
    engine.workers.pace = 0.2
    slow = table(client, "slow to delete", CSV * 3)
    while slow.id is None:
        time.sleep(0.02)
    run(ip, f"%lasso delete {slow.id}", capsys)
    assert slow.wait(timeout=10).detached and not isinstance(slow.error, NotFoundError)


def test_prune_by_status_and_age(
    ip: TestingShell, client: Lasso, engine: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = table(client, "prune keeps me")
    broken = table(client, "prune failed", "???")
    kept.result(timeout=60)
    broken.wait(timeout=60)
    assert broken.phase.value == "failed"
    result, output = run(ip, "%lasso prune --status failed --dry-run", capsys)
    assert result.success and output.startswith("would delete ")
    assert broken.id in output and kept.id not in output and "failed" in output
    client.tables.get(broken.id)
    result, output = run(ip, "%lasso prune --status failed", capsys)
    assert output.startswith("deleted ") and broken.id in output and "with status failed" in output
    with pytest.raises(NotFoundError):
        client.tables.get(broken.id)
    client.tables.get(kept.id)

    result, output = run(ip, "%lasso prune --older-than 1h", capsys)
    assert result.success and output.strip() == "nothing to prune: no table older than 1h"
    engine.workers.pace = 0.3
    running = table(client, "prune leaves running work", CSV * 5)
    time.sleep(1.1)
    result, output = run(ip, "%lasso prune --older-than 1s", capsys)
    assert kept.id in output and running.id not in output, output
    client.tables.get(running.id)  # never pruned by age while it runs
    with pytest.raises(NotFoundError):
        client.tables.get(kept.id)
    result, output = run(ip, "%lasso prune", capsys)
    assert_short_error(result, output, "--older-than 7d and/or --status failed", "--dry-run")
    result, output = run(ip, "%lasso prune --older-than soon", capsys)
    assert_short_error(result, output, "'soon' is not an age")
    result, output = run(ip, "%lasso tables extra", capsys)
    assert_short_error(result, output, "unexpected 'extra'")


# --------------------------------------------------------------------------- %lasso config


def test_config_shows_the_embedded_engines_data_dir_size(
    engine: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import lasso_notebook.server as server

    monkeypatch.delenv("LASSO_API_KEY", raising=False)
    monkeypatch.delenv("LASSO_BASE_URL", raising=False)
    monkeypatch.setattr(server, "_embedded", engine)  # this engine as the process's embedded one
    (engine.data_dir / "files" / "padding.bin").write_bytes(b"\0" * (3 << 20))
    shell = TestingShell.make()
    shell.run_line_magic("load_ext", "lasso_notebook")
    magics_of(shell).client = None
    _, output = run(shell, "%lasso config", capsys)
    line = next(ln for ln in output.splitlines() if ln.startswith("data_dir"))
    size = re.search(r"\(([\d.]+) MiB\)", line)
    assert str(engine.data_dir) in line and size and float(size[1]) >= 3, line
    # An engine that measures itself is asked instead.
    monkeypatch.setattr(engine, "data_dir_size", lambda: 5 << 30, raising=False)
    _, output = run(shell, "%lasso config", capsys)
    assert f"data_dir        {engine.data_dir} (5.0 GiB)" in output
