"""The store's catalog: API keys (owners), schemas, uploaded files and tables, each scoped to
the owner of the key that created it."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

from ._db import Database, dumps, hash_key, loads, new_id, now_iso

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

#: A table in one of these states is being extracted: its rows are not the user's to change.
ACTIVE_STATUSES = ("queued", "processing")


def schema_view(row: sqlite3.Row, summary: bool = False) -> dict[str, Any]:
    columns = loads(row["columns"])
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


def file_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "filename": row["filename"],
        "size": row["size"],
        "content_type": row["content_type"],
        "created_at": row["created_at"],
    }


def table_view(row: sqlite3.Row) -> dict[str, Any]:
    view = {
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
        "files": loads(row["files"]) or [],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    # Fields of this engine beyond the API's table object, present only when they say
    # something: the finished table's report and validation summary, and why an interrupted
    # run started over.
    for name in ("extraction_report", "validation_summary"):
        if value := row[name]:
            view[name] = loads(value)
    if note := row["status_note"]:
        view["status_note"] = note
    return view


class Catalog(Database):
    """Keys, schemas, files and tables."""

    def __init__(self, path: Path) -> None:
        self._owner_cache: dict[str, str] = {}
        super().__init__(path)

    # -- keys -----------------------------------------------------------------------------
    def ensure_key_file(self, key_file: Path) -> str:
        """Read the local key, or create it (0600) on first start."""
        if key_file.exists():
            raw = key_file.read_text().strip()
            if self.owner_for_key(raw) is None:  # key file from elsewhere: register it
                self.register_key(raw)
            return raw
        raw = self.create_key()
        key_file.touch(mode=0o600)
        key_file.chmod(0o600)
        key_file.write_text(raw + "\n")
        return raw

    def create_key(self) -> str:
        raw = "lasso_" + secrets.token_hex(32)
        self.register_key(raw)
        return raw

    def register_key(self, raw: str) -> None:
        """Accept ``raw`` as the key of a new owner, seeded with the demo schema."""
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
    def list_schemas(self, owner: str, page: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        rows, total = self._paged("*", "schemas WHERE owner = ?", (owner,), page, limit)
        return [schema_view(r, summary=True) for r in rows], total

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
                (sid, owner, name, description, int(is_default), dumps(columns), ts, ts),
            )
        schema = self.get_schema(owner, sid)
        assert schema is not None
        return schema

    def get_schema(self, owner: str, schema_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM schemas WHERE id = ? AND owner = ?", (schema_id, owner))
        return None if row is None else schema_view(row)

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
                sets["columns"] = dumps(sets["columns"])
            if "is_default" in sets:
                sets["is_default"] = int(bool(sets["is_default"]))
            sets["updated_at"] = now_iso()
            assign = ", ".join(f"{k} = ?" for k in sets)  # keys come from `allowed` only
            c.execute(f"UPDATE schemas SET {assign} WHERE id = ?", (*sets.values(), schema_id))
        return self.get_schema(owner, schema_id)

    def delete_schema(self, owner: str, schema_id: str) -> bool:
        return self._delete("schemas", owner, schema_id)

    # -- files ----------------------------------------------------------------------------
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
        return None if row is None else file_view(row)

    def list_files(self, owner: str, page: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        rows, total = self._paged("*", "files WHERE owner = ?", (owner,), page, limit)
        return [file_view(r) for r in rows], total

    def delete_file(self, owner: str, file_id: str) -> bool:
        return self._delete("files", owner, file_id)

    def all_file_ids(self) -> set[str]:
        """Every registered upload, of every owner (for the data-dir sweep)."""
        return {r[0] for r in self._conn().execute("SELECT id FROM files")}

    # -- tables ---------------------------------------------------------------------------
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
                    dumps(fields["columns"]),
                    fields["source_type"],
                    fields.get("source_text"),
                    dumps(fields.get("source_refs") or []),
                    fields.get("additional_context"),
                    fields.get("enhancement_context"),
                    dumps(fields.get("files") or []),
                    fields.get("webhook_url"),
                    dumps(fields.get("webhook_headers") or {}),
                    ts,
                    ts,
                ),
            )
        table = self.get_table(owner, tid)
        assert table is not None
        return table

    def get_table(self, owner: str, table_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM tables WHERE id = ? AND owner = ?", (table_id, owner))
        return None if row is None else table_view(row)

    def table_columns(self, owner: str, table_id: str) -> list[dict[str, Any]] | None:
        row = self._one("SELECT columns FROM tables WHERE id = ? AND owner = ?", (table_id, owner))
        return None if row is None else loads(row["columns"])

    def table_status(self, owner: str, table_id: str) -> tuple[str, int] | None:
        row = self._one(
            "SELECT status, progress FROM tables WHERE id = ? AND owner = ?", (table_id, owner)
        )
        return None if row is None else (row["status"], row["progress"])

    def active_table_ids(self) -> set[str]:
        """Tables queued or being extracted, of every owner (for the data-dir sweep)."""
        marks = ",".join("?" * len(ACTIVE_STATUSES))
        rows = self._conn().execute(
            f"SELECT id FROM tables WHERE status IN ({marks})", ACTIVE_STATUSES
        )
        return {r[0] for r in rows}

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
        rows, total = self._paged(
            "id, name, status, progress, total_rows, schema_id, created_at, updated_at",
            "tables WHERE " + " AND ".join(where),
            params,
            page,
            limit,
        )
        return [dict(r) for r in rows], total

    def update_table(
        self, owner: str, table_id: str, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        allowed = {"name", "enhancement_context", "schema_id", "columns"}
        sets = {k: v for k, v in fields.items() if k in allowed}
        if "columns" in sets:
            sets["columns"] = dumps(sets["columns"])
        sets["updated_at"] = now_iso()
        assign = ", ".join(f"{k} = ?" for k in sets)  # keys come from `allowed` only
        with self.tx() as c:
            cur = c.execute(
                f"UPDATE tables SET {assign} WHERE id = ? AND owner = ?",
                (*sets.values(), table_id, owner),
            )
        return self.get_table(owner, table_id) if cur.rowcount else None

    def delete_table(self, owner: str, table_id: str) -> bool:
        """Delete the table and its rows, then give their space back to the file system."""
        deleted = self._delete(
            "tables", owner, table_id, then="DELETE FROM rows WHERE table_id = ?"
        )
        if deleted:
            self.reclaim_space()
        return deleted
