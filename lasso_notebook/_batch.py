"""Batches: ``submit_batch`` runs many files or URLs as tables of at most 10 (or one per file), a
few at a time behind one display, into one DataFrame with ``_source``; failed files are named,
the rest kept, and a re-run reuses completed tables and retries only the failed files."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _runtime
from ._batch_frame import assemble
from ._batch_plan import Chunk, plan_batch
from ._batch_table import BatchTable, collect_failures, error_text, settled
from ._display import Progress, TerminalLine, frontend, progress_mode
from ._failures import FileFailure, failure_line
from ._group_display import GroupState, GroupWidget, estimate_left, plural
from ._outcome import Outcome
from ._plan import FileSpec, SubmitPlan
from ._polling import DEFAULT_POLL_CAP, DEFAULT_RATE_LIMIT_BUDGET, check_budget
from ._reuse import open_client_index
from ._reuse_policy import ReusePolicy, reuse_policy
from ._schemas import as_async_client, resolve_before_submit
from ._validation import keep_valid, summary_line
from .errors import (
    BatchFailedError,
    InvalidRequestError,
    JobDetachedError,
    RuntimeThreadError,
    TableFailedError,
    WaitTimeoutError,
)
from .models import Phase, Schema

if TYPE_CHECKING:
    import pandas as pd

    from .client import AsyncLasso, Lasso
    from .frames import TableFrames
    from .widgets.progress import ProgressWidget

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchJob",
    "BatchTable",
    "FileFailure",
    "batches",
    "submit_batch",
]

log = logging.getLogger("lasso_notebook")

#: Tables of one batch in flight at once (upload, create, poll, rows): enough to keep a
#: server's workers busy, few enough not to start 40 uploads at once.
DEFAULT_CONCURRENCY = 4

_batches: list[BatchJob] = []
_batches_lock = threading.Lock()


def batches() -> list[BatchJob]:
    """This kernel's batches, oldest first."""
    with _batches_lock:
        return list(_batches)


# --------------------------------------------------------------------------------------------
# Entry point


def submit_batch(
    schema: str | Schema,
    *,
    files: FileSpec | Sequence[FileSpec] | None = None,
    urls: str | Sequence[str] | None = None,
    per_file: bool = False,
    name: str | None = None,
    context: str | None = None,
    enhance: str | None = None,
    webhook: str | None = None,
    client: Lasso | AsyncLasso | None = None,
    progress: Progress = True,
    max_concurrent: int = DEFAULT_CONCURRENCY,
    poll_cap: float | None = None,
    rate_limit_budget: float | None = None,
    labels: bool = False,
    meta: bool = False,
    valid_only: bool = False,
    reuse: bool | None = None,
    refresh: bool = False,
    url_max_age: float | None = None,
    strict: bool = False,
) -> BatchJob:
    """Extract many files or URLs as one DataFrame; returns at once with its ``BatchJob``.

    The sources are split into tables of at most 10 (``per_file=True``: one table per file),
    run ``max_concurrent`` at a time, followed by one progress display. The result is one
    DataFrame typed from the schema, with a ``_source`` column naming each row's file or URL;
    ``df.attrs["lasso"]`` lists the tables and the failures. A file that fails is named in
    ``job.failures`` (and the display) with its reason, and the other files' rows are kept;
    ``strict=True`` makes ``result()`` raise ``BatchFailedError`` instead when any file failed.

    Running the same batch again reuses every table that completed (see ``submit(reuse=)``)
    and extracts again only the files that failed: a failed table is made anew, and the files
    a completed table reported as failed get a new table of their own. Input mistakes raise
    ``InvalidRequestError`` before anything is sent. ``poll_cap`` and ``rate_limit_budget``
    apply to each table as in ``submit()``.
    """
    check_budget(rate_limit_budget)
    if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int):
        raise InvalidRequestError("max_concurrent must be a whole number of tables, e.g. 4")
    if max_concurrent < 1:
        raise InvalidRequestError("max_concurrent must be at least 1")
    if poll_cap is not None and not poll_cap > 0:
        raise InvalidRequestError("poll_cap must be a positive number of seconds")
    policy = reuse_policy(reuse, refresh, url_max_age)
    if name is None:
        name = f"notebook batch {datetime.now():%Y-%m-%d %H:%M:%S}"
    elif not isinstance(name, str) or not name.strip():
        raise InvalidRequestError("name must be a non-blank string (or None)")
    resolved = resolve_before_submit(client, schema)
    chunks = plan_batch(
        resolved,
        name,
        files=files,
        urls=urls,
        per_file=per_file,
        context=context,
        enhance=enhance,
        webhook=webhook,
    )
    return BatchJob(
        client=client,
        name=name,
        chunks=chunks,
        kind="files" if files is not None else "URLs",
        per_file=per_file,
        progress=progress,
        max_concurrent=max_concurrent,
        poll_cap=poll_cap,
        rate_limit_budget=rate_limit_budget,
        labels=labels,
        meta=meta,
        valid_only=valid_only,
        reuse=policy,
        strict=strict,
    )


