"""Reuse of identical extractions, through the real engine over loopback HTTP and a real
IPython shell: a cell run twice makes one table and an equal DataFrame; one changed byte of the
text, a file, the schema's columns or a context makes a new one, as do --refresh, a deleted or
failed table and a stale URL source; reuse turns off per call, per cell, by %config and by
environment; a corrupt or unusable index warns once and extracts normally; the index never
holds the key or the source; concurrent claims (real processes) end with one create, and a
create whose answer was lost is found again instead of repeated."""

from __future__ import annotations

import http.server
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from shells import TestingShell, loaded_shell

from lasso_notebook import Lasso, _reuse, _reuse_index, _runtime
from lasso_notebook._data_dir import resolve_data_dir
from lasso_notebook._fingerprint import backend_identity, fingerprint
from lasso_notebook._plan import make_plan
from lasso_notebook._reuse_index import INDEX_FILE, Request, ReuseIndex
from lasso_notebook.errors import InvalidRequestError
from lasso_notebook.jobs import submit

PRODUCTS = "name,sku,price\nAcme Drill,AD-1,129.00\nAcme Saw,AS-2,89.50\nAcme Lamp,AL-3,19.99\n"


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's data dir, so its reuse index starts empty; the process-wide index cache and
    the warn-once flag start fresh too."""
    path = tmp_path / "lasso-data"
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(path))
    monkeypatch.delenv("LASSO_NOTEBOOK_REUSE", raising=False)
    monkeypatch.delenv("LASSO_NOTEBOOK_URL_MAX_AGE", raising=False)
    monkeypatch.setattr(_reuse_index, "_indexes", {})
    monkeypatch.setattr(_reuse_index, "_warned", False)
    return path


@pytest.fixture
def client(engine: Any, data_dir: Path) -> Iterator[Lasso]:
    lasso = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    yield lasso
    lasso.close()


@pytest.fixture(scope="module")
def shell() -> TestingShell:
    ip = loaded_shell()
    return ip


@pytest.fixture
def ip(
    shell: TestingShell, engine: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestingShell]:
    """The shell with fresh magics, talking to ``engine`` the way a user configures it."""
    from lasso_notebook.magics import LassoMagics

    monkeypatch.setenv("LASSO_API_KEY", engine.api_key)
    monkeypatch.setenv("LASSO_BASE_URL", engine.base_url)
    magics = LassoMagics(shell=shell)
    shell.register_magics(magics)
    yield shell
    shell.configurables.remove(magics)
    shell.config.pop("LassoMagics", None)
    for name in [
        n for n in shell.user_ns if not n.startswith("_") and n not in shell.user_ns_hidden
    ]:
        del shell.user_ns[name]


def run(shell: InteractiveShell, code: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run a cell that must succeed; return what it printed (stdout + stderr)."""
    result: ExecutionResult = shell.run_cell(code, store_history=True)
    out = capsys.readouterr()
    text = out.out + out.err
    assert result.success, (result.error_in_exec, text)
    return text


def table_ids(client: Lasso) -> list[str]:
    return [table.id for table in client.tables.list(limit=100)]


def index_entries(data_dir: Path) -> dict[str, tuple[str, str | None]]:
    """fingerprint → (state, table id), read straight from the file."""
    with sqlite3.connect(data_dir / INDEX_FILE) as db:
        rows = db.execute("SELECT fingerprint, state, table_id FROM entries").fetchall()
    return {fp: (state, table_id) for fp, state, table_id in rows}


# ------------------------------------------------------------------- a cell run twice, and again


