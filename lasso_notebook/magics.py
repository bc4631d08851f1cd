"""The IPython magics: ``%%lasso_table`` / ``%lasso_table`` (start or follow a table, get a
DataFrame) and ``%lasso`` (quick listings and the effective configuration). A thin layer over
``lasso_notebook.jobs``; user mistakes are shown in a line or two, never as a traceback."""

from __future__ import annotations

import os
import sys
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, TraitError, Unicode, validate
from traitlets.config import Configurable

from . import client as client_mod
from . import jobs
from ._config import DEFAULT_BASE_URL, mask_key
from ._magic_args import expand_files, parse
from ._magic_errors import (
    MagicError,
    check_attach,
    check_source,
    check_var,
    check_wait,
    user_message,
)
from ._polling import DEFAULT_POLL_CAP
from .errors import LassoError, WaitTimeoutError
from .frames import unparsed_summary

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    from .client import Lasso
    from .jobs import TableJob

__all__ = ["LassoMagics", "MagicError", "expand_files", "load_ipython_extension", "user_message"]


# --------------------------------------------------------------------------- the magics


@dataclass(frozen=True)
class _View:
    """The DataFrame shape a cell asked for, and whether it gets its own copy."""

    labels: bool
    meta: bool
    copy: bool

    def of(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.copy() if self.copy else df


@magics_class
class LassoMagics(Magics, Configurable):
    """``%%lasso_table``, ``%lasso_table`` and ``%lasso``. Defaults are set with
    ``%config LassoMagics.<option> = value``; the key and base URL come from the environment
    (``LASSO_API_KEY``, ``LASSO_BASE_URL``), never from ``%config`` (it is saved in notebooks)."""

    default_schema = Unicode(
        None,
        allow_none=True,
        help="Schema id or name used when a cell gives no --schema, e.g. 'Products'.",
    ).tag(config=True)
    timeout = Float(
        None,
        allow_none=True,
        help="Seconds a blocking cell waits before giving up (the table goes on); "
        "None waits as long as it takes.",
    ).tag(config=True)
    poll_cap = Float(
        DEFAULT_POLL_CAP, help="Longest pause between two status polls of a job, in seconds."
    ).tag(config=True)
    widget = Bool(True, help="Show the live progress widget (False: no progress display).").tag(
        config=True
    )
    #: A client to use instead of the one built from the environment (tests, custom setups).
    client = AnyTrait(None, allow_none=True)

    @validate("timeout", "poll_cap")
    def _positive_seconds(self, proposal: Any) -> Any:
        # Refused where it is set: a 0 or negative value would only fail every later cell.
        name, value = proposal["trait"].name, proposal["value"]
        if name == "timeout" and value is None:
            return None  # no limit
        if not 0 < value < float("inf"):  # also refuses nan
            no_limit = " (or None: no limit)" if name == "timeout" else ""
            raise TraitError(
                f"LassoMagics.{name} must be a positive number of seconds{no_limit}, got {value!r}"
            )
        return value

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        # Guards _owners and _targets, and makes "VAR still mine? then store" one step: cells
        # claim and store on the main thread, background jobs store from the runtime thread.
        self._lock = threading.Lock()
        # VAR → the job that owns it now: a slower, older job must not overwrite the result of
        # a newer cell that assigned the same variable.
        self._owners: dict[str, TableJob] = {}
        # The job a cell meant for each variable, for the "var" column of %lasso jobs; weak, so
        # this does not keep every job (and its DataFrame) of the kernel alive.
        self._targets: weakref.WeakKeyDictionary[TableJob, str] = weakref.WeakKeyDictionary()

    # ------------------------------------------------------------------ client

    def _client(self) -> Lasso:
        # The process-wide client shares one connection pool with every job of the kernel.
        return self.client if self.client is not None else client_mod.default_client()

    # ------------------------------------------------------------------ %%lasso_table

    @magic_arguments()
    @argument(
        "var",
        nargs="?",
        metavar="VAR",
        help="Variable that receives the DataFrame (default: the DataFrame is the cell's "
        "result). Example: %%%%lasso_table products --schema Products",
    )
    @argument(
        "--schema",
        metavar="ID_OR_NAME",
        help="Schema id or exact name (case-insensitive); default: "
        "%%config LassoMagics.default_schema. Example: --schema Products",
    )
    @argument(
        "--name",
        help="Table name (default: VAR, else 'notebook extraction <time>'). "
        "Example: --name 'Q1 catalog'",
    )
    @argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="File to upload, repeatable; globs expand. Example: --file 'catalogs/*.pdf'",
    )
    @argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="Web page or file URL to extract from, repeatable. "
        "Example: --url https://example.com/catalog.pdf",
    )
    @argument(
        "--context",
        metavar="TEXT",
        help="Extra instructions for the extraction. Example: --context 'prices are in EUR'",
    )
    @argument(
        "--enhance",
        metavar="TEXT",
        help="Instructions for the enhancement pass. Example: --enhance 'fill missing brands'",
    )
    @argument(
        "--webhook",
        metavar="URL",
        help="URL the server calls when the table finishes. "
        "Example: --webhook https://example.com/hooks/lasso",
    )
    @argument(
        "--attach",
        metavar="TABLE_ID",
        help="Follow an existing table instead of starting one (no source, no --schema). "
        "Example: %%lasso_table df --attach tbl_8f2c",
    )
    @argument(
        "--background",
        action="store_true",
        help="Return at once; VAR is set when the table completes. "
        "Example: %%%%lasso_table df --schema Products --background",
    )
    @argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="Stop waiting after SECONDS (the table goes on; VAR is still set when it "
        "completes). Example: --timeout 600",
    )
    @argument(
        "--meta",
        action="store_true",
        help="Add row id and validation columns. Example: --meta",
    )
    @argument(
        "--labels",
        action="store_true",
        help="Name columns by label instead of key. Example: --labels",
    )
    @argument(
        "--no-widget",
        action="store_true",
        help="No progress display for this cell. Example: --no-widget",
    )
    @line_cell_magic
    def lasso_table(self, line: str, cell: str | None = None) -> Any:
        """Extract a table with Lasso and get it as a typed DataFrame.

        The cell body is the source text (sent exactly as written); or give --file / --url.
        Blocking by default: the progress widget shows, the cell waits, then the DataFrame is
        stored in VAR (or is the cell's result). Ctrl-C / stop ends the wait, not the table.
        $name and {expression} in the magic line expand as in any IPython magic (quote values
        holding {expression} with double quotes: IPython skips $ inside single quotes).

        Examples::

            %%lasso_table products --schema Products
            Acme anvil, 12 kg, $49.90 ...

            %lasso_table products --schema Products --file 'catalogs/*.pdf' --background
            %lasso_table products --schema Products --url https://example.com/catalog.pdf
            %lasso_table products --attach tbl_8f2c
            %lasso_table q{quarter} --schema $schema --url "{base_url}/q{quarter}.pdf"
            %config LassoMagics.default_schema = "Products"
        """
        args = parse(self.lasso_table, line, "lasso_table")
        try:
            return self._lasso_table(args, cell)
        except LassoError as exc:
            raise MagicError(*user_message(exc)) from None

    def _lasso_table(self, args: Any, cell: str | None) -> Any:
        var: str | None = args.var
        text = cell if cell is not None and cell.strip() else None
        # Every check that needs no server comes first: a typo costs no request.
        check_var(var)
        check_wait(args)
        if args.attach:
            check_attach(args, text)
            files: list[str] | None = None
            schema_ref = None
        else:
            check_source(args, text)
            files = expand_files(args.file) if args.file else None
            schema_ref = args.schema or self.default_schema
            if not schema_ref:
                raise MagicError(
                    "%lasso_table: no schema: pass --schema ID_OR_NAME or set "
                    '%config LassoMagics.default_schema = "Products" (%lasso schemas lists them)'
                )

        progress = self.widget and not args.no_widget
        shape = {"poll_cap": self.poll_cap, "labels": args.labels, "meta": args.meta}
        try:
            client = self._client()
            # Resolved here, synchronously, so an unknown name fails the cell at once (with the
            # close candidates) instead of later inside a background job.
            schema = None if args.attach else jobs.resolve_schema(client, schema_ref)
        except KeyboardInterrupt:
            raise MagicError(
                "%lasso_table: interrupted before anything was sent; no table was created. "
                "Run the cell again."
            ) from None
        if args.attach:
            job = jobs.attach(args.attach, client=client, progress=progress, **shape)
        else:
            job = jobs.submit(
                schema,
                args.name or var,  # None: submit names it "notebook extraction <time>"
                text=text,
                files=files,
                urls=args.url or None,
                context=args.context,
                enhance=args.enhance,
                webhook=args.webhook,
                client=client,
                progress=progress,
                **shape,
            )

        # An attached job may be one this kernel already follows, with its own DataFrame shape
        # and a DataFrame another variable holds: this cell gets its shape, in its own copy.
        view = _View(args.labels, args.meta, copy=bool(args.attach))
        if var is not None:
            self._claim(var, job)
        if args.background:
            return self._background(job, var, progress, view)
        return self._block(job, var, progress, args.timeout or self.timeout, view)

    def _background(self, job: TableJob, var: str | None, progress: bool, view: _View) -> Any:
        if var is None:
            return job  # the cell's result: IPython displays it, i.e. shows its widget
        job.note = f"→ {var} when complete"
        job.add_done_callback(lambda done: self._assign(done, var, view))
        if progress:
            from IPython.display import display

            display(job)
        else:
            print(f"{var} will be set when the table completes")
        return None

    def _block(
        self, job: TableJob, var: str | None, progress: bool, timeout: float | None, view: _View
    ) -> Any:
        try:
            # quiet: the message is ours (it knows about VAR), not the job's generic hint.
            df = view.of(
                job.result(timeout=timeout, quiet=True, labels=view.labels, meta=view.meta)
            )
        except KeyboardInterrupt:  # jobs.JobInterrupted, or a Ctrl-C between two slices
            raise MagicError(*self._went_on(job, var, "Interrupted", view)) from None
        except WaitTimeoutError:
            raise MagicError(
                *self._went_on(job, var, f"Still {job.status} after {timeout:g} s", view)
            ) from None
        except BaseException:
            if var is not None:
                self._release(var, job)  # failed or detached: VAR stays as it was
            raise
        if var is None:
            return df
        # The newest claim on VAR is this cell's (the main thread waited here), so it stores.
        self._store(var, df, job, newest=True)
        if not progress:
            print(f"→ {var} ({_rows(len(df))}, table {job.id})")
        return None

    def _went_on(self, job: TableJob, var: str | None, what: str, view: _View) -> list[str]:
        """The table keeps running after an interrupt or a timeout; say how to get it."""
        table = f"table {job.id}" if job.id else f"table {job.name!r} (being created)"
        if var is not None:
            job.note = f"→ {var} when complete"
            job.add_done_callback(lambda done: self._assign(done, var, view))
            return [
                f"{what}: {table} goes on in the background; {var} will be set when it completes."
            ]
        later = (
            f"df = %lasso_table --attach {job.id}"
            if job.id
            else "df = lasso_notebook.jobs()[-1].result()"
        )
        return [f"{what}: {table} goes on in the background.", f"Get it later with: {later}"]

    def _assign(self, job: TableJob, var: str, view: _View) -> None:
        """Done-callback (on the runtime thread): store the frame in VAR, unless a newer cell
        has taken the variable over meanwhile or the job did not complete. Without a widget
        the outcome is printed, so a background failure is never silent (DESIGN.md §4)."""
        df = job.frame(labels=view.labels, meta=view.meta)
        if df is None:
            if not self._release(var, job):
                job.note = f"{var} not set: a newer cell assigned it"
            elif job.detached:
                job.note = f"{var} not set: detached"
            else:
                job.note = f"{var} not set: the table did not complete"
                if job.widget is None and job.error is not None:
                    for line in user_message(job.error):
                        print(line, file=sys.stderr)
        elif not self._store(var, view.of(df), job):
            job.note = f"{var} not set: a newer cell assigned it"
        if job.widget is None:
            print(job.note, file=sys.stderr if df is None else sys.stdout)

    def _claim(self, var: str, job: TableJob) -> None:
        """``job``, of the cell being run, now owns VAR: older jobs no longer store into it."""
        with self._lock:
            self._owners[var] = job
            self._targets[job] = var

    def _store(self, var: str, df: pd.DataFrame, job: TableJob, *, newest: bool = False) -> bool:
        """Put ``df`` in VAR if ``job`` still owns it (or ``newest``: the cell that just claimed
        it); check and write are one step under the lock, so an older job finishing at the
        same moment cannot overwrite a newer cell's result. True if stored."""
        with self._lock:
            owner = self._owners.get(var) is job
            if owner:
                self._owners.pop(var, None)
            if not (owner or newest):
                return False
            self.shell.user_ns[var] = df
        unparsed = unparsed_summary(df)
        job.note = f"→ {var} ({_rows(len(df))}" + (f"; {unparsed})" if unparsed else ")")
        return True

    def _release(self, var: str, job: TableJob) -> bool:
        """``job`` gives VAR up without storing; False if a newer cell owns VAR already."""
        with self._lock:
            if self._owners.get(var) is not job:
                return False
            self._owners.pop(var, None)
            return True

    # ------------------------------------------------------------------ %lasso

    @magic_arguments()
    @argument(
        "command",
        choices=["schemas", "tables", "jobs", "config"],
        help="schemas, tables, jobs (this kernel's) or config. Example: %%lasso tables",
    )
    @argument(
        "--search",
        metavar="TEXT",
        help="tables: only names containing TEXT. Example: %%lasso tables --search catalog",
    )
    @argument(
        "--status",
        help="tables: only this status. Example: %%lasso tables --status failed",
    )
    @argument(
        "--limit",
        type=int,
        default=100,
        help="tables / schemas: at most this many rows (default 100). Example: --limit 20",
    )
    @line_magic
    def lasso(self, line: str) -> Any:
        """Quick listings as DataFrames and the effective configuration.

        Examples::

            %lasso schemas
            %lasso tables --search catalog --status completed
            %lasso jobs
            %lasso config
        """
        args = parse(self.lasso, line, "lasso")
        try:
            if args.command == "config":
                print(self.config_text())
                return None
            if args.command == "jobs":
                return self.jobs_frame()
            if args.limit <= 0:
                raise MagicError("%lasso: --limit must be a positive number")
            client = self._client()
            if args.command == "schemas":
                items = _take(client.schemas.list(limit=min(args.limit, 100)), args.limit)
                columns = ["id", "name", "description", "is_default", "columns_count"]
                columns += ["created_at", "updated_at"]
            else:
                page = client.tables.list(
                    limit=min(args.limit, 100), search=args.search, status=args.status
                )
                items = _take(page, args.limit)
                columns = ["id", "name", "status", "total_rows", "schema_id", "created_at"]
            return _frame([item.to_dict() for item in items], columns)
        except MagicError:
            raise
        except LassoError as exc:
            raise MagicError(*user_message(exc, magic="lasso")) from None

    def jobs_frame(self) -> pd.DataFrame:
        with self._lock:
            targets = dict(self._targets)
        rows = [
            {
                "id": job.id,
                "name": job.name,
                "status": job.status,
                "progress": job.progress,
                "total_rows": job.total_rows,
                "elapsed": job.elapsed,
                "var": targets.get(job),
            }
            for job in jobs.jobs()
        ]
        return _frame(rows, ["id", "name", "status", "progress", "total_rows", "elapsed", "var"])

    def config_text(self) -> str:
        """The effective configuration, key masked; does not start the embedded engine."""
        key = os.environ.get("LASSO_API_KEY") or None
        base = os.environ.get("LASSO_BASE_URL") or None
        if self.client is not None:
            url = self.client.base_url
            backend = "embedded engine" if self.client.embedded else _backend_of(url)
            key_shown = self.client.masked_key
            source = "a client set on LassoMagics.client"
        elif key or base:
            url = (base or DEFAULT_BASE_URL).rstrip("/")
            backend = _backend_of(url)
            key_shown = mask_key(key)
            source = " and ".join(
                name for name, value in (("LASSO_API_KEY", key), ("LASSO_BASE_URL", base)) if value
            )
            source += " set"
        else:
            backend = "embedded engine"
            engine_url = _running_engine_url()
            url = engine_url or "(starts on first use)"
            key_shown = "(local engine key)" if engine_url else "(not set)"
            source = "no LASSO_API_KEY or LASSO_BASE_URL set"
        lines = [
            f"backend         {backend} ({source})",
            f"base_url        {url}",
            f"api_key         {key_shown}",
            f"default_schema  {self.default_schema or '(none: pass --schema)'}",
            f"timeout         {_fmt_seconds(self.timeout) if self.timeout else 'none (wait)'}",
            f"poll_cap        {_fmt_seconds(self.poll_cap)}",
            f"widget          {'on' if self.widget else 'off'}",
            "Change with %config LassoMagics.<option> = value; the key and base URL come from "
            "the environment.",
        ]
        return "\n".join(lines)


# --------------------------------------------------------------------------- small helpers


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _backend_of(url: str) -> str:
    """What a base URL points at, in the words of %lasso config."""
    if url == DEFAULT_BASE_URL:
        return "hosted API"
    host = urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "::1", "localhost"):
        # An engine on this machine (lasso-engine, or serve()): the same code as the embedded one.
        return "local engine"
    return "Lasso API at a custom URL"


def _running_engine_url() -> str | None:
    default = client_mod.current_default_client()
    return default.base_url if default is not None and default.embedded else None


def _fmt_seconds(value: float) -> str:
    return f"{value:g} s"


def _take(page: Any, limit: int) -> list[Any]:
    items = []
    for item in page:
        items.append(item)
        if len(items) >= limit:
            break
    return items


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(rows)
    for column in columns:
        if column not in df.columns:
            df[column] = None
    return df[columns + [c for c in df.columns if c not in columns]]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics. ``Magics.__init__`` adds the instance to ``shell.configurables``,
    which is what makes ``%config LassoMagics.default_schema = ...`` reach it."""
    ipython.register_magics(LassoMagics(shell=ipython))
