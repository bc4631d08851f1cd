"""Housekeeping from the notebook: ``%lasso delete TABLE_ID…`` and ``%lasso prune`` (tables by
age and status, ``--dry-run`` first if you like), each ending in one line that says what was
removed; and the embedded engine's data-dir size for ``%lasso config``."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import jobs
from ._human import size_text
from ._magic_errors import MagicError
from .errors import NotFoundError

if TYPE_CHECKING:
    from .client import Lasso
    from .models import Table, TableSummary

__all__ = ["data_dir_line", "delete_tables", "parse_age", "prune_tables"]

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*$", re.IGNORECASE)
#: Ids named in a confirmation line before "and N more".
SHOWN_IDS = 10
#: Files walked at most to size a data dir (a huge one is reported as "at least").
MAX_SIZED_FILES = 200_000


def parse_age(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``2w``, ``90s`` (a bare number is days)."""
    found = _AGE.match(text or "")
    if not found or float(found[1]) <= 0:
        raise MagicError(
            f"%lasso prune: --older-than {text!r} is not an age; write e.g. 7d, 12h, 30m or 2w"
        )
    return timedelta(seconds=float(found[1]) * _UNITS[(found[2] or "d").lower()])


def _stop_following(table_ids: set[str]) -> None:
    """This kernel's jobs on those tables stop polling them (they would fail with a 404)."""
    for job in jobs.jobs():
        if job.id in table_ids and not job.done():
            job.detach()


def _delete(client: Lasso, tables: list[Any]) -> None:
    _stop_following({t.id for t in tables})
    for table in tables:
        with contextlib.suppress(NotFoundError):  # deleted meanwhile: gone either way
            client.tables.delete(table.id)


def _listed(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def delete_tables(client: Lasso, table_ids: list[str], *, dry_run: bool = False) -> str:
    """Delete tables by id; the line names each with its name and rows, and the ids that
    were not found."""
    if not table_ids:
        raise MagicError("%lasso delete: name the tables to delete: %lasso delete TABLE_ID …")
    ids = list(dict.fromkeys(table_ids))
    found: list[Table] = []
    missing: list[str] = []
    for table_id in ids:
        try:
            found.append(client.tables.get(table_id))
        except NotFoundError:
            missing.append(table_id)
    if not found:
        raise MagicError(
            f"%lasso delete: no table {_listed(missing)} (not found); %lasso tables lists them"
        )
    if not dry_run:
        _delete(client, found)
    rows = sum(t.total_rows for t in found)
    verb = "would delete" if dry_run else "deleted"
    named = ", ".join(
        f"{t.id} ({t.name!r}, {_count(t.total_rows, 'row')})" for t in found[:SHOWN_IDS]
    )
    if len(found) > SHOWN_IDS:
        named += f" and {len(found) - SHOWN_IDS} more"
    line = f"{verb} {_count(len(found), 'table')} ({_count(rows, 'row')}): {named}"
    if missing:
        line += f"; not found: {_listed(missing)}"
    return line


def prune_tables(
    client: Lasso, *, older_than: str | None, status: str | None, dry_run: bool = False
) -> str:
    """Delete the tables created more than ``older_than`` ago and/or with ``status``. Tables
    still queued or processing are left alone unless ``status`` names them."""
    if older_than is None and status is None:
        raise MagicError(
            "%lasso prune: say what to remove: --older-than 7d and/or --status failed "
            "(add --dry-run to see the list first)"
        )
    cutoff = datetime.now(timezone.utc) - parse_age(older_than) if older_than else None
    wanted = status.strip().lower() if status else None
    chosen: list[TableSummary] = []
    for table in client.tables.list(limit=100):
        if wanted is not None and wanted not in (table.status.lower(), table.phase.value):
            continue
        if wanted is None and not table.is_terminal:
            continue  # running work is never pruned by age alone
        if cutoff is not None and (table.created_at is None or _utc(table.created_at) > cutoff):
            continue
        chosen.append(table)
    criteria = " and ".join(
        text
        for text in (
            f"with status {status}" if status else "",
            f"older than {older_than}" if older_than else "",
        )
        if text
    )
    if not chosen:
        return f"nothing to prune: no table {criteria}"
    if not dry_run:
        _delete(client, chosen)
    by_phase: dict[str, int] = {}
    for table in chosen:
        by_phase[table.status] = by_phase.get(table.status, 0) + 1
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(by_phase.items()))
    rows = sum(t.total_rows for t in chosen)
    verb = "would delete" if dry_run else "deleted"
    return (
        f"{verb} {_count(len(chosen), 'table')} {criteria} ({kinds}; "
        f"{_count(rows, 'row')}): {_listed([t.id for t in chosen])}"
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------- data dir size


def _engine_module() -> Any:
    # Only an engine that is already running: %lasso config must not start one.
    return sys.modules.get("lasso_notebook.server")


def data_dir_line() -> str | None:
    """``data_dir        /home/me/.lasso_notebook (228 MiB)`` for the embedded engine: the
    running engine's (its ``data_dir_size()`` when it has one), else the folder it would use."""
    module = _engine_module()
    engine = getattr(module, "_embedded", None) if module is not None else None
    if engine is not None and getattr(engine, "running", False):
        folder = Path(engine.data_dir)
        measure = getattr(engine, "data_dir_size", None)
        size = measure() if callable(measure) else None
        if not isinstance(size, int):
            size = folder_size(folder)
    else:
        from .server.engine import resolve_data_dir

        folder = resolve_data_dir()
        size = folder_size(folder) if folder.is_dir() else None
    shown = "empty, not created yet" if size is None else size_text(size)
    return f"data_dir        {folder} ({shown})"


def folder_size(folder: Path) -> int:
    """Bytes of the files under ``folder`` (links not followed; unreadable entries skipped)."""
    total = 0
    seen = 0
    stack = [folder]
    while stack and seen < MAX_SIZED_FILES:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total
