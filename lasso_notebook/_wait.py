"""Waiting for several jobs at once: ``wait(*jobs, timeout=None)`` (``lasso_notebook.wait``)
blocks with one combined progress display (jobs done of all, rows so far, failures) until every
job finished, and returns only after the jobs' done-callbacks ran (so the variables a
background cell sets are there). Ctrl-C ends the wait, never the jobs."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import _runtime
from ._display import Progress, TerminalLine, progress_mode, short_id
from ._group_display import GroupState, GroupWidget, estimate_left
from .errors import InvalidRequestError, JobDetachedError, RuntimeThreadError, WaitTimeoutError

if TYPE_CHECKING:
    from .widgets.progress import ProgressWidget

__all__ = ["WaitInterrupted", "WaitSummary", "describe_job", "wait", "wait_for"]


class WaitInterrupted(KeyboardInterrupt):
    """Ctrl-C ended a ``wait()``; the jobs (``jobs``: the unfinished ones) go on. A
    ``KeyboardInterrupt``, so code that handles Ctrl-C still does."""

    def __init__(self, message: str, jobs: list[Any]) -> None:
        super().__init__(message)
        self.jobs = jobs


def wait(*jobs: Any, timeout: float | None = None) -> list[Any]:
    """Block until every given job (``TableJob`` or ``BatchJob``) finished (completed, failed
    or detached) and return them; with no job given, every job and batch of this kernel that
    is still running.

    One progress display follows them all. Variables that background cells set are there when
    this returns. ``WaitTimeoutError`` after ``timeout`` seconds and ``WaitInterrupted`` (a
    KeyboardInterrupt) on Ctrl-C leave the jobs running. A failed job does not raise here:
    its ``result()`` does, and the display counts it.
    """
    from ._batch import batches
    from .jobs import jobs as kernel_jobs

    if jobs:
        chosen = _flatten(jobs)
    else:
        running = [*kernel_jobs(), *batches()]
        chosen = [job for job in running if not job.done()]
    return wait_for(chosen, timeout)


def _flatten(items: Sequence[Any]) -> list[Any]:
    from ._batch import BatchJob
    from .jobs import TableJob

    flat: list[Any] = []
    for item in items:
        group = item if isinstance(item, (list, tuple, set)) else [item]
        for job in group:
            if not isinstance(job, (TableJob, BatchJob)):
                raise InvalidRequestError(
                    f"wait() takes jobs (what submit(), submit_batch() and attach() return), "
                    f"got {type(job).__name__}"
                )
            if job not in flat:
                flat.append(job)
    return flat


def wait_for(
    jobs: list[Any],
    timeout: float | None = None,
    *,
    label: str = "",
    progress: Progress = True,
    quiet: bool = False,
) -> list[Any]:
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

    def timed_out() -> WaitTimeoutError:
        running = [job for job in jobs if not job.done()]
        return WaitTimeoutError(
            f"{_count(len(running))} still running after {timeout:g} s "
            f"({_names(running)}); they go on in the background"
        )

    try:
        _runtime.wait_in_slices(
            lambda: all(job.done() for job in jobs), timeout, timed_out, tick=display.update
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
    """Where a group of jobs stands: counts, rows so far and failures. A job is a ``TableJob``
    or anything that follows tables like one (a ``BatchJob``)."""

    def __init__(self, jobs: list[Any]) -> None:
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

    def counts(self) -> list[str]:
        parts = []
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.detached:
            parts.append(f"{len(self.detached)} detached")
        return parts

    def state(self, *, rows: bool = True) -> str:
        """E.g. ``2 of 3 done · 57 rows · 1 failed`` (the widget shows the rows apart)."""
        return self.as_group("", 0.0).status(rows=rows)

    def failures(self) -> str:
        return "; ".join(f"{describe_job(job)}: {_reason(job)}" for job in self.failed[:3]) + (
            " …" if len(self.failed) > 3 else ""
        )

    def as_group(self, title: str, elapsed: float) -> GroupState:
        return GroupState(
            title=title,
            done=self.done,
            total=self.total,
            rows=self.rows,
            progress=self.progress,
            elapsed=elapsed,
            eta=estimate_left(self.progress, elapsed),
            counts=self.counts(),
            failures=self.failures() if self.failed else "",
            failed=bool(self.failed),
        )


class _CombinedDisplay:
    """One display for the whole wait: a progress widget in a kernel, a self-rewriting line in
    a terminal, nothing elsewhere."""

    def __init__(self, jobs: list[Any], label: str, progress: Progress) -> None:
        self.jobs = jobs
        self.title = f"waiting for {_count(len(jobs))}" + (f": {label}" if label else "")
        self.started = time.monotonic()
        mode = progress_mode(progress) if jobs else "none"
        self.line = TerminalLine() if mode == "text" else None
        self._group: GroupWidget | None = None
        if mode == "widget":
            self._group = GroupWidget(self.title)
            self._group.show()
        self.update()

    @property
    def widget(self) -> ProgressWidget | None:
        return self._group.widget if self._group is not None else None

    def state(self) -> GroupState:
        return WaitSummary(self.jobs).as_group(self.title, time.monotonic() - self.started)

    def update(self, *, final: bool = False) -> None:
        state = self.state()
        if self.line is not None:
            self.line.update(state.line())
        if self._group is not None:
            self._group.push(state, final=final)

    def interrupted(self, message: str) -> None:
        if self.widget is not None:
            self.widget.push(note=message, final=True)

    def close(self) -> None:
        self.update(final=True)
        if self.line is not None:
            self.line.close(self.state().line())


def describe_job(job: Any) -> str:
    """How a job is named in a line: ``tbl_8f… 'Q1'``, or a batch's own words."""
    describe = getattr(job, "describe", None)
    if callable(describe):
        return str(describe())
    return f"{short_id(job.id)} {job.name!r}"


def _reason(job: Any) -> str:
    error = job.error
    message = getattr(error, "error_message", None) or str(error) or type(error).__name__
    return message if len(message) <= 120 else message[:117] + "…"


def _count(n: int) -> str:
    return f"{n} job" if n == 1 else f"{n} jobs"


def _names(jobs: list[Any]) -> str:
    shown = ", ".join(describe_job(job) for job in jobs[:3])
    return shown + (" …" if len(jobs) > 3 else "")
