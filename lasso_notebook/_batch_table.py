"""One table of a batch (``BatchTable``: its sources and state, and its run — create or reuse,
follow, read the rows) and the files a batch failed on (``collect_failures``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._display import status_line
from ._failures import FileFailure
from ._polling import DEFAULT_POLL_CAP, DEFAULT_RATE_LIMIT_BUDGET, PollSchedule
from ._reuse import create_or_reuse
from .errors import LassoError, TableFailedError
from .frames import read_rows
from .models import Phase, Table

if TYPE_CHECKING:
    from ._frame_build import RowColumns
    from ._plan import SubmitPlan
    from ._reuse_policy import Reused, ReusePolicy
    from .client import AsyncLasso
    from .models import Column

__all__ = [
    "BatchTable",
    "collect_failures",
    "error_text",
    "settled",
]

log = logging.getLogger("lasso_notebook")


def error_text(error: BaseException | None) -> str:
    """An error as a reason: a failed table's own message, else the error's text."""
    if error is None:
        return ""
    if isinstance(error, TableFailedError):
        return error.error_message
    return str(error) or type(error).__name__


class BatchTable:
    """One table of a batch: the sources it was made from, and where it stands (``id``,
    ``status``, ``phase``, ``progress``, ``total_rows``, ``table``, ``error``, ``reused``).
    ``retry`` is set on a table made for the files an earlier table of the batch failed on."""

    def __init__(
        self,
        plan: SubmitPlan,
        sources: list[str],
        *,
        retry: bool = False,
        poll_cap: float = DEFAULT_POLL_CAP,
        rate_limit_budget: float = DEFAULT_RATE_LIMIT_BUDGET,
        on_change: Callable[[], Any] = lambda: None,
    ) -> None:
        self._on_change = on_change
        self.plan = plan
        self.sources = sources
        self.retry = retry
        self.status = "waiting"
        self.phase = Phase.PENDING
        self.table: Table | None = None
        self.error: BaseException | None = None
        self.reused_from: Reused | None = None
        self.schedule = PollSchedule(poll_cap)
        self.rate_limit_budget = rate_limit_budget
        self.started: float | None = None
        self.finished_at: float | None = None
        self._finished = False
        # The rows, until the batch moves them into its frame.
        self.columns: list[Column] | None = None
        self.data: RowColumns | None = None

    @property
    def id(self) -> str | None:
        return self.table.id if self.table is not None else None

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def progress(self) -> int:
        if self._finished and self.completed:
            return 100
        return self.table.progress if self.table is not None else 0

    @property
    def total_rows(self) -> int:
        return self.table.total_rows if self.table is not None else 0

    @property
    def reused(self) -> bool:
        return self.reused_from is not None

    @property
    def completed(self) -> bool:
        return self.error is None and self.phase is Phase.COMPLETED

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished_at or time.monotonic()) - self.started

    def done(self) -> bool:
        return self._finished

    def failed_sources(self) -> dict[str, str]:
        """Source → reason for each source of this table that failed: all of them when the
        table failed, else the files its extraction report names."""
        if not self._finished:
            return {}
        report = self.table.get("extraction_report") if self.table is not None else None
        named: dict[str, str] = {}
        if isinstance(report, dict):
            for item in report.get("failed_files") or []:
                if isinstance(item, dict):
                    source = str(item.get("source") or item.get("file") or "")
                    if source in self.sources:
                        named[source] = str(item.get("reason") or "failed")
        if self.completed:
            return named
        reason = error_text(self.error) if self.error is not None else self.status
        return {source: named.get(source, reason) for source in self.sources}

    def __repr__(self) -> str:
        return status_line(
            table_id=self.id,
            name=self.name,
            status=self.status,
            phase=self.phase.value,
            progress=self.progress,
            total_rows=self.total_rows,
            elapsed=self.elapsed if self.started is not None else None,
            eta=None,
            error_message=error_text(self.error) if self.error is not None else "",
        )

    # -- the work, on the runtime thread -----------------------------------------------------

    async def run(self, client: AsyncLasso, policy: ReusePolicy, listing: bool) -> None:
        """Create (or reuse) the table, follow it, and read its rows when it completed. Every
        failure ends up in ``error``; only cancellation (detach) propagates."""
        from ._poller import poller_for

        self.started = time.monotonic()
        self.status = "submitting"
        self._on_change()
        try:
            table, self.reused_from = await create_or_reuse(
                client, self.plan, policy, self._uploading
            )
            self._observe(table)
            table = await poller_for(client).follow(
                table, self.schedule, self._observe, rate_limit_budget=self.rate_limit_budget
            )
            if table.phase is Phase.COMPLETED:
                self.status = "fetching rows"
                self._on_change()
                self.columns, self.data = await read_rows(
                    client, table, meta=listing, provenance=len(self.sources) > 1
                )
                self.status = table.status
            else:
                self.error = TableFailedError(table)
        except asyncio.CancelledError:
            self.status = "detached"
            raise
        except Exception as exc:
            if not isinstance(exc, LassoError):
                log.exception("lasso_notebook: table %s of a batch broke", self.name)
            self.error = exc
            self.status = "error"
            self.phase = Phase.FAILED
        finally:
            self.finished_at = time.monotonic()
            self._finished = True
            self._on_change()

    def _uploading(self, _name: str, _number: int, _total: int) -> None:
        self.status = "uploading"
        self.phase = Phase.RUNNING
        self._on_change()

    def _observe(self, table: Table) -> None:
        self.table = table
        self.status = table.status
        self.phase = table.phase
        if table.phase is Phase.RUNNING:
            self.schedule.observe(table.progress, time.monotonic())
        self._on_change()


def settled(attempts: Sequence[BatchTable]) -> bool:
    """A chunk's tables are settled when the newest finished and no retry follows it (a table
    reused from an earlier run that reported failed files is followed by one)."""
    latest = attempts[-1]
    if not latest.done():
        return False
    return not (latest.completed and latest.reused and latest.failed_sources())


def collect_failures(chunks: Sequence[Sequence[BatchTable]]) -> list[FileFailure]:
    """Each source whose newest table finished without its rows, with the reason, in the
    order of the sources; a source whose newest table is running (or about to be retried) is
    not failed yet."""
    failures: list[FileFailure] = []
    for attempts in chunks:
        attempts = list(attempts)
        for source in attempts[0].sources:
            newest = next(t for t in reversed(attempts) if source in t.sources)
            if not newest.done() or (newest is attempts[-1] and not settled(attempts)):
                continue
            reason = newest.failed_sources().get(source)
            if reason is not None:
                failures.append(FileFailure(source, reason, newest.id))
    return failures
