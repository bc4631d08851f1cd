"""Word ``.docx`` with python-docx: every table read by the grid stage (merged cells fill what
they cover, hyperlinks kept), then the paragraphs: product blocks under a repeated heading style,
else listings or ``Key: value`` blocks; paragraphs are also notes (prose alone gives no rows)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Any

from ..blocks import Paragraph, read_blocks
from ..errors import ExtractionError
from ..grid import GridRow, grid_items
from ..listing import looks_like_listing, parse_listing
from ..records import parse_text
from ..source import Item, Linked, Note, Source, Step
from ..textlayouts import located

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


def _paragraph(paragraph: Any, number: int) -> Paragraph:
    """A paragraph with its heading level (``Heading 2`` -> 2, ``Title`` -> 1) and whether
    all of its text is bold."""
    name = paragraph.style.name if paragraph.style is not None else ""
    level = 1 if name == "Title" else 0
    if name.startswith("Heading") and name.split()[-1].isdigit():
        level = int(name.split()[-1])
    runs = [r for r in paragraph.runs if r.text.strip()]
    bold = bool(runs) and all(r.bold for r in runs)
    return Paragraph(" ".join(paragraph.text.split()), heading=level, bold=bold, line=number)


def read_docx(source: Source) -> Iterator[Item]:
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
    for paragraph in document.paragraphs:  # notes first: "All prices in USD." above a table
        if paragraph.text.strip():
            yield Note(" ".join(paragraph.text.split()))
    for n, table in enumerate(tables):
        rows = []
        for row in table.rows:
            cells, seen = [], {}
            for cell in row.cells:
                # A merged cell comes back once per grid column it covers: it fills each.
                if id(cell._tc) not in seen:
                    seen[id(cell._tc)] = _cell(cell)
                cells.append(seen[id(cell._tc)])
            rows.append(GridRow(cells))
        for item in grid_items(rows):
            produced = produced or isinstance(item, dict)
            yield item
        yield Step(0.8 * (n + 1) / max(1, len(tables)))
    text = "\n".join(p.text for p in document.paragraphs)
    blocks, _notes = read_blocks([_paragraph(p, n) for n, p in enumerate(document.paragraphs, 1)])
    if blocks:  # one product per block: a heading and its lines
        produced = True
        yield from (located(r, r.get("_line")) for r in blocks)
    elif produced:
        # Beside tables of products the paragraphs are the letter around them (greeting, terms,
        # signature: notes already) or more products as lines; read as a CSV, say, they would
        # become a table of prose.
        if looks_like_listing([line for line in text.splitlines() if line.strip()]):
            yield from (r for r in parse_listing(text) if not isinstance(r, Note))
    elif text.strip():
        try:
            records = parse_text(text)
        except ExtractionError:
            raise ExtractionError(
                f"{source.label} has no table and its text holds no product records "
                "(lines like 'Acme Drill — SKU A1 — $9' or 'Name: ...' blocks)."
            ) from None
        produced = any(isinstance(r, dict) for r in records)
        yield from (r for r in records if not isinstance(r, Note))
    if not produced and not text.strip():
        raise ExtractionError(f"{source.label} is empty: it has no tables and no text.")
    yield Step(1.0)
