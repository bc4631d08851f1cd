"""The reuse index: a small SQLite file in the data dir that maps an extraction's fingerprint to
the table made from it. It holds digests, table ids and names, schema ids and times — never a
key and never source text. Several kernels use it at once (WAL journal, a busy timeout, every
claim in one IMMEDIATE transaction). A broken index (corrupt, unwritable, locked) is reported
in one line per process and reads as "no reuse": it never stops an extraction."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CLAIM_STALE_AFTER",
    "INDEX_FILE",
    "Claim",
    "Entry",
    "Request",
    "ReuseIndex",
    "disable",
    "open_index",
]

log = logging.getLogger("lasso_notebook")

INDEX_FILE = "reuse-index.sqlite3"
#: The layout below; a file written by a newer layout is left alone (no reuse).
SCHEMA_VERSION = 1
#: Seconds a statement waits for another kernel's transaction (they last milliseconds).
BUSY_TIMEOUT = 5.0
#: A pending create whose holder has not touched it for this long is abandoned: its kernel died
#: or hung. Holders touch their claim every few seconds (``_reuse.HEARTBEAT``).
CLAIM_STALE_AFTER = 30.0

_LAYOUT = """
CREATE TABLE IF NOT EXISTS entries (
    fingerprint TEXT PRIMARY KEY,
    state TEXT NOT NULL,            -- pending | lost | done
    table_id TEXT,                  -- set once done
    name TEXT NOT NULL,             -- the name the table was (or is being) created under
    schema_id TEXT NOT NULL,
    source_kind TEXT NOT NULL,      -- text | files | urls
    source_count INTEGER NOT NULL,
    claimed_at REAL NOT NULL,       -- when the create was claimed (time.time())
    touched_at REAL NOT NULL,       -- the holder's last sign of life
    token TEXT NOT NULL,            -- which job holds the claim
    recorded_at REAL,               -- when the table id was recorded
    table_created_at TEXT           -- the server's created_at of the table (ISO 8601)
);
CREATE INDEX IF NOT EXISTS entries_table_id ON entries (table_id);
"""


@dataclass(frozen=True)
class Entry:
    """One row of the index."""

    fingerprint: str
    state: Literal["pending", "lost", "done"]
    table_id: str | None
    name: str
    schema_id: str
    source_kind: str
    source_count: int
    claimed_at: float
    touched_at: float
    token: str
    recorded_at: float | None
    table_created_at: str | None


@dataclass(frozen=True)
class Claim:
    """The outcome of ``ReuseIndex.claim``:

    - ``hit``: a table was recorded for the fingerprint (``entry``); verify it, then attach.
    - ``busy``: another job is creating it right now; ask again shortly.
    - ``mine``: nobody had it; this job now holds the claim and creates the table.
    - ``recover``: this job took over an abandoned or lost create (``entry``): look for the
      table that create may have made before making one (``_reuse.find_pending_table``).
    """

    kind: Literal["hit", "busy", "mine", "recover"]
    entry: Entry | None = None


@dataclass(frozen=True)
class Request:
    """What a claim records about the create it announces."""

    name: str
    schema_id: str
    source_kind: str
    source_count: int


class IndexBroken(Exception):
    """The index cannot be used; the message says why."""


class ReuseIndex:
    """The index file of one data dir; one connection per process, guarded by a lock (the
    methods are called from worker threads, never on an event loop)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = _connect(path)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    # -- reading -------------------------------------------------------------------------------

    def get(self, fingerprint: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM entries WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
        return _entry(row)

    def orphans(self, prefix: str) -> list[Entry]:
        """The entries whose key starts with ``prefix`` and whose create may have made a table
        nobody recorded: lost, or pending while its holder stopped touching it. Oldest first."""
        stale = time.time() - CLAIM_STALE_AFTER
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM entries WHERE substr(fingerprint, 1, ?) = ? AND (state = 'lost'"
                " OR (state = 'pending' AND touched_at < ?)) ORDER BY claimed_at",
                (len(prefix), prefix, stale),
            ).fetchall()
        return [entry for entry in map(_entry, rows) if entry is not None]

    def table_ids(self) -> set[str]:
        """Every table id the index knows (a lost create's look-up must not take one of them)."""
        with self._lock:
            rows = self._db.execute("SELECT table_id FROM entries WHERE table_id IS NOT NULL")
            return {row[0] for row in rows}

    # -- claims --------------------------------------------------------------------------------

    def claim(
        self,
        fingerprint: str,
        request: Request,
        token: str,
        *,
        force: bool = False,
        replace_table: str | None = None,
    ) -> Claim:
        """Look the fingerprint up and, when nobody holds it, claim its create for ``token``,
        in one transaction (two kernels asking at once: one gets ``mine``, the other ``busy``).

        ``force`` claims over a recorded table and over a live claim (``refresh``, or a wait
        that ran out), but a lost or abandoned create is still recovered first: the table it
        may have made is the fresh extraction asked for. ``replace_table`` claims over a
        recorded table that turned out unusable (deleted, failed, a URL source too old),
        unless someone replaced it meanwhile. A recovered claim keeps the name and ``claimed_at``
        of the create it recovers (the look-up reaches back to the first create that may have
        made the table); claiming again with the same token, once the look-up found nothing,
        records this job's own create instead."""
        now = time.time()
        with self._transaction() as db:
            entry = _entry(
                db.execute("SELECT * FROM entries WHERE fingerprint = ?", (fingerprint,)).fetchone()
            )
            kind: Literal["hit", "busy", "mine", "recover"] = "mine"
            if entry is not None:
                if entry.state == "done":
                    if not force and entry.table_id != replace_table:
                        return Claim("hit", entry)
                elif entry.state == "lost":
                    kind = "recover"
                elif entry.token != token:  # someone else's pending create
                    if now - entry.touched_at >= CLAIM_STALE_AFTER:
                        kind = "recover"  # its holder stopped touching it
                    elif not force:
                        return Claim("busy", entry)
            name, claimed_at = request.name, now
            if kind == "recover" and entry is not None:
                name, claimed_at = entry.name, entry.claimed_at
            db.execute(
                "INSERT OR REPLACE INTO entries (fingerprint, state, table_id, name, schema_id,"
                " source_kind, source_count, claimed_at, touched_at, token, recorded_at,"
                " table_created_at) VALUES (?, 'pending', NULL, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    fingerprint,
                    name,
                    request.schema_id,
                    request.source_kind,
                    request.source_count,
                    claimed_at,
                    now,
                    token,
                ),
            )
        return Claim(kind, entry if kind == "recover" else None)

    def touch(self, fingerprint: str, token: str) -> bool:
        """The holder is alive: keeps its claim from counting as abandoned."""
        with self._transaction() as db:
            db.execute(
                "UPDATE entries SET touched_at = ? WHERE fingerprint = ? AND token = ?"
                " AND state = 'pending'",
                (time.time(), fingerprint, token),
            )
        return True

    def complete(
        self,
        fingerprint: str,
        request: Request,
        token: str,
        table_id: str,
        table_created_at: str | None,
    ) -> bool:
        """The table exists: record it. Also over a claim someone took over meanwhile (they
        thought this job dead): the newest table wins, as with ``refresh``."""
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO entries (fingerprint, state, table_id, name, schema_id,"
                " source_kind, source_count, claimed_at, touched_at, token, recorded_at,"
                " table_created_at) VALUES (?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fingerprint,
                    table_id,
                    request.name,
                    request.schema_id,
                    request.source_kind,
                    request.source_count,
                    now,
                    now,
                    token,
                    now,
                    table_created_at,
                ),
            )
        return True

    def release(self, fingerprint: str, token: str) -> bool:
        """The create failed and made no table: drop the claim."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM entries WHERE fingerprint = ? AND token = ? AND state = 'pending'",
                (fingerprint, token),
            )
        return True

    def mark_lost(self, fingerprint: str, token: str) -> bool:
        """The create may have made a table whose id never arrived (a lost response): the next
        job with this fingerprint looks for it before creating one."""
        with self._transaction() as db:
            db.execute(
                "UPDATE entries SET state = 'lost' WHERE fingerprint = ? AND token = ?"
                " AND state = 'pending'",
                (fingerprint, token),
            )
        return True

    def forget_table(self, table_id: str) -> bool:
        """Drop the entries of a table that is gone (deleted on the server)."""
        with self._transaction() as db:
            db.execute("DELETE FROM entries WHERE table_id = ?", (table_id,))
        return True

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    new = not path.exists()
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    try:
        if new:
            # Table ids and names are nobody else's business (the engine's files are 0600 too).
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise IndexBroken("it was written by a newer lasso_notebook")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            # One transaction: a kernel opening the file at the same moment sees all or nothing.
            db.executescript(
                f"BEGIN IMMEDIATE; {_LAYOUT} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        db.execute("SELECT count(*) FROM entries").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _entry(row: Any) -> Entry | None:
    if row is None:
        return None
    return Entry(*row)


# -------------------------------------------------------------------------- one index per path

_indexes: dict[Path, ReuseIndex | None] = {}
_indexes_lock = threading.Lock()
_warned = False


def open_index(data_dir: Path) -> ReuseIndex | None:
    """The index of ``data_dir``, opened once per process; None (after one warning line per
    process) when it cannot be used."""
    path = data_dir / INDEX_FILE
    with _indexes_lock:
        if path in _indexes:
            return _indexes[path]
        try:
            index: ReuseIndex | None = ReuseIndex(path)
        except (sqlite3.Error, OSError, IndexBroken) as exc:
            warn_broken(path, exc)
            index = None
        _indexes[path] = index
        return index


def disable(index: ReuseIndex, exc: BaseException) -> None:
    """An index that failed while in use is not used again in this process."""
    with _indexes_lock:
        if _indexes.get(index.path) is index:
            _indexes[index.path] = None
    warn_broken(index.path, exc)
    index.close()


def warn_broken(path: Path, exc: BaseException) -> None:
    """One line per process, however many jobs find the index broken."""
    global _warned
    log.debug("reuse index %s unusable", path, exc_info=exc)
    if _warned:
        return
    _warned = True
    reason = str(exc) or type(exc).__name__
    print(
        f"lasso_notebook: the reuse index {path} cannot be used ({reason}); extracting without "
        "reuse in this session. Delete the file to start a new index.",
        file=sys.stderr,
    )


def _forget_after_fork() -> None:
    # A connection must not cross a fork: the child opens its own.
    global _indexes_lock
    _indexes.clear()
    _indexes_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
