"""``%%lasso_table`` / ``%lasso_table`` / ``%lasso`` driven through a real IPython shell against
the embedded engine over loopback HTTP: options, sources, blocking, background, attach, errors
(short, no traceback), ``%config`` and ``%lasso``."""

from __future__ import annotations

import functools
import http.server
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from shells import TestingShell, loaded_shell

from lasso_notebook import Lasso
from lasso_notebook._config import mask_key
from lasso_notebook._magic_vars import View
from lasso_notebook.magics import LassoMagics, MagicError

CSV = "name;sku;price\n" + "".join(f"Widget {i};W{i:03d};{i}.50\n" for i in range(5))


@pytest.fixture(scope="module")
def shell() -> Iterator[TestingShell]:
    ip = loaded_shell()
    yield ip


@pytest.fixture
def ip(shell: TestingShell) -> Iterator[TestingShell]:
    """The shared shell with a fresh ``LassoMagics`` (default config) and a clean namespace."""
    magics = LassoMagics(shell=shell)
    shell.register_magics(magics)
    yield shell
    shell.configurables.remove(magics)
    # %config merges into the shell's Config, which the next LassoMagics would inherit.
    shell.config.pop("LassoMagics", None)
    for name in [
        n for n in shell.user_ns if not n.startswith("_") and n not in shell.user_ns_hidden
    ]:
        del shell.user_ns[name]


def magics_of(shell: InteractiveShell) -> LassoMagics:
    return shell.magics_manager.registry["LassoMagics"]


def run(
    shell: InteractiveShell, code: str, capsys: pytest.CaptureFixture[str]
) -> tuple[ExecutionResult, str]:
    """Run a cell; return its result and everything printed (stdout + stderr)."""
    result = shell.run_cell(code, store_history=True)
    out = capsys.readouterr()
    return result, out.out + out.err


def assert_short_error(result: ExecutionResult, output: str, *fragments: str) -> None:
    """The cell failed with our message, in at most two lines, and without a traceback."""
    assert isinstance(result.error_in_exec, MagicError), (result.error_in_exec, output)
    for fragment in fragments:
        assert fragment in output, output
    assert "Traceback" not in output and "-----" not in output, output
    assert len(output.strip().splitlines()) <= 2, output


# --------------------------------------------------------------------------- no server needed


def test_help_lists_every_option_with_an_example(ip: InteractiveShell) -> None:
    doc = ip.find_cell_magic("lasso_table").__doc__
    options = [
        "--schema", "--name", "--file", "--url", "--context", "--enhance", "--webhook",
        "--attach", "--background", "--timeout", "--meta", "--labels", "--no-widget",
    ]  # fmt: skip
    for option in options:
        line = next(ln for ln in doc.splitlines() if ln.strip().startswith(option))
        block = doc[doc.index(line) :].split("\n  -")[0]
        assert "Example:" in block, (option, block)
    assert "%%lasso_table products --schema Products" in doc
    assert "$name and {expression}" in doc
    assert "%lasso config" in ip.find_line_magic("lasso").__doc__


