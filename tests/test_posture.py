"""Network posture of the engine (loopback by default, a warning otherwise, private data dir,
bounded and http(s)-only URL fetches and webhook deliveries) and the embedded default's
failures to start: one line saying what happened and what to do."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psutil
import pytest

from lasso_notebook.errors import EngineStartError


# -- a hostile HTTP peer ------------------------------------------------------------------------
class Peer:
    """Answers GET and POST by path: redirects, trickled bodies, endless bodies, big lengths,
    and two that never answer (silence; a status line, then headers a byte at a time). Those
    two give up after 5 s or when ``release`` is set, so the peer always stops by itself."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.hit_times: list[float] = []
        self.release = threading.Event()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.answer()

            def answer(self) -> None:
                peer.hits.append(self.path)
                peer.hit_times.append(time.monotonic())
                try:
                    if self.path.startswith("/to/"):
                        self.send_response(302)
                        self.send_header("Location", self.path.removeprefix("/to/"))
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif self.path == "/trickle":
                        self.send_response(200)
                        self.send_header("Content-Length", "100000")
                        self.end_headers()
                        for _ in range(100):  # a byte every 0.1 s: no read ever times out
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.1)
                    elif self.path == "/silent":
                        peer.release.wait(5)  # connection accepted, request read, no answer
                    elif self.path == "/stalling":
                        # Every read gets a byte well within any per-read timeout; the
                        # headers never end.
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Wait: ")
                        for _ in range(50):
                            if peer.release.wait(0.1):
                                break
                            self.wfile.write(b"x")
                            self.wfile.flush()
                    elif self.path == "/endless":
                        self.send_response(200)
                        self.end_headers()  # no length: the body ends when we stop
                        for _ in range(100_000):
                            self.wfile.write(b"y" * 4096)
                    elif self.path == "/announced-big":
                        self.send_response(200)
                        self.send_header("Content-Length", str(10**9))
                        self.end_headers()
                        self.wfile.write(b"z" * 1000)
                    else:
                        body = b"name\nA\n"
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the engine hung up on us, as it should

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def peer() -> Iterator[Peer]:
    handle = Peer()
    yield handle
    handle.release.set()
    handle.server.shutdown()
    handle.server.server_close()


# -- binding ----------------------------------------------------------------------------------
def test_engine_listens_on_loopback_only_by_default(engine: Any) -> None:
    listening = [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == engine.port
    ]
    assert [c.laddr.ip for c in listening] == ["127.0.0.1"]
    assert engine.base_url.startswith("http://127.0.0.1:")


class _CtrlC:
    """The command line's wait for Ctrl-C, interrupted at once."""

    def wait(self, timeout: Any = None) -> bool:
        raise KeyboardInterrupt


def test_command_line_defaults_to_loopback_without_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import lasso_notebook.server.__main__ as cli

    seen: dict[str, Any] = {}

    class Fake:
        base_url, api_key, data_dir = "http://127.0.0.1:1/api/v1", "lasso_x", "d"

        def stop(self) -> None:
            pass

    def fake_serve(*args: Any, **kwargs: Any) -> Fake:
        seen.update(kwargs)
        return Fake()

    monkeypatch.setattr(cli, "serve", fake_serve)
    # Only the command line's own ``threading`` is replaced: every other thread's waits stay real.
    monkeypatch.setattr(cli, "threading", SimpleNamespace(Event=_CtrlC))
    assert cli.main([]) == 0
    assert seen["host"] == "127.0.0.1"
    assert "WARNING" not in capsys.readouterr().err


def test_binding_every_interface_warns(
    engine_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lasso_notebook.server")
    engine = engine_factory(host="0.0.0.0")
    engine.stop()  # bound for a moment only
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("0.0.0.0" in w and "anyone who can reach it" in w for w in warnings), warnings


def test_data_dir_is_private_even_if_it_existed_open(engine_factory: Any, tmp_path: Path) -> None:
    data = tmp_path / "open"
    data.mkdir(mode=0o777)
    data.chmod(0o777)
    old = os.umask(0)  # a careless umask must not make the key file readable
    try:
        engine = engine_factory(data_dir=data)
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "api_key").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "files").stat().st_mode) == 0o700
    assert engine.api_key not in repr(engine)


