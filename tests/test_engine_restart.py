"""An interrupted engine neither freezes nor rewinds: after a SIGKILL (real processes) or a
stop, the next engine on the data dir re-queues the table at once, resumes after the rows
already written, and a polling client never sees progress or total_rows go down."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

ROWS = 100_000


def csv_text(rows: int, tag: str = "") -> str:
    return "name,sku,price\n" + "".join(f"Item{tag} {i},S{i:06d},{i}\n" for i in range(rows))


def expected_row(i: int, tag: str = "") -> dict[str, Any]:
    return {"name": f"Item{tag} {i}", "sku": f"S{i:06d}", "price": i}


def client(base_url: str, api_key: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    schemas = api.get("/schemas").json()["data"]
    body.setdefault("schema_id", next(s["id"] for s in schemas if s["name"] == "Products"))
    response = api.post("/tables", json={"name": "restart", **body})
    assert response.status_code == 201, response.text
    return response.json()


class EngineProcess:
    """``python -m lasso_notebook.server`` on ``data_dir``, as a user starts it."""

    def __init__(self, data_dir: Path, *options: str) -> None:
        self.log = (data_dir.parent / f"{data_dir.name}-engine.log").open("a")
        argv = [sys.executable, "-m", "lasso_notebook.server", "--port", "0"]
        self.proc = subprocess.Popen(
            [*argv, "--data-dir", str(data_dir), *options],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        printed: dict[str, str] = {}
        while "LASSO_API_KEY" not in printed:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            assert line, f"the engine did not start; see {self.log.name}"
            name, _, value = line.strip().partition("=")
            printed[name] = value
        self.base_url, self.api_key = printed["LASSO_BASE_URL"], printed["LASSO_API_KEY"]
        self.ready_at = time.monotonic()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.proc.stdout.close()  # type: ignore[union-attr]
        self.log.close()


@pytest.fixture
def engine_process(tmp_path: Path) -> Iterator[Callable[..., EngineProcess]]:
    started: list[EngineProcess] = []

    def start(*options: str) -> EngineProcess:
        started.append(EngineProcess(tmp_path / "data", *options))
        return started[-1]

    yield start
    for engine in started:
        engine.close()


class Watcher:
    """What a polling client sees of one table (the table object and its listing entry),
    checked on every observation: nothing goes backwards, and 100 % means completed."""

    def __init__(self, table_id: str) -> None:
        self.table_id = table_id
        self.seen: list[dict[str, Any]] = []

    def look(self, api: httpx.Client) -> dict[str, Any]:
        table = api.get(f"/tables/{self.table_id}").json()
        listed = next(
            t
            for t in api.get("/tables", params={"limit": 100}).json()["data"]
            if t["id"] == self.table_id
        )
        for view in (table, listed):
            previous = self.seen[-1] if self.seen else {"progress": 0, "total_rows": 0}
            assert view["progress"] >= previous["progress"], (previous, view)
            assert view["total_rows"] >= previous["total_rows"], (previous, view)
            assert view["progress"] < 100 or view["status"] == "completed", view
            self.seen.append(view)
        return table

    def until(
        self, api: httpx.Client, done: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            table = self.look(api)
            if done(table):
                return table
            assert table["status"] != "failed", table
            assert time.monotonic() < deadline, f"gave up waiting; last seen {table}"
            time.sleep(0.01)


def wait_done(api: httpx.Client, table_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = api.get(f"/tables/{table_id}").json()
        if table["status"] in ("completed", "failed"):
            return table
        time.sleep(0.02)
    raise AssertionError(f"table did not finish: {table}")


def processing_past(rows: int) -> Callable[[dict[str, Any]], bool]:
    return lambda t: t["status"] == "processing" and t["total_rows"] > rows


def completed(table: dict[str, Any]) -> bool:
    return table["status"] == "completed"


def check_rows_once(data_dir: Path, api: httpx.Client, table_id: str, tag: str = "") -> None:
    """Every record of the CSV is one row: row_index 0..n-1 once each, data in CSV order."""
    exported = api.get(f"/tables/{table_id}/export", params={"format": "json"})
    assert exported.status_code == 200
    rows = exported.json()
    assert len(rows) == ROWS
    for i in (0, 1, ROWS // 5, ROWS // 2, ROWS - 1):
        assert {k: rows[i][k] for k in ("name", "sku", "price")} == expected_row(i, tag)
    assert [r["sku"] for r in rows] == [f"S{i:06d}" for i in range(ROWS)]  # in order, once
    with sqlite3.connect(data_dir / "engine.sqlite3") as db:
        count, distinct, low, high = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT row_index), MIN(row_index), MAX(row_index)"
            " FROM rows WHERE table_id = ?",
            (table_id,),
        ).fetchone()
    assert (count, distinct, low, high) == (ROWS, ROWS, 0, ROWS - 1)


def test_sigkilled_engine_is_resumed_at_once_without_rewinding(
    engine_process: Callable[..., EngineProcess], tmp_path: Path
) -> None:
    source = tmp_path / "catalog.csv"
    source.write_text(csv_text(ROWS))
    first = engine_process("--pace", "0.25", "--workers", "1")
    with client(first.base_url, first.api_key) as api:
        upload = api.post("/files", files={"file": ("catalog.csv", source.read_bytes())}).json()
        table = create(api, file_ids=[upload["id"]])
        watcher = Watcher(table["id"])
        # Mid-extraction: a fifth of the rows written, as in the report of the bug.
        before = watcher.until(api, processing_past(ROWS // 5 - 1))
    first.kill()

    second = engine_process("--pace", "0.25", "--workers", "1")
    assert second.api_key == first.api_key
    with client(second.base_url, second.api_key) as api:
        # Reclaimed at once (not after the 15 s heartbeat timeout) and writing new rows.
        watcher.until(api, processing_past(before["total_rows"]), timeout=2)
        assert time.monotonic() - second.ready_at < 2.0
        done = watcher.until(api, completed)
        assert done["total_rows"] == ROWS and done["progress"] == 100
        assert "status_note" not in done  # resumed, not restarted: nothing to explain
        check_rows_once(tmp_path / "data", api, table["id"])
        # The dead engine's lock file was cleared away; the live engine's is there.
        assert len(list((tmp_path / "data" / "engines").glob("eng_*.lock"))) == 1


SMALL = 20_000


def table_row(data_dir: Path, table_id: str) -> tuple[Any, ...]:
    """The table's state in the database of a stopped engine, and its row count."""
    with sqlite3.connect(data_dir / "engine.sqlite3") as db:
        state = db.execute(
            "SELECT status, lease_owner, total_rows FROM tables WHERE id = ?", (table_id,)
        ).fetchone()
        rows = db.execute("SELECT COUNT(*) FROM rows WHERE table_id = ?", (table_id,)).fetchone()
    return (*state, rows[0])


