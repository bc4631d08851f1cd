"""The embedded, Lasso-compatible engine: ``serve()`` runs one in-process on a background
thread, ``embedded()`` returns the process-wide one the client uses when no API key is set."""

# Heavy imports (FastAPI, uvicorn, the sqlite store) happen on first start, so importing
# ``lasso_notebook`` stays light.
from __future__ import annotations

import errno
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EngineStartError

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["EngineStartError", "embedded", "serve"]

_embedded: Engine | None = None
_embedded_lock = threading.Lock()


def serve(
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
) -> Engine:
    """Start an engine now and return its handle (a context manager that stops it on exit).

    ``port=0`` picks a free port; ``data_dir`` defaults to ``$LASSO_NOTEBOOK_DATA_DIR``, else
    ``~/.lasso_notebook``; ``pace`` is the minimum time per progress step (0 = as fast as the
    real work). A webhook attempt fails when
    the receiver has not answered within ``webhook_timeout`` seconds (the documented 10 s) and
    is retried after each of ``webhook_retry_delays`` in turn; tests shorten both.
    """
    from .engine import Engine

    engine = Engine(
        port,
        data_dir,
        host=host,
        webhook_secret=webhook_secret,
        webhook_retry_delays=webhook_retry_delays,
        webhook_timeout=webhook_timeout,
        workers=workers,
        max_upload_bytes=max_upload_bytes,
        pace=pace,
    )
    return engine.start()


def embedded() -> Engine:
    """The process-wide engine on a loopback port, started once and reused; raises
    ``EngineStartError`` with one line saying what happened and what to do when it cannot."""
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            # LASSO_NOTEBOOK_DATA_DIR: the data dir (default ~/.lasso_notebook/), read by
            # resolve_data_dir() for every engine, not only this one.
            # LASSO_ENGINE_PACE: seconds per progress step, default 0 (as fast as the work
            # allows); a small value such as 0.2 makes progress visible on tiny demo inputs,
            # total time ~ pace x 17 steps per source.
            try:
                pace = float(os.environ.get("LASSO_ENGINE_PACE") or 0)
            except ValueError:
                pace = 0.0
            # LASSO_ENGINE_PORT: a fixed port, default any free port.
            port_text = (os.environ.get("LASSO_ENGINE_PORT") or "0").strip()
            if not port_text.isdigit() or int(port_text) > 65535:
                raise EngineStartError(
                    f"LASSO_ENGINE_PORT={port_text!r} is not a port number (0-65535); fix or "
                    "unset it (unset: any free port)"
                )
            _embedded = _start_embedded(int(port_text), pace)
        return _embedded


def _start_embedded(port: int, pace: float) -> Engine:
    from .engine import resolve_data_dir

    where = resolve_data_dir()  # resolved once, so the message names the folder really used
    try:
        return serve(port, where, pace=pace)
    except OSError as exc:
        # A taken port fails bind(); everything else that is an OSError is the data dir.
        if exc.errno == errno.EADDRINUSE:
            message = (
                f"the embedded Lasso engine cannot listen on 127.0.0.1:{port}: the port is in "
                "use; set LASSO_ENGINE_PORT to a free port or unset it (any free port)"
            )
        elif exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL) and exc.filename is None:
            message = (
                f"the embedded Lasso engine may not listen on 127.0.0.1:{port} "
                f"({exc.strerror}); unset LASSO_ENGINE_PORT or pick a port above 1023"
            )
        else:
            reason = exc.strerror or type(exc).__name__
            message = (
                f"the embedded Lasso engine cannot use its data dir {where} ({reason}); set "
                "LASSO_NOTEBOOK_DATA_DIR to a writable folder"
            )
    except sqlite3.Error as exc:
        message = (
            f"the embedded Lasso engine cannot open its database in {where} ({exc}); set "
            "LASSO_NOTEBOOK_DATA_DIR to a writable folder"
        )
    except RuntimeError as exc:
        message = f"{exc}; set LASSO_API_KEY and LASSO_BASE_URL to use another engine"
    raise EngineStartError(message) from None
