"""The engine handle returned by ``serve()``: owns the data dir (and the lock that tells other
engines on it this one is alive), store, workers, webhook dispatcher and the uvicorn server
running on a daemon thread; starts, reports and stops them."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .._data_dir import DATA_DIR_ENV, DEFAULT_DATA_DIR, resolve_data_dir

__all__ = ["DATA_DIR_ENV", "DEFAULT_DATA_DIR", "Engine", "resolve_data_dir"]

log = logging.getLogger("lasso_notebook.server")

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Engine:
    """A running (or stopped) embedded engine. Use as a context manager or call ``stop()``."""

    #: Seconds ``start()`` waits for the HTTP server to listen before giving up.
    START_TIMEOUT = 15.0

    def __init__(
        self,
        port: int = 0,
        data_dir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        webhook_secret: str | None = None,
        webhook_retry_delays: Sequence[float] = (30, 300, 1800),
        webhook_timeout: float = 10.0,
        workers: int = 2,
        max_upload_bytes: int = 1 << 30,
        pace: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = resolve_data_dir(data_dir)
        self.webhook_secret = webhook_secret
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.webhook_timeout = webhook_timeout
        self.worker_count = workers
        self.max_upload_bytes = max_upload_bytes
        self.pace = pace
        self.api_key = ""
        self._lock = threading.RLock()
        self._running = False
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- public ---------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/api/v1"

    @property
    def running(self) -> bool:
        return self._running

    def data_dir_size(self) -> int:
        """Bytes the data dir takes on disk now: database, uploaded files, downloads in
        progress. Works whether the engine is running or stopped."""
        from ._housekeeping import data_dir_size

        return data_dir_size(self.data_dir)

    def create_key(self) -> str:
        """A new API key with its own, separate data (and its own demo schema)."""
        return self.store.create_key()

    def add_key(self, raw: str) -> str:
        """Accept ``raw`` (``lasso_`` + 16-194 letters, digits or ``_``) as an API key with its
        own data, e.g. a key a test or a shared setup already hands out. Idempotent."""
        if not re.fullmatch(r"lasso_[A-Za-z0-9_]{16,194}", raw or ""):
            raise ValueError("an API key is 'lasso_' followed by 16-194 letters, digits or _")
        if self.store.owner_for_key(raw) is None:
            self.store.register_key(raw)  # only its hash is stored
        return raw

    def start(self) -> Engine:
        with self._lock:
            if self._running:
                return self
            self._start()
            self._running = True
            atexit.register(self.stop)
        return self

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                return
            self._running = False
            atexit.unregister(self.stop)
            self._stop_http()
            self.workers.stop()  # gives its in-flight tables back to the queue
            self.webhooks.stop()
            self._release_lock()
            self.store.close()

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:  # never shows the key
        state = "running" if self._running else "stopped"
        return f"<lasso_notebook engine {state} at {self.base_url} data_dir={str(self.data_dir)!r}>"

    # -- internals ------------------------------------------------------------------------------
    def _start(self) -> None:
        import uvicorn

        from ._housekeeping import sweep_leftovers
        from ._liveness import EngineLock
        from .app import create_app
        from .store import Store, new_id
        from .webhooks import WebhookDispatcher
        from .worker import WorkerPool

        if self.host not in _LOOPBACK:
            log.warning(
                "the engine listens on %s: anyone who can reach it and has a key can use it",
                self.host,
            )
        self._server = self._thread = None
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)  # the directory holds the key file and user data
        (self.data_dir / "files").mkdir(exist_ok=True, mode=0o700)
        # Whatever fails below undoes what was set up before it, newest first, and re-raises.
        with contextlib.ExitStack() as undo:
            self.store = Store(self.data_dir / "engine.sqlite3")
            undo.callback(self.store.close)
            self.api_key = self.store.ensure_key_file(self.data_dir / "api_key")
            self.engine_id = new_id("eng")
            # Held while this engine runs: other engines on the data dir (and the next one
            # started on it) see at once whether the owner of a table's lease is alive.
            self._engine_lock = EngineLock(self.data_dir, self.engine_id)
            self._engine_lock.acquire()
            undo.callback(self._engine_lock.release, remove=True)
            sweep_leftovers(self.data_dir, self.store)
            self.webhooks = WebhookDispatcher(
                self.store, self.webhook_secret, self.webhook_retry_delays, self.webhook_timeout
            )
            self.workers = WorkerPool(
                self.store,
                self.data_dir,
                self.engine_id,
                workers=self.worker_count,
                pace=self.pace,
                max_download_bytes=self.max_upload_bytes,
                on_finished=self.webhooks.enqueue,
            )
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that say they
            # are TCP, and without it every response waits ~40 ms on Nagle + delayed ACK.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            undo.callback(sock.close)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            self.port = sock.getsockname()[1]
            config = uvicorn.Config(
                create_app(self),
                host=self.host,
                port=self.port,
                log_config=None,  # never reconfigure the host application's (notebook's) logging
                log_level="warning",
                access_log=False,
                lifespan="off",
                loop="asyncio",
                timeout_graceful_shutdown=2,
            )
            server = self._server = uvicorn.Server(config)

            def run() -> None:
                try:
                    asyncio.run(server.serve(sockets=[sock]))
                finally:
                    sock.close()

            self._thread = threading.Thread(
                target=run, name=f"lasso-engine-http-{self.port}", daemon=True
            )
            self.webhooks.start()
            undo.callback(self.webhooks.stop)
            self.workers.start()
            undo.callback(self.workers.stop)
            self._thread.start()
            undo.callback(self._stop_http)
            deadline = time.monotonic() + self.START_TIMEOUT
            while not server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the embedded engine did not start; see the log for details")
                time.sleep(0.01)
            undo.pop_all()  # started: stop() takes it down from now on

    def _release_lock(self) -> None:
        """Drop the engine lock. Its file goes too unless a table still names this engine as
        its lease owner (a worker that did not stop in time): the unlocked file then tells
        the next engine to re-queue that table at once."""
        try:
            remove = self.store.leased_count(self.engine_id) == 0
        except Exception:  # a broken database must not keep the lock held
            log.exception("could not count this engine's leased tables")
            remove = False
        self._engine_lock.release(remove=remove)

    def _stop_http(self) -> None:
        """Ask uvicorn to exit and wait for its thread (forcing it after 5 s)."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(5.0)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(2.0)
