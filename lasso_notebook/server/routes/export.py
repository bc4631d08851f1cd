"""``/tables/{id}/export``: a finished table's rows as csv, xlsx or json, in column order."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from ..errors import ApiError
from ._common import Owner, StoreDep, refuse_while_active, table_or_404

router = APIRouter(tags=["export"])

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    stem: str, cols: list[dict[str, Any]], keys: list[str], rows: Iterable[dict[str, Any]]
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.get("label") or c["key"] for c in cols])  # labels: what exports show
    for d in rows:
        writer.writerow([_cell(d.get(k)) for k in keys])
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"{stem}.csv"),
    )


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
    rows = [r["data"] for r in store.iter_rows(table_id)]
    stem = re.sub(r"[^\w.-]+", "_", table["name"], flags=re.ASCII).strip("._")[:80] or table_id
    if format == "json":
        return JSONResponse(
            [{k: d.get(k) for k in keys} for d in rows], headers=_attachment(f"{stem}.json")
        )
    if format == "csv":
        return _csv(stem, cols, keys, rows)
    return _xlsx(stem, table["name"], cols, keys, rows)
