"""The IPython magics: ``%%lasso_table`` / ``%lasso_table`` (start or follow a table, get a
DataFrame) and ``%lasso`` (quick listings and the effective configuration). A thin layer over
``lasso_notebook.jobs``; user mistakes are shown in a line or two, never as a traceback."""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, TraitError, Unicode, validate
from traitlets.config import Configurable

from . import _magic_housekeeping as housekeeping
from . import _magic_listings as listings
from . import client as client_mod
from . import jobs
from ._display import progress_mode
from ._magic_args import expand_files, parse
from ._magic_batch import check_batch_options, run_batch, wants_batch
from ._magic_errors import (
    MagicError,
    check_attach,
    check_source,
    check_var,
    check_wait,
    user_message,
)
from ._magic_schema import schema_command
from ._magic_vars import VarOwners, View
from ._magic_wait import lasso_wait
from ._polling import DEFAULT_POLL_CAP, DEFAULT_RATE_LIMIT_BUDGET
from ._validation import outcome_lines
from .errors import LassoError, UnparsedValuesWarning, WaitTimeoutError
from .frames import unparsed_summary

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    from .client import Lasso
    from .jobs import TableJob

__all__ = ["LassoMagics", "MagicError", "expand_files", "load_ipython_extension", "user_message"]


# --------------------------------------------------------------------------- the magics


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
    rate_limit_budget = Float(
        DEFAULT_RATE_LIMIT_BUDGET,
        help="Seconds a job keeps polling while the API answers nothing but 429 (rate "
        "limited); then the cell fails and the table goes on on the server.",
    ).tag(config=True)
    widget = Bool(True, help="Show the live progress widget (False: no progress display).").tag(
        config=True
    )
    reuse = Bool(
        True,
        help="Reuse the table of an identical earlier extraction instead of extracting again "
        "(False: every cell run creates a table; LASSO_NOTEBOOK_REUSE=0 turns it off everywhere).",
    ).tag(config=True)
    url_max_age = Float(
        None,
        allow_none=True,
        help="Seconds a table made from URLs stays reusable; None: LASSO_NOTEBOOK_URL_MAX_AGE, "
        "else 24 h.",
    ).tag(config=True)
    #: A client to use instead of the one built from the environment (tests, custom setups).
    client = AnyTrait(None, allow_none=True)

    @validate("timeout", "poll_cap", "url_max_age", "rate_limit_budget")
    def _positive_seconds(self, proposal: Any) -> Any:
        # Refused where it is set: a 0 or negative value would only fail every later cell.
        name, value = proposal["trait"].name, proposal["value"]
        if name in ("timeout", "url_max_age") and value is None:
            return None  # no limit / the default
        if name == "url_max_age" and value == 0:
            return 0.0  # never reuse tables made from URLs
        if not 0 < value < float("inf"):  # also refuses nan
            no_limit = {
                "timeout": " (or None: no limit)",
                "url_max_age": " (0: never reuse URL sources; None: the default)",
            }.get(name, "")
            raise TraitError(
                f"LassoMagics.{name} must be a positive number of seconds{no_limit}, got {value!r}"
            )
        return value

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.vars = VarOwners(lambda: self.shell.user_ns)

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
        "--valid-only",
        action="store_true",
        help="Leave out rows with validation errors (rows with warnings stay). "
        "Example: --valid-only",
    )
    @argument(
        "--no-widget",
        action="store_true",
        help="No progress display for this cell. Example: --no-widget",
    )
    @argument(
        "--refresh",
        action="store_true",
        help="Extract again even if an identical extraction was done before (later runs reuse "
        "the new table). Example: --refresh",
    )
    @argument(
        "--no-reuse",
        action="store_true",
        help="Neither reuse an earlier table nor record this one for reuse. Example: --no-reuse",
    )
    @argument(
        "--per-file",
        action="store_true",
        help="One table per file or URL, combined into one DataFrame with a _source column "
        "(more than 10 files or URLs make such a batch of tables of up to 10 by themselves). "
        "Example: --file 'catalogs/*.pdf' --per-file",
    )
    @argument(
        "--strict",
        action="store_true",
        help="Fail the cell when any file or URL fails (VAR stays as it was); by default the "
        "other files' rows are kept and the failures are listed. Example: --strict",
    )
    @line_cell_magic
    def lasso_table(self, line: str, cell: str | None = None) -> Any:
        """Extract a table with Lasso and get it as a typed DataFrame.

        The cell body is the source text (sent exactly as written); or give --file / --url.
        Blocking by default: the progress widget shows, the cell waits, then the DataFrame is
        stored in VAR (or is the cell's result). Ctrl-C / stop ends the wait, not the table.
        Running the same cell again reuses the table it made (no new extraction) as long as
        the source, schema and options are the same; --refresh extracts again.
        More than 10 files or URLs (or --per-file) run as a batch of tables with one DataFrame
        and a _source column; files that fail are listed, the others' rows kept (--strict:
        the cell fails instead).
        $name and {expression} in the magic line expand as in any IPython magic (quote values
        holding {expression} with double quotes: IPython skips $ inside single quotes).

        Examples::

            %%lasso_table products --schema Products
            Acme anvil, 12 kg, $49.90 ...

            %lasso_table products --schema Products --file 'catalogs/*.pdf' --background
            %lasso_table products --schema Products --file 'catalogs/*.pdf' --per-file --strict
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
        check_batch_options(args, text)
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
        shape = {
            "poll_cap": self.poll_cap,
            "rate_limit_budget": self.rate_limit_budget,
            "labels": args.labels,
            "meta": args.meta,
        }
        # What a table and a batch alike are created with.
        creation = {
            "context": args.context,
            "enhance": args.enhance,
            "webhook": args.webhook,
            "reuse": False if args.no_reuse or not self.reuse else None,
            "refresh": args.refresh,
            "url_max_age": self.url_max_age,
        }
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
        if schema is not None and wants_batch(args, files):
            view = View(args.labels, args.meta, copy=False, valid_only=args.valid_only)
            options = {**creation, **shape}
            return run_batch(self, args, var, files, schema, client, progress, view, options)
        if args.attach:
            job = jobs.attach(args.attach, client=client, progress=progress, **shape)
        else:
            job = jobs.submit(
                schema,
                args.name or var,  # None: submit names it "notebook extraction <time>"
                text=text,
                files=files,
                urls=args.url or None,
                client=client,
                progress=progress,
                **creation,
                **shape,
            )
            job.refresh_hint = "--refresh"

        # An attached job may be one this kernel already follows, with its own DataFrame shape
        # and a DataFrame another variable holds: this cell gets its shape, in its own copy.
        view = View(args.labels, args.meta, copy=bool(args.attach), valid_only=args.valid_only)
        if var is not None:
            self.vars.claim(var, job)
        if args.background:
            return self._background(job, var, progress, view)
        return self._block(job, var, progress, args.timeout or self.timeout, view)

    def _background(self, job: TableJob, var: str | None, progress: bool, view: View) -> Any:
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
        self, job: TableJob, var: str | None, progress: bool, timeout: float | None, view: View
    ) -> Any:
        try:
            # quiet: the message is ours (it knows about VAR), not the job's generic hint.
            job.wait(timeout, quiet=True)
            # No UnparsedValuesWarning: the cell shows the same in its validation line and note.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnparsedValuesWarning)
                result = job.result(
                    quiet=True, labels=view.labels, meta=view.meta, valid_only=view.valid_only
                )
            df = view.of(result)
        except KeyboardInterrupt:  # jobs.JobInterrupted, or a Ctrl-C between two slices
            raise MagicError(*self._went_on(job, var, "Interrupted", view)) from None
        except WaitTimeoutError:
            raise MagicError(
                *self._went_on(job, var, f"Still {job.status} after {timeout:g} s", view)
            ) from None
        except BaseException:
            if var is not None:
                self.vars.release(var, job)  # failed or detached: VAR stays as it was
            raise
        if job.reused and progress_mode(progress) == "none":
            print(job.reuse_message)  # no widget or status line says it
        if var is None:
            return df
        # The newest claim on VAR is this cell's (the main thread waited here), so it stores.
        self._store(var, df, job, newest=True)
        if not progress:
            print(f"→ {var} ({_rows(len(df))}, table {job.id})")
            _print_outcome(job)
        return None

    def _went_on(self, job: TableJob, var: str | None, what: str, view: View) -> list[str]:
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

    def _assign(self, job: TableJob, var: str, view: View) -> None:
        """Done-callback (on the runtime thread): store the frame in VAR, unless a newer cell
        has taken the variable over meanwhile or the job did not complete. Without a widget
        the outcome is printed, so a background failure is never silent
        (docs/architecture.md §3)."""
        df = job.frame(labels=view.labels, meta=view.meta, valid_only=view.valid_only)
        if df is None:
            if not self.vars.release(var, job):
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
            note = " · ".join(part for part in (job.reuse_message, job.note) if part)
            print(note, file=sys.stderr if df is None else sys.stdout)
            if df is not None:
                _print_outcome(job)

    def _store(self, var: str, df: pd.DataFrame, job: TableJob, *, newest: bool = False) -> bool:
        """Store ``df`` in VAR if ``job`` still owns it (see ``VarOwners.store``) and say so
        under the job's progress display. True if stored."""
        if not self.vars.store(var, df, job, newest=newest):
            return False
        unparsed = unparsed_summary(df)
        job.note = f"→ {var} ({_rows(len(df))}" + (f"; {unparsed})" if unparsed else ")")
        return True

    # ------------------------------------------------------------------ %lasso

    @magic_arguments()
    @argument(
        "command",
        choices=["schemas", "schema", "tables", "jobs", "config", "delete", "prune", "wait"],
        help="schemas, schema (one, or create), tables, jobs (this kernel's), config, delete, "
        "prune, or wait (for background jobs). Example: %%lasso tables",
    )
    @argument(
        "args",
        nargs="*",
        metavar="ARG",
        help="schema: NAME, or create NAME COLUMN…; delete: TABLE_ID…; wait: the variables of "
        "background cells (default: every running job). "
        "Example: %%lasso schema create Prices sku:text! price:number",
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
    @argument(
        "--older-than",
        metavar="AGE",
        help="prune: tables created more than AGE ago (s, m, h, d, w). "
        "Example: %%lasso prune --older-than 7d",
    )
    @argument(
        "--dry-run",
        action="store_true",
        help="prune / delete: say what would be deleted, delete nothing. Example: --dry-run",
    )
    @argument(
        "--description",
        metavar="TEXT",
        help="schema create: the schema's description. Example: --description 'Q1 prices'",
    )
    @argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="wait: give up waiting after SECONDS (the jobs go on). Example: --timeout 600",
    )
    @line_magic
    def lasso(self, line: str) -> Any:
        """Quick listings as DataFrames, schemas from the notebook, housekeeping and the
        effective configuration.

        Examples::

            %lasso schemas
            %lasso schema Products
            %lasso schema create "Price list" sku:text! name price:number category:enum(A|B)
            %lasso tables --search catalog --status completed
            %lasso jobs
            %lasso delete tbl_8f2c tbl_91aa
            %lasso prune --older-than 7d --status failed --dry-run
            %lasso config
            %lasso wait                  # every running job of this kernel
            %lasso wait products prices  # the background cells that set these
        """
        args = parse(self.lasso, line, "lasso")
        try:
            if args.args and args.command not in ("schema", "delete", "wait"):
                raise MagicError(
                    f"%lasso {args.command}: unexpected {' '.join(args.args)!r} "
                    "(see %lasso? for the options)"
                )
            if args.command == "wait":
                lasso_wait(self.vars, args.args, timeout=args.timeout, progress=self.widget)
                return None
            if args.command == "config":
                print(self.config_text())
                return None
            if args.command == "jobs":
                return self.jobs_frame()
            if args.limit <= 0:
                raise MagicError("%lasso: --limit must be a positive number")
            client = self._client()
            if args.command == "schemas":
                return listings.schemas_frame(client, args.limit)
            if args.command == "schema":
                return schema_command(client, args.args, description=args.description)
            if args.command in ("delete", "prune"):
                print(self._housekeeping(client, args))
                return None
            return listings.tables_frame(client, args.limit, search=args.search, status=args.status)
        except MagicError:
            raise
        except LassoError as exc:
            raise MagicError(*user_message(exc, magic="lasso")) from None

    def _housekeeping(self, client: Lasso, args: Any) -> str:
        if args.command == "delete":
            return housekeeping.delete_tables(client, args.args, dry_run=args.dry_run)
        return housekeeping.prune_tables(
            client, older_than=args.older_than, status=args.status, dry_run=args.dry_run
        )

    def jobs_frame(self) -> pd.DataFrame:
        """This kernel's jobs, with the variable each cell meant them for."""
        return listings.jobs_frame(self.vars.targets())

    def config_text(self) -> str:
        """The effective configuration, key masked; does not start the embedded engine."""
        return listings.config_text(self)


# --------------------------------------------------------------------------- small helpers


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _print_outcome(job: TableJob) -> None:
    """Without a widget, the validation summary and the extraction report under the result."""
    for line in outcome_lines(job.table, job.df):
        if line:
            print(line)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics. ``Magics.__init__`` adds the instance to ``shell.configurables``,
    which is what makes ``%config LassoMagics.default_schema = ...`` reach it."""
    ipython.register_magics(LassoMagics(shell=ipython))
