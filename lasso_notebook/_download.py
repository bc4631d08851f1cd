"""A table's rows on their way in (``Download``): rows so far of the total, bytes, and the rate,
as the short text the status line and the progress widget show, e.g. ``45,000/100,000 · 12 MB/s``.
"""

from __future__ import annotations

import time

__all__ = ["Download"]

#: No rate is shown before this many seconds: the first chunks say nothing about the speed.
RATE_AFTER = 0.3
#: Seconds between two redraws of a download's progress.
REFRESH = 0.25


class Download:
    """Counts of one download; ``bytes`` stays 0 where only rows are counted (paging)."""

    def __init__(self, total: int, *, now: float | None = None) -> None:
        self.total = total
        self.rows = 0
        self.bytes = 0
        self.started = time.monotonic() if now is None else now
        self._shown = float("-inf")

    def update(self, rows: int, received: int | None = None) -> bool:
        """New counts; True when it is time to show them again (at most every ``REFRESH`` s)."""
        self.rows = rows
        if received is not None:
            self.bytes = received
        now = time.monotonic()
        if now - self._shown < REFRESH:
            return False
        self._shown = now
        return True

    def rate(self, now: float | None = None) -> str:
        """``12 MB/s``, ``850 kB/s`` or ``2,300 rows/s``; "" too early to tell."""
        seconds = (time.monotonic() if now is None else now) - self.started
        if seconds < RATE_AFTER:
            return ""
        if self.bytes:
            per_second = self.bytes / seconds
            if per_second >= 1e6:
                value = per_second / 1e6
                return f"{value:.1f} MB/s" if value < 10 else f"{value:.0f} MB/s"
            return f"{per_second / 1e3:.0f} kB/s"
        return f"{self.rows / seconds:,.0f} rows/s"

    def text(self, now: float | None = None) -> str:
        """``45,000/100,000 · 12 MB/s`` (rows so far / rows in all · rate)."""
        parts = [f"{self.rows:,}/{self.total:,}"]
        rate = self.rate(now)
        if rate:
            parts.append(rate)
        return " · ".join(parts)