def test_a_cell_run_twice_makes_one_table_and_an_equal_frame(
    ip: InteractiveShell, client: Lasso, capsys: pytest.CaptureFixture[str]
) -> None:
    cell = f"%%lasso_table products --schema Products\n{PRODUCTS}"
    first_output = run(ip, cell, capsys)
    first = ip.user_ns["products"]
    assert len(table_ids(client)) == 1
    assert "reused" not in first_output

    second_output = run(ip, cell, capsys)
    second = ip.user_ns["products"]
    (table_id,) = table_ids(client)  # still one table
    assert second is not first  # read again from the server, not a cached object
    pd.testing.assert_frame_equal(first, second)
    assert second.attrs["lasso"]["table_id"] == table_id
    (line,) = [ln for ln in second_output.splitlines() if "reused" in ln]
    created = client.tables.get(table_id).created_at.astimezone()
    assert line == (
        f"reused {table_id[:6]}… from {created:%Y-%m-%d %H:%M} "
        "(no new extraction; --refresh to extract again)"
    )

    jobs = ip.run_line_magic("lasso", "jobs").tail(2)  # this test's two cells
    assert jobs["reused"].tolist() == [False, True]
    assert jobs["id"].tolist() == [table_id, table_id]
    assert jobs["var"].tolist() == ["products", "products"]
    from lasso_notebook import jobs as jobs_module

    reused = jobs_module.jobs()[-1]
    assert reused.reused and reused.reused_from == client.tables.get(table_id).created_at
    assert "reused" in repr(reused) and "--refresh to extract again" in repr(reused)


def test_one_changed_byte_or_option_makes_a_new_table(
    ip: InteractiveShell, client: Lasso, capsys: pytest.CaptureFixture[str]
) -> None:
    base = f"%%lasso_table df --schema Products --context 'prices in EUR'\n{PRODUCTS}"
    run(ip, base, capsys)
    made = table_ids(client)
    variants = [
        base.replace("129.00", "129.01"),  # one byte of the text
        base.replace("'prices in EUR'", "'prices in USD'"),  # the context
        base.replace("--context", "--enhance 'fill brands' --context"),  # the enhancement
        base.replace("--schema Products", "--schema Products --refresh"),  # asked for
    ]
    for variant in variants:
        output = run(ip, variant, capsys)
        assert "reused" not in output, variant
        now = table_ids(client)
        assert len(now) == len(made) + 1, variant
        made = now
    # The base cell again: it reuses the newest table made from it (the --refresh one).
    output = run(ip, base, capsys)
    assert "reused" in output and table_ids(client) == made
    assert ip.user_ns["df"].attrs["lasso"]["table_id"] == made[0]  # newest first


def test_files_are_hashed_before_upload_so_a_hit_uploads_nothing(
    client: Lasso, tmp_path: Path
) -> None:
    first = tmp_path / "a" / "catalog.csv"
    first.parent.mkdir()
    first.write_text(PRODUCTS, encoding="utf-8")
    job = submit("Products", "files", files=[first], client=client, progress=False)
    job.result(timeout=30)
    uploads = len(list(client.files.list(limit=100)))
    assert uploads == 1 and len(table_ids(client)) == 1

    # The same bytes under the same name, elsewhere: reused, and no upload at all.
    copy = tmp_path / "b" / "catalog.csv"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    again = submit("Products", "files again", files=[copy], client=client, progress=False)
    again.result(timeout=30)
    assert again.reused and again.id == job.id
    assert len(list(client.files.list(limit=100))) == uploads

    # One byte changed, or another name: new tables.
    changed = tmp_path / "c" / "catalog.csv"
    changed.parent.mkdir()
    changed.write_text(PRODUCTS.replace("19.99", "19.98"), encoding="utf-8")
    renamed = tmp_path / "d" / "other.csv"
    renamed.parent.mkdir()
    renamed.write_bytes(first.read_bytes())
    for path in (changed, renamed):
        other = submit("Products", "files", files=[path], client=client, progress=False)
        other.result(timeout=30)
        assert not other.reused and other.id != job.id
    assert len(table_ids(client)) == 3
    # (name, bytes) uploads are hashed the same way as paths.
    same = submit(
        "Products", "bytes", files=[("catalog.csv", first.read_bytes())], client=client,
        progress=False,
    )  # fmt: skip
    same.result(timeout=30)
    assert same.reused and same.id == job.id


