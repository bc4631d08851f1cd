"""Waiting for several jobs at once: ``wait(*jobs, timeout=None)`` (``lasso_notebook.wait``)
blocks with one combined progress display (jobs done of all, rows so far, failures) until every
job finished, and returns only after the jobs' done-callbacks ran (so the variables a
background cell sets are there). Ctrl-C ends the wait, never the jobs."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import _runtime
from ._display import Progress, TerminalLine, format_duration, frontend, progress_mode, short_id
from .errors import InvalidRequestError, JobDetachedError, RuntimeThreadError, WaitTimeoutError

if TYPE_CHECKING:
    from .jobs import TableJob
    from .widgets.progress import ProgressWidget

__all__ = ["WaitInterrupted", "WaitSummary", "wait", "wait_for"]

log = logging.getLogger("lasso_notebook")


class WaitInterrupted(KeyboardInterrupt):
    """Ctrl-C ended a ``wait()``; the jobs (``jobs``: the unfinished ones) go on. A
    ``KeyboardInterrupt``, so code that handles Ctrl-C still does."""

    def __init__(self, message: str, jobs: list[TableJob]) -> None:
        super().__init__(message)
        self.jobs = jobs


def wait(*jobs: TableJob | Iterable[TableJob], timeout: float | None = None) -> list[TableJob]:
    """Block until every given job finished (completed, failed or detached) and return them;
    with no job given, every job of this kernel that is still running.

    One progress display follows them all. Variables that background cells set are there when
    this returns. ``WaitTimeoutError`` after ``timeout`` seconds and ``WaitInterrupted`` (a
    KeyboardInterrupt) on Ctrl-C leave the jobs running. A failed job does not raise here:
    its ``result()`` does, and the display counts it.
    """
    from .jobs import jobs as kernel_jobs

    chosen = _flatten(jobs) if jobs else [job for job in kernel_jobs() if not job.done()]
    return wait_for(chosen, timeout)


def _flatten(items: Sequence[Any]) -> list[TableJob]:
    from .jobs import TableJob

    flat: list[TableJob] = []
    for item in items:
        group = item if isinstance(item, (list, tuple, set)) else [item]
        for job in group:
            if not isinstance(job, TableJob):
                raise InvalidRequestError(
                    f"wait() takes jobs (what submit() and attach() return), got "
                    f"{type(job).__name__}"
                )
            if job not in flat:
                flat.append(job)
    return flat


def wait_for(
    jobs: list[TableJob],
    timeout: float | None = None,
    *,
    label: str = "",
    progress: Progress = True,
    quiet: bool = False,
) -> list[TableJob]:
    """``wait()`` for callers that name the jobs themselves (``label``, e.g. the variables of
    ``%lasso wait``) and may print the interrupt message their own way (``quiet``)."""
    if _runtime.in_runtime_thread():
        raise RuntimeThreadError(
            "lasso_notebook.wait() would block lasso_notebook's runtime thread; "
            "use `await job` or add_done_callback() there"
        )
    if timeout is not None and not timeout > 0:
        raise InvalidRequestError("timeout must be a positive number of seconds (or None)")
    display = _CombinedDisplay(jobs, label, progress)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while not all(job.done() for job in jobs):
            display.update()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                running = [job for job in jobs if not job.done()]
                raise WaitTimeoutError(
                    f"{_count(len(running))} still running after {timeout:g} s "
                    f"({_names(running)}); they go on in the background"
                )
            time.sleep(
                _runtime.WAIT_SLICE if remaining is None else min(_runtime.WAIT_SLICE, remaining)
            )
        if jobs:
            # A job counts as done before its done-callbacks ran (on the runtime thread):
            # one trip through the runtime loop lets them finish, so variables are set.
            _runtime.run_sync(asyncio.sleep(0))
    except KeyboardInterrupt:
        running = [job for job in jobs if not job.done()]
        message = (
            f"Stopped waiting; {_count(len(running))} go on in the background. "
            "lasso_notebook.wait() waits for them again."
        )
        display.interrupted(message)
        if not quiet and display.widget is None:
            print(message, file=sys.stderr)
        raise WaitInterrupted(message, running) from None
    finally:
        display.close()
    return jobs


class WaitSummary:
    """Where a group of jobs stands: counts, rows so far and failures."""

    def __init__(self, jobs: list[TableJob]) -> None:
        self.total = len(jobs)
        self.done = sum(1 for job in jobs if job.done())
        self.rows = sum(job.total_rows for job in jobs)
        self.failed = [
            job
            for job in jobs
            if job.error is not None and not isinstance(job.error, JobDetachedError)
        ]
        self.detached = [job for job in jobs if isinstance(job.error, JobDetachedError)]
        shares = [100 if job.done() else job.progress for job in jobs]
        self.progress = round(sum(shares) / len(shares)) if shares else 100

    @property
    def finished(self) -> bool:
        return self.done == self.total

    def state(self, *, rows: bool = True) -> str:
        """E.g. ``2 of 3 done · 57 rows · 1 failed`` (the widget shows the rows apart)."""
        parts = [f"{self.done} of {self.total} done"]
        if rows:
            parts.append(f"{self.rows} row" + "s" * (self.rows != 1))
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.detached:
            parts.append(f"{len(self.detached)} detached")
        return " · ".join(parts)

    def failures(self) -> str:
        return "; ".join(
            f"{short_id(job.id)} {job.name!r}: {_reason(job)}" for job in self.failed[:3]
        ) + (" …" if len(self.failed) > 3 else "")


class _CombinedDisplay:
    """One display for the whole wait: a progress widget in a kernel, a self-rewriting line in
    a terminal, nothing elsewhere."""

    def __init__(self, jobs: list[TableJob], label: str, progress: Progress) -> None:
        self.jobs = jobs
        self.title = f"waiting for {_count(len(jobs))}" + (f": {label}" if label else "")
        self.started = time.monotonic()
        mode = progress_mode(progress) if jobs else "none"
        self.line = TerminalLine() if mode == "text" else None
        self.widget: ProgressWidget | None = None
        if mode == "widget":
            from .widgets.progress import ProgressWidget

            self.widget = ProgressWidget(name=self.title, status="waiting", phase="running")
            if frontend() == "kernel":
                try:
                    from IPython.display import display

                    display(self.widget)
                except Exception:
                    log.debug("could not display the wait widget", exc_info=True)
        self.update()

    def text(self, summary: WaitSummary) -> str:
        parts = [self.title, summary.state(), format_duration(time.monotonic() - self.started)]
        if summary.failed:
            parts.append(summary.failures())
        return " · ".join(parts)

    def update(self, *, final: bool = False) -> None:
        summary = WaitSummary(self.jobs)
        if self.line is not None:
            self.line.update(self.text(summary))
        if self.widget is not None:
            phase = "running"
            if summary.finished:
                phase = "failed" if summary.failed else "completed"
            self.widget.push(
                final=final,
                status=summary.state(rows=False),
                phase=phase,
                progress=summary.progress,
                total_rows=summary.rows,
                elapsed=round(time.monotonic() - self.started),
                error_message=summary.failures() if summary.failed else "",
            )

    def interrupted(self, message: str) -> None:
        if self.widget is not None:
            self.widget.push(note=message, final=True)

    def close(self) -> None:
        self.update(final=True)
        if self.line is not None:
            self.line.close(self.text(WaitSummary(self.jobs)))


def _reason(job: TableJob) -> str:
    error = job.error
    message = getattr(error, "error_message", None) or str(error) or type(error).__name__
    return message if len(message) <= 120 else message[:117] + "…"


def _count(n: int) -> str:
    return f"{n} job" if n == 1 else f"{n} jobs"


def _names(jobs: list[TableJob]) -> str:
    shown = ", ".join(f"{short_id(job.id)} {job.name!r}" for job in jobs[:3])
    return shown + (" …" if len(jobs) > 3 else "")
