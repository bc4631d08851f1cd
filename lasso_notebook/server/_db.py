"""The engine's SQLite database: one connection per thread, transactions, the schema and its
migrations, ids, timestamps and the JSON helpers every part of the store shares."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("lasso_notebook.server")

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY, key_hash TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schemas (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
    name TEXT NOT NULL, description TEXT, is_default INTEGER NOT NULL DEFAULT 0,
    columns TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS schemas_owner ON schemas(owner, seq);
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
    filename TEXT NOT NULL, size INTEGER NOT NULL, content_type TEXT,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_owner ON files(owner, seq);
CREATE TABLE IF NOT EXISTS tables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
    name TEXT NOT NULL, schema_id TEXT, columns TEXT NOT NULL,
    status TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0,
    total_rows INTEGER NOT NULL DEFAULT 0, source_type TEXT NOT NULL,
    source_text TEXT, source_refs TEXT, additional_context TEXT, enhancement_context TEXT,
    error_message TEXT, files TEXT NOT NULL DEFAULT '[]', webhook_url TEXT,
    webhook_headers TEXT, lease_owner TEXT, heartbeat REAL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tables_owner ON tables(owner, seq);
CREATE INDEX IF NOT EXISTS tables_status ON tables(status, seq);
CREATE TABLE IF NOT EXISTS rows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, table_id TEXT NOT NULL,
    row_index INTEGER NOT NULL, data TEXT NOT NULL, validation_status TEXT,
    validation_errors TEXT, enhancement_status TEXT, is_edited INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rows_table ON rows(table_id, row_index);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, table_id TEXT NOT NULL, url TEXT NOT NULL, event TEXT NOT NULL,
    body TEXT NOT NULL, headers TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL, status TEXT NOT NULL, last_error TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(status, next_at);
"""

#: Columns of ``tables`` added after the first release (``_migrate`` adds them when missing):
#: the finished table's extraction report, a note the client shows when an extraction had to
#: start over, and what a resumed extraction checks before keeping earlier rows.
_ADDED_TABLE_COLUMNS = ("extraction_report", "status_note", "resume_state", "validation_summary")
#: ``PRAGMA auto_vacuum`` value of INCREMENTAL.
_INCREMENTAL = 2
#: Pages freed per ``incremental_vacuum`` step (4 MB): each step is one short write lock.
_VACUUM_PAGES = 1024
#: Fewer free pages than this (1 MB) are left for reuse rather than given back.
_RECLAIM_MIN_PAGES = 256
#: The WAL file is cut back to this size after checkpoints (it grows during big writes).
_WAL_KEEP_BYTES = 4 << 20

#: The owner-scoped tables ``Database._delete`` may name (never user input).
_OWNED_TABLES = frozenset({"schemas", "files", "tables"})


def now_iso() -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (docs/architecture.md §6)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def next_row_seq(conn: sqlite3.Connection) -> int:
    """The ``seq`` of the next row inserted in the caller's write transaction; rows inserted
    together take the following ones and their ids from ``row_id``."""
    found = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'rows'").fetchone()
    return (found[0] if found else 0) + 1  # AUTOINCREMENT: above every seq ever used


def row_id(seq: int) -> str:
    """A row's id: its never-reused sequence number, ``row_`` + hex.

    About 10 bytes where a random id took 28, in the row and again in the unique index, and
    sequential ids append to that index instead of landing on a random page of it (inserts
    of a big table are faster). Rows are always reached through their table, so an id that
    can be guessed reveals nothing. Rows from before keep their random ids; both are unique.
    """
    return f"row_{seq:x}"


def hash_key(raw: str) -> str:
    # Only hashes are stored: a copied database does not leak usable keys.
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


# Encoders made once: json.dumps with any non-default option builds a new encoder per call,
# and it encodes every request's stored fields.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    return _encode(value)


