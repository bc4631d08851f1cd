"""An interrupted engine neither freezes nor rewinds: after a SIGKILL (real processes) or a
stop, the next engine on the data dir re-queues the table at once, resumes after the rows
already written, and a polling client never sees progress or total_rows go down."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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
