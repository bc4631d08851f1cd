"""When and how long to wait before sending a request again: the statuses worth a retry, the
ones that prove a request did nothing, and ``RetryPolicy`` (capped exponential backoff with
jitter, ``Retry-After`` honoured up to a cap)."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["REFUSED_STATUSES", "RETRY_STATUSES", "RetryPolicy"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A refused request provably did nothing, so even a non-idempotent POST may be sent again.
REFUSED_STATUSES = frozenset({408, 429, 503})


class RetryPolicy:
    """Capped exponential backoff with jitter; ``Retry-After`` honoured up to a cap."""

    def __init__(
        self,
        max_retries: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (0-based): in [d/2, d], d = base·2^attempt
        capped at ``max_delay``. The jitter spreads clients that failed together."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the server asked us to wait (``Retry-After``: seconds or HTTP date)."""
        value = response.headers.get("retry-after")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            seconds = (when - datetime.now(timezone.utc)).total_seconds()
        return max(0.0, min(self.max_retry_after, seconds))

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        asked = self.retry_after(response) if response is not None else None
        return asked if asked is not None else self.backoff(attempt)