@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        ("%lasso_table df --bogus", ["unrecognized arguments: --bogus", "%lasso_table?"]),
        ("%lasso_table df --timeout soon", ["--timeout", "invalid float value"]),
        ("%lasso_table df --context 'unclosed", ["No closing quotation"]),
        ("%lasso_table 1df --schema P --url http://x", ["'1df' is not a valid Python variable"]),
        ("%lasso_table class --schema P --url http://x", ["'class' is not a valid"]),
        ("%lasso_table df --schema P --url http://x --timeout 0", ["positive number"]),
        ("%lasso_table df --url http://x --background --timeout 5", ["drop --background"]),
        ("%lasso_table df --schema P", ["no source", "--file PATH or --url URL"]),
        (
            "%lasso_table df --schema P --url http://x --file a.pdf",
            ["--file and --url", "keep one"],
        ),
        ("%%lasso_table df --schema P --url http://x\nsome text", ["the cell body and --url"]),
        ("%lasso_table df --attach tbl_1 --url http://x", ["--attach follows", "remove --url"]),
        ("%%lasso_table --attach tbl_1 --schema P\ntext", ["remove the cell body, --schema"]),
        ("%lasso_table df --url http://x", ["no schema", "LassoMagics.default_schema"]),
        ("%lasso_table df --schema P --file nope.pdf", ["no such file: 'nope.pdf'"]),
        ("%lasso_table df --schema P --file 'nothing/*.pdf'", ["no file matches", "nothing/*.pdf"]),
        ("%lasso_table df --schema P --url ftp://x/a.pdf", ["--url 'ftp://x/a.pdf' is not an"]),
        ("%lasso_table df --schema P --url http://x --webhook hook", ["--webhook 'hook' is not"]),
        ("%lasso frobnicate", ["invalid choice: 'frobnicate'", "%lasso?"]),
        ("%lasso tables --limit 0", ["--limit must be a positive"]),
    ],
)
def test_option_mistakes_are_short_and_need_no_server(
    ip: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    line: str,
    fragments: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    # A request would fail loudly: the checks must all happen before any client exists.
    monkeypatch.setattr(LassoMagics, "_client", lambda self: pytest.fail("client used"))
    result, output = run(ip, line, capsys)
    assert_short_error(result, output, *fragments)


def test_an_empty_cell_points_to_the_line_magic(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(ip, "%%lasso_table df --schema P --file a.pdf", capsys)
    assert result.error_in_exec is not None and "Traceback" not in output
    assert "Did you mean the line magic %lasso_table" in output


def test_a_folder_given_to_file_suggests_a_glob(
    ip: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    (tmp_path / "catalogs").mkdir()
    monkeypatch.chdir(tmp_path)
    result, output = run(ip, "%lasso_table df --schema P --file catalogs", capsys)
    assert_short_error(result, output, "is a folder", "catalogs/*.pdf")


def test_config_traits_are_settable_with_percent_config(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    magics = magics_of(ip)
    ip.run_cell('%config LassoMagics.default_schema = "Products"')
    ip.run_cell("%config LassoMagics.timeout = 90")
    ip.run_cell("%config LassoMagics.poll_cap = 2.5")
    ip.run_cell("%config LassoMagics.widget = False")
    assert (magics.default_schema, magics.timeout, magics.poll_cap, magics.widget) == (
        "Products",
        90.0,
        2.5,
        False,
    )
    capsys.readouterr()
    ip.run_cell("%config LassoMagics")
    listing = capsys.readouterr().out
    for trait in ("default_schema", "timeout", "poll_cap", "widget"):
        assert f"LassoMagics.{trait}" in listing


@pytest.mark.parametrize(
    "setting", ["timeout = 0", "timeout = -3", "poll_cap = 0", "poll_cap = -1", "timeout = 1e999"]
)
def test_config_refuses_values_that_would_break_every_later_cell(
    ip: InteractiveShell, caplog: pytest.LogCaptureFixture, setting: str
) -> None:
    magics = magics_of(ip)
    before = (magics.timeout, magics.poll_cap)
    ip.run_cell(f"%config LassoMagics.{setting}")  # %config reports a TraitError as a log line
    assert "must be a positive number of seconds" in caplog.text, caplog.text
    assert (magics.timeout, magics.poll_cap) == before


def test_lasso_config_masks_the_key_and_names_the_hosted_api(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "lsk_live_0123456789abcdefSECRET"
    monkeypatch.setenv("LASSO_API_KEY", key)
    monkeypatch.delenv("LASSO_BASE_URL", raising=False)
    ip.run_cell('%config LassoMagics.default_schema = "Products"')
    capsys.readouterr()
    result, output = run(ip, "%lasso config", capsys)
    assert result.success
    assert key not in output and "SECRET" not in output
    assert "lsk_li…CRET" in output
    assert "hosted API" in output and "https://hub.banditshq.com/api/v1" in output
    assert "default_schema  Products" in output


def test_lasso_config_without_key_names_the_embedded_engine(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LASSO_API_KEY", raising=False)
    monkeypatch.delenv("LASSO_BASE_URL", raising=False)
    result, output = run(ip, "%lasso config", capsys)
    assert result.success and "embedded engine" in output
    assert "widget          on" in output


# --------------------------------------------------------------------------- against the engine

PRODUCTS_CSV = "name;sku;price;in_stock\n" + "".join(
    f"Widget {i};W{i:03d};{i}.50;{'yes' if i % 2 else 'no'}\n" for i in range(5)
)


@pytest.fixture(scope="module")
def lasso_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One engine for the module: starting one per test would dominate the run time."""
    from lasso_notebook.server import serve

    with serve(port=0, data_dir=tmp_path_factory.mktemp("magic-engine")) as handle:
        yield handle


@pytest.fixture(autouse=True)
def own_reuse_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's tests share one engine (to save time) but each is a fresh user of it, with
    its own reuse index: a table made by one test is never reused by another."""
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "lasso-data"))


@pytest.fixture
def eng(lasso_engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The engine, reached the way a user configures it: through the environment."""
    monkeypatch.setenv("LASSO_API_KEY", lasso_engine.api_key)
    monkeypatch.setenv("LASSO_BASE_URL", lasso_engine.base_url)
    lasso_engine.workers.pace = 0.0
    yield lasso_engine
    lasso_engine.workers.pace = 0.0


@pytest.fixture
def slow(eng: Any) -> Any:
    """Tables take ~1.5 s (17 progress steps): long enough to observe a job in flight."""
    eng.workers.pace = 0.09
    return eng


@pytest.fixture
def client(eng: Any) -> Iterator[Lasso]:
    with Lasso(api_key=eng.api_key, base_url=eng.base_url) as c:
        yield c


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records the keyword arguments of every ``jobs.submit`` call (the real one still runs)."""
    from lasso_notebook import jobs

    calls: list[dict[str, Any]] = []
    real = jobs.submit

    def spy(*args: Any, **kwargs: Any) -> Any:
        job = real(*args, **kwargs)
        calls.append({"args": args, **kwargs, "job": job})
        return job

    monkeypatch.setattr(jobs, "submit", spy)
    return calls


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_blocking_cell_stores_a_typed_frame_in_var_and_the_next_cell_sees_it(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, output = run(ip, f"%%lasso_table products --schema Products\n{PRODUCTS_CSV}", capsys)
    assert result.success, output
    assert result.result is None  # with VAR the frame is stored, not displayed
    df = ip.user_ns["products"]
    assert isinstance(df, pd.DataFrame) and len(df) == 5
    assert list(df["sku"]) == [f"W{i:03d}" for i in range(5)]
    assert str(df["price"].dtype) == "Float64" and str(df["in_stock"].dtype) == "boolean"
    call = submitted[0]
    assert call["args"][1] == "products"  # the name defaults to VAR
    assert call["text"] == PRODUCTS_CSV  # the body, exactly as written
    assert call["job"].note == "→ products (5 rows)"
    follow = ip.run_cell("total = products['price'].sum()")
    assert follow.success and ip.user_ns["total"] == pytest.approx(sum(i + 0.5 for i in range(5)))


def test_without_var_the_frame_is_the_cell_result_and_the_name_is_timestamped(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, output = run(ip, f"%%lasso_table --schema products\n{PRODUCTS_CSV}", capsys)
    assert result.success, output
    assert isinstance(result.result, pd.DataFrame) and len(result.result) == 5
    # No --name and no VAR: submit() gives the default name (the magic passes None).
    assert submitted[0]["args"][1] is None
    assert submitted[0]["job"].name.startswith("notebook extraction 20")


def test_line_and_body_expansion(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip.user_ns.update(schema_name="Products", batch=7)
    body = "name;sku;price\nGadget $batch {batch};G1;2.00\n"
    code = f'%%lasso_table out --schema $schema_name --name "batch {{batch * 6}}"\n{body}'
    result, output = run(ip, code, capsys)
    assert result.success, output
    assert submitted[0]["args"][1] == "batch 42"  # {expr} expanded in the magic line
    assert submitted[0]["text"] == body  # the body is never expanded
    assert ip.user_ns["out"]["name"].tolist() == ["Gadget $batch {batch}"]
    assert submitted[0]["job"].note == "→ out (1 row)"


def test_name_context_enhance_and_webhook_reach_the_server(
    ip: InteractiveShell,
    eng: Any,
    client: Lasso,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = (
        "%%lasso_table df --schema Products --name 'Q1 catalog' --context 'prices in EUR' "
        "--enhance 'fill brands' --webhook http://127.0.0.1:9/hook\n" + PRODUCTS_CSV
    )
    result, output = run(ip, code, capsys)
    assert result.success, output
    table = client.tables.get(submitted[0]["job"].id)
    assert table.name == "Q1 catalog"
    assert table.additional_context == "prices in EUR"
    assert table.enhancement_context == "fill brands"
    assert submitted[0]["webhook"] == "http://127.0.0.1:9/hook"


def test_file_globs_expand_and_upload_each_file(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    for i in range(2):
        (tmp_path / "data" / f"part{i}.csv").write_text(f"name;sku\nThing {i};T{i}\n")
    (tmp_path / "notes.txt").write_text("name;sku\nExtra;X1\n")
    result, output = run(
        ip, "%lasso_table df --schema Products --file 'data/*.csv' --file notes.txt", capsys
    )
    assert result.success, output
    assert submitted[0]["files"] == ["data/part0.csv", "data/part1.csv", "notes.txt"]
    assert sorted(ip.user_ns["df"]["sku"]) == ["T0", "T1", "X1"]


def test_url_sources_are_fetched(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "a.csv").write_text("name;sku\nFrom url;U1\n")
    with static_server(tmp_path) as base:
        # A blank body is no source: the cell-magic form with --url works too.
        result, output = run(
            ip, f"%%lasso_table df --schema Products --url {base}/a.csv\n \n", capsys
        )
    assert result.success, output
    assert submitted[0]["urls"] == [f"{base}/a.csv"]
    assert ip.user_ns["df"]["sku"].tolist() == ["U1"]


def test_labels_and_meta_shape_the_frame(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, output = run(ip, f"%%lasso_table plain --schema Products\n{PRODUCTS_CSV}", capsys)
    assert plain.success, output
    result, output = run(
        ip, f"%%lasso_table fancy --schema Products --labels --meta\n{PRODUCTS_CSV}", capsys
    )
    assert result.success, output
    plain_cols, fancy_cols = list(ip.user_ns["plain"].columns), list(ip.user_ns["fancy"].columns)
    assert "sku" in plain_cols and "sku" not in fancy_cols  # labels replace keys
    assert len(fancy_cols) > len(plain_cols)  # the meta columns are added


def test_no_widget_prints_a_summary_line_instead(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, output = run(
        ip, f"%%lasso_table df --schema Products --no-widget\n{PRODUCTS_CSV}", capsys
    )
    assert result.success
    assert submitted[0]["progress"] is False
    assert output.startswith("→ df (5 rows, table tbl_"), output  # nothing reused
    # The same cell again reuses the table; with no widget or status line, a line says so.
    table_id = ip.user_ns["df"].attrs["lasso"]["table_id"]
    result, output = run(
        ip, f"%%lasso_table df --schema Products --no-widget\n{PRODUCTS_CSV}", capsys
    )
    assert result.success, output
    assert output.startswith(f"reused {table_id[:6]}… from "), output
    assert "(no new extraction; --refresh to extract again)" in output
    # In the background, the reuse and the variable are said on one line when it completes.
    result, output = run(
        ip, f"%%lasso_table df --schema Products --no-widget --background\n{PRODUCTS_CSV}", capsys
    )
    assert result.success, output
    printed = [output]

    def said() -> bool:
        printed.append(capsys.readouterr().out)
        return "to extract again) · → df (5 rows)\n" in "".join(printed)

    wait_for(said)


def test_widget_config_off_disables_progress(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip.run_cell("%config LassoMagics.widget = False")
    ip.run_cell('%config LassoMagics.default_schema = "Products"')
    ip.run_cell("%config LassoMagics.poll_cap = 0.5")
    result, output = run(ip, f"%%lasso_table df\n{PRODUCTS_CSV}", capsys)
    assert result.success, output
    assert submitted[0]["progress"] is False and submitted[0]["poll_cap"] == 0.5
    assert len(ip.user_ns["df"]) == 5


def test_background_returns_at_once_and_sets_var_on_completion(
    ip: InteractiveShell,
    slow: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    result, output = run(
        ip, f"%%lasso_table later --schema Products --background\n{PRODUCTS_CSV}", capsys
    )
    assert result.success, output
    assert time.monotonic() - started < 1.0
    assert '"later"' in output  # the job is shown (its widget, or its line without one)
    job = submitted[0]["job"]
    assert "later" not in ip.user_ns and not job.phase.is_terminal
    assert job.note == "→ later when complete"
    wait_for(lambda: "later" in ip.user_ns)
    assert len(ip.user_ns["later"]) == 5
    wait_for(lambda: job.note == "→ later (5 rows)")
    # Without a live widget (no kernel here) the note is printed: a success on stdout, with
    # the table's outcome.
    printed: list[str] = []

    def both_printed() -> bool:
        printed.append(capsys.readouterr().out)
        return "→ later (5 rows)\n5 rows, all valid" in "".join(printed)

    wait_for(both_printed)
    # Stored: no job is still owed to the variable.
    result, output = run(ip, "%lasso wait other", capsys)
    assert_short_error(result, output, "no job of this kernel sets other; pending: none")


def test_background_without_var_returns_the_job(
    ip: InteractiveShell, slow: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from lasso_notebook.jobs import TableJob

    result, output = run(
        ip, f"%%lasso_table --schema Products --background\n{PRODUCTS_CSV}", capsys
    )
    assert result.success, output
    assert isinstance(result.result, TableJob)
    assert len(result.result.result(timeout=20)) == 5


def test_a_newer_cell_owns_the_variable(
    ip: InteractiveShell,
    slow: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(ip, f"%%lasso_table df --schema Products --background\n{PRODUCTS_CSV}", capsys)
    slow.workers.pace = 0.0
    result, output = run(ip, "%%lasso_table df --schema Products\nname;sku\nNew;N1\n", capsys)
    assert result.success, output
    first = submitted[0]["job"]
    first.wait(timeout=20)
    wait_for(lambda: "newer cell" in first.note)
    assert ip.user_ns["df"]["sku"].tolist() == ["N1"]


def test_background_jobs_on_one_var_finishing_in_reverse_order_keep_the_newer_result(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The older cell's source is a URL whose download is held until the newer job is done.
    release = threading.Event()
    with held_server("name;sku\nOld;O1\n", release) as url:
        run(ip, f"%lasso_table df --schema Products --url {url} --background", capsys)
        result, output = run(
            ip, "%%lasso_table df --schema Products --background\nname;sku\nNew;N1\n", capsys
        )
        assert result.success, output
        older, newer = submitted[0]["job"], submitted[1]["job"]
        newer.wait(timeout=20)
        wait_for(lambda: "df" in ip.user_ns)
        assert not older.phase.is_terminal
        release.set()
        older.wait(timeout=20)
    wait_for(lambda: "newer cell" in older.note)
    assert older.df is not None and older.df["sku"].tolist() == ["O1"]  # it did complete
    assert ip.user_ns["df"]["sku"].tolist() == ["N1"]


def test_an_older_job_failing_after_a_newer_cell_took_var_says_the_newer_cell_has_it(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    release = threading.Event()
    with held_server("", release) as url:  # an empty source: the older table fails, late
        run(ip, f"%lasso_table df --schema Products --url {url} --background --no-widget", capsys)
        result, output = run(
            ip, "%%lasso_table df --schema Products --no-widget\nname;sku\nNew;N1\n", capsys
        )
        assert result.success, output
        older = submitted[0]["job"]
        release.set()
        older.wait(timeout=20)
    assert older.error is not None
    wait_for(lambda: older.note == "df not set: a newer cell assigned it")
    assert ip.user_ns["df"]["sku"].tolist() == ["N1"]


class _WatchedLock:
    """A lock that tells when a thread had to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.contended = threading.Event()

    def __enter__(self) -> _WatchedLock:
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


class _HeldNamespace(dict):
    """A user namespace that holds the first write of ``var`` from another thread than the
    main one (a background job's done-callback storing its frame) until ``release()`` says."""

    def __init__(self, original: dict[str, Any], var: str, release: Any) -> None:
        super().__init__(original)
        self.var, self.release = var, release
        self.writing = threading.Event()

    def __setitem__(self, key: str, value: Any) -> None:
        held = key == self.var and not self.writing.is_set()
        if held and threading.current_thread() is not threading.main_thread():
            self.writing.set()
            deadline = time.monotonic() + 20
            while not self.release() and time.monotonic() < deadline:
                time.sleep(0.005)
        super().__setitem__(key, value)


def test_an_older_job_writing_var_cannot_overwrite_a_newer_cell(
    ip: InteractiveShell,
    eng: Any,
    submitted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race behind "a newer cell owns VAR", injected where it hurts: an older background
    job has checked that it owns ``df`` and is writing it (held inside that write) when the main
    thread runs a newer cell that claims ``df`` and stores its own frame. The newer frame must be
    what ``df`` holds after both: check and write are one step, so the newer cell waits."""
    result, output = run(
        ip, "%%lasso_table newest --schema Products --no-widget\nsku\nN1\n", capsys
    )
    assert result.success, output
    newest = submitted[0]["job"]  # completed: attaching to it needs no server round trip
    # The one private name of this file: the lock that makes "VAR still mine? then store" one
    # step (VarOwners guards the VAR owners with it; update the name if it moves).
    lock = _WatchedLock()
    monkeypatch.setattr(magics_of(ip).vars, "_lock", lock)
    newer_done = threading.Event()
    namespace = _HeldNamespace(
        ip.user_ns, "df", release=lambda: lock.contended.is_set() or newer_done.is_set()
    )
    monkeypatch.setattr(ip, "user_ns", namespace)

    result, output = run(
        ip, "%%lasso_table df --schema Products --background --no-widget\nsku\nO1\n", capsys
    )
    assert result.success, output
    older = submitted[1]["job"]
    assert namespace.writing.wait(20), "the older job never stored df"
    # The older job is inside its write of df now: the newer cell runs.
    result, output = run(ip, f"%lasso_table df --attach {newest.id} --no-widget", capsys)
    newer_done.set()
    assert result.success, output
    older.wait(timeout=20)
    assert lock.contended.is_set()  # the newer cell had to wait for the older write
    assert namespace["df"]["sku"].tolist() == ["N1"]
    wait_for(lambda: older.note == "→ df (1 row)")  # it did store, before the newer cell


def test_attach_follows_an_existing_table(
    ip: InteractiveShell, slow: Any, client: Lasso, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = next(s for s in client.schemas.list() if s.name == "Products")
    table = client.tables.create(
        schema_id=schema.id, name="made elsewhere", source_text=PRODUCTS_CSV
    )
    result, output = run(ip, f"%lasso_table got --attach {table.id}", capsys)
    assert result.success, output
    assert len(ip.user_ns["got"]) == 5
    # Again in the background, on the now-completed table.
    result, output = run(ip, f"%lasso_table again --attach {table.id} --background", capsys)
    assert result.success, output
    wait_for(lambda: "again" in ip.user_ns)


def test_attach_to_a_followed_table_gets_its_own_shape_and_copy(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(ip, f"%%lasso_table a --schema Products\n{PRODUCTS_CSV}", capsys)
    assert result.success, output
    table_id = ip.user_ns["a"].attrs["lasso"]["table_id"]
    result, output = run(ip, f"%lasso_table b --attach {table_id} --labels --meta", capsys)
    assert result.success, output
    a, b = ip.user_ns["a"], ip.user_ns["b"]
    assert "SKU" in b.columns and "_validation_status" in b.columns  # labels and meta
    assert "sku" in a.columns and "_validation_status" not in a.columns  # a is unchanged
    result, output = run(ip, f"%lasso_table c --attach {table_id}", capsys)
    c = ip.user_ns["c"]
    assert list(c.columns) == list(a.columns) and c is not a
    c.loc[0, "name"] = "edited"
    assert a.loc[0, "name"] != "edited"  # editing one variable does not edit the other
    # In the background too: the cell's shape, in its own copy.
    run(ip, f"%lasso_table d --attach {table_id} --labels --meta --background", capsys)
    wait_for(lambda: "d" in ip.user_ns)
    assert list(ip.user_ns["d"].columns) == list(b.columns) and ip.user_ns["d"] is not b
    # A background attach that reuses the job following with labels and meta (b's) still
    # gets the plain shape its cell asked for.
    run(ip, f"%lasso_table e --attach {table_id} --background", capsys)
    wait_for(lambda: "e" in ip.user_ns)
    assert list(ip.user_ns["e"].columns) == list(a.columns)


def test_valid_only_on_an_attach_that_reuses_a_followed_job_leaves_out_error_rows(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_validation_summary import BAD_CSV  # 6 rows, 3 of them with errors

    result, output = run(ip, f"%%lasso_table a --schema Products --no-widget\n{BAD_CSV}", capsys)
    assert result.success, output
    table_id = ip.user_ns["a"].attrs["lasso"]["table_id"]
    # Both attaches reuse the job that cell follows, which reads every row.
    result, output = run(ip, f"%lasso_table b --attach {table_id} --valid-only --no-widget", capsys)
    assert result.success, output
    assert len(ip.user_ns["b"]) == 3 and ip.user_ns["b"].attrs["lasso"]["dropped_error_rows"] == 3
    cell = f"%lasso_table c --attach {table_id} --valid-only --background --no-widget"
    result, output = run(ip, cell, capsys)
    assert result.success, output
    wait_for(lambda: "c" in ip.user_ns)
    assert len(ip.user_ns["c"]) == 3
    assert len(ip.user_ns["a"]) == 6  # the first cell's variable keeps every row


def test_a_blocking_attach_stores_its_own_shape_after_a_background_cell_on_that_var(
    ip: InteractiveShell, slow: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # One job followed by three cells: the first (no VAR), a background attach into df, then a
    # blocking attach into df with labels. The background cell's done-callback runs first and
    # stores its plain frame; the blocking cell, the newest, must still store its own.
    result, output = run(
        ip, f"%%lasso_table --schema Products --background\n{PRODUCTS_CSV}", capsys
    )
    assert result.success, output
    job = result.result
    wait_for(lambda: job.id is not None)
    run(ip, f"%lasso_table df --attach {job.id} --background --no-widget", capsys)
    result, output = run(ip, f"%lasso_table df --attach {job.id} --labels --no-widget", capsys)
    assert result.success, output
    assert "SKU" in ip.user_ns["df"].columns and "sku" not in ip.user_ns["df"].columns
    assert job.note.startswith("→ df (5 rows")


def test_background_without_widget_prints_a_failure(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from lasso_notebook import jobs

    result, output = run(
        ip,
        "%lasso_table df --schema Products --url http://127.0.0.1:1/x.pdf --background --no-widget",
        capsys,
    )
    assert result.success, output
    assert "df will be set when the table completes" in output
    job = jobs.jobs()[-1]
    job.wait(timeout=20)
    errors: list[str] = []

    def both_printed() -> bool:
        errors.append(capsys.readouterr().err)  # on stderr: a failure is never silent
        text = "".join(errors)
        return "Could not download http://127.0.0.1:1/x.pdf" in text and "df not set" in text

    wait_for(both_printed)


def test_background_failure_under_a_widget_is_shown_there_not_printed(
    ip: InteractiveShell,
    eng: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lasso_notebook import _display, jobs

    monkeypatch.setattr(_display, "frontend", lambda: "kernel")  # as in Jupyter: a widget
    url = "http://127.0.0.1:1/x.pdf"
    result, output = run(ip, f"%lasso_table df --schema Products --url {url} --background", capsys)
    assert result.success, output
    job = jobs.jobs()[-1]
    assert job.widget is not None
    job.wait(timeout=20)
    wait_for(lambda: job.note == "df not set: the table did not complete")
    printed = capsys.readouterr()
    assert "Could not download" not in printed.out + printed.err  # the widget shows it
    assert "df" not in ip.user_ns


def test_a_detached_background_job_leaves_var_unset_and_says_so(
    ip: InteractiveShell, slow: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from lasso_notebook import jobs

    cell = f"%%lasso_table df --schema Products --background --no-widget\n{PRODUCTS_CSV}"
    result, output = run(ip, cell, capsys)
    assert result.success, output
    job = jobs.jobs()[-1]
    job.detach()  # "Stop watching"
    wait_for(lambda: job.note == "df not set: detached")
    assert "df" not in ip.user_ns


def test_interrupt_before_the_table_is_submitted_is_short(
    ip: InteractiveShell,
    eng: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lasso_notebook import jobs

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # Ctrl-C while the schema name is being looked up

    monkeypatch.setattr(jobs, "resolve_schema", interrupted)
    before = len(jobs.jobs())
    result, output = run(ip, f"%%lasso_table df --schema Products\n{PRODUCTS_CSV}", capsys)
    assert_short_error(result, output, "interrupted before anything was sent", "no table")
    assert len(jobs.jobs()) == before


def test_values_that_do_not_fit_are_reported(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from lasso_notebook import UnparsedValuesWarning
    from lasso_notebook.jobs import TableJob

    result, output = run(ip, f"%%lasso_table df --schema Products\n{PRODUCTS_CSV}", capsys)
    assert result.success, output
    table_id = ip.user_ns["df"].attrs["lasso"]["table_id"]
    # The engine stores a value that fails its type as null, so only an edit made through the
    # API (as a user or another tool may do) leaves one the DataFrame must refuse.
    headers = {"Authorization": f"Bearer {eng.api_key}"}
    rows = httpx.get(f"{eng.base_url}/tables/{table_id}/rows", headers=headers).json()["data"]
    edit = httpx.put(
        f"{eng.base_url}/tables/{table_id}/rows/{rows[0]['id']}",
        headers=headers,
        json={"data": {"release_date": "not a date"}},
    )
    assert edit.status_code == 200, edit.text
    with Lasso() as client:
        job = TableJob(client=client, table_id=table_id, progress=False)
        with pytest.warns(UnparsedValuesWarning, match=r"1 value did not fit .*release_date \(1\)"):
            df = job.result(timeout=20)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once per job: asking again warns no more
            job.result(timeout=20)
    assert pd.isna(df["release_date"].iloc[0])
    assert df.attrs["lasso"]["unparsed"]["release_date"]["examples"] == ["not a date"]
    # Stored into VAR by a background cell's done-callback, the frame says so in the note.
    magics = magics_of(ip)
    magics.vars.claim("again", job)
    magics._assign(job, "again", View(labels=False, meta=False, copy=False))
    assert ip.user_ns["again"] is job.df
    assert job.note.startswith("→ again (5 rows; 1 value did not fit its column type")


def test_a_blocking_cell_says_what_did_not_fit_without_a_warning(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from lasso_notebook import UnparsedValuesWarning

    csv = "name;sku;price;in_stock\nWidget;W1;free;yes\nBolt;B1;2.50;no\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, output = run(ip, f"%%lasso_table df --schema Products --no-widget\n{csv}", capsys)
    assert result.success, output
    assert 'price: 1 value not a number ("free")' in output  # the cell says it ...
    assert not [w for w in caught if issubclass(w.category, UnparsedValuesWarning)]  # ... once
    assert pd.isna(ip.user_ns["df"]["price"].iloc[0])


def test_timeout_says_the_table_goes_on_and_var_is_set_later(
    ip: InteractiveShell, slow: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(
        ip, f"%%lasso_table df --schema Products --timeout 0.3\n{PRODUCTS_CSV}", capsys
    )
    assert_short_error(result, output, "after 0.3 s", "goes on in the background", "df will be set")
    assert "df" not in ip.user_ns
    wait_for(lambda: "df" in ip.user_ns)
    assert len(ip.user_ns["df"]) == 5


def test_configured_timeout_applies_without_var(
    ip: InteractiveShell, slow: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell("%config LassoMagics.timeout = 0.3")
    result, output = run(ip, f"%%lasso_table --schema Products\n{PRODUCTS_CSV}", capsys)
    assert_short_error(result, output, "after 0.3 s", "df = %lasso_table --attach tbl_")


def test_interrupt_leaves_the_job_running_and_var_is_set_on_completion(
    ip: InteractiveShell,
    slow: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    python_sigint: None,
) -> None:
    import _thread

    from lasso_notebook import jobs

    interrupted: list[float] = []

    def interrupt_once_running(job: Any) -> None:
        # Ctrl-C (what the stop button does to the kernel) while the cell waits for a table
        # that is being extracted: sent from the job's own progress, not after a guessed delay.
        if job.progress > 0 and not interrupted:
            interrupted.append(time.monotonic())
            _thread.interrupt_main()

    real_submit = jobs.submit

    def submit(*args: Any, **kwargs: Any) -> Any:
        job = real_submit(*args, **kwargs)
        job.add_update_callback(interrupt_once_running)
        return job

    monkeypatch.setattr(jobs, "submit", submit)
    result, output = run(ip, f"%%lasso_table df --schema Products\n{PRODUCTS_CSV}", capsys)
    assert interrupted and time.monotonic() - interrupted[0] < 0.5  # the wait ended promptly
    assert_short_error(result, output, "goes on in the background", "df will be set")
    assert output.startswith("Interrupted: table tbl_"), output
    assert "Stopped waiting" not in output  # the magic's message, not also the job's own
    assert "df" not in ip.user_ns
    wait_for(lambda: "df" in ip.user_ns)
    assert len(ip.user_ns["df"]) == 5


def test_unknown_schema_lists_candidates(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(ip, f"%%lasso_table df --schema Prodcts\n{PRODUCTS_CSV}", capsys)
    assert_short_error(result, output, "Prodcts", "Products")


def test_wrong_key_is_a_short_401(
    ip: InteractiveShell,
    eng: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LASSO_API_KEY", "lsk_wrong_key_0000000000000")
    result, output = run(ip, f"%%lasso_table df --schema Products\n{PRODUCTS_CSV}", capsys)
    assert_short_error(result, output, "401", "Check LASSO_API_KEY")
    assert "lsk_wrong_key_0000000000000" not in output


def test_server_validation_error_is_a_short_422(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "%lasso_table df --schema Products --url http://127.0.0.1:9/a --url http://127.0.0.1:9/a"
    result, output = run(ip, line, capsys)
    assert_short_error(result, output, "422", "listed twice")


def test_attach_to_a_missing_table_is_a_short_404(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(ip, "%lasso_table df --attach tbl_doesnotexist", capsys)
    assert_short_error(result, output, "404", "%lasso tables")


def test_failed_table_shows_the_server_reason_and_the_table_id(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(
        ip, "%lasso_table df --schema Products --url http://127.0.0.1:1/x.pdf", capsys
    )
    assert_short_error(
        result, output, "failed", "Could not download http://127.0.0.1:1/x.pdf", "tbl_"
    )
    assert "df" not in ip.user_ns
    # The failed job gave df up: no job is still owed to it.
    result, output = run(ip, "%lasso wait other", capsys)
    assert_short_error(result, output, "no job of this kernel sets other; pending: none")


@pytest.mark.parametrize(
    ("status", "error_type", "fragments"),
    [
        (402, "insufficient_credits", ["402", "Add credits"]),
        (403, "forbidden", ["403", "workspace"]),
    ],
)
def test_credit_and_permission_errors_are_short(
    ip: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    status: int,
    error_type: str,
    fragments: list[str],
) -> None:
    # The engine never runs out of credits nor forbids: a mock transport stands in for it.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error_type": error_type, "message": "nope"})

    magics_of(ip).client = Lasso(
        api_key="k", base_url="http://lasso.invalid/api/v1", transport=httpx.MockTransport(handler)
    )
    result, output = run(ip, f"%%lasso_table df --schema Products\n{PRODUCTS_CSV}", capsys)
    assert_short_error(result, output, *fragments)


def test_unexpected_bugs_keep_their_traceback(
    ip: InteractiveShell,
    eng: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lasso_notebook import jobs

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(jobs, "submit", broken)
    result, output = run(ip, f"%%lasso_table df --schema Products\n{PRODUCTS_CSV}", capsys)
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert "Traceback" in output and "broken" in output


def test_lasso_schemas_tables_and_jobs_are_frames(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    schemas = ip.run_cell("%lasso schemas").result
    assert isinstance(schemas, pd.DataFrame) and "Products" in schemas["name"].tolist()
    run(ip, f"%%lasso_table listed_table --schema Products\n{PRODUCTS_CSV}", capsys)
    tables = ip.run_cell("%lasso tables --search listed_table --status completed").result
    assert tables["name"].tolist() == ["listed_table"]
    assert tables["total_rows"].tolist() == [5]
    assert list(tables.columns[:4]) == ["id", "name", "status", "total_rows"]
    assert len(ip.run_cell("%lasso tables --limit 1").result) == 1
    jobs = ip.run_cell("%lasso jobs").result
    mine = jobs[jobs["name"] == "listed_table"]
    assert len(mine) >= 1 and mine["status"].iloc[-1] == "completed"
    assert mine["var"].iloc[-1] == "listed_table" and mine["total_rows"].iloc[-1] == 5


def test_lasso_config_shows_the_configured_engine_masked(
    ip: InteractiveShell, eng: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result, output = run(ip, "%lasso config", capsys)
    assert result.success
    assert eng.base_url in output and "local engine" in output
    assert "LASSO_API_KEY and LASSO_BASE_URL set" in output
    assert eng.api_key not in output and mask_key(eng.api_key) in output


class static_server:
    """Serve a folder over loopback HTTP (the engine downloads ``--url`` sources)."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class held_server:
    """Serve one CSV over loopback HTTP, but answer only once ``release`` is set."""

    def __init__(self, body: str, release: threading.Event) -> None:
        data = body.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                release.wait(timeout=30)
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.release = release
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/old.csv"

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
