"""SQLite persistence for the embedded engine: keys, schemas, files, tables, rows and webhook
deliveries, all scoped per API key ("owner").

Why stdlib ``sqlite3`` (and not aiosqlite or an ORM): the engine is one process on one
machine; SQLite in WAL mode gives durable, crash-safe storage with concurrent readers and one
writer, needs no service and no extra dependency, and its ``json_extract`` lets rows be sorted
on any column key. Every call is short and synchronous; the HTTP layer runs them in FastAPI's
thread pool and the extraction workers in their own threads, so the event loop never waits on
disk. Each thread gets its own connection; multi-statement writes use ``BEGIN IMMEDIATE`` so a
writer never deadlocks on a lock upgrade; row inserts are batched per progress step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["PRODUCTS_COLUMNS", "Store", "new_id", "now_iso"]

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

#: The demo schema seeded for every key.
PRODUCTS_COLUMNS: list[dict[str, Any]] = [
    {"key": "name", "label": "Name", "type": "text", "required": True},
    {"key": "sku", "label": "SKU", "type": "text"},
    {"key": "brand", "label": "Brand", "type": "text"},
    {"key": "price", "label": "Price", "type": "number"},
    {"key": "currency", "label": "Currency", "type": "text"},
    {"key": "in_stock", "label": "In stock", "type": "boolean"},
    {"key": "release_date", "label": "Release date", "type": "date"},
    {"key": "tags", "label": "Tags", "type": "tags"},
    {"key": "url", "label": "URL", "type": "url"},
]

ACTIVE_STATUSES = ("queued", "processing")


def now_iso() -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (lasso-api.md §2.1)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def hash_key(raw: str) -> str:
    # Only hashes are stored: a copied database does not leak usable keys.
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _dumps_finite(value: Any) -> str:
    """``_dumps(clean_json(value))`` without walking every value first: extracted rows almost
    never hold NaN/Infinity, and the walk cost ~1 s per 100,000 rows."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        return _dumps(clean_json(value))


def _loads(text: str | None) -> Any:
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


