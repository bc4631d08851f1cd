"""``%lasso wait [VAR ...]``: block until the named variables' jobs (no name: every running job
of this kernel) finished, with one combined progress display, so the cells below can use the
variables under "Run All". A failed job fails the cell; Ctrl-C ends the wait, not the jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import jobs
from ._batch import batches
from ._display import Progress, progress_mode
from ._magic_errors import MagicError, user_message
from ._wait import WaitInterrupted, WaitSummary, describe_job, wait_for
from .errors import JobDetachedError, WaitTimeoutError

if TYPE_CHECKING:
    from ._magic_vars import VarOwners
    from .jobs import TableJob

__all__ = ["lasso_wait"]


def lasso_wait(
    owners: VarOwners, names: list[str], *, timeout: float | None, progress: Progress
) -> None:
    """Wait for the jobs behind ``names`` (a VAR a background cell will set, or has set), or
    for every running job; raise ``MagicError`` for unknown names, failures, Ctrl-C and
    timeouts."""
    if timeout is not None and not timeout > 0:
        raise MagicError("%lasso wait: --timeout must be a positive number of seconds")
    chosen = _chosen(owners, names)
    label = ", ".join(var or describe_job(job) for job, var in chosen)
    try:
        wait_for([job for job, _ in chosen], timeout, label=label, progress=progress, quiet=True)
    except WaitInterrupted as exc:
        owed = [var for job, var in chosen if var and job in exc.jobs]
        later = f"; {', '.join(owed)} will be set when they complete" if owed else ""
        raise MagicError(
            f"%lasso wait: stopped waiting; {len(exc.jobs)} of {len(chosen)} jobs go on in "
            f"the background{later}."
        ) from None
    except WaitTimeoutError as exc:
        raise MagicError(f"%lasso wait: {exc}") from None
    _check_outcomes(chosen)
    if chosen and progress_mode(progress) == "none":
        # Nothing showed the wait: one line says how it ended.
        summary = WaitSummary([job for job, _ in chosen])
        print(f"%lasso wait: {summary.state()} ({label})")


def _chosen(owners: VarOwners, names: list[str]) -> list[tuple[TableJob, str | None]]:
    targets = owners.targets()
    if not names:
        running = [*jobs.jobs(), *batches()]
        return [(job, targets.get(job)) for job in running if not job.done()]
    pending = owners.pending()
    chosen: list[tuple[TableJob, str | None]] = []
    unknown: list[str] = []
    for name in dict.fromkeys(names):
        if not name.isidentifier():
            raise MagicError(
                f"%lasso wait: {name!r} is not a variable name; give the variables of "
                "background cells, e.g. %lasso wait products"
            )
        # A job still owed to VAR; else the newest job meant for it (done already: Run All
        # may reach this cell after a quick job finished, which is fine).
        meant = [*jobs.jobs(), *batches()]
        job = pending.get(name) or next(
            (job for job in reversed(meant) if targets.get(job) == name), None
        )
        if job is None:
            unknown.append(name)
        else:
            chosen.append((job, name))
    if unknown:
        listing = ", ".join(pending) if pending else "none"
        raise MagicError(
            f"%lasso wait: no job of this kernel sets {', '.join(unknown)}; pending: {listing}"
        )
    return chosen


def _check_outcomes(chosen: list[tuple[TableJob, str | None]]) -> None:
    """A job that did not complete leaves its variable unset: say so, and fail the cell so
    "Run All" stops here rather than at a NameError below."""
    lines: list[str] = []
    hint = ""
    for job, var in chosen:
        error = job.error
        if error is None:
            continue
        what = f"{var} not set: " if var else ""
        if isinstance(error, JobDetachedError):
            lines.append(f"%lasso wait: {what}{error}")
            continue
        message = user_message(error, magic="lasso wait")
        lines.append(message[0].replace("%lasso wait: ", f"%lasso wait: {what}", 1))
        hint = hint or (message[1] if len(message) > 1 else "")
    if lines:
        raise MagicError(*lines, *([hint] if hint else []))
