"""Excel workbooks: ``.xlsx`` with openpyxl (read-only, streamed) and ``.xls`` with xlrd.
Every sheet is read as a grid (merged cells fill every cell they cover, so a merged two-row
header joins and a merged section label spans the table); each sheet finds its own header
below any title lines. Integral floats become ints, dates stay dates, and a number formatted
as money keeps its currency, so codes, dates and prices survive the trip through Excel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..coerce import Money, currency_in
from ..errors import ExtractionError
from ..grid import GridRow, grid_items
from ..source import Item, Source, Step

__all__ = ["read_xls", "read_xlsx"]

_STEP_ROWS = 2000
#: Merged ranges read per sheet (a sheet with more is read without filling the rest).
_MAX_MERGES = 20_000
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_LOCALE_TAG = re.compile(r"\[\$-[0-9A-Fa-f]+\]")  # [$-409]: a locale, not a currency


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _money(value: Any, number_format: str | None) -> Any:
    """A number whose cell format shows a currency keeps it (``"$"#,##0.00`` -> USD)."""
    if number_format and isinstance(value, (int, float)) and not isinstance(value, bool):
        code = currency_in(_LOCALE_TAG.sub("", number_format).replace('"', ""))
        if code:
            return Money(value, code)
    return _cell(value)


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _unreadable(source: Source, exc: Exception, kind: str) -> ExtractionError:
    return ExtractionError(
        f"{source.label} could not be read as an {kind} workbook (damaged or another format: "
        f"{type(exc).__name__})."
    )


class _Merges:
    """Fills merged ranges while rows stream by: the top-left value covers the range."""

    def __init__(self, ranges: list[tuple[int, int, int, int]]) -> None:
        self.starting: dict[int, list[tuple[int, int, int, int]]] = {}
        for r1, c1, r2, c2 in ranges:
            self.starting.setdefault(r1, []).append((r1, c1, r2, c2))
        self.active: list[tuple[int, int, int, Any]] = []  # (last row, c1, c2, value)

    def fill(self, r: int, cells: list[Any]) -> list[Any]:
        for _r1, c1, r2, c2 in self.starting.pop(r, ()):
            value = cells[c1] if c1 < len(cells) else None
            self.active.append((r2, c1, c2, value))
        if not self.active:
            return cells
        for _last, c1, c2, value in self.active:
            if len(cells) <= c2:
                cells.extend([None] * (c2 + 1 - len(cells)))
            for c in range(c1, c2 + 1):
                cells[c] = value
        self.active = [a for a in self.active if a[0] > r]
        return cells


def _xlsx_merges(book: Any, sheet: Any) -> list[tuple[int, int, int, int]]:
    """Merged ranges (0-based row/col, inclusive) from the sheet's XML, read in chunks: the
    read-only reader does not expose them."""
    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(book, "_archive", None)
    if not path or archive is None:
        return []
    found: set[tuple[int, int, int, int]] = set()
    try:
        with archive.open(path) as fh:
            tail = b""
            while chunk := fh.read(1 << 20):
                data = tail + chunk
                for a, r1, b, r2 in _MERGE.findall(data):
                    found.add((int(r1) - 1, _column(a), int(r2 or r1) - 1, _column(b or a)))
                    if len(found) >= _MAX_MERGES:
                        return sorted(found)
                tail = data[-256:]
    except (KeyError, OSError, ValueError):
        return []
    return sorted(r for r in found if r != (r[0], r[1], r[0], r[1]))


def read_xlsx(source: Source) -> Iterator[Item]:
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
            merges = _Merges(_xlsx_merges(book, sheet))
            title = sheet.title

            def rows(sheet: Any = sheet, merges: _Merges = merges, title: str = title) -> Iterator[GridRow]:  # fmt: skip
                for r, row in enumerate(sheet.iter_rows(), 1):
                    cells = [_money(c.value, getattr(c, "number_format", None)) for c in row]
                    yield GridRow(merges.fill(r - 1, cells), {"sheet": title, "line": r})

            count = 0
            for item in grid_items(rows()):
                yield item
                if isinstance(item, dict):
                    count += 1
                    if total and count % _STEP_ROWS == 0:
                        yield Step((n + min(1.0, count / total)) / len(sheets))
            yield Step((n + 1) / len(sheets))
    finally:
        book.close()
        fh.close()


def read_xls(source: Source) -> Iterator[Item]:
    import xlrd

    try:
        book = xlrd.open_workbook(source.path, on_demand=True, formatting_info=True)
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
            ranges = [(r1, c1, r2 - 1, c2 - 1) for r1, r2, c1, c2 in sheet.merged_cells]
            merges = _Merges(ranges[:_MAX_MERGES])

            def fmt(cell: Any) -> str | None:
                try:
                    xf = book.xf_list[cell.xf_index]
                    return book.format_map[xf.format_key].format_str
                except (IndexError, KeyError, AttributeError, TypeError):
                    return None

            def rows(sheet: Any = sheet, merges: _Merges = merges) -> Iterator[GridRow]:
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
                        elif cell.ctype == xlrd.XL_CELL_NUMBER:
                            out.append(_money(cell.value, fmt(cell)))
                        else:
                            out.append(_cell(cell.value))
                    yield GridRow(merges.fill(r, out), {"sheet": sheet.name, "line": r + 1})

            yield from grid_items(rows())
            book.unload_sheet(n)
            yield Step((n + 1) / count)
    finally:
        book.release_resources()
