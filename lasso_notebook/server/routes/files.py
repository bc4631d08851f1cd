"""``/files``: streaming multipart upload (``receive_upload``), list and delete."""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import ApiError, not_found
from ..store import new_id
from ._common import EngineDep, LimitQuery, Owner, PageQuery, StoreDep, page_of

router = APIRouter(tags=["files"])

#: The body is read as a stream, not by FastAPI, so its OpenAPI description is given here.
_UPLOAD_BODY = {
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
#: Allowance for the multipart framing around the file when judging Content-Length.
_PART_HEADERS = 1024 * 1024
#: After refusing a too-large file, at most this much more is read (and dropped) so the client
#: gets the 413 instead of a connection reset.
_MAX_DRAIN = 64 * 1024 * 1024


@dataclass
class ReceivedFile:
    """An upload stored at ``path`` (``files/<file_id>``), not yet registered in the store."""

    file_id: str
    path: Path
    filename: str
    content_type: str
    size: int


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"File too large: the limit is {_human_size(limit)} ({limit} bytes)")


def _safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]+", "", base).strip().strip(".")
    return base[:255] or "upload"


class _FilePart:
    """python-multipart callbacks that write the first part named ``file`` to ``path`` and
    stop writing (``too_big``) once it exceeds ``limit`` bytes."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._fh: IO[bytes] | None = None
        self.found = False
        self.writing = False
        self.too_big = False
        self.size = 0
        self.filename = ""
        self.content_type = ""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, disp = parse_options_header(self.headers.get(b"content-disposition", b""))
        if disp.get(b"name") == b"file" and not self.found:
            self.found = self.writing = True
            self.filename = disp.get(b"filename", b"").decode("utf-8", "replace")
            self.content_type = self.headers.get(b"content-type", b"").decode("latin-1").strip()
            self._fh = self.path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.writing:
            return
        self.size += end - start
        if self.size > self.limit:
            self.too_big, self.writing = True, False
            return
        assert self._fh is not None
        self._fh.write(data[start:end])

    def on_part_end(self) -> None:
        self.writing = False

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


async def receive_upload(request: Request, files_dir: Path, limit: int) -> ReceivedFile:
    """Stream the multipart body's ``file`` part to ``files_dir`` (never whole in memory),
    refusing it past ``limit`` bytes. Until the file is in place it lives in a hidden ``.part``
    file, removed whatever ends the upload (refusal, bad body, disconnect, cancellation)."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise ApiError(400, "Upload the file as multipart/form-data with a part named 'file'")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + _PART_HEADERS:
        raise _too_large(limit)  # clearly too big: refused before reading a byte
    file_id = new_id("file")
    tmp = files_dir / f".{file_id}.part"
    part = _FilePart(tmp, limit)
    parser = MultipartParser(boundary, part.callbacks())
    committed = False
    try:
        drained = 0
        try:
            async for chunk in request.stream():
                if part.too_big:
                    drained += len(chunk)
                    if drained > _MAX_DRAIN:
                        break
                    continue
                parser.write(chunk)
            if not part.too_big:
                parser.finalize()
        except Exception as exc:
            raise ApiError(400, f"Malformed multipart body: {exc}") from exc
        finally:
            part.close()
        if part.too_big:
            raise _too_large(limit)
        if not part.found:
            raise ApiError(422, "Missing required field: file")
        path = files_dir / file_id
        os.replace(tmp, path)
        committed = True
    finally:
        if not committed:
            tmp.unlink(missing_ok=True)
    filename = _safe_filename(part.filename)
    content_type = part.content_type.split(";")[0].strip()
    if not content_type or content_type == "application/octet-stream":
        content_type = (
            mimetypes.guess_type(filename)[0] or content_type or "application/octet-stream"
        )
    return ReceivedFile(file_id, path, filename, content_type, part.size)


@router.post("/files", status_code=201, openapi_extra=_UPLOAD_BODY)
async def upload_file(
    request: Request, engine: EngineDep, store: StoreDep, owner: Owner
) -> JSONResponse:
    got = await receive_upload(request, engine.data_dir / "files", engine.max_upload_bytes)
    try:
        created = await run_in_threadpool(
            store.create_file, owner, got.file_id, got.filename, got.size, got.content_type
        )
    except Exception:
        got.path.unlink(missing_ok=True)  # not registered: nothing may point at it
        raise
    return JSONResponse(created, status_code=201)


@router.get("/files")
def list_files(
    store: StoreDep, owner: Owner, page: int = PageQuery, limit: int = LimitQuery
) -> dict[str, Any]:
    items, total = store.list_files(owner, page, limit)
    return page_of(items, page, limit, total)


@router.delete("/files/{file_id}", status_code=204)
def delete_file(file_id: str, engine: EngineDep, store: StoreDep, owner: Owner) -> Response:
    if not store.delete_file(owner, file_id):
        raise not_found("File")
    (engine.data_dir / "files" / file_id).unlink(missing_ok=True)  # the id was checked
    return Response(status_code=204)
