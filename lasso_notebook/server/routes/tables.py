"""``/tables``: create (queues the extraction), list, read, rename or re-schema, delete, and
the table's columns."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from ..bodies import TableCreate, TableUpdate, patch_fields
from ..errors import ApiError, not_found
from ..store import Store
from ._common import (
    EngineDep,
    LimitQuery,
    Owner,
    PageQuery,
    StoreDep,
    page_of,
    schema_or_422,
    table_or_404,
)

router = APIRouter(tags=["tables"])

MAX_SOURCES = 10


def _sources(
    store: Store, owner: str, body: TableCreate
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """The table's source type, its source references (for the worker) and its ``files``
    (as the API shows them), from ``file_ids``, ``file_urls`` or ``source_text``."""
    sources = body.file_ids or body.file_urls or []
    if len(sources) > MAX_SOURCES:
        raise ApiError(422, f"At most {MAX_SOURCES} files or URLs per table (got {len(sources)})")
    if len(set(sources)) != len(sources):
        raise ApiError(422, "The same file or URL is listed twice; list each source once")
    refs: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    if body.file_ids is not None:
        missing = []
        for file_id in body.file_ids:
            meta = store.get_file(owner, file_id)
            if meta is None:
                missing.append(file_id)
                continue
            refs.append(
                {
                    "file_id": file_id,
                    "filename": meta["filename"],
                    "content_type": meta["content_type"],
                }
            )
            files.append(
                {
                    "name": meta["filename"],
                    "path": f"{owner}/{file_id}/{meta['filename']}",
                    "size": meta["size"],
                }
            )
        if missing:
            raise ApiError(
                422, f"Unknown file id(s): {', '.join(missing)}; upload with POST /files first"
            )
        return "files", refs, files
    if body.file_urls is not None:
        for url in body.file_urls:
            refs.append({"url": url})
            name = url.rstrip("/").rsplit("/", 1)[-1] or url
            files.append({"name": name, "path": url, "size": 0})
        return "urls", refs, files
    return "text", refs, files


@router.post("/tables", status_code=201)
def create_table(
    body: TableCreate, engine: EngineDep, store: StoreDep, owner: Owner
) -> dict[str, Any]:
    schema = schema_or_422(store, owner, body.schema_id)
    source_type, refs, files = _sources(store, owner, body)
    webhook_headers = {}
    if body.webhook_auth_header_name:
        webhook_headers[body.webhook_auth_header_name] = body.webhook_auth_header_value or ""
    table = store.create_table(
        owner,
        name=body.name.strip(),
        schema_id=schema["id"],
        columns=schema["columns"],
        source_type=source_type,
        source_text=body.source_text,
        source_refs=refs,
        additional_context=body.additional_context,
        enhancement_context=body.enhancement_context,
        files=files,
        webhook_url=body.webhook_url,
        webhook_headers=webhook_headers,
    )
    engine.workers.notify()
    return table


@router.get("/tables")
def list_tables(
    store: StoreDep,
    owner: Owner,
    page: int = PageQuery,
    limit: int = LimitQuery,
    search: str | None = Query(
        None, max_length=500, description="Case-insensitive substring of the name"
    ),
    status: Literal["queued", "processing", "completed", "failed"] | None = Query(None),
) -> dict[str, Any]:
    items, total = store.list_tables(owner, page, limit, search, status)
    return page_of(items, page, limit, total)


@router.get("/tables/{table_id}")
def get_table(table_id: str, store: StoreDep, owner: Owner) -> dict[str, Any]:
    return table_or_404(store, owner, table_id)


@router.patch("/tables/{table_id}")
def update_table(table_id: str, body: TableUpdate, store: StoreDep, owner: Owner) -> dict[str, Any]:
    table_or_404(store, owner, table_id)
    fields = patch_fields(body, nullable=frozenset({"enhancement_context"}))
    if "schema_id" in fields:
        # The table takes a fresh copy of the schema's columns.
        fields["columns"] = schema_or_422(store, owner, fields["schema_id"])["columns"]
    table = store.update_table(owner, table_id, fields)
    if table is None:
        raise not_found("Table")
    return table


@router.delete("/tables/{table_id}", status_code=204)
def delete_table(table_id: str, store: StoreDep, owner: Owner) -> Response:
    # A running extraction notices at its next write and stops.
    if not store.delete_table(owner, table_id):
        raise not_found("Table")
    return Response(status_code=204)


@router.get("/tables/{table_id}/columns")
def table_columns(table_id: str, store: StoreDep, owner: Owner) -> dict[str, Any]:
    columns = store.table_columns(owner, table_id)
    if columns is None:
        raise not_found("Table")
    return {"data": columns}