def test_a_change_of_the_schemas_columns_makes_a_new_table(client: Lasso) -> None:
    columns = [
        {"key": "name", "label": "Name", "type": "text"},
        {"key": "price", "label": "Price", "type": "number"},
    ]
    schema = client.schemas.create("Reuse columns", columns)
    job = submit(schema.id, "v1", text=PRODUCTS, client=client, progress=False)
    job.result(timeout=30)
    assert submit(schema.id, "v1", text=PRODUCTS, client=client, progress=False).wait(30).reused

    # Same schema id, one column described differently: the rows may differ, so extract again.
    columns[1]["description"] = "the price in EUR"
    updated = client.schemas.update(schema.id, columns=columns)
    assert updated.id == schema.id
    changed = submit(schema.id, "v2", text=PRODUCTS, client=client, progress=False)
    changed.result(timeout=30)
    assert not changed.reused and changed.id != job.id
    again = submit(schema.id, "v3", text=PRODUCTS, client=client, progress=False).wait(30)
    assert again.reused and again.id == changed.id


class _CsvServer:
    """Serves one CSV over loopback HTTP and counts the downloads."""

    def __init__(self, body: str) -> None:
        data = body.encode()
        self.downloads = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.downloads += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/catalog.csv"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_url_sources_are_reused_only_while_fresh(
    client: Lasso, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = _CsvServer(PRODUCTS)
    try:
        job = submit("Products", "web", urls=server.url, client=client, progress=False)
        job.result(timeout=30)
        again = submit("Products", "web", urls=[server.url], client=client, progress=False)
        again.result(timeout=30)
        assert again.reused and again.id == job.id and server.downloads == 1

        time.sleep(1.1)  # the table is now older than a one-second window
        stale = submit(
            "Products", "web", urls=server.url, client=client, progress=False, url_max_age=1
        )
        stale.result(timeout=30)
        assert not stale.reused and stale.id != job.id and server.downloads == 2
        # The environment sets the window when the call does not.
        time.sleep(1.1)
        monkeypatch.setenv("LASSO_NOTEBOOK_URL_MAX_AGE", "1")
        by_env = submit("Products", "web", urls=server.url, client=client, progress=False)
        by_env.result(timeout=30)
        assert not by_env.reused and server.downloads == 3
        monkeypatch.delenv("LASSO_NOTEBOOK_URL_MAX_AGE")
        fresh = submit("Products", "web", urls=server.url, client=client, progress=False)
        assert fresh.wait(30).reused and fresh.id == by_env.id
    finally:
        server.close()
    with pytest.raises(InvalidRequestError, match="url_max_age"):
        submit("Products", urls="http://x.test/a.csv", client=client, url_max_age=-1)


