"""HTTP routes of the embedded engine (paths under ``/api/v1``): schemas, files, tables,
columns, rows and export, with key-scoped auth and the documented envelopes.

Documented free choices (lasso-api.md §15): lists are newest first (rows: ``row_index``
ascending); rows can be listed while a table is still processing (the rows written so far);
row writes and export answer 409 ``conflict`` until the table is completed or failed; values
that fail their column type are stored as null with the reason in ``validation_errors``.
"""

from __future__ import annotations

import csv
import io
import json
import mimetypes
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from python_multipart.multipart import MultipartParser, parse_options_header

from .._version import __version__
from ..models import COLUMN_TYPES, Column, CreateTableRequest
from .errors import (
    AUTH_MESSAGE,
    ApiError,
    error_response,
    error_responses,
    install_error_handlers,
    not_found,
)
from .extract import ExtractionError
from .extract.infer import infer_columns
from .store import ACTIVE_STATUSES, Store, new_id

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["create_app"]

MAX_JSON_BODY = 64 * 1024 * 1024
MAX_SOURCES = 10
KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}$"
NOT_BLANK = r"\S"  # unanchored, as in JSON Schema: "contains a non-space character"
_ColumnType = Literal[COLUMN_TYPES]  # type: ignore[valid-type]


# -- request bodies ---------------------------------------------------------------------------
class ColumnIn(BaseModel):
    # Unknown attributes are ignored, not refused: clients round-trip columns they read back.
    model_config = ConfigDict(extra="ignore")

    key: str = Field(pattern=KEY_PATTERN, description="Machine key used inside row data")
    label: str | None = Field(default=None, max_length=200)
    type: _ColumnType = "text"
    required: StrictBool = False
    description: str | None = Field(default=None, max_length=2000)
    enum_values: list[str] | None = None

    @model_validator(mode="after")
    def _enum_needs_values(self) -> ColumnIn:
        if self.type == "enum" and not self.enum_values:
            raise ValueError(f"column {self.key!r} is an enum: give its enum_values")
        return self

    def stored(self) -> dict[str, Any]:
        col = Column(**self.model_dump(exclude_none=True))  # shared model fills the label
        out: dict[str, Any] = {
            "key": col.key,
            "label": col.label,
            "type": col.type,
            "required": col.required,
        }
        if col.description:
            out["description"] = col.description
        if col.enum_values is not None:
            out["enum_values"] = col.enum_values
        return out


def _check_columns(columns: list[ColumnIn] | None) -> list[ColumnIn] | None:
    if columns is not None:
        keys = [c.key for c in columns]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"column keys must be unique; repeated: {', '.join(dupes)}")
    return columns


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


class SchemaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, pattern=NOT_BLANK)
    description: str | None = Field(default=None, max_length=5000)
    is_default: StrictBool = False
    columns: list[ColumnIn] = Field(min_length=1, max_length=500)

    _name = field_validator("name")(_not_blank)
    _cols = field_validator("columns")(_check_columns)


class SchemaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, pattern=NOT_BLANK)
    description: str | None = Field(default=None, max_length=5000)
    is_default: StrictBool | None = None
    columns: list[ColumnIn] | None = Field(default=None, min_length=1, max_length=500)

    _name = field_validator("name")(_not_blank)
    _cols = field_validator("columns")(_check_columns)


class SchemaGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_data: str = Field(min_length=1, description="Only the first 5,000 characters are used")
    name: str | None = Field(default=None, max_length=200)


class TableCreate(CreateTableRequest):
    """``POST /tables``; the shared request model's rules plus optional webhook auth headers."""

    schema_id: str = Field(pattern=NOT_BLANK)
    name: str = Field(max_length=500, pattern=NOT_BLANK)
    webhook_auth_header_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,100}$")
    webhook_auth_header_value: str | None = Field(default=None, max_length=4000)


class TableUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=500, pattern=NOT_BLANK)
    enhancement_context: str | None = None
    schema_id: str | None = None

    _name = field_validator("name")(_not_blank)


class RowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]


class RowsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class BulkUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    row_ids: list[str] = Field(min_length=1, max_length=10_000)
    column_key: str
    value: Any


class BulkDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    row_ids: list[str] = Field(min_length=1, max_length=10_000)


# -- auth -------------------------------------------------------------------------------------
_bearer = HTTPBearer(auto_error=False, description="Bearer lasso_... (the engine prints its key)")


class _AuthMiddleware:
    """Authenticates every ``/api/v1`` request before routing, so a caller without a valid key
    learns nothing (not even which routes exist), and refuses oversized JSON bodies early."""

    def __init__(self, app: Callable[..., Awaitable[None]], store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v1"):
            headers = dict(scope["headers"])
            auth = headers.get(b"authorization", b"").decode("latin-1").strip()
            scheme, _, token = auth.partition(" ")
            token = token.strip()
            owner = None
            if scheme.lower() == "bearer" and token.startswith("lasso_") and len(token) <= 200:
                owner = self.store.owner_for_key(token)
            if owner is None:
                response = error_response(401, AUTH_MESSAGE, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
            length = headers.get(b"content-length", b"")
            is_upload = scope["path"].rstrip("/") == "/api/v1/files"
            if not is_upload and length.isdigit() and int(length) > MAX_JSON_BODY:
                response = error_response(
                    413, f"Request body too large (limit {MAX_JSON_BODY} bytes)"
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["owner"] = owner
        await self.app(scope, receive, send)


def current_owner(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> str:
    return request.state.owner


# -- helpers ----------------------------------------------------------------------------------
def _page(items: list[dict[str, Any]], page: int, limit: int, total: int) -> dict[str, Any]:
    return {"data": items, "pagination": {"page": page, "limit": limit, "total": total}}


PageQuery = Query(1, ge=1, description="1-based page number")
LimitQuery = Query(25, ge=1, le=100, description="Items per page (1-100)")


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def _safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]+", "", base).strip().strip(".")
    return base[:255] or "upload"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(
            str(v) if not isinstance(v, (dict, list)) else json.dumps(v) for v in value
        )
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def create_app(engine: Engine) -> FastAPI:
    store: Store = engine.store
    files_dir: Path = engine.data_dir / "files"
    max_upload = engine.max_upload_bytes

    app = FastAPI(
        title="lasso_notebook embedded engine",
        version=__version__,
        description="A local, Lasso-compatible extraction API (paths under /api/v1).",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(_AuthMiddleware, store=store)
    # Every route may answer with the envelope on these codes; declared so the OpenAPI document
    # (fuzzed with schemathesis) matches what the server really sends.
    api = APIRouter(prefix="/api/v1", responses=error_responses(400, 401, 404, 405, 409, 413, 422))

    @app.get("/", include_in_schema=False)
    def root() -> dict[str, Any]:
        return {
            "service": "lasso_notebook embedded engine",
            "version": __version__,
            "api": "/api/v1",
        }

    def table_or_404(owner: str, table_id: str) -> dict[str, Any]:
        table = store.get_table(owner, table_id)
        if table is None:
            raise not_found("Table")
        return table

    def writable_columns(owner: str, table_id: str) -> list[dict[str, Any]]:
        """The table's columns, when its rows may be changed (not while extracting)."""
        state = store.table_status(owner, table_id)
        if state is None:
            raise not_found("Table")
        if state[0] in ACTIVE_STATUSES:
            raise ApiError(
                409,
                f"Table is still {state[0]} ({state[1]}%); change its rows once it is completed",
            )
        return store.table_columns(owner, table_id) or []

    # -- schemas --------------------------------------------------------------------------------
    @api.get("/schemas", tags=["schemas"])
    def list_schemas(
        page: int = PageQuery, limit: int = LimitQuery, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        items, total = store.list_schemas(owner, page, limit)
        return _page(items, page, limit, total)

    @api.post("/schemas", status_code=201, tags=["schemas"])
    def create_schema(body: SchemaCreate, owner: str = Depends(current_owner)) -> dict[str, Any]:
        columns = [c.stored() for c in body.columns]
        return store.create_schema(
            owner, body.name.strip(), body.description, body.is_default, columns
        )

    @api.post("/schemas/generate", status_code=201, tags=["schemas"])
    def generate_schema(
        body: SchemaGenerate, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        try:
            columns = infer_columns(body.sample_data[:5000])
        except ExtractionError as exc:
            raise ApiError(422, f"Could not infer columns from sample_data: {exc.message}") from exc
        if not columns:
            raise ApiError(422, "Could not infer any columns from sample_data")
        name = (body.name or "").strip() or "Generated schema"
        return store.create_schema(owner, name, None, False, columns)

    @api.get("/schemas/{schema_id}", tags=["schemas"])
    def get_schema(schema_id: str, owner: str = Depends(current_owner)) -> dict[str, Any]:
        schema = store.get_schema(owner, schema_id)
        if schema is None:
            raise not_found("Schema")
        return schema

    @api.put("/schemas/{schema_id}", tags=["schemas"])
    def update_schema(
        schema_id: str, body: SchemaUpdate, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name in body.model_fields_set:
            value = getattr(body, name)
            if name == "columns" and value is not None:
                fields["columns"] = [c.stored() for c in value]
            elif name == "description" or value is not None:
                fields[name] = value.strip() if name == "name" else value
        schema = store.update_schema(owner, schema_id, fields)
        if schema is None:
            raise not_found("Schema")
        return schema

    @api.delete("/schemas/{schema_id}", status_code=204, tags=["schemas"])
    def delete_schema(schema_id: str, owner: str = Depends(current_owner)) -> Response:
        if not store.delete_schema(owner, schema_id):
            raise not_found("Schema")
        return Response(status_code=204)

    # -- files ----------------------------------------------------------------------------------
    upload_body = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    }

    @api.post("/files", status_code=201, tags=["files"], openapi_extra=upload_body)
    async def upload_file(request: Request, owner: str = Depends(current_owner)) -> JSONResponse:
        ctype, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if ctype != b"multipart/form-data" or not boundary:
            raise ApiError(400, "Upload the file as multipart/form-data with a part named 'file'")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_upload + 1024 * 1024:
            # Clearly too big: refuse before reading a byte (the 1 MB allows for part headers).
            raise ApiError(
                413, f"File too large: the limit is {_human_size(max_upload)} ({max_upload} bytes)"
            )
        file_id = new_id("file")
        tmp = files_dir / f".{file_id}.part"
        state: dict[str, Any] = {
            "headers": {},
            "field": b"",
            "value": b"",
            "fh": None,
            "found": False,
            "writing": False,
            "size": 0,
            "too_big": False,
            "filename": "",
            "ctype": "",
        }

        def on_part_begin() -> None:
            state["headers"] = {}

        def on_header_field(data: bytes, start: int, end: int) -> None:
            state["field"] += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            state["value"] += data[start:end]

        def on_header_end() -> None:
            state["headers"][state["field"].lower()] = state["value"]
            state["field"], state["value"] = b"", b""

        def on_headers_finished() -> None:
            _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
            if disp.get(b"name") == b"file" and not state["found"]:
                state["found"] = state["writing"] = True
                state["filename"] = disp.get(b"filename", b"").decode("utf-8", "replace")
                state["ctype"] = (
                    state["headers"].get(b"content-type", b"").decode("latin-1").strip()
                )
                state["fh"] = tmp.open("wb")

        def on_part_data(data: bytes, start: int, end: int) -> None:
            if not state["writing"]:
                return
            state["size"] += end - start
            if state["size"] > max_upload:
                state["too_big"], state["writing"] = True, False
                return
            state["fh"].write(data[start:end])

        def on_part_end() -> None:
            state["writing"] = False

        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": on_part_data,
                "on_part_end": on_part_end,
            },
        )
        drained = 0
        try:
            async for chunk in request.stream():
                if state["too_big"]:
                    # Drain (bounded) so the client can read our 413 instead of a reset.
                    drained += len(chunk)
                    if drained > 64 * 1024 * 1024:
                        break
                    continue
                parser.write(chunk)
            if not state["too_big"]:
                parser.finalize()
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            raise ApiError(400, f"Malformed multipart body: {exc}") from exc
        finally:
            if state["fh"] is not None:
                state["fh"].close()
        if state["too_big"]:
            tmp.unlink(missing_ok=True)
            raise ApiError(
                413, f"File too large: the limit is {_human_size(max_upload)} ({max_upload} bytes)"
            )
        if not state["found"]:
            raise ApiError(422, "Missing required field: file")
        os.replace(tmp, files_dir / file_id)
        filename = _safe_filename(state["filename"])
        ctype_out = state["ctype"].split(";")[0].strip()
        if not ctype_out or ctype_out == "application/octet-stream":
            ctype_out = mimetypes.guess_type(filename)[0] or ctype_out or "application/octet-stream"
        created = await run_in_threadpool(
            store.create_file, owner, file_id, filename, state["size"], ctype_out
        )
        return JSONResponse(created, status_code=201)

    @api.get("/files", tags=["files"])
    def list_files(
        page: int = PageQuery, limit: int = LimitQuery, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        items, total = store.list_files(owner, page, limit)
        return _page(items, page, limit, total)

    @api.delete("/files/{file_id}", status_code=204, tags=["files"])
    def delete_file(file_id: str, owner: str = Depends(current_owner)) -> Response:
        if not store.delete_file(owner, file_id):
            raise not_found("File")
        (files_dir / file_id).unlink(missing_ok=True)  # the id was checked against the store
        return Response(status_code=204)

    # -- tables ---------------------------------------------------------------------------------
    @api.post("/tables", status_code=201, tags=["tables"])
    def create_table(body: TableCreate, owner: str = Depends(current_owner)) -> dict[str, Any]:
        schema = store.get_schema(owner, body.schema_id)
        if schema is None:
            raise ApiError(
                422, f"Unknown schema_id {body.schema_id!r}: use an id from GET /schemas"
            )
        refs: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        sources = body.file_ids or body.file_urls or []
        if len(sources) > MAX_SOURCES:
            raise ApiError(
                422, f"At most {MAX_SOURCES} files or URLs per table (got {len(sources)})"
            )
        if len(set(sources)) != len(sources):
            raise ApiError(422, "The same file or URL is listed twice; list each source once")
        if body.file_ids is not None:
            source_type = "files"
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
        elif body.file_urls is not None:
            source_type = "urls"
            for url in body.file_urls:
                refs.append({"url": url})
                name = url.rstrip("/").rsplit("/", 1)[-1] or url
                files.append({"name": name, "path": url, "size": 0})
        else:
            source_type = "text"
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

    @api.get("/tables", tags=["tables"])
    def list_tables(
        page: int = PageQuery,
        limit: int = LimitQuery,
        search: str | None = Query(
            None, max_length=500, description="Case-insensitive substring of the name"
        ),
        status: Literal["queued", "processing", "completed", "failed"] | None = Query(None),
        owner: str = Depends(current_owner),
    ) -> dict[str, Any]:
        items, total = store.list_tables(owner, page, limit, search, status)
        return _page(items, page, limit, total)

    @api.get("/tables/{table_id}", tags=["tables"])
    def get_table(table_id: str, owner: str = Depends(current_owner)) -> dict[str, Any]:
        return table_or_404(owner, table_id)

    @api.patch("/tables/{table_id}", tags=["tables"])
    def update_table(
        table_id: str, body: TableUpdate, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        table_or_404(owner, table_id)
        fields: dict[str, Any] = {}
        for name in body.model_fields_set:
            value = getattr(body, name)
            if name == "enhancement_context":
                fields[name] = value
            elif value is not None:
                fields[name] = value.strip() if name == "name" else value
        if "schema_id" in fields:
            schema = store.get_schema(owner, fields["schema_id"])
            if schema is None:
                raise ApiError(
                    422, f"Unknown schema_id {fields['schema_id']!r}: use an id from GET /schemas"
                )
            fields["columns"] = schema["columns"]  # the table takes a fresh copy of the columns
        table = store.update_table(owner, table_id, fields)
        if table is None:
            raise not_found("Table")
        return table

    @api.delete("/tables/{table_id}", status_code=204, tags=["tables"])
    def delete_table(table_id: str, owner: str = Depends(current_owner)) -> Response:
        # A running extraction notices at its next write and stops.
        if not store.delete_table(owner, table_id):
            raise not_found("Table")
        return Response(status_code=204)

    @api.get("/tables/{table_id}/columns", tags=["tables"])
    def table_columns(table_id: str, owner: str = Depends(current_owner)) -> dict[str, Any]:
        columns = store.table_columns(owner, table_id)
        if columns is None:
            raise not_found("Table")
        return {"data": columns}

    @api.get("/tables/{table_id}/export", tags=["export"])
    def export_table(
        table_id: str,
        format: Literal["csv", "xlsx", "json", "images"] = Query(...),
        columns: str | None = Query(None, description="Comma-separated column keys; default all"),
        owner: str = Depends(current_owner),
    ) -> Response:
        table = table_or_404(owner, table_id)
        if table["status"] in ACTIVE_STATUSES:
            raise ApiError(
                409,
                f"Table is still {table['status']} ({table['progress']}%); export it once it is completed",
            )
        if format == "images":
            raise ApiError(
                400,
                "The embedded engine does not export images (it works offline); use csv, xlsx or json",
            )
        cols = store.table_columns(owner, table_id) or []
        if columns:
            wanted = [c.strip() for c in columns.split(",") if c.strip()]
            known = {c["key"]: c for c in cols}
            unknown = [k for k in wanted if k not in known]
            if unknown:
                raise ApiError(422, f"Unknown column key(s) in columns: {', '.join(unknown)}")
            cols = [known[k] for k in dict.fromkeys(wanted)]
        keys = [c["key"] for c in cols]
        rows = [r["data"] for r in store.iter_rows(table_id)]
        stem = re.sub(r"[^\w.-]+", "_", table["name"], flags=re.ASCII).strip("._")[:80] or table_id
        if format == "json":
            return JSONResponse(
                [{k: d.get(k) for k in keys} for d in rows],
                headers={"Content-Disposition": f'attachment; filename="{stem}.json"'},
            )
        if format == "csv":
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
            writer.writerow([c.get("label") or c["key"] for c in cols])  # labels: what exports show
            for d in rows:
                writer.writerow([_cell(d.get(k)) for k in keys])
            return Response(
                out.getvalue().encode("utf-8"),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
            )
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        book = Workbook(write_only=True)
        sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", table["name"])[:31] or "Rows")
        sheet.append([c.get("label") or c["key"] for c in cols])
        for d in rows:
            cells = []
            for k in keys:
                value = d.get(k)
                value = value if isinstance(value, (bool, int, float)) else _cell(value)
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cells.append(value)
            sheet.append(cells)
        buffer = io.BytesIO()
        book.save(buffer)
        return Response(
            buffer.getvalue(),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )

    # -- rows -----------------------------------------------------------------------------------
    @api.get("/tables/{table_id}/rows", tags=["rows"])
    def list_rows(
        table_id: str,
        page: int = PageQuery,
        limit: int = LimitQuery,
        sort_by: str | None = Query(None, description="A column key, or row_index (default)"),
        sort_order: Literal["asc", "desc"] = Query("asc"),
        owner: str = Depends(current_owner),
    ) -> Response:
        cols = store.table_columns(owner, table_id)
        if cols is None:
            raise not_found("Table")
        if (
            sort_by is not None
            and sort_by != "row_index"
            and sort_by not in {c["key"] for c in cols}
        ):
            choices = ", ".join(["row_index", *(c["key"] for c in cols)])
            raise ApiError(422, f"Unknown sort_by {sort_by!r}; use one of: {choices}")
        items, total = store.list_rows_json(table_id, page, limit, sort_by, sort_order == "desc")
        pagination = json.dumps({"page": page, "limit": limit, "total": total})
        body = f'{{"data":[{",".join(items)}],"pagination":{pagination}}}'
        return Response(body, media_type="application/json")

    @api.post("/tables/{table_id}/rows", status_code=201, tags=["rows"])
    def create_rows(
        table_id: str, body: RowsCreate, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        keys = {c["key"] for c in writable_columns(owner, table_id)}
        unknown = sorted({k for row in body.rows for k in row if k not in keys})
        if unknown:
            raise ApiError(
                422,
                f"Unknown column key(s): {', '.join(unknown)}; the table's columns are: {', '.join(sorted(keys))}",
            )
        created = store.insert_rows(table_id, body.rows)
        return {"data": created, "inserted_count": len(created)}

    @api.post("/tables/{table_id}/rows/bulk-update", tags=["rows"])
    def bulk_update(
        table_id: str, body: BulkUpdate, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        keys = {c["key"] for c in writable_columns(owner, table_id)}
        if body.column_key not in keys:
            raise ApiError(
                422,
                f"Unknown column_key {body.column_key!r}; use one of: {', '.join(sorted(keys))}",
            )
        return {
            "updated_count": store.bulk_update(table_id, body.row_ids, body.column_key, body.value)
        }

    @api.post("/tables/{table_id}/rows/bulk-delete", tags=["rows"])
    def bulk_delete(
        table_id: str, body: BulkDelete, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        writable_columns(owner, table_id)
        return {"deleted_count": store.delete_rows(table_id, body.row_ids)}

    @api.get("/tables/{table_id}/rows/{row_id}", tags=["rows"])
    def get_row(table_id: str, row_id: str, owner: str = Depends(current_owner)) -> dict[str, Any]:
        table_or_404(owner, table_id)
        row = store.get_row(table_id, row_id)
        if row is None:
            raise not_found("Row")
        return row

    @api.put("/tables/{table_id}/rows/{row_id}", tags=["rows"])
    def update_row(
        table_id: str, row_id: str, body: RowUpdate, owner: str = Depends(current_owner)
    ) -> dict[str, Any]:
        keys = {c["key"] for c in writable_columns(owner, table_id)}
        unknown = sorted(k for k in body.data if k not in keys)
        if unknown:
            raise ApiError(422, f"Unknown column key(s): {', '.join(unknown)}")
        row = store.merge_row(table_id, row_id, body.data)
        if row is None:
            raise not_found("Row")
        return row

    @api.delete("/tables/{table_id}/rows/{row_id}", status_code=204, tags=["rows"])
    def delete_row(table_id: str, row_id: str, owner: str = Depends(current_owner)) -> Response:
        writable_columns(owner, table_id)
        if not store.delete_rows(table_id, [row_id]):
            raise not_found("Row")
        return Response(status_code=204)

    app.include_router(api)
    # (path regex, methods) of every API route, for the Allow header of 405 answers.
    app.state.route_methods = [
        (route.path, route.path_regex, route.methods)
        for route in api.routes
        if getattr(route, "methods", None)
    ]
    return app
