"""``%lasso_table`` batches in a real IPython shell against the embedded engine: more than 10
files (a glob of 23 with 2 bad ones) or URLs, ``--per-file``, ``--strict``, ``--background`` with
``%lasso wait`` and ``%lasso jobs``, a re-run; and the 422 hint, which names the option a refusal
is about or, when it names none, the cell."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from shells import TestingShell, loaded_shell

from lasso_notebook import Lasso, errors
from lasso_notebook._batch import batches
from lasso_notebook._batch_plan import split
from lasso_notebook._magic_errors import user_message
from lasso_notebook.magics import LassoMagics, MagicError

BAD = ("bad_05.pdf", "bad_17.pdf")


@pytest.fixture(scope="module")
def shell() -> TestingShell:
    ip = loaded_shell()
    return ip


@pytest.fixture
def eng(engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LASSO_API_KEY", engine.api_key)
    monkeypatch.setenv("LASSO_BASE_URL", engine.base_url)
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "index"))
    return engine


@pytest.fixture
def ip(shell: TestingShell, eng: Any) -> Iterator[TestingShell]:
    magics = LassoMagics(shell=shell)
    shell.register_magics(magics)
    yield shell
    shell.configurables.remove(magics)
    shell.config.pop("LassoMagics", None)
    for name in [
        n for n in shell.user_ns if not n.startswith("_") and n not in shell.user_ns_hidden
    ]:
        del shell.user_ns[name]


def run(
    shell: InteractiveShell, code: str, capsys: pytest.CaptureFixture[str]
) -> tuple[ExecutionResult, str]:
    result = shell.run_cell(code, store_history=True)
    out = capsys.readouterr()
    return result, out.out + out.err


def tables_on(engine: Any) -> int:
    with Lasso(api_key=engine.api_key, base_url=engine.base_url) as client:
        return client.tables.list(limit=1).pagination.total


def catalog_csv(tag: str, n: int = 3) -> str:
    return "name,sku,price\n" + "".join(f"{tag} item {i},{tag}-{i},{i}.25\n" for i in range(n))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """23 files: 21 CSVs of 3 rows and 2 damaged PDFs."""
    root = tmp_path / "catalogs"
    root.mkdir()
    for i in range(23):
        name = f"bad_{i:02d}.pdf" if f"bad_{i:02d}.pdf" in BAD else f"cat_{i:02d}.csv"
        if name in BAD:
            (root / name).write_bytes(b"%PDF-1.4\n% damaged\n")
        else:
            (root / name).write_text(catalog_csv(f"C{i:02d}"))
    return root


def test_a_glob_of_23_files_makes_a_batch_sets_var_and_names_the_failures(
    ip: InteractiveShell, eng: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(
        ip, f"%lasso_table products --schema Products --file '{folder}/*' --no-widget", capsys
    )
    assert result.success, output
    df = ip.user_ns["products"]
    names = sorted(p.name for p in folder.iterdir())  # a glob's order
    groups = split(names)
    tables = len(groups)
    # A re-run makes one table per group that holds a bad file (for its bad files alone).
    retries = sum(1 for group in groups if any(names[i] in BAD for i in group))
    assert len(df) == 63 and df["sku"].is_unique and df["_source"].nunique() == 21
    lines = output.strip().splitlines()
    assert f"→ products (63 rows from {tables} tables)" in lines
    (failed,) = [line for line in lines if "files failed" in line]
    assert failed.startswith("2 of 23 files failed: bad_05.pdf (could not be read as a PDF")
    assert "bad_17.pdf (" in failed
    assert "63 rows, all valid" in lines
    assert "422" not in output and "Fix the options" not in output
    assert tables_on(eng) == tables

    # Run again: the completed tables are reused, only the two bad files are tried again.
    result, output = run(
        ip, f"%lasso_table products --schema Products --file '{folder}/*' --no-widget", capsys
    )
    assert result.success, output
    assert tables_on(eng) == tables + retries
    assert f"reused {tables} of {tables + retries} tables" in output and "--refresh" in output
    assert "2 of 23 files failed: bad_05.pdf" in output
    assert ip.user_ns["products"].equals(df)


def test_strict_fails_the_cell_in_one_line_and_leaves_var_alone(
    ip: InteractiveShell, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.user_ns["products"] = "as it was"
    result, output = run(
        ip,
        f"%lasso_table products --schema Products --file '{folder}/*' --strict --no-widget",
        capsys,
    )
    assert isinstance(result.error_in_exec, MagicError), output
    (line,) = result.error_in_exec.lines
    assert line.startswith("%lasso_table: 2 of 23 files failed (--strict): bad_05.pdf (")
    assert "bad_17.pdf (" in line and line.endswith("; products was not set")
    assert output.strip() == line and "Traceback" not in output
    assert ip.user_ns["products"] == "as it was"


def test_per_file_makes_a_table_per_file(
    ip: InteractiveShell, eng: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for tag in ("a", "b", "c"):
        (tmp_path / f"{tag}.csv").write_text(catalog_csv(tag.upper(), 2))
    result, output = run(
        ip,
        f"%lasso_table pf --schema Products --file '{tmp_path}/*.csv' --per-file --no-widget",
        capsys,
    )
    assert result.success, output
    assert list(ip.user_ns["pf"]["_source"]) == ["a.csv"] * 2 + ["b.csv"] * 2 + ["c.csv"] * 2
    assert "→ pf (6 rows from 3 tables)" in output and "failed" not in output
    assert tables_on(eng) == 3


def test_a_batch_cell_polls_with_the_configured_rate_limit_budget(
    ip: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # %config LassoMagics.rate_limit_budget applies to the tables of a batch as to one table.
    for tag in ("a", "b"):
        (tmp_path / f"{tag}.csv").write_text(catalog_csv(tag.upper(), 2))
    ip.run_cell("%config LassoMagics.rate_limit_budget = 42")
    result, output = run(
        ip,
        f"%lasso_table rl --schema Products --file '{tmp_path}/*.csv' --per-file --no-widget",
        capsys,
    )
    assert result.success, output
    (batch,) = [b for b in batches() if b.name == "rl"]
    assert [t.rate_limit_budget for t in batch.jobs] == [42, 42]


def test_more_than_10_urls_make_a_batch_too(
    ip: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(11):
        (tmp_path / f"u{i}.csv").write_text(catalog_csv(f"U{i}", 1))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        options = " ".join(f"--url {base}/u{i}.csv" for i in range(11))
        result, output = run(
            ip, f"%lasso_table web --schema Products {options} --no-widget", capsys
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.success, output
    df = ip.user_ns["web"]
    assert sorted(df["_source"]) == sorted(f"{base}/u{i}.csv" for i in range(11))


def test_background_batch_with_lasso_wait_and_jobs(
    ip: InteractiveShell, eng: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eng.workers.pace = 0.02
    result, output = run(
        ip,
        f"%lasso_table later --schema Products --file '{folder}/*' --background --no-widget",
        capsys,
    )
    assert result.success and output.strip() == "later will be set when the batch completes"
    result, output = run(ip, "%lasso wait later", capsys)
    assert result.success, output
    assert len(ip.user_ns["later"]) == 63
    # Without a widget the done-callback printed where VAR went and what failed.
    assert "→ later (63 rows from" in output and "2 of 23 files failed: bad_05.pdf" in output

    result, _ = run(ip, "jobs = %lasso jobs", capsys)
    listing = ip.user_ns["jobs"]
    batch_rows = listing[listing["batch"] == "later"]
    assert len(batch_rows) == len(split(sorted(p.name for p in folder.iterdir())))
    assert set(batch_rows["var"]) == {"later"} and batch_rows["id"].str.startswith("tbl_").all()
    assert batch_rows["total_rows"].sum() == 63


def test_batch_options_need_files_or_urls(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(ip, "%%lasso_table x --schema Products --per-file\na,b\n1,2\n", capsys)
    assert isinstance(result.error_in_exec, MagicError)
    assert "--per-file is about files and URLs" in output and len(output.strip().splitlines()) == 1
    result, output = run(ip, "%lasso_table x --attach tbl_1 --strict", capsys)
    assert isinstance(result.error_in_exec, MagicError)
    assert "--strict is for new tables" in output


def _unprocessable(message: str) -> errors.UnprocessableEntityError:
    envelope = {"status_code": 422, "error_type": "validation_error", "message": message}
    response = httpx.Response(
        422, json=envelope, request=httpx.Request("POST", "http://x/api/v1/tables")
    )
    exc = errors.from_response(response)
    assert isinstance(exc, errors.UnprocessableEntityError)
    return exc


def test_a_422_hint_names_the_option_or_the_cell() -> None:
    first, hint = user_message(_unprocessable("webhook_url must be an https URL"))
    assert first.startswith("%lasso_table: the server rejected the request (422: webhook_url")
    assert hint == "Fix --webhook as the message says, then run the cell again."
    _, hint = user_message(_unprocessable("At most 10 files or URLs per table (got 37)"))
    assert hint == "Fix --file as the message says, then run the cell again."
    _, hint = user_message(_unprocessable("Unknown column key(s): colour"))
    assert hint == "Change the cell as the message says, then run it again."
    assert "named above" not in hint
