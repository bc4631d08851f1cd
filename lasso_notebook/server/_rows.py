"""The store's rows: pages serialized by SQLite, iteration for export, and the user's edits
(insert, merge, bulk update, delete)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from ._db import Database, clean_json, dumps, loads, new_id, now_iso

#: Row ids per statement in bulk writes (SQLite caps the number of ``?`` in one statement).
_CHUNK = 500

#: A row as JSON, built by SQLite: rows are read page after page by every client, and
#: serializing them here skips a JSON decode + encode per row in Python (~10x faster pages).
_ROW_JSON = (
    "json_object('id', id, 'row_index', row_index, 'data', json(data),"
    " 'validation_status', validation_status,"
    " 'validation_errors', json(validation_errors),"
    " 'enhancement_status', json(enhancement_status),"
    " 'is_edited', json(CASE WHEN is_edited THEN 'true' ELSE 'false' END),"
    " 'created_at', created_at, 'source', json(source))"
)


def row_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "row_index": row["row_index"],
        "data": loads(row["data"]),
        "validation_status": row["validation_status"],
        "validation_errors": loads(row["validation_errors"]),
        "enhancement_status": loads(row["enhancement_status"]),
        "is_edited": bool(row["is_edited"]),
        "created_at": row["created_at"],
        "source": loads(row["source"]),
    }


def _chunks(ids: Sequence[str]) -> Iterator[tuple[list[str], str]]:
    """``ids`` in slices of ``_CHUNK``, each with its ``?,?,...`` placeholder list."""
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        yield chunk, ",".join("?" * len(chunk))


class Rows(Database):
    """Rows of a table; the caller has checked that the table is the requester's."""

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
            f"SELECT {_ROW_JSON} FROM rows WHERE seq IN"
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
            yield row_view(row)

    def get_row(self, table_id: str, row_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM rows WHERE id = ? AND table_id = ?", (row_id, table_id))
        return None if row is None else row_view(row)

    def merge_row(self, table_id: str, row_id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        with self.tx() as c:
            row = c.execute(
                "SELECT data FROM rows WHERE id = ? AND table_id = ?", (row_id, table_id)
            ).fetchone()
            if row is None:
                return None
            merged = {**loads(row["data"]), **clean_json(data)}
            c.execute(
                "UPDATE rows SET data = ?, is_edited = 1 WHERE id = ?", (dumps(merged), row_id)
            )
        return self.get_row(table_id, row_id)

    def delete_rows(self, table_id: str, row_ids: Sequence[str]) -> int:
        deleted = 0
        with self.tx() as c:
            for chunk, marks in _chunks(row_ids):
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
        with self.tx() as c:
            start = c.execute(
                "SELECT COALESCE(MAX(row_index), -1) + 1 FROM rows WHERE table_id = ?",
                (table_id,),
            ).fetchone()[0]
            created = [
                {
                    "id": new_id("row"),
                    "row_index": start + i,
                    "data": clean_json(data),
                    "created_at": ts,
                }
                for i, data in enumerate(datas)
            ]
            c.executemany(
                "INSERT INTO rows (id, table_id, row_index, data, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(r["id"], table_id, r["row_index"], dumps(r["data"]), ts) for r in created],
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
            for chunk, marks in _chunks(row_ids):
                cur = c.execute(
                    f"UPDATE rows SET data = json_set(data, ?, json(?)), is_edited = 1"
                    f" WHERE table_id = ? AND id IN ({marks})",
                    (path, dumps(clean_json(value)), table_id, *chunk),
                )
                updated += cur.rowcount
        return updated