# -- file_urls ----------------------------------------------------------------------------------
def test_url_fetch_has_a_total_time_limit(peer: Peer, tmp_path: Path) -> None:
    from lasso_notebook.server.extract import ExtractionError
    from lasso_notebook.server.fetch import fetch_url

    start = time.monotonic()
    with pytest.raises(ExtractionError, match="took longer than"):
        fetch_url(f"{peer.url}/trickle", tmp_path / "d", max_bytes=10**6, timeout=1.0)
    assert time.monotonic() - start < 3  # the trickle would take 10 s


def test_url_fetch_refuses_an_announced_size_over_the_limit(peer: Peer, tmp_path: Path) -> None:
    from lasso_notebook.server.extract import ExtractionError
    from lasso_notebook.server.fetch import fetch_url

    with pytest.raises(ExtractionError, match="limit"):
        fetch_url(f"{peer.url}/announced-big", tmp_path / "d", max_bytes=10_000)
    assert not (tmp_path / "d").exists() or (tmp_path / "d").stat().st_size <= 10_000


@pytest.mark.parametrize(
    "target",
    [
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "data:,name%0AA",
    ],
)
def test_url_fetch_never_follows_a_redirect_off_http(
    peer: Peer, tmp_path: Path, target: str
) -> None:
    from lasso_notebook.server.extract import ExtractionError
    from lasso_notebook.server.fetch import fetch_url

    with pytest.raises(ExtractionError, match="only http"):
        fetch_url(f"{peer.url}/to/{target}", tmp_path / "d", max_bytes=10_000)
    assert peer.hits == [f"/to/{target}"]


# -- webhooks -----------------------------------------------------------------------------------
def _delivery(url: str) -> dict[str, Any]:
    return {"url": url, "body": '{"event":"table.completed"}', "event": "x", "headers": {}}


@pytest.fixture
def dispatcher() -> Any:
    from lasso_notebook.server import webhooks

    # timeout=0.5: the real one is the documented 10 s.
    return webhooks.WebhookDispatcher(store=None, secret=None, retry_delays=(), timeout=0.5)  # type: ignore[arg-type]


def test_webhook_redirects_are_failures_not_hops(dispatcher: Any, peer: Peer) -> None:
    assert dispatcher._send(_delivery(f"{peer.url}/to/{peer.url}/ok")) == "HTTP 302"
    assert dispatcher._send(_delivery(f"{peer.url}/to/file:///etc/passwd")) == "HTTP 302"
    assert peer.hits == [f"/to/{peer.url}/ok", "/to/file:///etc/passwd"]  # targets never hit
    assert "http(s)" in dispatcher._send(_delivery("file:///etc/passwd"))
    # A Location httpx cannot even parse is a failed delivery too (not an escaped exception).
    assert "InvalidURL" in dispatcher._send(_delivery(f"{peer.url}/to/data:,x"))


def test_webhook_delivery_is_bounded_in_time_and_size(dispatcher: Any, peer: Peer) -> None:
    start = time.monotonic()
    assert dispatcher._send(_delivery(f"{peer.url}/trickle")) is None  # 200, then we hang up
    assert time.monotonic() - start < 2  # not the 10 s the receiver would take
    start = time.monotonic()
    assert dispatcher._send(_delivery(f"{peer.url}/endless")) is None  # 400 MB on offer
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("path", ["/silent", "/stalling"])
def test_webhook_receiver_that_never_answers_fails_at_the_deadline(
    engine_factory: Any, peer: Peer, path: str
) -> None:
    timeout, delay = 0.5, 0.3
    engine = engine_factory(webhook_timeout=timeout, webhook_retry_delays=(delay, delay))
    with httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {engine.api_key}"}
    ) as api:
        schemas = api.get("/schemas").json()["data"]
        schema_id = next(s["id"] for s in schemas if s["name"] == "Products")
        table = {"name": "t", "schema_id": schema_id, "source_text": "name\nA\n"}
        created = api.post("/tables", json={**table, "webhook_url": peer.url + path})
        assert created.status_code == 201, created.text
    delivery = _wait_for_dropped_delivery(engine.data_dir / "engine.sqlite3")
    assert delivery["attempts"] == 3 and f"no answer within {timeout:g} s" in delivery["last_error"]
    assert peer.hits == [path] * 3  # first try + 2 retries
    # Each attempt failed at the deadline (not at a per-read timeout the stalling peer never
    # trips: 5 s per attempt) and the next one came after the scheduled delay; the upper bound
    # leaves room for a loaded machine.
    gaps = [b - a for a, b in itertools.pairwise(peer.hit_times)]
    assert all(timeout + delay - 0.1 < gap < timeout + delay + 2.0 for gap in gaps), gaps


