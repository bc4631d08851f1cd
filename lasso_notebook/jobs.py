"""Table jobs: ``submit`` / ``attach`` start a ``TableJob`` that runs on the runtime thread
(upload → create → poll → rows → DataFrame) and is followed by a progress widget or a text line;
``jobs()`` (also ``lasso_notebook.jobs()``) lists this kernel's jobs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _runtime
from ._display import Progress, TerminalLine, frontend, progress_mode, status_line
from ._outcome import Outcome
from ._plan import FileSpec, SubmitPlan, make_plan
from ._polling import DEFAULT_POLL_CAP, DEFAULT_RATE_LIMIT_BUDGET, PollSchedule, check_budget
from ._reuse import create_or_reuse, forget_table, open_client_index
from ._reuse_policy import Reused, ReusePolicy, reuse_policy
from ._schemas import aresolve_schema, as_async_client, resolve_before_submit, resolve_schema
from ._validation import keep_valid, outcome_lines
from .client import AsyncLasso, Lasso
from .errors import (
    InvalidRequestError,
    JobDetachedError,
    LassoError,
    RuntimeThreadError,
    TableFailedError,
    WaitTimeoutError,
)
from .models import Phase, Schema, Table

if TYPE_CHECKING:
    import pandas as pd

    from ._download import Download
    from .frames import TableFrames
    from .widgets.progress import ProgressWidget

__all__ = [
    "DEFAULT_POLL_CAP",
    "JobDetachedError",
    "JobInterrupted",
    "TableJob",
    "aresolve_schema",
    "attach",
    "jobs",
    "resolve_schema",
    "submit",
]

log = logging.getLogger("lasso_notebook")


class JobInterrupted(KeyboardInterrupt):
    """A blocking wait was interrupted (Ctrl-C). The job goes on; the message says how to get
    its result later. A ``KeyboardInterrupt``, so code that handles Ctrl-C still does."""

    def __init__(self, message: str, job: TableJob) -> None:
        super().__init__(message)
        self.job = job


_registry: list[TableJob] = []
_registry_lock = threading.Lock()


# --------------------------------------------------------------------------------------------
# Public entry points


def submit(
    schema: str | Schema,
    name: str | None = None,
    *,
    text: str | None = None,
    files: FileSpec | Sequence[FileSpec] | None = None,
    urls: str | Sequence[str] | None = None,
    context: str | None = None,
    enhance: str | None = None,
    webhook: str | None = None,
    client: Lasso | AsyncLasso | None = None,
    progress: Progress = True,
    poll_cap: float | None = None,
    labels: bool = False,
    meta: bool = False,
    valid_only: bool = False,
    reuse: bool | None = None,
    refresh: bool = False,
    url_max_age: float | None = None,
    rate_limit_budget: float | None = None,
) -> TableJob:
    """Start extracting a table; returns at once with its ``TableJob``.

    ``schema`` is an id or an exact name. Exactly one source: ``text``, ``files`` (local paths
    or ``(name, bytes)``; uploaded first) or ``urls``. Input mistakes raise
    ``InvalidRequestError`` before a job starts (the schema is looked up here, so an unknown
    name names its close matches); later failures land in ``job.error``, the widget and
    ``job.result()``. ``labels`` / ``meta`` shape the DataFrame; ``valid_only`` leaves out the
    rows whose validation status is ``error`` (rows with warnings stay).

    An identical earlier extraction (same server, key, schema and columns, source content and
    contexts) that is completed or still running is reused instead of creating a table
    (``job.reused``). ``reuse=False`` turns that off for this call (None: on unless
    ``LASSO_NOTEBOOK_REUSE=0``), ``refresh=True`` extracts again and reuses the new table
    later, ``url_max_age`` is how many seconds a table made from URLs stays reusable
    (default ``LASSO_NOTEBOOK_URL_MAX_AGE``, else 24 h).

    ``rate_limit_budget``: seconds the job keeps polling while the API answers nothing but 429
    (default 600); then it ends with ``RateLimitError`` and the table goes on on the server.
    """
    if poll_cap is not None and not poll_cap > 0:
        raise InvalidRequestError("poll_cap must be a positive number of seconds")
    check_budget(rate_limit_budget)
    policy = reuse_policy(reuse, refresh, url_max_age)
    plan = make_plan(
        schema,
        name,
        text=text,
        files=files,
        urls=urls,
        context=context,
        enhance=enhance,
        webhook=webhook,
    )
    plan = dataclasses.replace(plan, schema=resolve_before_submit(client, plan.schema))
    return TableJob(
        client=client,
        name=plan.name,
        plan=plan,
        progress=progress,
        poll_cap=poll_cap,
        labels=labels,
        meta=meta,
        valid_only=valid_only,
        reuse=policy,
        rate_limit_budget=rate_limit_budget,
    )


def attach(
    table_id: str,
    *,
    client: Lasso | AsyncLasso | None = None,
    progress: Progress = True,
    poll_cap: float | None = None,
    labels: bool = False,
    meta: bool = False,
    valid_only: bool = False,
    rate_limit_budget: float | None = None,
) -> TableJob:
    """Follow an existing table (e.g. after an interrupt, or from another session). A job of
    this kernel that already follows it, and has not failed or been detached, is reused.
    ``rate_limit_budget`` as for ``submit()``."""
    if not isinstance(table_id, str) or not table_id.strip():
        raise InvalidRequestError("attach() needs a table id such as 'tbl_…'")
    check_budget(rate_limit_budget)
    table_id = table_id.strip()
    aclient = as_async_client(client)
    with _registry_lock:
        for job in reversed(_registry):
            if (
                job.id == table_id
                and job._aclient is aclient
                and not job.detached
                and job.error is None
                # Meta columns come with the job's own rows or from a blocking read later,
                # which a done-callback cannot do: such a caller gets a job that reads them.
                and (job._meta or not meta)
            ):
                return job
    return TableJob(
        client=client,
        table_id=table_id,
        progress=progress,
        poll_cap=poll_cap,
        labels=labels,
        meta=meta,
        valid_only=valid_only,
        rate_limit_budget=rate_limit_budget,
    )


def jobs() -> list[TableJob]:
    """This kernel's table jobs, oldest first."""
    with _registry_lock:
        return list(_registry)


