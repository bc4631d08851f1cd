"""``%lasso_table`` with more than 10 files or URLs, ``--per-file`` or ``--strict`` runs a batch:
``VAR`` gets its one DataFrame and the cell prints the files that failed (``2 of 37 files failed:
a.pdf (…), …``); with ``--strict`` a failed file fails the cell and ``VAR`` stays as it was."""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any

from ._batch import BatchJob, submit_batch
from ._display import progress_mode
from ._magic_errors import MagicError, user_message
from ._plan import MAX_SOURCES
from ._validation import summary_line
from .errors import BatchFailedError, UnparsedValuesWarning, WaitTimeoutError
from .frames import unparsed_summary

if TYPE_CHECKING:
    import pandas as pd

    from ._magic_vars import View
    from .client import Lasso
    from .magics import LassoMagics
    from .models import Schema

__all__ = ["check_batch_options", "run_batch", "wants_batch"]


def check_batch_options(args: Any, text: str | None) -> None:
    """``--per-file`` and ``--strict`` are about files and URLs."""
    for flag, given in (("--per-file", args.per_file), ("--strict", args.strict)):
        if not given:
            continue
        if args.attach:
            raise MagicError(f"%lasso_table: {flag} is for new tables; drop it or drop --attach")
        if text is not None:
            raise MagicError(
                f"%lasso_table: {flag} is about files and URLs; the cell body is one text "
                "(use --file or --url, or drop it)"
            )


def wants_batch(args: Any, files: list[str] | None) -> bool:
    """More files or URLs than a table takes, one table per file, or ``--strict``."""
    count = len(files or []) + len(args.url or [])
    return bool(args.per_file or args.strict or count > MAX_SOURCES)


def run_batch(
    magics: LassoMagics,
    args: Any,
    var: str | None,
    files: list[str] | None,
    schema: Schema,
    client: Lasso,
    progress: bool,
    view: View,
    options: dict[str, Any],
) -> Any:
    """Start the batch, then wait for it (or, with ``--background``, set VAR when done).
    ``options``: what the magic creates a table with (contexts, reuse, polling, shape)."""
    batch = submit_batch(
        schema,
        files=files or None,
        urls=args.url or None,
        per_file=args.per_file,
        name=args.name or var,
        client=client,
        progress=progress,
        valid_only=args.valid_only,
        strict=args.strict,
        **options,
    )
    batch.refresh_hint = "--refresh"
    if var is not None:
        magics.vars.claim(var, batch)  # type: ignore[arg-type]
    if args.background:
        return _background(magics, batch, var, progress, view)
    return _block(magics, batch, var, progress, args.timeout or magics.timeout, view)


def _block(
    magics: LassoMagics,
    batch: BatchJob,
    var: str | None,
    progress: bool,
    timeout: float | None,
    view: View,
) -> Any:
    try:
        batch.wait(timeout, quiet=True)
    except KeyboardInterrupt:
        raise MagicError(*_went_on(magics, batch, var, "Interrupted", view)) from None
    except WaitTimeoutError:
        raise MagicError(
            *_went_on(magics, batch, var, f"Still running after {timeout:g} s", view)
        ) from None
    error = batch.error
    if error is not None:
        if var is not None:
            magics.vars.release(var, batch)  # type: ignore[arg-type]
        raise MagicError(*_failed(batch, error, var)) from None
    with warnings.catch_warnings():
        # The cell says the same in its validation line and note.
        warnings.simplefilter("ignore", UnparsedValuesWarning)
        df = view.of(batch.result(labels=view.labels, meta=view.meta, valid_only=view.valid_only))
    if batch.reuse_message and progress_mode(progress) == "none":
        print(batch.reuse_message)  # no widget or status line says it
    if var is not None:
        _store(magics, var, df, batch, newest=True)
    if not progress:
        if var is not None:
            print(batch.note)
        _print_outcome(batch)
    elif batch.failures and progress_mode(progress) == "widget":
        print(batch.failure_summary())  # the widget shows them too; the cell's output keeps them
    return df if var is None else None


def _background(
    magics: LassoMagics, batch: BatchJob, var: str | None, progress: bool, view: View
) -> Any:
    if var is None:
        return batch  # the cell's result: IPython displays it
    batch.note = f"→ {var} when complete"
    batch.add_done_callback(lambda done: _assign(magics, done, var, view))
    if progress:
        from IPython.display import display

        display(batch)
    else:
        print(f"{var} will be set when the batch completes")
    return None


def _went_on(
    magics: LassoMagics, batch: BatchJob, var: str | None, what: str, view: View
) -> list[str]:
    """The batch keeps running after an interrupt or a timeout; say how to get it."""
    if var is not None:
        batch.note = f"→ {var} when complete"
        batch.add_done_callback(lambda done: _assign(magics, done, var, view))
        return [
            f"{what}: the batch goes on in the background; {var} will be set when it completes."
        ]
    return [
        f"{what}: the batch goes on in the background.",
        "Run the cell again with a VAR to get it: its tables are reused.",
    ]


def _assign(magics: LassoMagics, batch: BatchJob, var: str, view: View) -> None:
    """Done-callback (on the runtime thread): store the frame in VAR unless a newer cell took
    the variable over or the batch gave no frame; without a widget, print the outcome."""
    df = None
    if batch.error is None:
        df = batch.frame(labels=view.labels, meta=view.meta, valid_only=view.valid_only)
    if df is None:
        if not magics.vars.release(var, batch):  # type: ignore[arg-type]
            batch.note = f"{var} not set: a newer cell assigned it"
        elif batch.detached:
            batch.note = f"{var} not set: detached"
        else:
            batch.note = f"{var} not set: " + (
                "a file failed (--strict)"
                if isinstance(batch.error, BatchFailedError) and batch.failures
                else "no table completed"
            )
            if batch.widget is None and batch.error is not None:
                for line in _failed(batch, batch.error, var):
                    print(line, file=sys.stderr)
    elif not _store(magics, var, view.of(df), batch):
        batch.note = f"{var} not set: a newer cell assigned it"
    if batch.widget is None:
        note = " · ".join(part for part in (batch.reuse_message, batch.note) if part)
        print(note, file=sys.stderr if df is None else sys.stdout)
        if df is not None:
            _print_outcome(batch)


def _store(
    magics: LassoMagics, var: str, df: pd.DataFrame, batch: BatchJob, *, newest: bool = False
) -> bool:
    if not magics.vars.store(var, df, batch, newest=newest):  # type: ignore[arg-type]
        return False
    tables = len(batch.jobs)
    unparsed = unparsed_summary(df)
    batch.note = (
        f"→ {var} ({len(df):,} row{'s' * (len(df) != 1)} from {tables} table{'s' * (tables != 1)}"
        + (f"; {unparsed})" if unparsed else ")")
    )
    return True


def _print_outcome(batch: BatchJob) -> None:
    """Without a widget: the failed files, then the validation line."""
    if batch.failures:
        print(batch.failure_summary())
    df = batch.df
    if df is not None:
        line = summary_line((df.attrs.get("lasso") or {}).get("validation"))
        if line:
            print(line)


def _failed(batch: BatchJob, error: BaseException, var: str | None) -> list[str]:
    """The cell's error in a line: the failed files (``--strict``, or no table completed), or
    the API error that stopped every table, with its advice."""
    kept = f"; {var} was not set" if var is not None else ""
    if isinstance(error, BatchFailedError):
        line = batch.failure_summary() or str(error)
        if batch.strict and batch.completed_tables:
            line = line.replace(" failed: ", " failed (--strict): ", 1)
        return [f"%lasso_table: {line}{kept}"]
    return user_message(error)
