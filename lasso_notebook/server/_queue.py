"""The store's extraction queue: workers claim queued tables under a lease, write rows and
progress, finish or give tables back, and re-queue tables whose engine stopped heartbeating."""

from __future__ import annotations

import time
from typing import Any

from ._catalog import table_view
from ._db import Database, dumps, dumps_finite, loads, new_id, now_iso


class Queue(Database):
    """The worker side of tables: claim, progress, finish, requeue, heartbeat."""

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
        job = table_view(full)
        job.update(
            owner=full["owner"],
            columns=loads(full["columns"]),
            source_text=full["source_text"],
            source_refs=loads(full["source_refs"]) or [],
            webhook_url=full["webhook_url"],
            webhook_headers=loads(full["webhook_headers"]) or {},
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
        or re-queued by another engine's sweep): the caller must stop. A value that failed its
        column type arrives as null with the reason in the row's ``validation_errors``.
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
                    None if files is None else dumps(files),
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
                    " validation_errors, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            new_id("row"),
                            table_id,
                            start + i,
                            dumps_finite(r.get("data") or {}),
                            r.get("validation_status"),
                            dumps(r["validation_errors"]) if r.get("validation_errors") else "[]",
                            ts,
                            dumps(r["source"]) if r.get("source") else None,
                        )
                        for i, r in enumerate(rows)
                    ],
                )
        return True

    def fill_missing(
        self, table_id: str, engine_id: str, first_index: int, values: dict[str, Any]
    ) -> None:
        """Set ``values`` (column key -> value) on the table's rows from ``first_index`` on
        where they are still null: a note below a long table states the currency of rows
        already written. Only while this engine holds the table."""
        with self.tx() as c:
            for key, value in values.items():
                path = f'$."{key}"'
                c.execute(
                    "UPDATE rows SET data = json_set(data, ?, json(?)) WHERE table_id = ?"
                    " AND row_index >= ? AND json_extract(data, ?) IS NULL AND EXISTS"
                    " (SELECT 1 FROM tables WHERE id = ? AND lease_owner = ?)",
                    (path, dumps(value), table_id, first_index, path, table_id, engine_id),
                )

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
                    None if report is None else dumps(report),
                    now_iso(),
                    table_id,
                    engine_id,
                ),
            )
            if not cur.rowcount:
                return None
            row = c.execute("SELECT * FROM tables WHERE id = ?", (table_id,)).fetchone()
        table = table_view(row)
        table["webhook_url"] = row["webhook_url"]
        table["webhook_headers"] = loads(row["webhook_headers"]) or {}
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
