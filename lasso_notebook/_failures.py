"""A source that gave no rows (``FileFailure``: its name, the reason, the table that tried it)
and the one line that names failed sources with their reasons, shared by batches and by the
outcome lines of a single multi-file table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FileFailure", "failure_line"]


@dataclass(frozen=True)
class FileFailure:
    """A file (or URL) of a batch that gave no rows: its name, the reason, and the table that
    tried it last (``attach(table_id)`` follows that table)."""

    source: str
    reason: str
    table_id: str | None = None

    def short(self, width: int = 70) -> str:
        """``bad.pdf (could not be read as a PDF …)``: the reason without the file's name."""
        reason = _without_name(self.reason, self.source)
        if len(reason) > width:
            reason = reason[: width - 1].rstrip() + "…"
        return f"{self.source} ({reason})"


def _without_name(reason: str, source: str) -> str:
    """Engine reasons often start with the file's name (``'bad.pdf' could not be read…``,
    ``bad.pdf: …``); next to the name that is said twice."""
    text = " ".join(reason.split())
    for prefix in (f"'{source}' ", f'"{source}" ', f"{source}: ", f"{source} "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.rstrip(".") or reason


def failure_line(failures: Sequence[FileFailure], total: int, kind: str = "files") -> str:
    """``2 of 37 files failed: a.pdf (damaged …), b.xlsx (…)``; "" when none failed."""
    if not failures:
        return ""
    shown = ", ".join(failure.short() for failure in failures[:5])
    more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
    return f"{len(failures)} of {total} {kind} failed: {shown}{more}"
