"""When to poll one table next (``PollSchedule``): capped backoff, and quick polls around the moment
the observed progress rate says the table will finish. Pure arithmetic on the times it is given.
Also the polling settings' defaults and their check (``check_budget``).
"""

from __future__ import annotations

from .errors import InvalidRequestError

__all__ = [
    "DEFAULT_POLL_CAP",
    "DEFAULT_RATE_LIMIT_BUDGET",
    "FIRST_POLL",
    "GROWTH_CHANGED",
    "GROWTH_IDLE",
    "MAX_POLL_FAILURES",
    "MIN_POLL",
    "PollSchedule",
    "check_budget",
]

#: Longest pause between two status polls of one table (seconds).
DEFAULT_POLL_CAP = 5.0
#: The first poll comes this soon after the table is created or attached.
FIRST_POLL = 0.3
#: Never poll one table more often than this.
MIN_POLL = 0.2
#: Pause growth per poll: slow while the table moves (display), faster while nothing changes.
GROWTH_CHANGED = 1.25
GROWTH_IDLE = 1.6
#: Consecutive failed polls (after the client's own retries) before the job gives up.
MAX_POLL_FAILURES = 5
#: Seconds a job keeps polling while every answer is a 429 before it gives up (the table goes
#: on on the server); any other answer starts the count again.
DEFAULT_RATE_LIMIT_BUDGET = 600.0
#: Progress samples kept: a short window follows changes of pace.
WINDOW = 8


class PollSchedule:
    """The polling rhythm of one table. Times are ``time.monotonic()`` values passed in, so the
    schedule can be driven (and tested) without sleeping."""

    def __init__(self, cap: float = DEFAULT_POLL_CAP) -> None:
        self.cap = cap
        #: The backoff pause; grows after every answer, up to ``cap``.
        self.delay = FIRST_POLL
        #: Polls made after the predicted end without the table finishing.
        self.overdue = 0
        #: (time, progress %) whenever the progress changed, newest last.
        self.samples: list[tuple[float, int]] = []
        #: When the table should reach 100 %, or None without a usable rate.
        self.eta_at: float | None = None

    def observe(self, progress: int, now: float) -> None:
        """A poll saw the table running at ``progress`` %."""
        if not self.samples or self.samples[-1][1] != progress:
            self.samples.append((now, progress))
            del self.samples[:-WINDOW]
        self.eta_at = self.predict_end()

    def predict_end(self) -> float | None:
        """When the server will reach 100 %, from the progress rate over the recent window."""
        if len(self.samples) < 2:
            return None
        (t0, p0), (t1, p1) = self.samples[0], self.samples[-1]
        if p1 <= p0 or t1 <= t0:
            return None
        rate = (p1 - p0) / (t1 - t0)
        return t1 + (100 - p1) / rate

    def next_pause(self, now: float) -> float:
        """Seconds to sleep before the next poll (call once per poll): the backoff delay, or
        less when the table is about to finish (then quick polls, backing off if it does not)."""
        if self.eta_at is None:
            return self.delay
        left = self.eta_at - now
        if left > self.delay:
            return self.delay
        if left > MIN_POLL:
            return left + 0.05
        pause = min(self.delay, MIN_POLL * (2**self.overdue))
        self.overdue += 1
        return pause

    def answered(self, changed: bool) -> None:
        """A poll got the table back; ``changed``: its status, progress or row count moved."""
        self.delay = min(self.cap, self.delay * (GROWTH_CHANGED if changed else GROWTH_IDLE))

    def failed(self) -> None:
        """A poll failed (connection or server error): back off faster."""
        self.delay = min(self.cap, self.delay * 2)

    def stop(self) -> None:
        """The table is no longer followed: no prediction left."""
        self.eta_at = None


def check_budget(budget: float | None) -> None:
    """Refuse a ``rate_limit_budget`` that is not a positive number of seconds (None: default)."""
    if budget is not None and (isinstance(budget, bool) or not budget > 0):  # nan fails too
        raise InvalidRequestError(
            "rate_limit_budget must be a positive number of seconds (None: the default, "
            f"{DEFAULT_RATE_LIMIT_BUDGET:g}), got {budget!r}"
        )