class Store:
    """All persistent state. Thread-safe: one connection per thread, explicit transactions."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._owner_cache: dict[str, str] = {}
        self._closed = False
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA_SQL)
        # Added after the first release: data dirs created before get the column here.
        if "extraction_report" not in {r[1] for r in conn.execute("PRAGMA table_info(tables)")}:
            conn.execute("ALTER TABLE tables ADD COLUMN extraction_report TEXT")

    # -- plumbing -------------------------------------------------------------------------
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

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):  # closing is best effort
                conn.close()

    # -- keys -----------------------------------------------------------------------------
    def ensure_key_file(self, key_file: Path) -> str:
        """Read the local key, or create it (0600) on first start."""
        if key_file.exists():
            raw = key_file.read_text().strip()
            if self.owner_for_key(raw) is None:  # key file from elsewhere: register it
                self._register_key(raw)
            return raw
        raw = self.create_key()
        key_file.touch(mode=0o600)
        key_file.chmod(0o600)
        key_file.write_text(raw + "\n")
        return raw

    def create_key(self) -> str:
        raw = "lasso_" + secrets.token_hex(32)
        self._register_key(raw)
        return raw

    def _register_key(self, raw: str) -> None:
        owner = new_id("co")
        with self.tx() as c:
            c.execute(
                "INSERT INTO keys (id, key_hash, owner, created_at) VALUES (?, ?, ?, ?)",
                (new_id("key"), hash_key(raw), owner, now_iso()),
            )
        self.create_schema(owner, "Products", "Demo product schema", True, PRODUCTS_COLUMNS)

    def owner_for_key(self, raw: str) -> str | None:
        digest = hash_key(raw)
        owner = self._owner_cache.get(digest)
        if owner is None:
            row = self._one("SELECT owner FROM keys WHERE key_hash = ?", (digest,))
            if row is None:
                return None
            owner = self._owner_cache[digest] = row["owner"]
        return owner

    # -- schemas --------------------------------------------------------------------------
    @staticmethod
    def _schema(row: sqlite3.Row, summary: bool = False) -> dict[str, Any]:
        columns = _loads(row["columns"])
        out: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "is_default": bool(row["is_default"]),
        }
        if summary:
            out["columns_count"] = len(columns)
        else:
            out["columns"] = columns
        out["created_at"] = row["created_at"]
        out["updated_at"] = row["updated_at"]
        return out

    def list_schemas(self, owner: str, page: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        conn = self._conn()
        total = conn.execute("SELECT COUNT(*) FROM schemas WHERE owner = ?", (owner,)).fetchone()[0]
        offset = (page - 1) * limit
        if offset >= total:
            return [], total
        rows = conn.execute(
            "SELECT * FROM schemas WHERE owner = ? ORDER BY seq DESC LIMIT ? OFFSET ?",
            (owner, limit, offset),
        ).fetchall()
        return [self._schema(r, summary=True) for r in rows], total

    def create_schema(
        self,
        owner: str,
        name: str,
        description: str | None,
        is_default: bool,
        columns: list[dict[str, Any]],
    ) -> dict[str, Any]:
        sid, ts = new_id("schema"), now_iso()
        with self.tx() as c:
            if is_default:  # one default per owner
                c.execute("UPDATE schemas SET is_default = 0 WHERE owner = ?", (owner,))
            c.execute(
                "INSERT INTO schemas (id, owner, name, description, is_default, columns,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, owner, name, description, int(is_default), _dumps(columns), ts, ts),
            )
        schema = self.get_schema(owner, sid)
        assert schema is not None
        return schema

    def get_schema(self, owner: str, schema_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM schemas WHERE id = ? AND owner = ?", (schema_id, owner))
        return None if row is None else self._schema(row)

    def update_schema(
        self, owner: str, schema_id: str, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        allowed = {"name", "description", "is_default", "columns"}
        sets = {k: v for k, v in fields.items() if k in allowed}
        with self.tx() as c:
            if not c.execute(
                "SELECT 1 FROM schemas WHERE id = ? AND owner = ?", (schema_id, owner)
            ).fetchone():
                return None
            if sets.get("is_default"):
                c.execute("UPDATE schemas SET is_default = 0 WHERE owner = ?", (owner,))
            if "columns" in sets:
                sets["columns"] = _dumps(sets["columns"])
            if "is_default" in sets:
                sets["is_default"] = int(bool(sets["is_default"]))
            sets["updated_at"] = now_iso()
            assign = ", ".join(f"{k} = ?" for k in sets)  # keys come from `allowed` only
            c.execute(f"UPDATE schemas SET {assign} WHERE id = ?", (*sets.values(), schema_id))
        return self.get_schema(owner, schema_id)

    def delete_schema(self, owner: str, schema_id: str) -> bool:
        with self.tx() as c:
            cur = c.execute("DELETE FROM schemas WHERE id = ? AND owner = ?", (schema_id, owner))
        return cur.rowcount > 0

    # -- files ----------------------------------------------------------------------------
    @staticmethod
    def _file(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "filename": row["filename"],
            "size": row["size"],
            "content_type": row["content_type"],
            "created_at": row["created_at"],
        }

    def create_file(
        self, owner: str, file_id: str, filename: str, size: int, content_type: str
    ) -> dict[str, Any]:
        with self.tx() as c:
            c.execute(
                "INSERT INTO files (id, owner, filename, size, content_type, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (file_id, owner, filename, size, content_type, now_iso()),
            )
        found = self.get_file(owner, file_id)
        assert found is not None
        return found

    def get_file(self, owner: str, file_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM files WHERE id = ? AND owner = ?", (file_id, owner))
        return None if row is None else self._file(row)

    def list_files(self, owner: str, page: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        conn = self._conn()
        total = conn.execute("SELECT COUNT(*) FROM files WHERE owner = ?", (owner,)).fetchone()[0]
        offset = (page - 1) * limit
        if offset >= total:
            return [], total
        rows = conn.execute(
            "SELECT * FROM files WHERE owner = ? ORDER BY seq DESC LIMIT ? OFFSET ?",
            (owner, limit, offset),
        ).fetchall()
        return [self._file(r) for r in rows], total

    def delete_file(self, owner: str, file_id: str) -> bool:
        with self.tx() as c:
            cur = c.execute("DELETE FROM files WHERE id = ? AND owner = ?", (file_id, owner))
        return cur.rowcount > 0

    # -- tables ---------------------------------------------------------------------------
    @staticmethod
    def _table(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "schema_id": row["schema_id"],
            "status": row["status"],
            "progress": row["progress"],
            "total_rows": row["total_rows"],
            "source_type": row["source_type"],
            "additional_context": row["additional_context"],
            "enhancement_context": row["enhancement_context"],
            "error_message": row["error_message"],
            "files": _loads(row["files"]) or [],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        } | ({"extraction_report": _loads(report)} if (report := row["extraction_report"]) else {})

    def create_table(self, owner: str, **fields: Any) -> dict[str, Any]:
        tid, ts = new_id("tbl"), now_iso()
        with self.tx() as c:
            c.execute(
                "INSERT INTO tables (id, owner, name, schema_id, columns, status, source_type,"
                " source_text, source_refs, additional_context, enhancement_context, files,"
                " webhook_url, webhook_headers, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tid,
                    owner,
                    fields["name"],
                    fields["schema_id"],
                    _dumps(fields["columns"]),
                    fields["source_type"],
                    fields.get("source_text"),
                    _dumps(fields.get("source_refs") or []),
                    fields.get("additional_context"),
                    fields.get("enhancement_context"),
                    _dumps(fields.get("files") or []),
                    fields.get("webhook_url"),
                    _dumps(fields.get("webhook_headers") or {}),
                    ts,
                    ts,
                ),
            )
        table = self.get_table(owner, tid)
        assert table is not None
        return table

    def get_table(self, owner: str, table_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM tables WHERE id = ? AND owner = ?", (table_id, owner))
        return None if row is None else self._table(row)

    def table_columns(self, owner: str, table_id: str) -> list[dict[str, Any]] | None:
        row = self._one("SELECT columns FROM tables WHERE id = ? AND owner = ?", (table_id, owner))
        return None if row is None else _loads(row["columns"])

    def list_tables(
        self, owner: str, page: int, limit: int, search: str | None, status: str | None
    ) -> tuple[list[dict[str, Any]], int]:
        where, params = ["owner = ?"], [owner]
        if search:
            where.append("instr(casefold(name), ?) > 0")
            params.append(search.casefold())
        if status:
            where.append("status = ?")
            params.append(status)
        clause = " AND ".join(where)
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM tables WHERE {clause}", params).fetchone()[0]
        offset = (page - 1) * limit
        if offset >= total:
            return [], total
        rows = conn.execute(
            "SELECT id, name, status, progress, total_rows, schema_id, created_at, updated_at"
            f" FROM tables WHERE {clause} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
        return [dict(r) for r in rows], total

    def update_table(
        self, owner: str, table_id: str, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        allowed = {"name", "enhancement_context", "schema_id", "columns"}
        sets = {k: v for k, v in fields.items() if k in allowed}
        if "columns" in sets:
            sets["columns"] = _dumps(sets["columns"])
        sets["updated_at"] = now_iso()
        assign = ", ".join(f"{k} = ?" for k in sets)  # keys come from `allowed` only
        with self.tx() as c:
            cur = c.execute(
                f"UPDATE tables SET {assign} WHERE id = ? AND owner = ?",
                (*sets.values(), table_id, owner),
            )
        return self.get_table(owner, table_id) if cur.rowcount else None

    def delete_table(self, owner: str, table_id: str) -> bool:
        with self.tx() as c:
            cur = c.execute("DELETE FROM tables WHERE id = ? AND owner = ?", (table_id, owner))
            if cur.rowcount:
                c.execute("DELETE FROM rows WHERE table_id = ?", (table_id,))
        return cur.rowcount > 0

    # -- worker side ----------------------------------------------------------------------
    def claim_next_table(self, engine_id: str) -> dict[str, Any] | None:
        """Atomically move the oldest queued table to processing under this engine's lease."""
        # Cheap read first: idle workers poll, and should not take the write lock to find nothing.
        if self._one("SELECT 1 FROM tables WHERE status = 'queued' LIMIT 1") is None:
            return None
        with self.tx() as c:
            row = c.execute(
                "SELECT id FROM tables WHERE status = 'queued' ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            c.execute(
                "UPDATE tables SET status = 'processing', progress = 0, total_rows = 0,"
                " error_message = NULL, extraction_report = NULL, lease_owner = ?, heartbeat = ?,"
                " updated_at = ?"
                " WHERE id = ?",
                (engine_id, time.time(), now_iso(), row["id"]),
            )
            # A re-queued table starts over: drop rows a previous attempt wrote.
            c.execute("DELETE FROM rows WHERE table_id = ?", (row["id"],))
            full = c.execute("SELECT * FROM tables WHERE id = ?", (row["id"],)).fetchone()
        job = self._table(full)
        job.update(
            owner=full["owner"],
            columns=_loads(full["columns"]),
            source_text=full["source_text"],
            source_refs=_loads(full["source_refs"]) or [],
            webhook_url=full["webhook_url"],
            webhook_headers=_loads(full["webhook_headers"]) or {},
        )
        return job

    def write_progress(
        self,
        table_id: str,
        engine_id: str,
        rows: list[dict[str, Any]],
        progress: int,
        files: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Insert a batch of extracted rows and set progress in one transaction.

        Returns False when the table is gone or no longer leased to this engine (deleted,
        or re-queued by another engine's sweep): the caller must stop.
        """
        ts = now_iso()
        with self.tx() as c:
            cur = c.execute(
                "UPDATE tables SET progress = MAX(progress, ?), total_rows = total_rows + ?,"
                " heartbeat = ?, updated_at = ?, files = COALESCE(?, files)"
                " WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (
                    progress,
                    len(rows),
                    time.time(),
                    ts,
                    None if files is None else _dumps(files),
                    table_id,
                    engine_id,
                ),
            )
            if cur.rowcount == 0:
                return False
            if rows:
                start = c.execute(
                    "SELECT COALESCE(MAX(row_index), -1) + 1 FROM rows WHERE table_id = ?",
                    (table_id,),
                ).fetchone()[0]
                c.executemany(
                    "INSERT INTO rows (id, table_id, row_index, data, validation_status,"
                    " validation_errors, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            new_id("row"),
                            table_id,
                            start + i,
                            _dumps_finite(r.get("data") or {}),
                            r.get("validation_status"),
                            _dumps(r.get("validation_errors") or []),
                            ts,
                        )
                        for i, r in enumerate(rows)
                    ],
                )
        return True

    def finish_table(
        self,
        table_id: str,
        engine_id: str,
        status: str,
        error_message: str | None = None,
        report: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """End a table; ``report`` (mapping used, unmapped source columns) becomes the table's
        ``extraction_report`` field."""
        with self.tx() as c:
            cur = c.execute(
                "UPDATE tables SET status = ?, progress = CASE WHEN ? = 'completed' THEN 100"
                " ELSE progress END, error_message = ?, extraction_report = ?,"
                " lease_owner = NULL, heartbeat = NULL,"
                " updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (
                    status,
                    status,
                    error_message,
                    None if report is None else _dumps(report),
                    now_iso(),
                    table_id,
                    engine_id,
                ),
            )
            if not cur.rowcount:
                return None
            row = c.execute("SELECT * FROM tables WHERE id = ?", (table_id,)).fetchone()
        table = self._table(row)
        table["webhook_url"] = row["webhook_url"]
        table["webhook_headers"] = _loads(row["webhook_headers"]) or {}
        return table

    def requeue(self, table_id: str, engine_id: str) -> None:
        """Give a table back (engine stopping): it restarts from scratch on the next claim."""
        with self.tx() as c:
            c.execute(
                "UPDATE tables SET status = 'queued', progress = 0, total_rows = 0,"
                " lease_owner = NULL, heartbeat = NULL, updated_at = ?"
                " WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (now_iso(), table_id, engine_id),
            )
            c.execute(
                "DELETE FROM rows WHERE table_id = ? AND EXISTS (SELECT 1 FROM tables"
                " WHERE id = ? AND status = 'queued')",
                (table_id, table_id),
            )

    def heartbeat(self, engine_id: str) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE tables SET heartbeat = ? WHERE lease_owner = ? AND status = 'processing'",
                (time.time(), engine_id),
            )

    def requeue_stale(self, engine_id: str, stale_after: float) -> int:
        """Re-queue tables whose engine died (no heartbeat for ``stale_after`` seconds)."""
        limit = time.time() - stale_after
        with self.tx() as c:
            cur = c.execute(
                "UPDATE tables SET status = 'queued', progress = 0, total_rows = 0,"
                " lease_owner = NULL, heartbeat = NULL, updated_at = ?"
                " WHERE status = 'processing' AND (lease_owner IS NULL OR"
                " (lease_owner != ? AND (heartbeat IS NULL OR heartbeat < ?)))",
                (now_iso(), engine_id, limit),
            )
        return cur.rowcount

    # -- rows -----------------------------------------------------------------------------
    @staticmethod
    def _row(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "row_index": row["row_index"],
            "data": _loads(row["data"]),
            "validation_status": row["validation_status"],
            "validation_errors": _loads(row["validation_errors"]),
            "enhancement_status": _loads(row["enhancement_status"]),
            "is_edited": bool(row["is_edited"]),
            "created_at": row["created_at"],
        }

    def table_status(self, owner: str, table_id: str) -> tuple[str, int] | None:
        row = self._one(
            "SELECT status, progress FROM tables WHERE id = ? AND owner = ?", (table_id, owner)
        )
        return None if row is None else (row["status"], row["progress"])

    #: A row as JSON, built by SQLite: rows are read page after page by every client, and
    #: serializing them here skips a JSON decode + encode per row in Python (~10x faster pages).
    _ROW_JSON = (
        "json_object('id', id, 'row_index', row_index, 'data', json(data),"
        " 'validation_status', validation_status,"
        " 'validation_errors', json(validation_errors),"
        " 'enhancement_status', json(enhancement_status),"
        " 'is_edited', json(CASE WHEN is_edited THEN 'true' ELSE 'false' END),"
        " 'created_at', created_at)"
    )

    def list_rows_json(
        self,
        table_id: str,
        page: int,
        limit: int,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> tuple[list[str], int]:
        """One page of rows, each already serialized as a JSON object, and the row count."""
        conn = self._conn()
        total = conn.execute(
            "SELECT COUNT(*) FROM rows WHERE table_id = ?", (table_id,)
        ).fetchone()[0]
        offset = (page - 1) * limit
        if offset >= total:
            return [], total
        direction = "DESC" if descending else "ASC"
        if sort_by is None or sort_by == "row_index":
            order, params = f"row_index {direction}", []
        else:
            order = f"json_extract(data, ?) {direction}, row_index ASC"
            params = [f'$."{sort_by}"']
        # The page is chosen on the index alone (seq is the rowid), so late pages do not pay
        # for building the rows that OFFSET skips.
        rows = conn.execute(
            f"SELECT {self._ROW_JSON} FROM rows WHERE seq IN"
            f" (SELECT seq FROM rows WHERE table_id = ? ORDER BY {order} LIMIT ? OFFSET ?)"
            f" ORDER BY {order}",
            (table_id, *params, limit, offset, *params),
        ).fetchall()
        return [r[0] for r in rows], total

    def iter_rows(self, table_id: str) -> Iterator[dict[str, Any]]:
        cur = self._conn().execute(
            "SELECT * FROM rows WHERE table_id = ? ORDER BY row_index", (table_id,)
        )
        for row in cur:
            yield self._row(row)

    def get_row(self, table_id: str, row_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM rows WHERE id = ? AND table_id = ?", (row_id, table_id))
        return None if row is None else self._row(row)

    def merge_row(self, table_id: str, row_id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        with self.tx() as c:
            row = c.execute(
                "SELECT data FROM rows WHERE id = ? AND table_id = ?", (row_id, table_id)
            ).fetchone()
            if row is None:
                return None
            merged = {**_loads(row["data"]), **clean_json(data)}
            c.execute(
                "UPDATE rows SET data = ?, is_edited = 1 WHERE id = ?", (_dumps(merged), row_id)
            )
        return self.get_row(table_id, row_id)

    def delete_rows(self, table_id: str, row_ids: Sequence[str]) -> int:
        deleted = 0
        with self.tx() as c:
            for start in range(0, len(row_ids), 500):
                chunk = list(row_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                cur = c.execute(
                    f"DELETE FROM rows WHERE table_id = ? AND id IN ({marks})", (table_id, *chunk)
                )
                deleted += cur.rowcount
            if deleted:
                c.execute(
                    "UPDATE tables SET total_rows = MAX(0, total_rows - ?), updated_at = ?"
                    " WHERE id = ?",
                    (deleted, now_iso(), table_id),
                )
        return deleted

    def insert_rows(self, table_id: str, datas: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ts = now_iso()
        created = []
        with self.tx() as c:
            start = c.execute(
                "SELECT COALESCE(MAX(row_index), -1) + 1 FROM rows WHERE table_id = ?",
                (table_id,),
            ).fetchone()[0]
            for i, data in enumerate(datas):
                item = {
                    "id": new_id("row"),
                    "row_index": start + i,
                    "data": clean_json(data),
                    "created_at": ts,
                }
                created.append(item)
            c.executemany(
                "INSERT INTO rows (id, table_id, row_index, data, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(r["id"], table_id, r["row_index"], _dumps(r["data"]), ts) for r in created],
            )
            c.execute(
                "UPDATE tables SET total_rows = total_rows + ?, updated_at = ? WHERE id = ?",
                (len(created), ts, table_id),
            )
        return created

    def bulk_update(self, table_id: str, row_ids: Sequence[str], key: str, value: Any) -> int:
        updated = 0
        path = f'$."{key}"'
        # json(?) keeps the value's JSON type (number, object, ...) inside the row's data.
        with self.tx() as c:
            for start in range(0, len(row_ids), 500):
                chunk = list(row_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                cur = c.execute(
                    f"UPDATE rows SET data = json_set(data, ?, json(?)), is_edited = 1"
                    f" WHERE table_id = ? AND id IN ({marks})",
                    (path, _dumps(clean_json(value)), table_id, *chunk),
                )
                updated += cur.rowcount
        return updated

    # -- webhook deliveries -----------------------------------------------------------------
    def add_delivery(
        self, table_id: str, url: str, event: str, body: str, headers: dict[str, str]
    ) -> str:
        did = new_id("dlv")
        with self.tx() as c:
            c.execute(
                "INSERT INTO deliveries (id, table_id, url, event, body, headers, next_at,"
                " status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (did, table_id, url, event, body, _dumps(headers), time.time(), now_iso()),
            )
        return did

    def claim_due_deliveries(self, lease: float, limit: int = 16) -> list[dict[str, Any]]:
        now = time.time()
        with self.tx() as c:
            rows = c.execute(
                "SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ?"
                " ORDER BY next_at LIMIT ?",
                (now, limit),
            ).fetchall()
            for r in rows:  # lease: another engine on this data dir won't send it twice
                c.execute("UPDATE deliveries SET next_at = ? WHERE id = ?", (now + lease, r["id"]))
        return [{**dict(r), "headers": _loads(r["headers"]) or {}} for r in rows]

    def next_delivery_at(self) -> float | None:
        row = self._one("SELECT MIN(next_at) FROM deliveries WHERE status = 'pending'")
        return None if row is None else row[0]

    def delivery_result(
        self, delivery_id: str, ok: bool, error: str | None, retry_at: float | None
    ) -> None:
        if ok:
            status, next_at = "delivered", time.time()
        elif retry_at is None:
            status, next_at = "dropped", time.time()
        else:
            status, next_at = "pending", retry_at
        with self.tx() as c:
            c.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, next_at = ?,"
                " last_error = ? WHERE id = ?",
                (status, next_at, error, delivery_id),
            )

    def get_delivery(self, delivery_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        return None if row is None else dict(row)