def test_the_url_window_is_set_per_kernel_with_config(
    ip: InteractiveShell,
    client: Lasso,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = _CsvServer(PRODUCTS)
    try:
        cell = f"%lasso_table web --schema Products --url {server.url}"
        run(ip, cell, capsys)
        assert "reused" in run(ip, cell, capsys) and server.downloads == 1
        ip.run_line_magic("config", "LassoMagics.url_max_age = 0")  # never reuse URL sources
        assert "reused" not in run(ip, cell, capsys) and server.downloads == 2
        assert "URL sources for 0 s" in run(ip, "%lasso config", capsys)
        ip.run_cell("%config LassoMagics.url_max_age = -5")  # a TraitError, as a log line
        assert "0: never reuse URL sources; None: the default), got -5.0" in caplog.text
        assert magics_url_max_age(ip) == 0
    finally:
        server.close()


def magics_url_max_age(shell: InteractiveShell) -> float | None:
    return shell.magics_manager.registry["LassoMagics"].url_max_age


# --------------------------------------------------------------- what is never reused


def test_a_table_deleted_on_the_server_is_made_again_not_reused(
    client: Lasso, data_dir: Path
) -> None:
    job = submit("Products", "gone", text=PRODUCTS, client=client, progress=False)
    job.result(timeout=30)
    client.tables.delete(job.id)  # elsewhere: the index still names it

    again = submit("Products", "gone", text=PRODUCTS, client=client, progress=False)
    again.result(timeout=30)
    assert not again.reused and again.id != job.id
    assert [entry for entry in index_entries(data_dir).values()] == [("done", again.id)]

    # job.delete() drops the index entry at once.
    again.delete()
    assert index_entries(data_dir) == {}
    third = submit("Products", "gone", text=PRODUCTS, client=client, progress=False)
    third.result(timeout=30)
    assert not third.reused and third.id not in (job.id, again.id)


def test_a_failed_table_is_never_reused(client: Lasso) -> None:
    text = "nothing here is a table\n"
    first = submit("Products", "bad", text=text, client=client, progress=False).wait(30)
    assert first.phase.value == "failed"
    second = submit("Products", "bad", text=text, client=client, progress=False).wait(30)
    assert not second.reused and second.id != first.id
    assert second.phase.value == "failed"


# --------------------------------------------------------------------------- turning it off


def test_reuse_turns_off_per_call_per_cell_by_config_and_by_environment(
    ip: InteractiveShell,
    client: Lasso,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cell = f"%%lasso_table df --schema Products\n{PRODUCTS}"
    run(ip, cell, capsys)
    recorded = index_entries(data_dir)
    count = len(table_ids(client))

    off = submit("Products", "off", text=PRODUCTS, client=client, progress=False, reuse=False)
    off.result(timeout=30)
    assert not off.reused and len(table_ids(client)) == count + 1
    assert index_entries(data_dir) == recorded  # neither looked up nor recorded

    output = run(ip, cell.replace("--schema Products", "--schema Products --no-reuse"), capsys)
    assert "reused" not in output and len(table_ids(client)) == count + 2
    ip.run_line_magic("config", "LassoMagics.reuse = False")
    output = run(ip, cell, capsys)
    assert "reused" not in output and len(table_ids(client)) == count + 3
    assert index_entries(data_dir) == recorded
    assert "reuse           off (%config LassoMagics.reuse = False)" in run(
        ip, "%lasso config", capsys
    )
    ip.run_line_magic("config", "LassoMagics.reuse = True")
    assert "reused" in run(ip, cell, capsys)  # back on: the first table again

    monkeypatch.setenv("LASSO_NOTEBOOK_REUSE", "0")
    output = run(ip, cell, capsys)
    assert "reused" not in output and len(table_ids(client)) == count + 4
    assert "reuse           off (LASSO_NOTEBOOK_REUSE=0)" in run(ip, "%lasso config", capsys)
    monkeypatch.setenv("LASSO_NOTEBOOK_REUSE", "maybe")
    with pytest.raises(InvalidRequestError, match="LASSO_NOTEBOOK_REUSE='maybe'"):
        submit("Products", text=PRODUCTS, client=client)


def test_reuse_off_by_environment_never_creates_an_index(
    client: Lasso, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LASSO_NOTEBOOK_REUSE", "off")
    submit("Products", "x", text=PRODUCTS, client=client, progress=False).result(timeout=30)
    assert not (data_dir / INDEX_FILE).exists()


# ------------------------------------------------------------------------- a broken index


def test_a_corrupt_index_warns_once_and_extracts_normally(
    client: Lasso, data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / INDEX_FILE).write_bytes(b"this is not a database\n" * 200)
    jobs = [
        submit("Products", f"corrupt {i}", text=PRODUCTS, client=client, progress=False)
        for i in range(2)
    ]
    frames = [job.result(timeout=30) for job in jobs]
    assert all(len(df) == 3 for df in frames)
    assert not any(job.reused for job in jobs) and len(table_ids(client)) == 2
    err = capfd.readouterr().err
    warnings = [line for line in err.splitlines() if "reuse index" in line]
    assert len(warnings) == 1, err
    assert str(data_dir / INDEX_FILE) in warnings[0] and "Delete the file" in warnings[0]
    # The file is left as it was, for the user to look at or delete.
    assert (data_dir / INDEX_FILE).read_bytes().startswith(b"this is not a database")


def test_an_unusable_data_dir_or_a_newer_index_warns_once(
    client: Lasso,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(blocker / "data"))
    job = submit("Products", "no dir", text=PRODUCTS, client=client, progress=False)
    assert len(job.result(timeout=30)) == 3
    err = capfd.readouterr().err
    assert err.count("reuse index") == 1 and str(blocker / "data") in err

    # A file a newer lasso_notebook wrote is left alone (one warning was given already).
    newer = tmp_path / "newer"
    newer.mkdir()
    with sqlite3.connect(newer / INDEX_FILE) as db:
        db.execute("PRAGMA user_version = 99")
    assert _reuse_index.open_index(newer) is None
    monkeypatch.setattr(_reuse_index, "_warned", False)
    assert _reuse_index.open_index(tmp_path / "newer2") is not None  # a fresh one works
    with sqlite3.connect(newer / INDEX_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 99


# ----------------------------------------------------------------- what the index holds


def test_the_key_and_the_source_never_reach_the_index(
    engine: Any, data_dir: Path, tmp_path: Path
) -> None:
    key = engine.add_key("lasso_" + "KEYCANARY" + "0123456789abcdef" * 2)
    client = Lasso(api_key=key, base_url=engine.base_url)
    secret_text = PRODUCTS + "Canary Secret Lamp,SOURCECANARY-9,1.00\n"
    path = tmp_path / "catalog.csv"
    path.write_text(PRODUCTS + "File Canary,FILECANARY-1,2.00\n", encoding="utf-8")
    for kwargs in (
        {"text": secret_text},
        {"files": [path]},
        {"context": "CONTEXTCANARY", "text": PRODUCTS},
    ):
        submit("Products", "canary", client=client, progress=False, **kwargs).result(timeout=30)
        assert submit("Products", "canary", client=client, progress=False, **kwargs).wait(30).reused
    stored = b"".join(
        file.read_bytes() for file in data_dir.iterdir() if file.name.startswith(INDEX_FILE)
    )
    assert stored  # the index (and its WAL) were written
    for secret in (key, key[6:24], "SOURCECANARY", "FILECANARY", "CONTEXTCANARY"):
        assert secret.encode() not in stored, secret
    fingerprint_of_key = client.async_client.key_fingerprint
    assert len(fingerprint_of_key) == 32 and "KEYCANARY" not in fingerprint_of_key
    assert os.stat(data_dir / INDEX_FILE).st_mode & 0o077 == 0  # private to the user


def test_the_suite_and_engine_fixtures_keep_their_own_data_dirs(
    engine: Any, session_data_dir: Path
) -> None:
    assert engine.data_dir != session_data_dir.resolve()
    assert resolve_data_dir() == session_data_dir.resolve()
    assert Path.home() / ".lasso_notebook" not in (engine.data_dir, resolve_data_dir())


# ------------------------------------------------------------ several kernels, lost creates


def _claim_in_process(path: str, start_at: float, results: Any, number: int) -> None:
    index = ReuseIndex(Path(path))
    request = Request("same", "schema_1", "text", 1)
    time.sleep(max(0.0, start_at - time.time()))
    claim = index.claim("f" * 64, request, token=f"process-{number}")
    results.put(claim.kind)


def test_processes_claiming_one_fingerprint_at_once_get_one_create(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    ReuseIndex(tmp_path / INDEX_FILE).close()  # the layout exists; the claims race on rows
    start_at = time.time() + 3.0  # after every process has started and opened the file
    processes = [
        context.Process(
            target=_claim_in_process, args=(str(tmp_path / INDEX_FILE), start_at, results, n)
        )
        for n in range(4)
    ]
    for process in processes:
        process.start()
    kinds = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert kinds == ["busy", "busy", "busy", "mine"]


def _plan_fingerprint(client: Lasso, text: str) -> tuple[str, Request]:
    schema = client.schemas.get(next(s.id for s in client.schemas.list() if s.name == "Products"))
    plan = make_plan(
        schema, "lost", text=text, files=None, urls=None, context=None, enhance=None, webhook=None
    )
    found = fingerprint(
        plan,
        schema,
        backend=backend_identity(client.base_url, None),
        key_fingerprint=client.async_client.key_fingerprint,
    )
    return found.digest, Request("lost", schema.id, "text", 1)


def test_a_create_whose_answer_was_lost_is_found_not_made_again(
    client: Lasso, data_dir: Path
) -> None:
    digest, request = _plan_fingerprint(client, PRODUCTS)
    index = _reuse_index.open_index(data_dir)
    assert index is not None
    # An earlier job announced the create, the server made the table, the answer never came.
    index.claim(digest, request, token="earlier")
    made = client.tables.create(request.schema_id, "lost", source_text=PRODUCTS)
    index.mark_lost(digest, "earlier")

    # The look-up (the hook for lost creates) finds it from the index entry alone...
    entry = index.get(digest)
    assert entry is not None and entry.state == "lost" and entry.table_id is None
    aclient = client.async_client
    found = _runtime.run_sync(_reuse.find_pending_table(aclient, entry))
    assert found is not None and found.id == made.id
    # ... never a table the index already knows for another fingerprint.
    assert _runtime.run_sync(_reuse.find_pending_table(aclient, entry, exclude={made.id})) is None

    # A job with that fingerprint adopts it instead of extracting again.
    job = submit("Products", "lost", text=PRODUCTS, client=client, progress=False)
    job.result(timeout=30)
    assert job.reused and job.id == made.id
    assert table_ids(client) == [made.id]
    assert index_entries(data_dir)[digest] == ("done", made.id)


def test_a_job_waits_for_another_kernels_pending_create(client: Lasso, data_dir: Path) -> None:
    digest, request = _plan_fingerprint(client, PRODUCTS)
    index = _reuse_index.open_index(data_dir)
    assert index is not None
    assert index.claim(digest, request, token="other-kernel").kind == "mine"

    def other_kernel_finishes() -> None:
        time.sleep(0.8)
        table = client.tables.create(request.schema_id, "lost", source_text=PRODUCTS)
        index.complete(digest, request, "other-kernel", table.id, None)

    thread = threading.Thread(target=other_kernel_finishes)
    thread.start()
    job = submit("Products", "mine", text=PRODUCTS, client=client, progress=False)
    job.result(timeout=30)
    thread.join()
    assert job.reused and len(table_ids(client)) == 1


def test_an_abandoned_claim_is_taken_over(client: Lasso, data_dir: Path) -> None:
    digest, request = _plan_fingerprint(client, PRODUCTS)
    index = _reuse_index.open_index(data_dir)
    assert index is not None
    index.claim(digest, request, token="dead-kernel")
    with sqlite3.connect(data_dir / INDEX_FILE) as db:  # its last sign of life: long ago
        db.execute(
            "UPDATE entries SET touched_at = touched_at - 3600, claimed_at = claimed_at - 3600"
        )
    started = time.monotonic()
    job = submit("Products", "after a crash", text=PRODUCTS, client=client, progress=False)
    job.result(timeout=30)
    assert time.monotonic() - started < 10  # no waiting for a dead holder
    assert not job.reused and table_ids(client) == [job.id]
    assert index_entries(data_dir)[digest] == ("done", job.id)


def test_the_wait_for_a_live_claim_is_bounded(
    client: Lasso, data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_reuse, "CLAIM_WAIT_MAX", 0.6)
    digest, request = _plan_fingerprint(client, PRODUCTS)
    index = _reuse_index.open_index(data_dir)
    assert index is not None
    index.claim(digest, request, token="stuck-kernel")  # fresh, and never completed
    job = submit("Products", "bounded", text=PRODUCTS, client=client, progress=False)
    job.result(timeout=30)
    assert not job.reused and table_ids(client) == [job.id]
    assert "no table yet; creating one here" in caplog.text
