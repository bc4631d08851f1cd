"""How a job shows itself: the one-line text form shared by reprs and widgets, environment
detection (kernel / terminal IPython / plain Python), the choice of display and the terminal line."""

from __future__ import annotations

import math
import sys
from typing import Literal, TextIO

__all__ = [
    "Progress",
    "TerminalLine",
    "format_duration",
    "frontend",
    "progress_mode",
    "rate_limited_text",
    "short_id",
    "status_line",
]

Frontend = Literal["kernel", "terminal", "none"]
#: The ``progress=`` argument of jobs: True picks for the environment, False shows nothing.
Progress = bool | Literal["widget", "text"]


def frontend() -> Frontend:
    """Where we run: a Jupyter kernel (widgets possible), a terminal IPython, or plain Python."""
    ipython_mod = sys.modules.get("IPython")
    if ipython_mod is None:
        return "none"
    try:
        shell = ipython_mod.get_ipython()
    except Exception:  # a half-initialised IPython must not break a job
        return "none"
    if shell is None:
        return "none"
    if getattr(shell, "kernel", None) is not None:
        return "kernel"
    if type(shell).__name__ == "TerminalInteractiveShell":
        return "terminal"
    return "none"


def progress_mode(progress: Progress) -> Literal["widget", "text", "none"]:
    """How a job shows its progress: ``progress=True`` means a widget in a kernel, a text line in
    a terminal IPython or on a tty, nothing otherwise."""
    if progress == "widget":
        return "widget"
    if progress == "text":
        return "text"
    if not progress:
        return "none"
    where = frontend()
    if where == "kernel":
        return "widget"
    if where == "terminal":
        return "text"
    stream = sys.stdout
    return "text" if stream is not None and stream.isatty() else "none"


def short_id(table_id: str | None) -> str:
    if not table_id:
        return "(no table yet)"
    return table_id if len(table_id) <= 8 else table_id[:6] + "…"


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def rate_limited_text(retry_in: float) -> str:
    """``rate limited, retrying in 12 s`` (whole seconds, rounded up: never "in 0 s")."""
    return f"rate limited, retrying in {format_duration(max(1, math.ceil(retry_in)))}"


def status_line(
    *,
    table_id: str | None,
    name: str,
    status: str,
    phase: str,
    progress: int,
    total_rows: int,
    elapsed: float | None,
    eta: float | None = None,
    error_message: str = "",
    note: str = "",
    detached: bool = False,
    download: str = "",
    retry_in: float | None = None,
    status_note: str = "",
) -> str:
    """E.g. ``tbl_8f… "Q1 catalog" · processing 45% · 12 rows · 8 s``; while rows download,
    ``fetching rows 45,000/100,000 · 12 MB/s`` (``download``) is the state; while polls are
    refused, ``rate limited, retrying in 5 s`` (``retry_in`` seconds) follows it. The
    server's ``status_note`` (why an interrupted run restarted rows) comes before the note."""
    state = status or phase
    if phase == "running" and status not in ("uploading", "fetching rows"):
        state = f"{status} {progress}%"
    if status == "fetching rows" and download:
        state = f"{status} {download}"
    if detached:
        state = f"detached ({state})"
    if name:
        # A display of several tables (a wait, a batch) has a name and no table id.
        parts = [f'{short_id(table_id)} "{name}"' if table_id else f'"{name}"']
    else:
        parts = [short_id(table_id)]
    parts.append(state)
    if retry_in is not None and not detached and phase in ("pending", "running"):
        parts.append(rate_limited_text(retry_in))
    parts.append(f"{total_rows} row" + ("" if total_rows == 1 else "s"))
    if elapsed is not None:
        parts.append(format_duration(elapsed))
    if eta is not None and phase in ("pending", "running") and not detached:
        parts.append(f"~{format_duration(eta)} left")
    if error_message:
        parts.append(error_message if len(error_message) <= 200 else error_message[:197] + "…")
    if status_note:
        parts.append(status_note)
    if note:
        parts.append(note)
    return " · ".join(parts)


class TerminalLine:
    """One self-rewriting status line on a terminal (``\\r`` + clear to end of line). Piped or
    logged output (not a tty, unless ``live=True``) gets the final line only, without the
    control codes."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.live = live if live is not None else bool(isatty and isatty())
        self._last = ""

    def update(self, text: str) -> None:
        if text == self._last:
            return
        self._last = text
        if self.live:
            self.stream.write("\r\x1b[2K" + text)
            self.stream.flush()

    def close(self, text: str | None = None) -> None:
        if text is not None:
            self.update(text)
        if self._last:
            self.stream.write("\n" if self.live else self._last + "\n")
            self.stream.flush()
        self._last = ""