# --------------------------------------------------------------------------------------------
# The batch


class BatchJob(Outcome):
    """A batch of tables followed from this kernel, with a ``TableJob``-like surface: ``wait``,
    ``result``, ``frame``, ``await job``, ``done``, ``df``, ``add_done_callback``,
    ``detach``; ``jobs`` (its tables), ``failures`` (its failed files). Every property is safe
    to read from any thread. Create it with ``submit_batch()``."""

    def __init__(
        self,
        *,
        client: Lasso | AsyncLasso | None,
        name: str,
        chunks: list[Chunk],
        kind: str = "files",
        per_file: bool = False,
        progress: Progress = True,
        max_concurrent: int = DEFAULT_CONCURRENCY,
        poll_cap: float | None = None,
        rate_limit_budget: float | None = None,
        labels: bool = False,
        meta: bool = False,
        valid_only: bool = False,
        reuse: ReusePolicy | None = None,
        strict: bool = False,
    ) -> None:
        self._aclient = as_async_client(client)
        self._name = name
        self._chunks = chunks
        self._kind = kind
        self._per_file = per_file
        self._max_concurrent = max_concurrent
        self._poll_cap = poll_cap or DEFAULT_POLL_CAP
        self._rate_limit_budget = rate_limit_budget or DEFAULT_RATE_LIMIT_BUDGET
        self._labels = labels
        self._meta = meta
        self._valid_only = valid_only
        self._strict = strict
        self._policy = reuse or ReusePolicy(enabled=False)
        if self._policy.index:
            # Here, on the caller's thread: a broken index warns under the cell that submitted.
            open_client_index(self._aclient)
        #: How the "reused" note says to extract again (the magic says it its own way).
        self.refresh_hint = "refresh=True"
        self._sources_total = sum(len(chunk.sources) for chunk in chunks)
        # Each chunk's tables, oldest first: the first for the chunk, then retries.
        self._attempts: list[list[BatchTable]] = [
            [self._table(chunk.plan, list(chunk.sources), retry=False)] for chunk in chunks
        ]
        self._status = "running"
        self._error: BaseException | None = None
        self._frames: TableFrames | None = None
        self._failures: list[FileFailure] | None = None  # final, once finished
        self._warned_unparsed = False
        self._detached = False
        self._note = ""
        self._started = time.monotonic()
        self._finished_at: float | None = None
        self._finished = False
        self._callbacks: list[Callable[[BatchJob], Any]] = []
        self._lock = threading.Lock()
        self._result: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._main_task: asyncio.Task[None] | None = None

        mode = progress_mode(progress)
        self._text_mode = mode == "text"
        self._display: GroupWidget | None = None
        if mode == "widget":
            # Created here, on the caller's thread, so the widget belongs to the running cell.
            self._display = GroupWidget(self._title(), can_stop=True)
            self._display.widget.on_stop(self.detach)
            self._display.push(self._state())
        with _batches_lock:
            _batches.append(self)
        self._task = _runtime.spawn(self._main())

    # -- public state ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def id(self) -> None:
        """A batch has no table id of its own: ``ids`` lists its tables'."""
        return None

    @property
    def ids(self) -> list[str]:
        """The ids of the batch's tables created so far."""
        return [table.id for table in self.jobs if table.id is not None]

    @property
    def jobs(self) -> list[BatchTable]:
        """The batch's tables, in order (a table made to retry failed files follows the one
        it retries)."""
        return [table for attempts in list(self._attempts) for table in list(attempts)]

    @property
    def status(self) -> str:
        """``running``, ``combining rows``, ``completed``, ``failed`` or ``detached``."""
        return self._status

    @property
    def phase(self) -> Phase:
        if not self._finished:
            return Phase.RUNNING
        return Phase.FAILED if self._error is not None else Phase.COMPLETED

    @property
    def progress(self) -> int:
        """Average progress of the batch's chunks (a finished chunk counts 100)."""
        shares = []
        for attempts in list(self._attempts):
            latest = attempts[-1]
            shares.append(100 if latest.done() and settled(attempts) else latest.progress)
        return round(sum(shares) / len(shares)) if shares else 100

    @property
    def total_rows(self) -> int:
        """Rows so far (the frame's rows once finished)."""
        if self._frames is not None and self._error is None:
            return len(self._frames.df)
        return sum(table.total_rows for table in self.jobs if table.error is None)

    @property
    def error(self) -> BaseException | None:
        """Why the batch gave no DataFrame (every table failed; a failed file with
        ``strict=True``; detached), else None — also when some files failed."""
        return self._error

    @property
    def failures(self) -> list[FileFailure]:
        """The files (or URLs) that failed so far, each with its reason."""
        if self._failures is not None:
            return list(self._failures)
        return collect_failures(self._attempts)

    @property
    def elapsed(self) -> float:
        return (self._finished_at or time.monotonic()) - self._started

    @property
    def started(self) -> float:
        """When the batch started (``time.monotonic()``): what orders listings of jobs."""
        return self._started

    @property
    def eta(self) -> float | None:
        if self._finished:
            return None
        return estimate_left(self.progress, self.elapsed)

    @property
    def df(self) -> pd.DataFrame | None:
        """The DataFrame once the batch completed (also when some files failed), else None."""
        if self._frames is None or self._error is not None:
            return None
        return self._frames.df

    @property
    def widget(self) -> ProgressWidget | None:
        return self._display.widget if self._display is not None else None

    @property
    def detached(self) -> bool:
        return self._detached

    @property
    def reused(self) -> bool:
        """True when every table of the batch was an earlier identical extraction."""
        tables = self.jobs
        return bool(tables) and all(table.reused for table in tables)

    @property
    def reuse_message(self) -> str:
        """E.g. ``reused 4 of 5 tables (no new extraction for them; refresh=True to extract
        again)``; "" when no table was reused."""
        tables = self.jobs
        reused = sum(1 for table in tables if table.reused)
        if not reused:
            return ""
        what = "no new extraction" if reused == len(tables) else "no new extraction for them"
        return f"reused {reused} of {plural(len(tables), 'table')} ({what}; {self.refresh_hint} to extract again)"

    @property
    def note(self) -> str:
        return self._note

    @note.setter
    def note(self, text: str) -> None:
        """A free line under the progress bar, e.g. ``→ products (812 rows)``."""
        self._note = text
        self._render(final=True)

    @property
    def strict(self) -> bool:
        """A failed file makes ``result()`` raise (``submit_batch(strict=True)``)."""
        return self._strict

    @property
    def completed_tables(self) -> int:
        """Tables of the batch that completed so far."""
        return sum(1 for table in self.jobs if table.completed)

    def failure_summary(self) -> str:
        """``2 of 37 files failed: a.pdf (damaged …), b.xlsx (…)``; "" when none failed."""
        return failure_line(self.failures, self._sources_total, self._kind)

    def done(self) -> bool:
        """True once the batch finished: its frame is built, or it failed or was detached."""
        return self._finished

    def describe(self) -> str:
        """How waits and listings name the batch: ``batch 'products' (4 tables)``."""
        return f"batch {self._name!r} ({plural(len(self.jobs), 'table')})"

    # -- waiting -----------------------------------------------------------------------------

    def wait(self, timeout: float | None = None, *, quiet: bool = False) -> BatchJob:
        """Block until every table finished and the frame is built; return the batch.
        ``WaitTimeoutError`` after ``timeout`` seconds and ``JobInterrupted`` (a
        KeyboardInterrupt) on Ctrl-C leave the batch running."""
        from .jobs import JobInterrupted

        if _runtime.in_runtime_thread():
            raise RuntimeThreadError(
                "BatchJob.wait()/result() would block lasso_notebook's runtime thread; "
                "use `await batch` or add_done_callback() there"
            )
        self._show_if_needed()
        # A batch already finished was shown finished by the wait that saw it end.
        line = TerminalLine() if self._text_mode and not self._result.done() else None
        if self._display is not None and not self._finished:
            self._display.widget.push(can_stop=False, final=True)
        try:
            _runtime.wait_in_slices(
                self._result.done,
                timeout,
                lambda: WaitTimeoutError(
                    f"{self.describe()} still running after {timeout:g} s "
                    f"({self._state().status()}); it goes on: job.result() gets the "
                    "DataFrame later"
                ),
                future=self._result,
                tick=None if line is None else lambda: line.update(repr(self)),
            )
        except KeyboardInterrupt:
            message = (
                "Stopped waiting; the batch goes on in the background. job.result() gets the "
                "DataFrame later."
            )
            if self._display is not None:
                self.note = message
            elif not quiet:
                print(message, file=sys.stderr)
            raise JobInterrupted(message, self) from None  # type: ignore[arg-type]
        finally:
            if line is not None:
                line.close(repr(self))
            if self._display is not None and not self._finished:
                self._display.widget.push(can_stop=True, final=True)
        return self

    def result(
        self,
        timeout: float | None = None,
        *,
        labels: bool | None = None,
        meta: bool | None = None,
        valid_only: bool | None = None,
        quiet: bool = False,
    ) -> pd.DataFrame:
        """Wait for the DataFrame. Raises ``BatchFailedError`` (every table failed, or a file
        failed with ``strict=True``), ``WaitTimeoutError``, ``JobDetachedError`` or the API
        error that stopped every table. Failed files do not raise: see ``failures``."""
        self.wait(timeout, quiet=quiet)
        return self._frame(labels, meta, valid_only)

    def frame(
        self,
        *,
        labels: bool | None = None,
        meta: bool | None = None,
        valid_only: bool | None = None,
    ) -> pd.DataFrame | None:
        """The DataFrame in the given shape without waiting: None until the batch finished,
        or when no table completed or it was detached (with ``strict=True`` and a failed file,
        the rows of the files that worked). ``meta`` / ``valid_only`` need the rows listing:
        ask for them in ``submit_batch()`` (a re-run reuses the tables)."""
        frames = self._frames
        if frames is None:
            return None
        labels = self._labels if labels is None else labels
        meta = self._meta if meta is None else meta
        valid_only = self._valid_only if valid_only is None else valid_only
        if frames.lacks(meta or valid_only):
            raise InvalidRequestError(
                "this batch read its rows without row ids and validation fields; run "
                "submit_batch(..., meta=True) (or valid_only=True) for them: its tables are "
                "reused, nothing is extracted again"
            )
        df = frames.get(labels, meta)
        if valid_only:
            df = keep_valid(df, frames.statuses())
        return df

    def _owner(self) -> str:
        return f"batch {self._name!r}"

    # -- control -----------------------------------------------------------------------------

    def detach(self) -> BatchJob:
        """Stop following the batch's tables; they go on on the server (a re-run of the
        batch finds them: it reuses them)."""
        with self._lock:
            if self._finished or self._detached:
                return self
            self._detached = True
        _runtime.get_loop().call_soon_threadsafe(self._cancel_main)
        return self

    def _cancel_main(self) -> None:
        # On the loop. A main that has not started yet sees ``_detached`` when it does.
        if self._main_task is not None:
            self._main_task.cancel()

    # -- display -------------------------------------------------------------------------------

    def _title(self) -> str:
        return (
            f"{self._name}: {plural(self._sources_total, self._kind[:-1])} in "
            f"{plural(len(self._chunks), 'table')}"
        )

    def _state(self) -> GroupState:
        tables = self.jobs
        failures = self.failures
        finished = self._finished
        note = " · ".join(part for part in (self.reuse_message, self._note) if part)
        counts = [f"{plural(len(failures), self._kind[:-1])} failed"] if failures else []
        if self._detached:
            counts.append("detached")
        validation = ""
        if finished and self._frames is not None:
            validation = summary_line(self._frames.df.attrs.get("lasso", {}).get("validation"))
        error = ""
        if finished and self._error is not None and not failures:
            error = error_text(self._error)
        return GroupState(
            title=self._title(),
            done=sum(1 for table in tables if table.done()),
            total=len(tables),
            ended=finished,
            rows=self.total_rows,
            progress=self.progress,
            elapsed=self.elapsed,
            unit="table",
            eta=self.eta,
            counts=counts,
            failures=self.failure_summary() or error,
            failed=finished and self._error is not None,
            note=note,
            validation=validation,
        )

    def __repr__(self) -> str:
        return self._state().lines()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> Any:
        text = repr(self)
        if self._display is not None:
            bundle = self._display.widget._repr_mimebundle_(**kwargs)
            if bundle is not None:
                self._display.displayed = True
                data, metadata = bundle
                data["text/plain"] = text
                return data, metadata
        return {"text/plain": text}, {}

    def _ipython_display_(self) -> None:
        if self._display is not None:
            self._display.displayed = True
            self._display.widget._ipython_display_()
            return
        from IPython.display import display

        display({"text/plain": repr(self)}, raw=True)

    def _show_if_needed(self) -> None:
        if self._display is not None and frontend() == "kernel":
            self._display.show()

    def _render(self, final: bool = False) -> None:
        if self._display is not None:
            self._display.push(self._state(), final=final or self._finished)

    # -- the work, on the runtime thread ---------------------------------------------------

    async def _main(self) -> None:
        self._main_task = asyncio.current_task()
        error: BaseException | None = None
        try:
            if self._detached:
                raise asyncio.CancelledError
            slots = asyncio.Semaphore(self._max_concurrent)
            await asyncio.gather(*(self._run_chunk(attempts, slots) for attempts in self._attempts))
            self._status = "combining rows"
            self._render()
            # CPU-bound (rows → typed columns): off the loop, so other jobs keep polling.
            await asyncio.to_thread(self._assemble)
            error = self._outcome_error()
            self._status = "failed" if error is not None else "completed"
        except asyncio.CancelledError:
            error = JobDetachedError(
                f"stopped following {self.describe()}; its tables go on on the server, and "
                "running the batch again reuses them"
            )
            self._status = "detached"
        except Exception as exc:
            log.exception("lasso_notebook: batch %r broke", self._name)
            error = exc
            self._status = "failed"
        self._finish(error)

    async def _run_chunk(self, attempts: list[BatchTable], slots: asyncio.Semaphore) -> None:
        """Run a chunk's table; a table reused from an earlier run that reported failed files
        is followed by a new table for those files alone (the retry), and so on."""
        policy = self._policy
        listing = self._meta or self._valid_only
        while True:
            table = attempts[-1]
            async with slots:
                await table.run(self._aclient, policy, listing)
            failed = table.failed_sources()
            if not (table.completed and table.reused and failed):
                return
            # A completed table keeps its rows; a new table reads the failed files again.
            plan = table.plan
            picked = [i for i, source in enumerate(table.sources) if source in failed]
            sources = [table.sources[i] for i in picked]
            if len(sources) == len(table.sources):
                # The same files again: the index would hand back this very table.
                policy = dataclasses.replace(self._policy, refresh=True)
            else:
                policy = self._policy
            retry_plan = dataclasses.replace(
                plan,
                name=(plan.name if plan.name.endswith(" retry") else plan.name + " retry")[:255],
                files=[plan.files[i] for i in picked] if plan.files is not None else None,
                urls=[plan.urls[i] for i in picked] if plan.urls is not None else None,
            )
            attempts.append(self._table(retry_plan, sources, retry=True))
            self._render()

    def _table(self, plan: SubmitPlan, sources: list[str], *, retry: bool) -> BatchTable:
        return BatchTable(
            plan,
            sources,
            retry=retry,
            poll_cap=self._poll_cap,
            rate_limit_budget=self._rate_limit_budget,
            on_change=self._render,
        )

    def _assemble(self) -> None:
        """The one frame (in a worker thread, once every table finished)."""
        self._failures = collect_failures(self._attempts)
        self._frames = assemble(
            self._attempts,
            name=self._name,
            labels=self._labels,
            meta=self._meta,
            failures=self._failures,
            sources=self._sources_total,
        )

    def _outcome_error(self) -> BaseException | None:
        failures = self._failures or []
        if self._frames is None:
            errors = [t.error for t in self.jobs if t.error is not None]
            first = errors[0] if errors else None
            # One API error behind every failure (a refused key, no credits): that error,
            # with its own advice.
            if (
                first is not None
                and not isinstance(first, TableFailedError)
                and all(type(e) is type(first) for e in errors)
            ):
                return first
            line = failure_line(failures, self._sources_total, self._kind)
            return BatchFailedError(
                f"{self.describe()}: no table completed; {line or 'nothing was extracted'}",
                failures,
            )
        if self._strict and failures:
            line = failure_line(failures, self._sources_total, self._kind)
            return BatchFailedError(f"{self.describe()}: {line} (strict)", failures)
        return None

    def _finish(self, error: BaseException | None) -> None:
        self._error = error
        if self._failures is None:
            self._failures = collect_failures(self._attempts)
        self._finished_at = time.monotonic()
        with self._lock:
            self._finished = True
            callbacks, self._callbacks = self._callbacks, []
        self._render(final=True)
        for fn in callbacks:
            self._call(fn)
        if error is not None:
            self._result.set_exception(error)
        else:
            self._result.set_result(None)
