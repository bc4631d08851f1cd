"""``ProgressWidget``: the live view of one table job. It only holds and draws traitlets (no
HTTP); ``push`` coalesces updates to at most ``MAX_RATE`` messages per second, final state always
sent. A "Stop watching" click arrives as a custom message and is handed to ``on_stop`` callbacks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import traitlets

from .. import _runtime
from .._display import status_line
from . import static_path
from ._fallback import FallbackDisplay
from ._resync import ResyncWidget
from ._static_html import progress_html

__all__ = ["ProgressWidget"]

log = logging.getLogger("lasso_notebook")


class ProgressWidget(FallbackDisplay, ResyncWidget):
    """Progress of a table job: name and id, status, a bar, rows, elapsed time and an estimate;
    green when completed, red when failed, grey when detached."""

    # Read once, as text: a Path would make anywidget watch the file for hot reload.
    _esm = static_path("progress.js").read_text(encoding="utf-8")
    _css = static_path("lasso.css").read_text(encoding="utf-8")

    table_id = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    #: The server's raw status, or a client step: "submitting", "uploading", "fetching rows".
    status = traitlets.Unicode("submitting").tag(sync=True)
    #: pending | running | completed | failed | cancelled (models.Phase values).
    phase = traitlets.Unicode("pending").tag(sync=True)
    progress = traitlets.Int(0).tag(sync=True)
    total_rows = traitlets.Int(0).tag(sync=True)
    elapsed = traitlets.Float(0.0).tag(sync=True)
    eta = traitlets.Float(None, allow_none=True).tag(sync=True)
    error_message = traitlets.Unicode("").tag(sync=True)
    #: Free text under the bar, e.g. "→ df (42 rows)".
    note = traitlets.Unicode("").tag(sync=True)
    #: Once finished: rows valid / with warnings / with errors and the top reasons, one line.
    validation = traitlets.Unicode("").tag(sync=True)
    #: Once finished: what the extraction report says (rows skipped, unmapped columns, files
    #: that failed), one line; "" when it says nothing notable.
    report = traitlets.Unicode("").tag(sync=True)
    detached = traitlets.Bool(False).tag(sync=True)
    #: While rows download: "45,000/100,000 · 12 MB/s" (rows so far / in all · rate).
    download = traitlets.Unicode("").tag(sync=True)
    #: While polls are refused (429): seconds until the next try, shown as "rate limited,
    #: retrying in N s" and counted down in the browser; None otherwise.
    retry_in = traitlets.Float(None, allow_none=True).tag(sync=True)
    #: The server's ``status_note``: why an interrupted run restarted rows; "" when none.
    status_note = traitlets.Unicode("").tag(sync=True)
    #: Show the "Stop watching" button (background jobs only: clicks wait for idle kernels).
    can_stop = traitlets.Bool(False).tag(sync=True)

    #: Upper bound on state messages per second sent by ``push``.
    MAX_RATE = 10.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        # hold_sync keeps a per-widget flag, not thread-safe: one flush at a time, or a change
        # made by one thread during another's flush could be dropped.
        self._flush_lock = threading.RLock()
        self._pending: dict[str, Any] = {}
        self._last_flush = 0.0
        self._flush_scheduled = False
        self._stop_callbacks: list[Callable[[], Any]] = []
        self.on_msg(self._on_custom_msg)

    # -- state ---------------------------------------------------------------------------------

    def push(self, *, final: bool = False, **values: Any) -> None:
        """Set traits, coalesced: changes within ``1 / MAX_RATE`` s travel as one message.
        ``final=True`` sends everything pending at once (the last state is never dropped)."""
        unknown = set(values) - set(self.trait_names(sync=True))
        if unknown:
            raise TypeError(f"ProgressWidget has no trait(s) {sorted(unknown)}")
        with self._lock:
            self._pending.update(values)
            if not final:
                if self._flush_scheduled:
                    # Even when it runs late (a busy machine), the scheduled flush carries this:
                    # flushing here too would send two messages in a row.
                    return
                wait = self._last_flush + 1.0 / self.MAX_RATE - time.monotonic()
                if wait > 0:
                    self._flush_scheduled = True
                    self._schedule(wait)
                    return
        self.flush()

    def flush(self) -> None:
        """Send pending changes now, in one message."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
                self._flush_scheduled = False
                self._last_flush = time.monotonic()
            if not pending:
                return
            with self.hold_sync():
                for key, value in pending.items():
                    setattr(self, key, value)

    def _schedule(self, delay: float) -> None:
        # Delayed flushes run on the runtime thread: no extra threads per widget, and that
        # thread's context lets ipykernel route the message (docs/architecture.md §2).
        loop = _runtime.get_loop()
        if _runtime.in_runtime_thread():
            loop.call_later(delay, self._safe_flush)
        else:
            loop.call_soon_threadsafe(loop.call_later, delay, self._safe_flush)

    def _safe_flush(self) -> None:
        try:
            self.flush()
        except Exception:
            log.exception("lasso_notebook: could not update a progress widget")

    # -- stop button ---------------------------------------------------------------------------

    def on_stop(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` when the user clicks "Stop watching"."""
        self._stop_callbacks.append(callback)

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "stop":
            return
        for callback in list(self._stop_callbacks):
            try:
                callback()
            except Exception:
                log.exception("lasso_notebook: a stop callback failed")

    # -- text form -----------------------------------------------------------------------------

    def text(self) -> str:
        """The text form: ``tbl_8f… "Q1 catalog" · processing 45% · 12 rows · 8 s``, and once
        finished the validation and report lines under it."""
        line = self._status_line(self.note, self.error_message, self.status_note)
        return "\n".join(text for text in (line, self.validation, self.report) if text)

    def _status_line(self, note: str, error_message: str, status_note: str) -> str:
        return status_line(
            table_id=self.table_id,
            name=self.name,
            status=self.status,
            phase=self.phase,
            progress=self.progress,
            total_rows=self.total_rows,
            elapsed=self.elapsed,
            eta=self.eta,
            error_message=error_message,
            note=note,
            detached=self.detached,
            download=self.download,
            retry_in=self.retry_in,
            status_note=status_note,
        )

    def __repr__(self) -> str:
        return self.text()

    # -- saved outputs (see _fallback) -----------------------------------------------------------

    def fallback_text(self) -> str:
        return self.text()

    def fallback_html(self) -> str:
        return progress_html(
            state="detached" if self.detached else self.phase,
            status_text=self._status_line("", "", ""),
            error=self.error_message,
            lines=[self.status_note, self.note, self.validation, self.report],
        )

    def fallback_key(self) -> tuple[Any, ...]:
        # Status changes and the outcome, not every progress tick or second of the clock.
        finished = self.phase in ("completed", "failed", "cancelled") or self.detached
        return (
            self.table_id,
            self.status,
            self.phase,
            self.detached,
            self.error_message,
            self.status_note,
            self.retry_in is not None,
            self.note,
            self.validation,
            self.report,
            self.total_rows if finished else None,
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            data, _metadata = bundle
            # anywidget truncates text/plain; the full line is the useful text export.
            data["text/plain"] = self.text()
        return bundle
