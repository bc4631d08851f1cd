"""``/tables/{id}/rows``: list (any time, newest writes included), and the user's edits (add,
update, bulk update, delete), accepted once the table is completed or failed."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from ..bodies import BulkDelete, BulkUpdate, RowsCreate, RowUpdate
from ..errors import ApiError, not_found
from ._common import LimitQuery, Owner, PageQuery, StoreDep, table_or_404, writable_columns

router = APIRouter(tags=["rows"])


# Rows can be listed while the table is still processing: the client sees the rows written so
# far (a free choice, docs/architecture.md §6), in row_index order unless sorted.
@router.get("/tables/{table_id}/rows")
def list_rows(
    table_id: str,
    store: StoreDep,
    owner: Owner,
    page: int = PageQuery,
    limit: int = LimitQuery,
    sort_by: str | None = Query(None, description="A column key, or row_index (default)"),
    sort_order: Literal["asc", "desc"] = Query("asc"),
) -> Response:
    cols = store.table_columns(owner, table_id)
    if cols is None:
        raise not_found("Table")
    if sort_by is not None and sort_by != "row_index" and sort_by not in {c["key"] for c in cols}:
        choices = ", ".join(["row_index", *(c["key"] for c in cols)])
        raise ApiError(422, f"Unknown sort_by {sort_by!r}; use one of: {choices}")
    items, total = store.list_rows_json(table_id, page, limit, sort_by, sort_order == "desc")
    # The rows come serialized from SQLite: the page is assembled around them, not re-encoded.
    pagination = json.dumps({"page": page, "limit": limit, "total": total})
    body = f'{{"data":[{",".join(items)}],"pagination":{pagination}}}'
    return Response(body, media_type="application/json")


@router.post("/tables/{table_id}/rows", status_code=201)
def create_rows(table_id: str, body: RowsCreate, store: StoreDep, owner: Owner) -> dict[str, Any]:
    keys = {c["key"] for c in writable_columns(store, owner, table_id)}
    unknown = sorted({k for row in body.rows for k in row if k not in keys})
    if unknown:
        raise ApiError(
            422,
            f"Unknown column key(s): {', '.join(unknown)}; the table's columns are: {', '.join(sorted(keys))}",
        )
    created = store.insert_rows(table_id, body.rows)
    return {"data": created, "inserted_count": len(created)}


@router.post("/tables/{table_id}/rows/bulk-update")
def bulk_update(table_id: str, body: BulkUpdate, store: StoreDep, owner: Owner) -> dict[str, Any]:
    keys = {c["key"] for c in writable_columns(store, owner, table_id)}
    if body.column_key not in keys:
        raise ApiError(
            422,
            f"Unknown column_key {body.column_key!r}; use one of: {', '.join(sorted(keys))}",
        )
    return {"updated_count": store.bulk_update(table_id, body.row_ids, body.column_key, body.value)}


@router.post("/tables/{table_id}/rows/bulk-delete")
def bulk_delete(table_id: str, body: BulkDelete, store: StoreDep, owner: Owner) -> dict[str, Any]:
    writable_columns(store, owner, table_id)
    return {"deleted_count": store.delete_rows(table_id, body.row_ids)}


@router.get("/tables/{table_id}/rows/{row_id}")
def get_row(table_id: str, row_id: str, store: StoreDep, owner: Owner) -> dict[str, Any]:
    table_or_404(store, owner, table_id)
    row = store.get_row(table_id, row_id)
    if row is None:
        raise not_found("Row")
    return row


@router.put("/tables/{table_id}/rows/{row_id}")
def update_row(
    table_id: str, row_id: str, body: RowUpdate, store: StoreDep, owner: Owner
) -> dict[str, Any]:
    keys = {c["key"] for c in writable_columns(store, owner, table_id)}
    unknown = sorted(k for k in body.data if k not in keys)
    if unknown:
        raise ApiError(422, f"Unknown column key(s): {', '.join(unknown)}")
    row = store.merge_row(table_id, row_id, body.data)
    if row is None:
        raise not_found("Row")
    return row


@router.delete("/tables/{table_id}/rows/{row_id}", status_code=204)
def delete_row(table_id: str, row_id: str, store: StoreDep, owner: Owner) -> Response:
    writable_columns(store, owner, table_id)
    if not store.delete_rows(table_id, [row_id]):
        raise not_found("Row")
    return Response(status_code=204)
