"""Word ``.docx`` with python-docx: every table (hyperlinks kept on the cells), then the
paragraphs, parsed as listings or ``Key: value`` blocks (prose that holds neither is ignored)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Any

from ..errors import ExtractionError
from ..records import parse_text, table_records
from ..source import Linked, Record, Source, Step

__all__ = ["read_docx"]


def _cell(cell: Any) -> str:
    text = " ".join(cell.text.split())
    urls = []
    for paragraph in cell.paragraphs:
        for link in getattr(paragraph, "hyperlinks", ()):
            address = getattr(link, "url", None) or getattr(link, "address", None)
            if address:
                urls.append(address)
    return Linked(text or " ".join(urls), urls) if urls else text


def read_docx(source: Source) -> Iterator[Record | Step]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(source.path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExtractionError(
            f"{source.label} could not be read as a Word (.docx) document (damaged or another "
            f"format: {type(exc).__name__})."
        ) from exc
    tables = document.tables
    produced = False
    for n, table in enumerate(tables):
        rows = []
        for row in table.rows:
            cells, previous = [], None
            for cell in row.cells:
                # A merged cell comes back once per grid column: keep one copy.
                cells.append("" if cell._tc is previous else _cell(cell))
                previous = cell._tc
            rows.append(cells)
        for record in table_records(rows):
            produced = True
            yield record
        yield Step(0.8 * (n + 1) / max(1, len(tables)))
    text = "\n".join(p.text for p in document.paragraphs)
    if text.strip():
        try:
            records = parse_text(text)
        except ExtractionError:
            if not produced:
                raise ExtractionError(
                    f"{source.label} has no table and its text holds no product records "
                    "(lines like 'Acme Drill — SKU A1 — $9' or 'Name: ...' blocks)."
                ) from None
            records = []
        produced = produced or bool(records)
        yield from records
    if not produced and not text.strip():
        raise ExtractionError(f"{source.label} is empty: it has no tables and no text.")
    yield Step(1.0)
