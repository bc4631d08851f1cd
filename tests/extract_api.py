"""Tables made through the HTTP API of a real embedded engine, for the extraction tests (with
conftest's ``api`` client): ``table_of`` (text or uploaded files in, the finished table and its
rows out) and ``data`` (the rows' values as tuples)."""

from __future__ import annotations

import time
from typing import Any

import httpx

ROWS = ("name", "sku", "price", "currency", "in_stock")


def _schema(api: httpx.Client) -> str:
    return next(s["id"] for s in api.get("/schemas").json()["data"] if s["name"] == "Products")


def _wait(api: httpx.Client, table_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        table = api.get(f"/tables/{table_id}").json()
        if table["status"] in ("completed", "failed"):
            return table
        time.sleep(0.02)
    raise AssertionError(f"table {table_id} did not finish")


def table_of(
    api: httpx.Client,
    *,
    text: str | None = None,
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    file: tuple[str, bytes] | None = None,
    context: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create a table from text or uploaded files; its final state and its rows (with ids,
    validation and provenance, as GET /tables/{id}/rows returns them)."""
    body: dict[str, Any] = {"name": "trust", "schema_id": _schema(api)}
    if context:
        body["additional_context"] = context
    if text is not None:
        body["source_text"] = text
    else:
        ids = []
        for name, content in [file] if file is not None else files:
            upload = api.post("/files", files={"file": (name, content)})
            assert upload.status_code in (200, 201), upload.text
            ids.append(upload.json()["id"])
        body["file_ids"] = ids
    created = api.post("/tables", json=body)
    assert created.status_code == 201, created.text
    table = _wait(api, created.json()["id"])
    rows = api.get(f"/tables/{table['id']}/rows", params={"limit": 100}).json()["data"]
    return table, rows


def data(rows: list[dict[str, Any]], *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(r["data"][k] for k in keys) for r in rows]
