"""Table lifecycle on the embedded engine: queued -> processing (progress moves) -> completed or
failed, webhooks (signature, retries), URL sources, restart safety and the entry points."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

BIG_CSV = "name;sku;price\n" + "".join(f"Item {i};S{i:04d};{i}\n" for i in range(400))


class Receiver:
    """A local HTTP server recording requests; answers with the queued statuses, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.event = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                receiver.event.set()

            def do_GET(self) -> None:
                status, headers, body = receiver.routes.get(self.path, (404, {}, b"missing"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def client_for(engine: Any) -> httpx.Client:
    return httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {engine.api_key}"}, timeout=30
    )


def products_id(api: httpx.Client) -> str:
    return next(s["id"] for s in api.get("/schemas").json()["data"] if s["name"] == "Products")


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "t")
    body.setdefault("schema_id", products_id(api))
    response = api.post("/tables", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def wait(api: httpx.Client, table_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    table: dict[str, Any] = {}
    while time.monotonic() < deadline:
        table = api.get(f"/tables/{table_id}").json()
        if table["status"] in ("completed", "failed"):
            return table
        time.sleep(0.02)
    raise AssertionError(f"table did not finish: {table}")


def test_progress_is_observable_and_rows_arrive_in_batches(engine_factory: Any) -> None:
    engine = engine_factory(pace=0.05)
    with client_for(engine) as api:
        table = create(api, source_text=BIG_CSV)
        assert table["status"] == "queued"
        seen: list[tuple[str, int, int]] = []
        deadline = time.monotonic() + 20
        mid_checked = False
        while time.monotonic() < deadline:
            now = api.get(f"/tables/{table['id']}").json()
            seen.append((now["status"], now["progress"], now["total_rows"]))
            mid = now["status"] == "processing" and 0 < now["progress"] < 100 and now["total_rows"]
            if mid and not mid_checked:
                rows = api.get(f"/tables/{table['id']}/rows", params={"limit": 100}).json()
                # Rows written so far are readable while processing.
                assert rows["pagination"]["total"] >= now["total_rows"]
                tid = table["id"]
                conflict = api.post(f"/tables/{tid}/rows", json={"rows": [{"name": "x"}]})
                assert conflict.status_code == 409 and conflict.json()["error_type"] == "conflict"
                assert (
                    api.get(f"/tables/{tid}/export", params={"format": "json"}).status_code == 409
                )
                mid_checked = True
            if now["status"] == "completed":
                break
            time.sleep(0.01)
        assert mid_checked, seen
        assert seen[-1] == ("completed", 100, 400)
        progresses = [p for s, p, _ in seen if s == "processing"]
        assert progresses == sorted(progresses)  # never goes backwards
        assert len({p for p in progresses if 0 < p < 100}) >= 3  # moves in several steps
        totals = [t for s, _, t in seen if s == "processing"]
        assert totals == sorted(totals) and len(set(totals)) >= 3  # total_rows grows with batches
        rows = api.get(f"/tables/{table['id']}/rows", params={"limit": 100, "page": 4}).json()[
            "data"
        ]
        assert [r["row_index"] for r in rows] == list(range(300, 400))
        assert rows[-1]["data"]["sku"] == "S0399"


def test_failures_have_human_messages(engine: Any) -> None:
    with client_for(engine) as api:
        words = wait(api, create(api, source_text="just some words without structure")["id"])
        assert words["status"] == "failed" and "Could not find a table" in words["error_message"]
        unmatched = wait(api, create(api, source_text="colour,size\nred,XL\n")["id"])
        assert unmatched["status"] == "failed"
        assert "colour" in unmatched["error_message"] and "Name" in unmatched["error_message"]
        pdf = api.post(
            "/files", files={"file": ("cat.pdf", b"%PDF-1.4 binary", "application/pdf")}
        ).json()
        failed = wait(api, create(api, file_ids=[pdf["id"]])["id"])
        assert (
            failed["status"] == "failed" and "could not be read as a PDF" in failed["error_message"]
        )
        assert "cat.pdf" in failed["error_message"]
        binary = api.post("/files", files={"file": ("data.csv", b"\x00\x01\x02" * 50)}).json()
        failed = wait(api, create(api, file_ids=[binary["id"]])["id"])
        assert "not readable text" in failed["error_message"]
        good = api.post("/files", files={"file": ("ok.csv", b"name,price\nA,1\n")}).json()
        ok = wait(api, create(api, file_ids=[good["id"]])["id"])
        assert ok["status"] == "completed" and ok["files"][0]["name"] == "ok.csv"
        assert ok["source_type"] == "files" and ok["files"][0]["size"] == 15


def test_deleted_source_file_and_deleted_table(engine_factory: Any) -> None:
    engine = engine_factory(pace=0.05, workers=1)
    with client_for(engine) as api:
        busy = create(api, source_text=BIG_CSV)  # keeps the only worker busy
        uploaded = api.post("/files", files={"file": ("a.csv", b"name\nA\n")}).json()
        waiting = create(api, file_ids=[uploaded["id"]])
        assert api.delete(f"/files/{uploaded['id']}").status_code == 204
        assert api.delete(f"/tables/{busy['id']}").status_code == 204  # stops the running job
        failed = wait(api, waiting["id"])
        assert failed["status"] == "failed" and "was deleted" in failed["error_message"]
        assert api.get(f"/tables/{busy['id']}").status_code == 404
        follow_up = wait(api, create(api, source_text="name\nB\n")["id"])
        assert follow_up["status"] == "completed"  # the worker moved on


def test_webhooks_are_signed_and_carry_the_documented_body(
    engine_factory: Any, receiver: Receiver
) -> None:
    engine = engine_factory(webhook_secret="s3cret")
    with client_for(engine) as api:
        done = create(
            api,
            source_text="name\nA\nB\n",
            webhook_url=receiver.url + "/hook",
            webhook_auth_header_name="X-Token",
            webhook_auth_header_value="abc",
        )
        failed = create(api, source_text="no table here", webhook_url=receiver.url + "/hook")
        requests = receiver.wait_for(2)
    assert len(requests) == 2
    by_table = {json.loads(r["body"])["data"]["table_id"]: r for r in requests}
    ok = by_table[done["id"]]
    body = json.loads(ok["body"])
    assert body["event"] == "table.completed" and body["data"] == {
        "table_id": done["id"],
        "status": "completed",
        "total_rows": 2,
    }
    assert body["timestamp"].endswith("Z")
    headers = {k.lower(): v for k, v in ok["headers"].items()}
    assert (
        headers["content-type"] == "application/json"
        and headers["x-lasso-event"] == "table.completed"
    )
    assert headers["x-lasso-delivery-id"] and headers["x-token"] == "abc"
    expected = "sha256=" + hmac.new(b"s3cret", ok["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-lasso-signature"], expected)
    bad = by_table[failed["id"]]
    assert json.loads(bad["body"])["event"] == "table.failed"
    assert json.loads(bad["body"])["data"]["status"] == "failed"
    assert {k.lower(): v for k, v in bad["headers"].items()}["x-lasso-event"] == "table.failed"


def test_webhook_retries_then_drops(engine_factory: Any, receiver: Receiver) -> None:
    engine = engine_factory(webhook_retry_delays=(0.05, 0.1))
    receiver.statuses = [500, 503]  # third attempt succeeds
    with client_for(engine) as api:
        create(api, source_text="name\nA\n", webhook_url=receiver.url + "/retry")
        requests = receiver.wait_for(3)
        assert len(requests) == 3
        assert len({r["body"] for r in requests}) == 1  # same event every attempt
        ids = {r["headers"].get("X-Lasso-Delivery-Id") for r in requests}
        assert len(ids) == 3  # a fresh delivery id per attempt
        assert "X-Lasso-Signature" not in requests[0]["headers"]  # no secret configured
        receiver.requests.clear()
        receiver.statuses = [500] * 10
        create(api, source_text="name\nB\n", webhook_url=receiver.url + "/drop")
        receiver.wait_for(3)
        time.sleep(0.5)
        assert len(receiver.requests) == 3  # first try + 2 retries, then dropped


def test_file_urls_are_fetched_with_limits(engine_factory: Any, receiver: Receiver) -> None:
    engine = engine_factory(max_upload_bytes=10_000)
    receiver.routes = {
        "/cat.csv": (200, {"Content-Type": "text/csv"}, b"name,price\nA,1\nB,2\n"),
        "/moved": (302, {"Location": "/cat.csv"}, b""),
        "/evil": (302, {"Location": "file:///etc/passwd"}, b""),
        "/big.csv": (200, {"Content-Type": "text/csv"}, b"name\n" + b"x\n" * 10_000),
    }
    with client_for(engine) as api:
        table = create(api, file_urls=[receiver.url + "/cat.csv", receiver.url + "/moved"])
        assert (
            table["source_type"] == "urls"
            and table["files"][0]["path"] == receiver.url + "/cat.csv"
        )
        done = wait(api, table["id"])
        assert done["status"] == "completed" and done["total_rows"] == 4
        assert done["files"][0]["size"] == 19
        for path, message in (
            ("/missing.csv", "HTTP 404"),
            ("/evil", "only http(s)"),
            ("/big.csv", "limit"),
        ):
            failed = wait(api, create(api, file_urls=[receiver.url + path])["id"])
            assert failed["status"] == "failed" and message in failed["error_message"], failed
    assert not any((engine.data_dir / "downloads").glob("*/*"))  # downloads are cleaned up


def test_restart_mid_processing_resumes_without_duplicates(
    engine_factory: Any, tmp_path: Any
) -> None:
    first = engine_factory(pace=0.1, data_dir=tmp_path)
    with client_for(first) as api:
        table = create(api, source_text=BIG_CSV)
        deadline = time.monotonic() + 20
        while api.get(f"/tables/{table['id']}").json()["progress"] < 20:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    key = first.api_key
    first.stop()
    second = engine_factory(data_dir=tmp_path)
    assert second.api_key == key  # the key survives restarts
    with client_for(second) as api:
        assert api.get(f"/tables/{table['id']}").json()["status"] in (
            "queued",
            "processing",
            "completed",
        )
        done = wait(api, table["id"])
        assert done["status"] == "completed" and done["total_rows"] == 400
        rows = [
            r
            for page in range(1, 5)
            for r in api.get(
                f"/tables/{table['id']}/rows", params={"limit": 100, "page": page}
            ).json()["data"]
        ]
        assert [r["row_index"] for r in rows] == list(range(400))
        assert len({r["data"]["sku"] for r in rows}) == 400


def test_table_of_a_crashed_engine_is_requeued(engine_factory: Any, tmp_path: Any) -> None:
    first = engine_factory(data_dir=tmp_path)
    with client_for(first) as api:
        table = wait(api, create(api, source_text="name\nA\nB\n")["id"])
        schema_id = products_id(api)
    first.stop()
    # Simulate a crash: the table is left "processing" under a dead engine's stale lease.
    db = sqlite3.connect(tmp_path / "engine.sqlite3")
    with db:
        db.execute(
            "UPDATE tables SET status='processing', progress=40, lease_owner='eng_dead', heartbeat=0"
            " WHERE id = ?",
            (table["id"],),
        )
    db.close()
    second = engine_factory(data_dir=tmp_path)
    with client_for(second) as api:
        done = wait(api, table["id"])
        assert done["status"] == "completed" and done["total_rows"] == 2
        assert api.get(f"/schemas/{schema_id}").status_code == 200  # nothing else was lost


def test_api_stays_responsive_while_many_tables_extract(engine_factory: Any) -> None:
    engine = engine_factory()
    text = "name,price\n" + "".join(f"P{i},{i}\n" for i in range(300))
    with client_for(engine) as api:
        ids = [create(api, source_text=text, name=f"t{i}")["id"] for i in range(20)]
        slowest = 0.0
        for _ in range(20):
            start = time.perf_counter()
            assert api.get(f"/tables/{ids[-1]}").status_code == 200
            slowest = max(slowest, time.perf_counter() - start)
        assert slowest < 2.0  # generous: the event loop is never blocked by extraction
        assert all(wait(api, tid)["status"] == "completed" for tid in ids)


def test_embedded_is_started_once_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import lasso_notebook.server as server

    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LASSO_ENGINE_PACE", "0.01")
    monkeypatch.setattr(server, "_embedded", None)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(server.embedded())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len({id(r) for r in results}) == 1 and server.embedded() is results[0]
        handle = results[0]
        assert handle.data_dir == tmp_path.resolve() and handle.pace == 0.01
        assert handle.base_url.startswith("http://127.0.0.1:")
        assert (
            httpx.get(
                f"{handle.base_url}/schemas", headers={"Authorization": f"Bearer {handle.api_key}"}
            ).status_code
            == 200
        )
    finally:
        results[0].stop()


def test_data_dir_is_the_argument_else_the_env_var_else_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from lasso_notebook.server import serve
    from lasso_notebook.server.engine import resolve_data_dir

    from_env, given = tmp_path / "from-env", tmp_path / "given"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # a broken lookup must not touch ~
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(from_env))
    with serve() as engine:  # no data_dir: the env var
        assert engine.data_dir == from_env.resolve()
    assert (from_env / "api_key").is_file() and (from_env / "engine.sqlite3").is_file()
    with serve(data_dir=given) as engine:  # the argument beats the env var
        assert engine.data_dir == given.resolve()
    assert (given / "api_key").read_text() != (from_env / "api_key").read_text()
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", "")  # empty counts as unset
    assert resolve_data_dir() == (tmp_path / "home" / ".lasso_notebook").resolve()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_command_line_prints_url_and_key(tmp_path: Any, how: str) -> None:
    # The data dir comes from --data-dir, or from LASSO_NOTEBOOK_DATA_DIR without the flag.
    argv = [sys.executable, "-m", "lasso_notebook.server", "--port", "0"]
    unused = tmp_path / "unused"
    env = dict(os.environ, LASSO_NOTEBOOK_DATA_DIR=str(unused), HOME=str(unused))  # not ~
    if how == "flag":
        argv += ["--data-dir", str(tmp_path)]
    else:
        env["LASSO_NOTEBOOK_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        url = next(line.split("=", 1)[1].strip() for line in lines if "LASSO_BASE_URL=" in line)
        key = next(line.split("=", 1)[1].strip() for line in lines if "LASSO_API_KEY=" in line)
        assert key == (tmp_path / "api_key").read_text().strip()
        response = httpx.get(f"{url}/tables", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200
    finally:
        proc.send_signal(2)  # Ctrl-C
        proc.wait(timeout=15)
    assert proc.returncode == 0
    assert not unused.exists()


class _CtrlC:
    """The command line's wait for Ctrl-C, interrupted at once."""

    def wait(self, timeout: Any = None) -> bool:
        raise KeyboardInterrupt


def test_command_line_warns_on_non_loopback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import lasso_notebook.server.__main__ as cli

    class Fake:
        base_url, api_key, data_dir = "http://0.0.0.0:1/api/v1", "lasso_x", "d"

        def stop(self) -> None:
            pass

    monkeypatch.setattr(cli, "serve", lambda *a, **k: Fake())
    # Only the command line's own ``threading`` is replaced: every other thread's waits stay real.
    monkeypatch.setattr(cli, "threading", SimpleNamespace(Event=_CtrlC))
    assert cli.main(["--host", "0.0.0.0"]) == 0
    assert "WARNING" in capsys.readouterr().err


def _engine_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("lasso-engine-")}


def test_a_failed_start_releases_what_it_set_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from lasso_notebook.server.engine import Engine
    from lasso_notebook.server.store import Store

    before = _engine_threads()

    def unreadable(self: Any, key_file: Any) -> str:
        raise PermissionError(13, "Permission denied", str(key_file))

    monkeypatch.setattr(Store, "ensure_key_file", unreadable)
    engine = Engine(0, tmp_path / "a")
    with pytest.raises(PermissionError):
        engine.start()
    assert engine.store._closed and not engine.running  # the database is not left open
    monkeypatch.undo()

    async def never_ready(self: Any, sockets: Any = None) -> None:
        while not self.should_exit:  # an HTTP server that never reports started
            await asyncio.sleep(0.01)

    monkeypatch.setattr("uvicorn.Server.serve", never_ready)
    engine = Engine(0, tmp_path / "b")
    engine.START_TIMEOUT = 0.3
    with pytest.raises(RuntimeError, match="did not start"):
        engine.start()
    assert engine.store._closed and not engine.running
    assert not _engine_threads() - before  # HTTP thread told to exit; workers, webhooks stopped
    assert not list((tmp_path / "b" / "engines").glob("*.lock"))  # its engine lock released
