"""``/schemas``: list, create, generate from sample data, read, update and delete schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ..bodies import SchemaCreate, SchemaGenerate, SchemaUpdate, patch_fields
from ..errors import ApiError, not_found
from ..extract import ExtractionError
from ..extract.infer import infer_columns
from ._common import LimitQuery, Owner, PageQuery, StoreDep, page_of

router = APIRouter(tags=["schemas"])


@router.get("/schemas")
def list_schemas(
    store: StoreDep, owner: Owner, page: int = PageQuery, limit: int = LimitQuery
) -> dict[str, Any]:
    items, total = store.list_schemas(owner, page, limit)
    return page_of(items, page, limit, total)


@router.post("/schemas", status_code=201)
def create_schema(body: SchemaCreate, store: StoreDep, owner: Owner) -> dict[str, Any]:
    columns = [c.stored() for c in body.columns]
    return store.create_schema(owner, body.name.strip(), body.description, body.is_default, columns)


@router.post("/schemas/generate", status_code=201)
def generate_schema(body: SchemaGenerate, store: StoreDep, owner: Owner) -> dict[str, Any]:
    try:
        columns = infer_columns(body.sample_data[:5000])
    except ExtractionError as exc:
        raise ApiError(422, f"Could not infer columns from sample_data: {exc.message}") from exc
    if not columns:
        raise ApiError(422, "Could not infer any columns from sample_data")
    name = (body.name or "").strip() or "Generated schema"
    return store.create_schema(owner, name, None, False, columns)


@router.get("/schemas/{schema_id}")
def get_schema(schema_id: str, store: StoreDep, owner: Owner) -> dict[str, Any]:
    schema = store.get_schema(owner, schema_id)
    if schema is None:
        raise not_found("Schema")
    return schema


@router.put("/schemas/{schema_id}")
def update_schema(
    schema_id: str, body: SchemaUpdate, store: StoreDep, owner: Owner
) -> dict[str, Any]:
    fields = patch_fields(body, nullable=frozenset({"description"}))
    if "columns" in fields:
        fields["columns"] = [c.stored() for c in body.columns or ()]
    schema = store.update_schema(owner, schema_id, fields)
    if schema is None:
        raise not_found("Schema")
    return schema


@router.delete("/schemas/{schema_id}", status_code=204)
def delete_schema(schema_id: str, store: StoreDep, owner: Owner) -> Response:
    if not store.delete_schema(owner, schema_id):
        raise not_found("Schema")
    return Response(status_code=204)
