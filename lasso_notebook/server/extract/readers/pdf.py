"""PDF with pdfplumber: each page's ruled tables first (a table continued over pages keeps its
header), then the text of pages without tables, parsed as listings or ``Key: value`` blocks.
One ``Step`` per page, pages are released as soon as they are read (bounded memory)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import ExtractionError
from ..records import find_header, parse_text, table_records
from ..source import Record, Source, Step

__all__ = ["read_pdf"]

_DIGIT = re.compile(r"\d")


def _open(source: Source) -> Any:
    import pdfplumber
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        return pdfplumber.open(source.path)
    except PdfminerException as exc:
        inner = exc.args[0] if exc.args else exc
        if "Password" in type(inner).__name__ or "Encrypt" in type(inner).__name__:
            raise ExtractionError(
                f"{source.label} is password-protected (encrypted PDF); remove the password "
                "and upload it again."
            ) from exc
        raise ExtractionError(
            f"{source.label} could not be read as a PDF (damaged or not a PDF: {inner})."
        ) from exc
    except Exception as exc:  # pdfminer raises assorted errors on damaged files
        raise ExtractionError(
            f"{source.label} could not be read as a PDF (damaged or not a PDF: "
            f"{type(exc).__name__})."
        ) from exc


def _clean(cell: Any) -> str:
    return " ".join(str(cell).split()) if cell is not None else ""


def _header_like(row: list[str]) -> bool:
    filled = [c for c in row if c]
    return len(filled) >= max(2, len(row) // 2) and not any(_DIGIT.search(c) for c in filled)


def read_pdf(source: Source) -> Iterator[Record | Step]:
    pdf = _open(source)
    with pdf:
        try:
            pages = len(pdf.pages)
        except Exception as exc:
            raise ExtractionError(f"{source.label} could not be read as a PDF ({exc}).") from exc
        if pages == 0:
            raise ExtractionError(f"{source.label} has no pages.")
        header: list[str] | None = None
        texts: list[str] = []
        any_text = produced = False
        for number, page in enumerate(pdf.pages, 1):
            try:
                tables = [[[_clean(c) for c in row] for row in t] for t in page.extract_tables()]
                tables = [[r for r in t if any(r)] for t in tables]
                tables = [t for t in tables if len(t) >= 1 and max(len(r) for r in t) >= 2]
                if not tables:
                    text = page.extract_text() or ""
                    any_text = any_text or bool(text.strip())
                    texts.append(text)
                for rows in tables:
                    any_text = True
                    # A page that starts with data continues the previous page's table.
                    if header is None or len(rows[0]) != len(header) or _header_like(rows[0]):
                        index, is_header = find_header(rows)
                        if is_header:
                            header, rows = rows[index], rows[index + 1 :]
                        elif header is None or len(rows[0]) != len(header):
                            header = [f"column {i + 1}" for i in range(len(rows[0]))]
                    for record in table_records(rows, _unique(header)):
                        produced = True
                        yield record
            finally:
                page.close()  # drops the page's parsed objects: memory stays flat
            yield Step(number / pages, page=True)
        text = "\n\n".join(t for t in texts if t.strip())
        if text.strip():
            try:
                records = parse_text(text)
            except ExtractionError:
                if not produced:
                    raise
                records = []
            yield from records
            produced = produced or bool(records)
        if not any_text:
            raise ExtractionError(
                f"{source.label} has no text layer (a scanned PDF?): OCR is not available in "
                "the embedded engine. Use a PDF with selectable text, or the hosted Lasso API."
            )


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header):
        name = name or f"column {i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return out