def test_stopped_engine_gives_its_table_back_and_the_next_one_resumes_it(
    engine_factory: Any, tmp_path: Path
) -> None:
    first = engine_factory(pace=0.1, workers=1, data_dir=tmp_path)
    with client(first.base_url, first.api_key) as api:
        table = create(api, source_text=csv_text(SMALL))
        watcher = Watcher(table["id"])
        before = watcher.until(api, processing_past(0))
    first.stop()
    # stop() put the in-flight table back in the queue, under no lease, its rows kept.
    status, lease, total, rows = table_row(tmp_path, table["id"])
    assert (status, lease) == ("queued", None)
    assert total == rows >= before["total_rows"] > 0

    restarted = time.monotonic()
    second = engine_factory(pace=0.1, workers=1, data_dir=tmp_path)
    with client(second.base_url, second.api_key) as api:
        # Processing again within 1 s (it was queued, under no lease, until claimed)...
        watcher.until(api, lambda t: t["status"] == "processing", timeout=1)
        assert time.monotonic() - restarted < 1.0
        # ... and writing rows after the ones the first engine wrote (it skips those first).
        watcher.until(api, processing_past(total), timeout=10)
        done = watcher.until(api, completed)
        assert done["total_rows"] == SMALL and "status_note" not in done
        # The rows the first run wrote count in the summary too, not only the resumed run's.
        assert done["validation_summary"]["rows"] == SMALL
        rows = api.get(f"/tables/{table['id']}/export", params={"format": "json"}).json()
    assert [r["sku"] for r in rows] == [f"S{i:06d}" for i in range(SMALL)]


