"""The API's resources as the official SDK names them: ``schemas``, ``files`` and ``tables``
(async; ``client.Lasso`` wraps them for sync use). Each method is one documented endpoint,
its body checked before sending and its answer parsed into the wire models."""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import ValidationError

from ._pages import SyncPage
from .errors import InvalidRequestError, WaitTimeoutError
from .models import (
    Column,
    CreateTableRequest,
    File,
    Row,
    Schema,
    SchemaSummary,
    Table,
    TableSummary,
)

if TYPE_CHECKING:
    from .client import AsyncLasso

__all__ = ["AsyncFiles", "AsyncSchemas", "AsyncTables", "FileInput", "validation_message"]

T = TypeVar("T")

FileInput = str | os.PathLike[str] | bytes | IO[bytes]


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one line a user can act on (used for every refused request)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "invalid create-table request: " + "; ".join(problems)


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _file_part(file: FileInput, filename: str | None) -> tuple[str, IO[bytes], str]:
    """An httpx multipart part for a path, bytes or a binary file object."""
    if isinstance(file, bytes):
        name, stream = filename or "upload.bin", io.BytesIO(file)
    elif isinstance(file, (str, os.PathLike)):
        path = Path(file).expanduser()
        if not path.is_file():
            raise InvalidRequestError(f"no such file: {path}; check the path")
        name, stream = filename or path.name, path.open("rb")
    elif hasattr(file, "read"):
        name = filename or Path(getattr(file, "name", "upload.bin")).name
        # A retry re-reads from the start; a stream that cannot seek is buffered once for that.
        stream = file if _seekable(file) else io.BytesIO(file.read())
    else:
        raise InvalidRequestError(
            f"cannot upload a {type(file).__name__}; pass a path, bytes or a binary file object"
        )
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, stream, content_type


class _Resource:
    def __init__(self, client: AsyncLasso) -> None:
        self._client = client

    async def _page(self, path: str, model: type[T], params: dict[str, Any]) -> SyncPage[T]:
        params = {k: v for k, v in params.items() if v is not None}
        body = await self._client.request("GET", path, params=params)
        page = SyncPage[model].model_validate(body)  # type: ignore[valid-type]

        async def fetch(number: int) -> SyncPage[T]:
            return await self._page(path, model, {**params, "page": number})

        page._fetch = fetch
        page._number = int(params.get("page", 1))
        return page


class AsyncSchemas(_Resource):
    async def list(self, page: int = 1, limit: int = 25) -> SyncPage[SchemaSummary]:
        return await self._page("/schemas", SchemaSummary, {"page": page, "limit": limit})

    async def get(self, schema_id: str) -> Schema:
        return Schema.model_validate(
            await self._client.request("GET", f"/schemas/{_seg(schema_id)}")
        )

    async def create(
        self,
        name: str,
        columns: list[Column | dict[str, Any]],
        description: str | None = None,
        is_default: bool | None = None,
    ) -> Schema:
        body: dict[str, Any] = {"name": name, "columns": _columns_body(columns)}
        if description is not None:
            body["description"] = description
        if is_default is not None:
            body["is_default"] = is_default
        return Schema.model_validate(await self._client.request("POST", "/schemas", json=body))

    async def update(self, schema_id: str, **fields: Any) -> Schema:
        if "columns" in fields:
            fields["columns"] = _columns_body(fields["columns"])
        data = await self._client.request("PUT", f"/schemas/{_seg(schema_id)}", json=fields)
        return Schema.model_validate(data)

    async def delete(self, schema_id: str) -> None:
        await self._client.request("DELETE", f"/schemas/{_seg(schema_id)}")

    async def generate(self, sample_data: str, name: str | None = None) -> Schema:
        body = {"sample_data": sample_data} | ({"name": name} if name else {})
        data = await self._client.request("POST", "/schemas/generate", json=body)
        return Schema.model_validate(data)


def _seg(value: str) -> str:
    """An id as one URL path segment: a typed or pasted id with ``/``, ``?`` or control
    characters must not reach another route, or fail inside httpx with a traceback."""
    return quote(str(value), safe="")


def _columns_body(columns: list[Column | dict[str, Any]]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude_none=True) if isinstance(c, Column) else dict(c) for c in columns]