def dumps_finite(value: Any) -> str:
    """``dumps(clean_json(value))``, for the rows a worker writes: orjson writes NaN/Infinity
    as null as ``clean_json`` does, and encodes a 100,000-row table about 5x faster than the
    stdlib encoder. What orjson refuses (an integer beyond 64 bits, a lone surrogate, a
    non-string key) takes the stdlib path."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return dumps(clean_json(value))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def clean_json(value: Any) -> Any:
    """Replace NaN/Infinity (accepted by Python's JSON parser, invalid in JSON) with null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def _casefold(value: Any) -> str | None:
    return None if value is None else str(value).casefold()


# Why stdlib sqlite3 (and not aiosqlite or an ORM): the engine is one process on one machine;
# SQLite in WAL mode gives durable, crash-safe storage with concurrent readers and one writer,
# needs no service and no extra dependency, and its json_extract lets rows be sorted on any
# column key. Every call is short and synchronous; the HTTP layer runs them in FastAPI's thread
# pool and the extraction workers in their own threads, so the event loop never waits on disk.
# Each thread gets its own connection; multi-statement writes use BEGIN IMMEDIATE so a writer
# never deadlocks on a lock upgrade; row inserts are batched per progress step.
class Database:
    """The database file and its per-thread connections; the base of every part of the store."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._migrate(self._conn())
        except BaseException:
            self.close()  # a database that cannot be set up leaves no connection behind
            raise

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # Only takes effect before a new database's first table; older ones are converted below.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")  # engines starting together migrate one after the other
        try:
            for statement in filter(str.strip, _SCHEMA_SQL.split(";")):
                conn.execute(statement)
            # Added after the first release: data dirs created before get the columns here.
            have = {r[1] for r in conn.execute("PRAGMA table_info(tables)")}
            for column in _ADDED_TABLE_COLUMNS:
                if column not in have:
                    conn.execute(f"ALTER TABLE tables ADD COLUMN {column} TEXT")
            # Row provenance (file, sheet, page, line as JSON); NULL for rows written before it.
            if "source" not in {r[1] for r in conn.execute("PRAGMA table_info(rows)")}:
                conn.execute("ALTER TABLE rows ADD COLUMN source TEXT")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != _INCREMENTAL:
            # A data dir from before incremental vacuum: one full VACUUM switches it over (and
            # compacts it), so deleted tables give their space back from now on.
            log.info("converting %s to incremental vacuum (once)", self.path)
            try:
                conn.execute("VACUUM")
            except sqlite3.OperationalError as exc:  # busy or disk full: retried next start
                log.warning("could not convert the database to incremental vacuum: %s", exc)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("the engine's store is closed")
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(f"PRAGMA journal_size_limit={_WAL_KEEP_BYTES}")
            conn.create_function("casefold", 1, _casefold, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self._conn().execute(sql, params).fetchone()

    def _paged(
        self, select: str, where: str, params: Sequence[Any], page: int, limit: int
    ) -> tuple[list[sqlite3.Row], int]:
        """One page (newest first) of ``SELECT {select} FROM {where}`` and the total count;
        ``where`` is ``"<table> WHERE ..."`` built from literals, values go in ``params``."""
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM {where}", params).fetchone()[0]
        offset = (page - 1) * limit
        if offset >= total:
            return [], total
        rows = conn.execute(
            f"SELECT {select} FROM {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
        return rows, total

    def _delete(self, table: str, owner: str, item_id: str, *, then: str | None = None) -> bool:
        """Delete one of ``owner``'s items; ``then`` (SQL taking the id) runs in the same
        transaction when something was deleted. False when there was nothing to delete."""
        assert table in _OWNED_TABLES
        with self.tx() as c:
            cur = c.execute(f"DELETE FROM {table} WHERE id = ? AND owner = ?", (item_id, owner))
            if cur.rowcount and then:
                c.execute(then, (item_id,))
        return cur.rowcount > 0

    def reclaim_space(self) -> None:
        """Give the pages that deletes freed back to the file system and cut the WAL file
        back, so the data dir shrinks after tables are deleted. Each step is a short write
        transaction; a database too busy to checkpoint now is checkpointed later by SQLite."""
        conn = self._conn()
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != _INCREMENTAL:
            return  # not converted yet (see _migrate): freed pages are reused, not returned
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        if free < _RECLAIM_MIN_PAGES:
            return  # a few rows deleted: their pages are simply reused
        while free:
            conn.execute(f"PRAGMA incremental_vacuum({_VACUUM_PAGES})").fetchall()
            left = conn.execute("PRAGMA freelist_count").fetchone()[0]
            if left >= free:
                break  # no headway (another delete is freeing pages): its own call ends it
            free = left
        conn.execute("PRAGMA busy_timeout=2000")  # never hold a request for long on readers
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError as exc:
            log.info("WAL checkpoint postponed: %s", exc)
        finally:
            conn.execute("PRAGMA busy_timeout=30000")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):  # closing is best effort
                conn.close()