def _wait_for_dropped_delivery(database: Path) -> dict[str, Any]:
    deadline, row = time.monotonic() + 15, None
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        while time.monotonic() < deadline:
            row = db.execute("SELECT status, attempts, last_error FROM deliveries").fetchone()
            if row is not None and row["status"] == "dropped":
                return dict(row)
            time.sleep(0.05)
    raise AssertionError(f"the delivery was not dropped in time: {row and dict(row)}")


# -- the embedded default cannot start ----------------------------------------------------------
@pytest.fixture
def fresh_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """``embedded()`` as on a fresh kernel: no engine yet, no key, private data dir."""
    import lasso_notebook.client as client_mod
    import lasso_notebook.server as server

    monkeypatch.setattr(server, "_embedded", None)
    monkeypatch.setattr(client_mod, "_default", None)
    monkeypatch.setattr(client_mod, "_default_env", None)
    for name in ("LASSO_API_KEY", "LASSO_BASE_URL", "LASSO_ENGINE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "data"))
    return server


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and len(text) < 300, text
    return text


def test_port_taken_is_one_line(fresh_embedded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        monkeypatch.setenv("LASSO_ENGINE_PORT", str(holder.getsockname()[1]))
        with pytest.raises(EngineStartError) as info:
            fresh_embedded.embedded()
    text = one_line(info.value)
    assert "in use" in text and "LASSO_ENGINE_PORT" in text
    assert fresh_embedded._embedded is None  # nothing half-started is kept


def test_a_fixed_free_port_is_used(fresh_embedded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LASSO_ENGINE_PORT", str(port))
    engine = fresh_embedded.embedded()
    try:
        assert engine.port == port
    finally:
        engine.stop()


@pytest.mark.parametrize("value", ["http", "70000", "-1"])
def test_a_bad_port_setting_is_one_line(
    fresh_embedded: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LASSO_ENGINE_PORT", value)
    with pytest.raises(EngineStartError, match="LASSO_ENGINE_PORT") as info:
        fresh_embedded.embedded()
    one_line(info.value)


def test_unusable_data_dir_is_one_line(
    fresh_embedded: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Tests run as root, which ignores permission bits: a path under a regular file fails
    # for everyone.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(blocker / "sub"))
    with pytest.raises(EngineStartError) as info:
        fresh_embedded.embedded()
    text = one_line(info.value)
    assert str(blocker / "sub") in text and "LASSO_NOTEBOOK_DATA_DIR" in text


def test_unopenable_database_is_one_line(
    fresh_embedded: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "engine.sqlite3").mkdir(parents=True)  # a folder where the database file goes
    with pytest.raises(EngineStartError, match="LASSO_NOTEBOOK_DATA_DIR") as info:
        fresh_embedded.embedded()
    one_line(info.value)


def test_the_magic_shows_the_start_failure_in_one_line(
    fresh_embedded: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from lasso_notebook.magics import MagicError

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(blocker / "sub"))
    config = Config()
    config.HistoryAccessor.enabled = False
    shell = InteractiveShell(config=config)
    shell.displayhook.flush = lambda: None
    shell.run_line_magic("load_ext", "lasso_notebook")
    result = shell.run_cell("%lasso tables", store_history=False)
    error = result.error_in_exec
    assert isinstance(error, MagicError), repr(error)
    assert len(error.lines) == 1 and "LASSO_NOTEBOOK_DATA_DIR" in error.lines[0], error.lines


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), 60, 600])
def test_a_webhook_timeout_that_would_break_deliveries_is_refused(
    tmp_path: Path, timeout: float
) -> None:
    from lasso_notebook.server import serve

    # 0 or less fails every attempt; the lease (60 s) or more sends a slow delivery twice.
    with pytest.raises(ValueError, match="webhook_timeout must be"):
        serve(port=0, data_dir=tmp_path, webhook_timeout=timeout)