class AsyncFiles(_Resource):
    async def upload(self, file: FileInput, filename: str | None = None) -> File:
        """Upload a local path, bytes or a binary file object (multipart part ``file``)."""
        name, stream, content_type = _file_part(file, filename)
        owned = isinstance(file, (str, os.PathLike))
        start = stream.tell()
        try:

            def parts() -> dict[str, Any]:
                # Each attempt re-reads from the start, so a retried upload sends every byte.
                stream.seek(start)
                return {"file": (name, stream, content_type)}

            data = await self._client.request("POST", "/files", files=parts)
        finally:
            if owned:
                stream.close()
        return File.model_validate(data)

    async def list(self, page: int = 1, limit: int = 25) -> SyncPage[File]:
        return await self._page("/files", File, {"page": page, "limit": limit})

    async def delete(self, file_id: str) -> None:
        await self._client.request("DELETE", f"/files/{_seg(file_id)}")


class AsyncTables(_Resource):
    async def create(
        self,
        schema_id: str,
        name: str,
        file_ids: list[str] | None = None,
        file_urls: list[str] | None = None,
        source_text: str | None = None,
        additional_context: str | None = None,
        enhancement_context: str | None = None,
        webhook_url: str | None = None,
    ) -> Table:
        """Create a table and start its extraction. Never creates two tables for one call:
        after an ambiguous failure it looks for the table before trying again."""
        try:
            request = CreateTableRequest(
                schema_id=schema_id,
                name=name,
                file_ids=file_ids,
                file_urls=file_urls,
                source_text=source_text,
                additional_context=additional_context,
                enhancement_context=enhancement_context,
                webhook_url=webhook_url,
            )
        except ValidationError as exc:
            raise InvalidRequestError(validation_message(exc)) from None
        return await self._client.create_table(request)

    async def get(self, table_id: str) -> Table:
        return Table.model_validate(await self._client.request("GET", f"/tables/{_seg(table_id)}"))

    async def list(
        self,
        page: int = 1,
        limit: int = 25,
        search: str | None = None,
        status: str | None = None,
    ) -> SyncPage[TableSummary]:
        params = {"page": page, "limit": limit, "search": search, "status": status}
        return await self._page("/tables", TableSummary, params)

    async def update(self, table_id: str, **fields: Any) -> Table:
        data = await self._client.request("PATCH", f"/tables/{_seg(table_id)}", json=fields)
        return Table.model_validate(data)

    async def delete(self, table_id: str) -> None:
        await self._client.request("DELETE", f"/tables/{_seg(table_id)}")

    async def columns(self, table_id: str) -> list[Column]:
        data = await self._client.request("GET", f"/tables/{_seg(table_id)}/columns")
        return [Column.model_validate(c) for c in data.get("data", [])]

    async def rows(
        self,
        table_id: str,
        page: int = 1,
        limit: int = 25,
        sort_by: str | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
    ) -> SyncPage[Row]:
        params = {"page": page, "limit": limit, "sort_by": sort_by, "sort_order": sort_order}
        return await self._page(f"/tables/{_seg(table_id)}/rows", Row, params)

    async def iter_rows(self, table_id: str, limit: int = 100) -> AsyncIterator[Row]:
        """Every row of the table, page after page."""
        async for row in await self.rows(table_id, page=1, limit=limit):
            yield row

    async def export(
        self,
        table_id: str,
        format: Literal["csv", "json", "xlsx"] = "csv",
        columns: list[str] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> str | list[dict[str, Any]] | bytes:
        """csv → text (``;``-separated), json → list of flat dicts, xlsx → bytes. With
        ``path`` the raw file is also written there."""
        params: dict[str, Any] = {"format": format}
        if columns:
            params["columns"] = ",".join(columns)
        response = await self._client.request(
            "GET", f"/tables/{_seg(table_id)}/export", params=params, raw=True
        )
        if path is not None:
            Path(path).write_bytes(response.content)
        if format == "json":
            return response.json()
        if format == "csv":
            return response.text
        return response.content

    async def wait_for_completion(
        self, table_id: str, interval_s: float = 3, timeout_s: float = 300
    ) -> Table:
        """Poll until the table is finished (completed, failed or cancelled, in either status
        vocabulary) and return it; ``WaitTimeoutError`` (a ``TimeoutError``) after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            table = await self.get(table_id)
            if table.is_terminal:
                return table
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"table {table_id} still {table.status} after {timeout_s} s; it goes on on "
                    "the server, wait again or attach to it later",
                    table,
                )
            await asyncio.sleep(min(interval_s, remaining))