def test_progress_is_100_only_once_completed(engine_factory: Any) -> None:
    engine = engine_factory(pace=0.1, workers=1)
    with client(engine.base_url, engine.api_key) as api:
        table = create(api, source_text=csv_text(2000))
        watcher = Watcher(table["id"])  # asserts it on every observation
        done = watcher.until(api, completed)
    assert done["progress"] == 100
    processing = [v["progress"] for v in watcher.seen if v["status"] == "processing"]
    assert len(processing) >= 10 and max(processing) >= 90  # watched until the very end


def test_a_resumed_table_whose_schema_changed_starts_over_and_says_so(
    engine_factory: Any, tmp_path: Path
) -> None:
    first = engine_factory(pace=0.1, workers=1, data_dir=tmp_path)
    with client(first.base_url, first.api_key) as api:
        narrow = api.post(
            "/schemas",
            json={"name": "Narrow", "columns": [{"key": "name", "label": "Name", "type": "text"}]},
        ).json()
        table = create(api, source_text=csv_text(SMALL))
        Watcher(table["id"]).until(api, processing_past(0))
        # The running extraction keeps its columns; the next run uses the new ones.
        assert api.patch(f"/tables/{table['id']}", json={"schema_id": narrow["id"]}).is_success
    first.stop()
    assert table_row(tmp_path, table["id"])[3] > 0  # rows kept by stop()

    second = engine_factory(data_dir=tmp_path)
    with client(second.base_url, second.api_key) as api:
        done = wait_done(api, table["id"])
        rows = api.get(f"/tables/{table['id']}/export", params={"format": "json"}).json()
    assert done["status"] == "completed" and done["total_rows"] == SMALL
    assert (
        "schema changed" in done["status_note"]
        and "restarted from the first row" in (done["status_note"])
    )
    assert rows == [{"name": f"Item {i}"} for i in range(SMALL)]  # all from the new schema


def test_rows_written_by_another_engine_version_are_not_resumed(
    engine_factory: Any, tmp_path: Path
) -> None:
    first = engine_factory(pace=0.1, workers=1, data_dir=tmp_path)
    with client(first.base_url, first.api_key) as api:
        table = create(api, source_text=csv_text(SMALL))
        Watcher(table["id"]).until(api, processing_past(0))
    first.stop()
    with sqlite3.connect(tmp_path / "engine.sqlite3") as db:  # as an older release left it
        db.execute("UPDATE tables SET resume_state = NULL WHERE id = ?", (table["id"],))
    second = engine_factory(data_dir=tmp_path)
    with client(second.base_url, second.api_key) as api:
        done = wait_done(api, table["id"])
        rows = api.get(f"/tables/{table['id']}/export", params={"format": "json"}).json()
    assert done["total_rows"] == SMALL and "another version" in done["status_note"]
    assert [r["sku"] for r in rows] == [f"S{i:06d}" for i in range(SMALL)]


class CsvServer:
    """A local HTTP server answering ``GET /<name>`` with ``files[name]``."""

    def __init__(self) -> None:
        files: dict[str, bytes] = {}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = files.get(self.path.lstrip("/"), b"")
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.files = files
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def csv_server() -> Iterator[CsvServer]:
    server = CsvServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_a_url_source_that_changed_is_extracted_again_from_its_first_row(
    engine_factory: Any, tmp_path: Path, csv_server: CsvServer
) -> None:
    url, half = csv_server.url, SMALL // 2
    csv_server.files["a.csv"] = csv_text(half, "A").encode()
    csv_server.files["b.csv"] = csv_text(half, "B").encode()
    first = engine_factory(pace=0.1, workers=1, data_dir=tmp_path)
    with client(first.base_url, first.api_key) as api:
        table = create(api, file_urls=[f"{url}/a.csv", f"{url}/b.csv"])
        watcher = Watcher(table["id"])
        watcher.until(api, processing_past(half))  # a.csv done, b.csv under way
    first.stop()
    written = table_row(tmp_path, table["id"])[3]
    assert half < written < SMALL
    csv_server.files["b.csv"] = csv_text(half, "C").encode()  # changed meanwhile

    second = engine_factory(data_dir=tmp_path)
    with client(second.base_url, second.api_key) as api:
        done = wait_done(api, table["id"])
        rows = api.get(f"/tables/{table['id']}/export", params={"format": "json"}).json()
    assert done["status"] == "completed" and done["total_rows"] == SMALL
    assert f"resumed at row {half:,}" in done["status_note"] and "'b.csv'" in done["status_note"]
    names = [r["name"] for r in rows]
    assert names == [f"ItemA {i}" for i in range(half)] + [f"ItemC {i}" for i in range(half)]


