"""The engine's SQLite database: one connection per thread, transactions, the schema and its
migrations, ids, timestamps and the JSON helpers every part of the store shares."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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

#: The owner-scoped tables ``Database._delete`` may name (never user input).
_OWNED_TABLES = frozenset({"schemas", "files", "tables"})


def now_iso() -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (lasso-api.md §2.1)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def hash_key(raw: str) -> str:
    # Only hashes are stored: a copied database does not leak usable keys.
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


# Encoders made once: json.dumps with any non-default option builds a new encoder per call,
# and rows are encoded twice each (data, validation errors), 100,000s of times per big table.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_encode_finite = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def dumps(value: Any) -> str:
    return _encode(value)


def dumps_finite(value: Any) -> str:
    """``dumps(clean_json(value))`` without walking every value first: extracted rows almost
    never hold NaN/Infinity, and the walk cost ~1 s per 100,000 rows."""
    try:
        return _encode_finite(value)
    except ValueError:
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

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA_SQL)
        # Added after the first release: data dirs created before get the column here.
        if "extraction_report" not in {r[1] for r in conn.execute("PRAGMA table_info(tables)")}:
            conn.execute("ALTER TABLE tables ADD COLUMN extraction_report TEXT")
        # Row provenance (file, sheet, page, line as JSON); NULL for rows written before it.
        if "source" not in {r[1] for r in conn.execute("PRAGMA table_info(rows)")}:
            conn.execute("ALTER TABLE rows ADD COLUMN source TEXT")

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

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):  # closing is best effort
                conn.close()
