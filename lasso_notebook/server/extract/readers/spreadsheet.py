"""Excel workbooks: ``.xlsx`` with openpyxl (read-only, streamed) and ``.xls`` with xlrd.
Every sheet is read; each finds its own header row below any title lines. Integral floats
become ints and dates stay dates, so codes and dates survive the trip through Excel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import ExtractionError
from ..records import table_records
from ..source import Record, Source, Step

__all__ = ["read_xls", "read_xlsx"]

_STEP_ROWS = 2000


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _unreadable(source: Source, exc: Exception, kind: str) -> ExtractionError:
    return ExtractionError(
        f"{source.label} could not be read as an {kind} workbook (damaged or another format: "
        f"{type(exc).__name__})."
    )


def read_xlsx(source: Source) -> Iterator[Record | Step]:
    from openpyxl import load_workbook

    assert source.path is not None
    # A file object, not the path: openpyxl refuses names without .xlsx (URL downloads).
    fh = source.path.open("rb")
    try:
        book = load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, openpyxl's InvalidFileException ...
        fh.close()
        raise _unreadable(source, exc, "Excel (.xlsx)") from exc
    try:
        sheets = book.worksheets
        for n, sheet in enumerate(sheets):
            total = sheet.max_row or 0
            rows = ([_cell(v) for v in row] for row in sheet.iter_rows(values_only=True))
            for count, record in enumerate(table_records(rows), 1):
                yield record
                if total and count % _STEP_ROWS == 0:
                    yield Step((n + min(1.0, count / total)) / len(sheets))
            yield Step((n + 1) / len(sheets))
    finally:
        book.close()
        fh.close()


def read_xls(source: Source) -> Iterator[Record | Step]:
    import xlrd

    try:
        book = xlrd.open_workbook(source.path, on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise ExtractionError(
                f"{source.label} is password-protected (encrypted workbook); remove the "
                "password and upload it again."
            ) from exc
        raise _unreadable(source, exc, "Excel (.xls)") from exc
    except Exception as exc:
        raise _unreadable(source, exc, "Excel (.xls)") from exc
    try:
        count = book.nsheets
        for n in range(count):
            sheet = book.sheet_by_index(n)

            def rows(sheet: Any = sheet) -> Iterator[list[Any]]:
                for r in range(sheet.nrows):
                    out = []
                    for cell in sheet.row(r):
                        if cell.ctype == xlrd.XL_CELL_DATE:
                            out.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                        elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                            out.append(bool(cell.value))
                        elif cell.ctype in (
                            xlrd.XL_CELL_EMPTY,
                            xlrd.XL_CELL_BLANK,
                            xlrd.XL_CELL_ERROR,
                        ):
                            out.append(None)
                        else:
                            out.append(_cell(cell.value))
                    yield out

            yield from table_records(rows())
            book.unload_sheet(n)
            yield Step((n + 1) / count)
    finally:
        book.release_resources()
