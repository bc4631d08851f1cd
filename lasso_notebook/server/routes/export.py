"""``/tables/{id}/export``: a finished table's rows as csv, xlsx or json, in column order and in
``row_index`` order. json and csv are streamed: rows are read from SQLite a batch at a time and
written as they are read, so a table of any size costs one batch of memory.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from ..errors import ApiError
from ..store import Store
from ._common import Owner, StoreDep, refuse_while_active, table_or_404

router = APIRouter(tags=["export"])

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Rows read from SQLite and written per step of a streamed export.
BATCH = 1000


def _load(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # valid JSON orjson refuses (e.g. an integer beyond 64 bits)
        return json.loads(text)


def _dump(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # beyond orjson (an integer beyond 64 bits): same JSON, slower
        return json.dumps(value, separators=(",", ":")).encode()


def _json_lines(store: Store, table_id: str, keys: list[str]) -> Iterator[bytes]:
    """The json export as one JSON array written one row object per line
    (``[\n{…},\n{…}\n]``): clients can parse it line by line as it arrives."""
    wanted = tuple(keys)
    yield b"["
    separator = b"\n"
    for batch in store.iter_data_batches(table_id, BATCH):
        lines = []
        for text in batch:
            data = _load(text)
            # Stored rows whose keys are exactly the columns, in order, go out as stored
            # (compact JSON on one line): no re-encoding for the common case.
            if isinstance(data, dict) and tuple(data) == wanted and "\n" not in text:
                lines.append(text.encode())
            else:
                data = data if isinstance(data, dict) else {}
                lines.append(_dump({k: data.get(k) for k in keys}))
        yield separator + b",\n".join(lines)
        separator = b",\n"
    yield b"\n]\n"


def _datas(store: Store, table_id: str) -> Iterator[dict[str, Any]]:
    for batch in store.iter_data_batches(table_id, BATCH):
        for text in batch:
            data = _load(text)
            yield data if isinstance(data, dict) else {}


def _cell(value: Any) -> Any:
    """A value as one spreadsheet cell: lists joined with commas, objects as JSON."""
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


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _csv(
    store: Store, table_id: str, cols: list[dict[str, Any]], keys: list[str]
) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.get("label") or c["key"] for c in cols])  # labels: what exports show
    for batch in store.iter_data_batches(table_id, BATCH):
        for text in batch:
            data = _load(text)
            data = data if isinstance(data, dict) else {}
            writer.writerow([_cell(data.get(k)) for k in keys])
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
    if out.getvalue():  # the header of a table without rows
        yield out.getvalue().encode("utf-8")


def _xlsx(
    stem: str,
    sheet_name: str,
    cols: list[dict[str, Any]],
    keys: list[str],
    rows: Iterable[dict[str, Any]],
) -> Response:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", sheet_name)[:31] or "Rows")
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
    return Response(buffer.getvalue(), media_type=_XLSX, headers=_attachment(f"{stem}.xlsx"))


@router.get("/tables/{table_id}/export")
def export_table(
    table_id: str,
    store: StoreDep,
    owner: Owner,
    format: Literal["csv", "xlsx", "json", "images"] = Query(...),
    columns: str | None = Query(None, description="Comma-separated column keys; default all"),
) -> Response:
    table = table_or_404(store, owner, table_id)
    refuse_while_active(table["status"], table["progress"], "export it")
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
    stem = re.sub(r"[^\w.-]+", "_", table["name"], flags=re.ASCII).strip("._")[:80] or table_id
    if format == "json":
        return StreamingResponse(
            _json_lines(store, table_id, keys),
            media_type="application/json",
            headers=_attachment(f"{stem}.json"),
        )
    if format == "csv":
        return StreamingResponse(
            _csv(store, table_id, cols, keys),
            media_type="text/csv; charset=utf-8",
            headers=_attachment(f"{stem}.csv"),
        )
    return _xlsx(stem, table["name"], cols, keys, _datas(store, table_id))
