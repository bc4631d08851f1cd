"""The embedded, Lasso-compatible engine: ``serve()`` runs one in-process on a background
thread, ``embedded()`` returns the process-wide one the client uses when no API key is set.

Heavy imports (FastAPI, uvicorn, sqlite store) happen on first start, so importing
``lasso_notebook`` stays light.

Environment: ``LASSO_NOTEBOOK_DATA_DIR`` (data dir of ``embedded()``, default
``~/.lasso_notebook/``), ``LASSO_ENGINE_PACE`` (seconds per progress step for ``embedded()``,
default 0: extraction runs as fast as the work allows; a small value such as 0.2 makes progress
visible on tiny demo inputs, total time ~ pace x 17 steps per source).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["embedded", "serve"]

_embedded: Engine | None = None
_embedded_lock = threading.Lock()


def serve(
    port: int = 0,
    data_dir: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    webhook_secret: str | None = None,
    webhook_retry_delays: Sequence[float] = (30, 300, 1800),
    workers: int = 2,
    max_upload_bytes: int = 1 << 30,
    pace: float = 0.0,
) -> Engine:
    """Start an engine now and return its handle (a context manager that stops it on exit).

    ``port=0`` picks a free port; ``data_dir`` defaults to ``~/.lasso_notebook``; ``pace`` is the
    minimum time per progress step (0 = as fast as the real work).
    """
    from .engine import Engine

    engine = Engine(
        port,
        data_dir,
        host=host,
        webhook_secret=webhook_secret,
        webhook_retry_delays=webhook_retry_delays,
        workers=workers,
        max_upload_bytes=max_upload_bytes,
        pace=pace,
    )
    return engine.start()


def embedded() -> Engine:
    """The process-wide engine on a free loopback port, started once and reused."""
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            data_dir = os.environ.get("LASSO_NOTEBOOK_DATA_DIR") or None
            try:
                pace = float(os.environ.get("LASSO_ENGINE_PACE") or 0)
            except ValueError:
                pace = 0.0
            _embedded = serve(0, data_dir, pace=pace)
        return _embedded
