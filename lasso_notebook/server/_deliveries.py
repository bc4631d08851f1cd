"""The store's webhook deliveries: persisted, leased while in flight, retried or dropped."""

from __future__ import annotations

import time
from typing import Any

from ._db import Database, dumps, loads, new_id, now_iso


class Deliveries(Database):
    """Pending, delivered and dropped webhook deliveries."""

    def add_delivery(
        self, table_id: str, url: str, event: str, body: str, headers: dict[str, str]
    ) -> str:
        did = new_id("dlv")
        with self.tx() as c:
            c.execute(
                "INSERT INTO deliveries (id, table_id, url, event, body, headers, next_at,"
                " status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (did, table_id, url, event, body, dumps(headers), time.time(), now_iso()),
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
        return [{**dict(r), "headers": loads(r["headers"]) or {}} for r in rows]

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
