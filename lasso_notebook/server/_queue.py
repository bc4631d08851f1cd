"""The store's extraction queue: workers claim queued tables under a lease, write rows and
progress, finish or give tables back, and re-queue tables whose engine ended. A re-queued
table keeps its rows and progress: its next run resumes after the rows already written."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from .._version import __version__
from ._catalog import table_view
from ._db import Database, dumps, dumps_finite, loads, next_row_seq, now_iso, row_id


def _run_basis(row: Any) -> dict[str, str]:
    """What decides which records a run extracts, besides the sources: the engine version and
    the table's columns (a table's schema can be changed while it waits). A resumed run keeps
    earlier rows only when this is unchanged."""
    inputs = dumps([loads(row["columns"]), row["additional_context"]])
    return {
        "engine": __version__,
        "inputs": hashlib.sha256(inputs.encode("utf-8", "surrogatepass")).hexdigest()[:32],
    }


def _restart_note(before: dict[str, str] | None, now: dict[str, str], rows: int) -> str:
    if before is not None and before.get("engine") == now["engine"]:
        why = "the table's schema changed since they were extracted"
    else:
        why = "they were extracted by another version of the engine"
    return (
        f"Extraction restarted from the first row after an interruption: the {rows:,} rows "
        f"written before were dropped because {why}."
    )


class Queue(Database):
    """The worker side of tables: claim, progress, finish, requeue, heartbeat."""

    def claim_next_table(self, engine_id: str) -> dict[str, Any] | None:
        """Atomically move the oldest queued table to processing under this engine's lease.

        A table an interrupted run already wrote rows for keeps them, its ``total_rows`` and
        its ``progress``; the job's ``resume_rows`` says how many records the run skips. When
        what decides the records changed (``_run_basis``) the rows are dropped instead, and
        the table's ``status_note`` says so.
        """
        # Cheap read first: idle workers poll, and should not take the write lock to find nothing.
        if self._one("SELECT 1 FROM tables WHERE status = 'queued' LIMIT 1") is None:
            return None
        with self.tx() as c:
            row = c.execute(
                "SELECT * FROM tables WHERE status = 'queued' ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            table_id = row["id"]
            written = c.execute(
                "SELECT COUNT(*) FROM rows WHERE table_id = ?", (table_id,)
            ).fetchone()[0]
            state = loads(row["resume_state"]) or {}
            basis = _run_basis(row)
            note = row["status_note"]
            if written and state.get("basis") != basis:
                c.execute("DELETE FROM rows WHERE table_id = ?", (table_id,))
                note = _restart_note(state.get("basis"), basis, written)
                written, state = 0, {}
            state["basis"] = basis
            c.execute(
                "UPDATE tables SET status = 'processing', total_rows = ?, error_message = NULL,"
                " extraction_report = NULL, status_note = ?, resume_state = ?, lease_owner = ?,"
                " heartbeat = ?, updated_at = ? WHERE id = ?",
                (written, note, dumps(state), engine_id, time.time(), now_iso(), table_id),
            )
            full = c.execute("SELECT * FROM tables WHERE id = ?", (table_id,)).fetchone()
        job = table_view(full)
        job.update(
            owner=full["owner"],
            columns=loads(full["columns"]),
            source_text=full["source_text"],
            source_refs=loads(full["source_refs"]) or [],
            webhook_url=full["webhook_url"],
            webhook_headers=loads(full["webhook_headers"]) or {},
            resume_rows=written,
            source_digests=state.get("sources", {}),
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
                seq = next_row_seq(c)
                c.executemany(
                    "INSERT INTO rows (seq, id, table_id, row_index, data, validation_status,"
                    " validation_errors, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            seq + i,
                            row_id(seq + i),
                            table_id,
                            start + i,
                            dumps_finite(r.get("data") or {}),
                            r.get("validation_status"),
                            dumps_finite(r["validation_errors"])
                            if r.get("validation_errors")
                            else "[]",
                            ts,
                            dumps_finite(r["source"]) if r.get("source") else None,
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
                " resume_state = NULL, lease_owner = NULL, heartbeat = NULL,"
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

    def note_source(self, table_id: str, engine_id: str, index: int, digest: str) -> bool:
        """Remember the content digest of the run's source ``index`` before any of its rows
        are written, so a resumed run can tell that a re-fetched URL still says the same.
        False when the table is no longer leased to this engine."""
        with self.tx() as c:
            cur = c.execute(
                "UPDATE tables SET resume_state = json_set(COALESCE(resume_state, '{}'), ?, ?)"
                " WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (f'$.sources."{index}"', digest, table_id, engine_id),
            )
        return cur.rowcount > 0

    def restart_rows_at(self, table_id: str, engine_id: str, keep: int, note: str) -> bool:
        """Drop the rows from ``row_index`` ``keep`` on (their source changed since they
        were written) and say so in the table's ``status_note``. False when not leased."""
        with self.tx() as c:
            cur = c.execute(
                "UPDATE tables SET total_rows = ?, status_note = ?, updated_at = ?"
                " WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (keep, note, now_iso(), table_id, engine_id),
            )
            if cur.rowcount:
                c.execute(
                    "DELETE FROM rows WHERE table_id = ? AND row_index >= ?", (table_id, keep)
                )
        return cur.rowcount > 0

    def record_validation(self, table_id: str, engine_id: str, summary: dict[str, Any]) -> None:
        """Store the table's ``validation_summary`` (rows valid / with warnings / with errors,
        top reasons; see ``lasso_notebook._validation.Tally``), counted while its rows were
        written, so a client reading the export (no validation fields) can still show it."""
        with self.tx() as c:
            c.execute(
                "UPDATE tables SET validation_summary = ?"
                " WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (dumps(summary), table_id, engine_id),
            )

    def requeue(self, table_id: str, engine_id: str) -> None:
        """Give a table back (engine stopping); it keeps its rows and progress, and the next
        run resumes after them."""
        with self.tx() as c:
            c.execute(
                "UPDATE tables SET status = 'queued', lease_owner = NULL, heartbeat = NULL,"
                " updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (now_iso(), table_id, engine_id),
            )

    def heartbeat(self, engine_id: str) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE tables SET heartbeat = ? WHERE lease_owner = ? AND status = 'processing'",
                (time.time(), engine_id),
            )

    def leased_count(self, engine_id: str) -> int:
        """Tables still processing under this engine's lease."""
        row = self._one(
            "SELECT COUNT(*) FROM tables WHERE status = 'processing' AND lease_owner = ?",
            (engine_id,),
        )
        return row[0] if row else 0

    def requeue_gone(self, engine_id: str, gone: Callable[[str], bool]) -> list[str]:
        """Re-queue at once the tables leased to other engines that ``gone`` says have ended;
        returns those engines' ids."""
        owners = [
            r[0]
            for r in self._conn().execute(
                "SELECT DISTINCT lease_owner FROM tables WHERE status = 'processing'"
                " AND lease_owner IS NOT NULL AND lease_owner != ?",
                (engine_id,),
            )
        ]
        ended = [owner for owner in owners if gone(owner)]
        for owner in ended:
            with self.tx() as c:
                c.execute(
                    "UPDATE tables SET status = 'queued', lease_owner = NULL, heartbeat = NULL,"
                    " updated_at = ? WHERE status = 'processing' AND lease_owner = ?",
                    (now_iso(), owner),
                )
        return ended

    def requeue_stale(self, engine_id: str, stale_after: float) -> int:
        """Re-queue tables whose engine sent no heartbeat for ``stale_after`` seconds: the
        backstop for engines whose end cannot be seen at once (see ``requeue_gone``)."""
        limit = time.time() - stale_after
        with self.tx() as c:
            cur = c.execute(
                "UPDATE tables SET status = 'queued', lease_owner = NULL, heartbeat = NULL,"
                " updated_at = ?"
                " WHERE status = 'processing' AND (lease_owner IS NULL OR"
                " (lease_owner != ? AND (heartbeat IS NULL OR heartbeat < ?)))",
                (now_iso(), engine_id, limit),
            )
        return cur.rowcount