def test_an_unchanged_url_source_is_resumed(
    engine_factory: Any, tmp_path: Path, csv_server: CsvServer
) -> None:
    url = csv_server.url
    csv_server.files["a.csv"] = csv_text(SMALL).encode()
    first = engine_factory(pace=0.1, workers=1, data_dir=tmp_path)
    with client(first.base_url, first.api_key) as api:
        table = create(api, file_urls=[f"{url}/a.csv"])
        watcher = Watcher(table["id"])
        watcher.until(api, processing_past(0))
    first.stop()
    second = engine_factory(pace=0.1, workers=1, data_dir=tmp_path)
    with client(second.base_url, second.api_key) as api:
        done = watcher.until(api, completed)  # never went backwards
        rows = api.get(f"/tables/{table['id']}/export", params={"format": "json"}).json()
    assert done["total_rows"] == SMALL and "status_note" not in done
    assert [r["sku"] for r in rows] == [f"S{i:06d}" for i in range(SMALL)]


def test_engines_sharing_a_data_dir_take_over_only_from_one_that_ended(
    engine_process: Callable[..., EngineProcess], engine_factory: Any, tmp_path: Path
) -> None:
    from lasso_notebook.server.worker import HEARTBEAT_EVERY

    data_dir = tmp_path / "data"
    first = engine_process("--pace", "0.4", "--workers", "1")
    with client(first.base_url, first.api_key) as api:
        table = create(api, source_text=csv_text(SMALL))
        watcher = Watcher(table["id"])
        watcher.until(api, processing_past(0))
    second = engine_factory(data_dir=data_dir, workers=1)  # same queue, running alongside
    time.sleep(HEARTBEAT_EVERY + 0.3)  # its start and a heartbeat sweep have looked
    status, lease, _, _ = table_row(data_dir, table["id"])
    assert status == "processing" and lease not in (None, second.engine_id)  # left alone

    first.kill()
    killed = time.monotonic()
    with client(second.base_url, second.api_key) as api:
        before = watcher.look(api)
        moved = processing_past(before["total_rows"])  # or done already: no pace here
        watcher.until(api, lambda t: moved(t) or completed(t), timeout=HEARTBEAT_EVERY + 2)
        assert time.monotonic() - killed < HEARTBEAT_EVERY + 1  # its next heartbeat saw it
        done = watcher.until(api, completed)
        rows = api.get(f"/tables/{table['id']}/export", params={"format": "json"}).json()
    assert done["total_rows"] == SMALL
    assert [r["sku"] for r in rows] == [f"S{i:06d}" for i in range(SMALL)]


def test_sigterm_stops_the_command_line_engine_gracefully(
    engine_process: Callable[..., EngineProcess], tmp_path: Path
) -> None:
    engine = engine_process("--pace", "0.2", "--workers", "1")
    with client(engine.base_url, engine.api_key) as api:
        table = create(api, source_text=csv_text(SMALL))
        Watcher(table["id"]).until(api, processing_past(0))
    engine.proc.terminate()  # SIGTERM, as a service manager stops it
    assert engine.proc.wait(timeout=15) == 0
    status, lease, total, rows = table_row(tmp_path / "data", table["id"])
    assert (status, lease) == ("queued", None) and total == rows > 0  # given back, rows kept
    assert not list((tmp_path / "data" / "engines").glob("*.lock"))  # nothing left to reap