# --------------------------------------------------------------------------------------------
# The job


class TableJob(Outcome):
    """One table followed from this kernel. Runs on the runtime thread; every property is safe
    to read from any thread. Create it with ``submit()`` or ``attach()``."""

    def __init__(
        self,
        *,
        client: Lasso | AsyncLasso | None,
        name: str = "",
        plan: SubmitPlan | None = None,
        table_id: str | None = None,
        progress: Progress = True,
        poll_cap: float | None = None,
        labels: bool = False,
        meta: bool = False,
        valid_only: bool = False,
        reuse: ReusePolicy | None = None,
        rate_limit_budget: float | None = None,
    ) -> None:
        self._aclient = as_async_client(client)
        self._plan = plan
        self._reuse_policy = reuse or ReusePolicy(enabled=False, index=False)
        if plan is not None and self._reuse_policy.index:
            # Here, on the caller's thread: a broken index warns under the cell that submitted.
            open_client_index(self._aclient)
        self._reused: Reused | None = None
        #: How the "reused" message says to extract again (the magic and the form say it in
        #: their own words).
        self.refresh_hint = "refresh=True"
        self._table_id = table_id
        self._name = name
        self._poll_cap = poll_cap or DEFAULT_POLL_CAP
        self._schedule = PollSchedule(self._poll_cap)
        self._rate_limit_budget = rate_limit_budget or DEFAULT_RATE_LIMIT_BUDGET
        #: While polls are refused with 429: when the next try goes out (time.monotonic()).
        self._retry_at: float | None = None
        self._labels = labels
        self._meta = meta
        self._valid_only = valid_only

        self._status = "submitting" if plan is not None else "attaching"
        self._phase = Phase.PENDING
        self._table: Table | None = None
        self._error: BaseException | None = None
        # The DataFrame and its other shapes; no raw rows: jobs live as long as the kernel.
        self._frames: TableFrames | None = None
        self._download: Download | None = None  # while rows arrive
        self._warned_unparsed = False
        self._stage = "create" if plan is not None else "poll"
        self._detached = False
        self._note = ""
        self._started = time.monotonic()
        self._finished_at: float | None = None
        self.requests = 0  #: status polls made (GET /tables/{id}); for benchmarks and tests
        #: Wall-clock time (time.time()) the finished status was first seen; for benchmarks.
        self.terminal_seen_at: float | None = None

        self._finished = False
        self._callbacks: list[Callable[[TableJob], Any]] = []
        self._update_callbacks: list[Callable[[TableJob], Any]] = []
        self._lock = threading.Lock()
        # Private, never cancelled: outside waiters only ever see a copy or a shield of it.
        self._result: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._displayed = False

        mode = progress_mode(progress)
        self._text_mode = mode == "text"
        self._widget: ProgressWidget | None = None
        if mode == "widget":
            from .widgets.progress import ProgressWidget

            # Created here, on the caller's thread, so the widget belongs to the running cell.
            self._widget = ProgressWidget(**self._widget_state(), can_stop=True)
            self._widget.on_stop(self.detach)

        with _registry_lock:
            _registry.append(self)
        self._task = _runtime.spawn(self._main())

    # -- public state ----------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The table id (None until the table has been created)."""
        return self._table.id if self._table is not None else self._table_id

    @property
    def name(self) -> str:
        return self._table.name if self._table is not None and self._table.name else self._name

    @property
    def status(self) -> str:
        """The server's raw status, or the client step before/after it (``submitting``,
        ``uploading``, ``fetching rows``, ``detached``, ``error``)."""
        return self._status

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def progress(self) -> int:
        return self._table.progress if self._table is not None else 0

    @property
    def total_rows(self) -> int:
        if self._frames is not None:
            return len(self._frames.df)
        return self._table.total_rows if self._table is not None else 0

    @property
    def table(self) -> Table | None:
        """The table as last seen on the server."""
        return self._table

    @property
    def error(self) -> BaseException | None:
        return self._error

    @property
    def elapsed(self) -> float:
        """Seconds since the job started (frozen once it finished)."""
        return (self._finished_at or time.monotonic()) - self._started

    @property
    def started(self) -> float:
        """When the job started (``time.monotonic()``): what orders listings of jobs."""
        return self._started

    @property
    def eta(self) -> float | None:
        """Estimated seconds until the server finishes, from the observed progress rate."""
        eta_at = self._schedule.eta_at
        if eta_at is None or self._phase.is_terminal or self._finished:
            return None
        return max(0.0, eta_at - time.monotonic())

    @property
    def df(self) -> pd.DataFrame | None:
        """The DataFrame once the job completed, else None (a failed table's rows:
        ``frame()``)."""
        if self._frames is None or self._error is not None:
            return None
        return self._frames.df

    @property
    def widget(self) -> ProgressWidget | None:
        return self._widget

    @property
    def detached(self) -> bool:
        return self._detached

    @property
    def reused(self) -> bool:
        """True when the job attached to an identical earlier extraction instead of creating
        a table (see ``submit(reuse=, refresh=)``)."""
        return self._reused is not None

    @property
    def reused_from(self) -> datetime | None:
        """When the reused table was created (None if not reused)."""
        return self._reused.created_at if self._reused is not None else None

    @property
    def reuse_message(self) -> str:
        """E.g. ``reused tbl_8f… from 2026-12-01 14:02 (no new extraction; refresh=True to
        extract again)``; "" when the job made its own table."""
        return self._reused.message(self.refresh_hint) if self._reused is not None else ""

    @property
    def note(self) -> str:
        return self._note

    @note.setter
    def note(self, text: str) -> None:
        """A free line under the progress bar, e.g. ``→ df (42 rows)``."""
        self._note = text
        if self._widget is not None:
            self._widget.push(note=self._shown_note(), final=True)

    def _shown_note(self) -> str:
        # What the widget and the text line show under the bar: the reuse notice, then the note.
        return " · ".join(part for part in (self.reuse_message, self._note) if part)

    def done(self) -> bool:
        """True once the job finished: completed, failed or detached."""
        return self._finished

    # -- waiting -------------------------------------------------------------------------------

    def wait(self, timeout: float | None = None, *, quiet: bool = False) -> TableJob:
        """Block until the job finished (whatever the outcome); return the job.

        The progress display stays live. ``WaitTimeoutError`` after ``timeout`` seconds and
        ``JobInterrupted`` (a KeyboardInterrupt) on Ctrl-C: both leave the job running.
        """
        if _runtime.in_runtime_thread():
            raise RuntimeThreadError(
                "TableJob.wait()/result() would block lasso_notebook's runtime thread; "
                "use `await job` or add_done_callback() there"
            )
        self._show_if_needed()
        # A job already finished was shown finished by the wait that saw it end: result()
        # after wait() must not print the final line a second time.
        line = TerminalLine() if self._text_mode and not self._result.done() else None
        if self._widget is not None and not self._finished:
            # A click cannot reach a busy kernel (docs/architecture.md §2.3): no button while
            # we block.
            self._widget.push(can_stop=False, final=True)
        try:
            _runtime.wait_in_slices(
                self._result.done,
                timeout,
                lambda: WaitTimeoutError(
                    f"table {self.id or '(not created yet)'} still {self.status} after "
                    f"{timeout:g} s; it goes on: {self._later_hint()}",
                    self._table,
                ),
                future=self._result,
                tick=None if line is None else lambda: line.update(repr(self)),
            )
        except KeyboardInterrupt:
            message = f"Stopped waiting; the job goes on in the background. {self._later_hint()}"
            if self._widget is not None:
                self.note = message
            elif not quiet:
                print(message, file=sys.stderr)
            raise JobInterrupted(message, self) from None
        finally:
            if line is not None:
                line.close(repr(self))
            if self._widget is not None and not self._finished:
                self._widget.push(can_stop=True, final=True)
        return self

    def result(
        self,
        timeout: float | None = None,
        *,
        labels: bool | None = None,
        meta: bool | None = None,
        quiet: bool = False,
        valid_only: bool | None = None,
    ) -> pd.DataFrame:
        """Wait for the DataFrame. Raises ``TableFailedError`` (the table failed),
        ``WaitTimeoutError``, ``JobDetachedError`` or the API error that stopped the job.
        ``labels`` / ``meta`` / ``valid_only`` override the job's DataFrame options for this
        call."""
        self.wait(timeout, quiet=quiet)
        return self._frame(labels, meta, valid_only)

    def frame(
        self,
        *,
        labels: bool | None = None,
        meta: bool | None = None,
        valid_only: bool | None = None,
    ) -> pd.DataFrame | None:
        """The DataFrame in the given shape without waiting: None until the job completed, or
        when it was detached or stopped by an error. A table that ended failed gives the rows
        it holds (written before it failed; ``TableFailedError.total_rows``), or None when it
        holds none. ``valid_only`` leaves out rows whose validation status is ``error`` (rows
        with warnings stay). Safe in a done-callback, except for ``meta=True`` /
        ``valid_only=True`` on a job that did not ask for them up front: the rows' validation
        fields need a read of the rows listing first."""
        if self._frames is None or (
            self._error is not None and not isinstance(self._error, TableFailedError)
        ):
            return None
        labels = self._labels if labels is None else labels
        meta = self._meta if meta is None else meta
        valid_only = self._valid_only if valid_only is None else valid_only
        if self._frames.lacks(meta or valid_only):
            self._read_meta_columns()
        df = self._frames.get(labels, meta)
        if valid_only:
            df = keep_valid(df, self._frames.statuses())
        return df

    def _read_meta_columns(self) -> None:
        """A frame read through the export has no row ids or validation fields: read them from
        the rows listing now (a blocking read, so never on the runtime thread)."""
        assert self._frames is not None and self._table is not None
        if _runtime.in_runtime_thread():
            raise RuntimeThreadError(
                f"the meta columns of table {self.id} were not read (its rows came from the "
                "export); ask for them up front with meta=True, or call job.result(meta=True) "
                "outside callbacks"
            )
        from .frames import read_meta_columns

        self._frames.add_meta(_runtime.run_sync(read_meta_columns(self._aclient, self._table)))

    def _owner(self) -> str:
        return f"table {self.id}"

    def add_update_callback(self, fn: Callable[[TableJob], Any]) -> None:
        """Call ``fn(job)`` after every change of the job's state (status, progress, rows,
        outcome), on the runtime thread. Exceptions from ``fn`` are logged."""
        self._update_callbacks.append(fn)

    # -- control -------------------------------------------------------------------------------

    def detach(self) -> TableJob:
        """Stop following the table here; it goes on on the server (``attach(id)`` follows it
        again). A job whose table is being created detaches right after creation."""
        with self._lock:
            if self._finished or self._detached:
                return self
            self._detached = True
            stage = self._stage
        if stage != "create":
            # Polling and row reads are read-only, so cancelling them loses nothing.
            self._task.cancel()
        self._render(final=True)
        return self

    def delete(self) -> None:
        """Delete the table on the server (its rows too, for good) and stop following it."""
        self.detach()
        with self._lock:
            creating = self._stage == "create" and not self._finished
        if creating:
            # Wait for the creation to settle so the table does not outlive its deletion.
            concurrent.futures.wait([self._result], timeout=60)
        if self.id is not None:
            _runtime.run_sync(self._aclient.tables.delete(self.id))
            forget_table(self._aclient, self.id)
        self._status = "deleted"
        self._render(final=True)

    # -- display ---------------------------------------------------------------------------------

    def __repr__(self) -> str:
        line = status_line(
            table_id=self.id,
            name=self.name,
            status=self._status,
            phase=self._phase.value,
            progress=self.progress,
            total_rows=self.total_rows,
            elapsed=self.elapsed,
            eta=self.eta,
            error_message=self._error_text(),
            note=self._shown_note(),
            detached=self._detached,
            download=self._download_text(),
            retry_in=self._retry_in(),
            status_note=self._status_note(),
        )
        # Once finished: the validation summary and the extraction report, a line each.
        return "\n".join([line, *(text for text in self._outcome_lines() if text)])

    def _outcome_lines(self) -> tuple[str, str]:
        if not self._finished:
            return "", ""
        return outcome_lines(self._table, self.df)

    def _retry_in(self) -> float | None:
        """Seconds until the next poll while rate limited (None otherwise)."""
        retry_at = self._retry_at
        if retry_at is None or self._finished:
            return None
        return max(0.0, retry_at - time.monotonic())

    def _status_note(self) -> str:
        note = self._table.get("status_note") if self._table is not None else None
        return note if isinstance(note, str) else ""

    def _download_text(self) -> str:
        download = self._download
        return download.text() if download is not None and self._stage == "rows" else ""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> Any:
        text = repr(self)
        if self._widget is not None:
            bundle = self._widget._repr_mimebundle_(**kwargs)
            if bundle is not None:
                self._displayed = True
                data, metadata = bundle
                data["text/plain"] = text
                return data, metadata
        return {"text/plain": text}, {}

    def _ipython_display_(self) -> None:
        # display(job), or a job as a cell's result: the widget's own display, whose saved
        # output is brought up to the final state after the cell (widgets/_fallback.py).
        if self._widget is not None:
            self._displayed = True
            self._widget._ipython_display_()
            return
        from IPython.display import display

        display({"text/plain": repr(self)}, raw=True)

    def _show_if_needed(self) -> None:
        if self._widget is None or self._displayed or frontend() != "kernel":
            return
        try:
            from IPython.display import display

            display(self)
        except Exception:
            log.debug("could not display the progress widget", exc_info=True)

    def _later_hint(self) -> str:
        if self.id is None:
            return "job.result() gets the DataFrame when it is ready."
        return (
            f"job.result() or lasso_notebook.attach({self.id!r}).result() gets the DataFrame later."
        )

    def _error_text(self) -> str:
        error = self._error
        if error is None or isinstance(error, JobDetachedError):
            return ""
        if isinstance(error, TableFailedError):
            return error.error_message
        return str(error) or type(error).__name__

    def _widget_state(self) -> dict[str, Any]:
        retry_in = self._retry_in()
        return {
            "table_id": self.id or "",
            "name": self.name,
            "status": self._status,
            "phase": self._phase.value,
            "progress": self.progress,
            "total_rows": self.total_rows,
            "elapsed": round(self.elapsed, 1),
            "eta": None if self.eta is None else round(self.eta, 1),
            "error_message": self._error_text(),
            "detached": self._detached,
            **dict(zip(("validation", "report"), self._outcome_lines(), strict=True)),
            "download": self._download_text(),
            "retry_in": None if retry_in is None else round(retry_in, 1),
            "status_note": self._status_note(),
        }

    def _render(self, final: bool = False) -> None:
        for fn in list(self._update_callbacks):
            self._call(fn)
        if self._widget is None:
            return
        try:
            self._widget.push(final=final, **self._widget_state())
        except Exception:
            # A broken display must not break the job.
            log.exception("lasso_notebook: could not update the progress widget")

    # -- the work, on the runtime thread -------------------------------------------------------

    async def _main(self) -> None:
        outcome: Any = None
        error: BaseException | None = None
        try:
            if self._plan is not None:
                table = await self._create()
            else:
                table = await self._aclient.tables.get(self._table_id or "")
            self._stage = "poll"
            self._observe(table)
            if self._detached:
                raise asyncio.CancelledError
            table = await self._poll(table)
            if table.phase is not Phase.COMPLETED:
                await self._read_failed_rows(table)
                raise TableFailedError(table)
            self._stage = "rows"
            self._status = "fetching rows"
            self._render()
            from .frames import read_frames

            self._frames = await read_frames(
                self._aclient,
                table,
                labels=self._labels,
                meta=self._meta,
                statuses=self._valid_only,
                on_download=self._show_download,
            )
            self._status = table.status
            outcome = self._frames.df
        except asyncio.CancelledError:
            error = JobDetachedError(
                f"stopped following table {self.id or '(not created)'}; "
                + (
                    f"lasso_notebook.attach({self.id!r}) follows it again"
                    if self.id
                    else "it may still be created on the server"
                )
            )
            self._status = "detached"
        except Exception as exc:
            error = exc
            if isinstance(exc, TableFailedError):
                self._phase = exc.table.phase
            else:
                self._phase = Phase.FAILED
                self._status = "error"
                if self._table is not None and isinstance(exc, LassoError):
                    _name_table(exc, self._table.id)
            log.debug("job %s failed: %s", self.id, exc)
        self._finish(outcome, error)

    def _finish(self, outcome: Any, error: BaseException | None) -> None:
        self._error = error
        self._finished_at = time.monotonic()
        self._schedule.stop()
        with self._lock:
            self._finished = True
            callbacks, self._callbacks = self._callbacks, []
        self._render(final=True)
        for fn in callbacks:
            self._call(fn)
        if error is not None:
            self._result.set_exception(error)
        else:
            self._result.set_result(outcome)

    async def _create(self) -> Table:
        assert self._plan is not None

        def uploading(_name: str, _number: int, _total: int) -> None:
            self._status = "uploading"
            self._phase = Phase.RUNNING
            self._render()

        table, self._reused = await create_or_reuse(
            self._aclient, self._plan, self._reuse_policy, uploading
        )
        self._table_id = table.id
        if self._reused is not None:
            log.debug("job %s: %s", table.id, self.reuse_message)
            if self._widget is not None:
                self._widget.push(note=self._shown_note())
        return table

    def _observe(self, table: Table) -> None:
        now = time.monotonic()
        self._table = table
        self._status = table.status
        self._phase = table.phase
        if table.phase is Phase.RUNNING:
            self._schedule.observe(table.progress, now)
        if table.is_terminal and self.terminal_seen_at is None:
            self.terminal_seen_at = time.time()
        self._render(final=table.is_terminal)

    async def _poll(self, table: Table) -> Table:
        """Until the table is finished: one client's jobs are polled together (``_poller``)."""
        from ._poller import poller_for

        def counted() -> None:
            self.requests += 1

        def limited(retry_at: float | None) -> None:
            self._retry_at = retry_at
            self._render()

        return await poller_for(self._aclient).follow(
            table,
            self._schedule,
            self._observe,
            on_request=counted,
            on_limited=limited,
            rate_limit_budget=self._rate_limit_budget,
        )

    async def _read_failed_rows(self, table: Table) -> None:
        """A failed table may hold rows written before it failed: read them (the rows
        listing), so ``frame()`` returns them. A failure here only logs: the table's own
        failure is what the job reports."""
        if table.total_rows <= 0:
            return
        from .frames import read_frames

        try:
            self._frames = await read_frames(
                self._aclient, table, labels=self._labels, meta=self._meta, statuses=True
            )
        except LassoError as exc:
            log.info("could not read the rows of failed table %s: %s", table.id, exc)

    def _show_download(self, download: Download | None) -> None:
        self._download = download
        self._render()


def _name_table(exc: LassoError, table_id: str) -> None:
    """A job that fails after its table exists (polls or row reads broke) says which table
    goes on on the server and how to get it, in the message the user sees."""
    hint = f" [table {table_id} goes on on the server; lasso_notebook.attach({table_id!r}) gets it]"
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        exc.message = message + hint  # type: ignore[attr-defined]
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (exc.args[0] + hint, *exc.args[1:])


class _JobsModule(types.ModuleType):
    """Makes ``lasso_notebook.jobs()`` list the jobs while ``lasso_notebook.jobs.submit`` etc.
    keep working: the module and the function share one name in the public API."""

    def __call__(self) -> list[TableJob]:
        return jobs()


sys.modules[__name__].__class__ = _JobsModule
