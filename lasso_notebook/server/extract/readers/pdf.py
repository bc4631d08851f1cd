"""PDF with pdfplumber: each page's ruled tables are fed to one grid (a table continued over
pages keeps its header, a header repeated at a page break is skipped, a different header
starts a new table), the page's other text lines are notes; a page without ruled tables is read
as columns of words (``pdfcolumns``), else its text as product blocks (styled titles), listings
or ``Key: value`` blocks. One ``Step`` per page; pages are released as soon
as they are read (bounded memory)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..blocks import Paragraph, read_blocks
from ..errors import ExtractionError
from ..fixedwidth import is_furniture
from ..grid import GridRow, TableGrid
from ..layout import Grid
from ..pdfcolumns import ColumnReader, paragraphs_of
from ..records import parse_text
from ..source import Item, Located, Note, Source, Step
from ..textlayouts import located

__all__ = ["read_pdf"]


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


def _outside(page: Any, boxes: list[tuple[float, float, float, float]]) -> str:
    """The page's text outside the tables' boxes (titles, notes, footers)."""

    def keep(obj: dict[str, Any]) -> bool:
        x = (obj.get("x0", 0) + obj.get("x1", 0)) / 2
        y = (obj.get("top", 0) + obj.get("bottom", 0)) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    return page.filter(keep).extract_text() or ""


def read_pdf(source: Source) -> Iterator[Item]:
    pdf = _open(source)
    with pdf:
        try:
            pages = len(pdf.pages)
        except Exception as exc:
            raise ExtractionError(f"{source.label} could not be read as a PDF ({exc}).") from exc
        if pages == 0:
            raise ExtractionError(f"{source.label} has no pages.")
        grid = TableGrid()
        columns = ColumnReader()
        paragraphs: list[Paragraph] = []
        texts: list[tuple[int, str]] = []
        any_text = produced = False
        for number, page in enumerate(pdf.pages, 1):
            try:
                found = [t for t in page.find_tables()]
                tables = [[[_clean(c) for c in row] for row in t.extract()] for t in found]
                keep = [
                    k
                    for k, t in enumerate(tables)
                    if [r for r in t if any(r)] and max(len(r) for r in t) >= 2
                ]
                if not keep:
                    # No ruled table: columns from the words' x positions, else text lines.
                    words = page.extract_words(extra_attrs=["fontname", "size"])
                    laid_out = columns.page(words, number)
                    if laid_out is not None:
                        any_text = True
                        yield from (Note(n) for n in laid_out.notes)
                        for item in grid.feed(_layout_rows(laid_out), part=True):
                            produced = produced or isinstance(item, dict)
                            yield item
                    else:
                        text = page.extract_text() or ""
                        any_text = any_text or bool(text.strip())
                        lines = [line.strip() for line in text.splitlines() if line.strip()]
                        if lines and all(is_furniture(line) for line in lines):
                            yield from (Note(line) for line in lines)  # a page number alone
                        else:
                            texts.append((number, text))
                            paragraphs.extend(paragraphs_of(words, number))
                else:
                    any_text = True
                    outside = _outside(page, [found[k].bbox for k in keep])
                    for line in outside.splitlines():
                        if line.strip():
                            yield Note(line.strip())
                    where = {"page": number}
                    for k in keep:
                        rows = [GridRow(r, where) for r in tables[k] if any(r)]
                        for item in grid.feed(rows, part=True):
                            produced = produced or isinstance(item, dict)
                            yield item
            finally:
                page.close()  # drops the page's parsed objects: memory stays flat
            yield Step(number / pages, page=True)
        for item in grid.close():
            produced = produced or isinstance(item, dict)
            yield item
        text_pages = [(n, t) for n, t in texts if t.strip()]
        blocks, notes = read_blocks(paragraphs) if paragraphs else ([], [])
        if blocks:  # one product per block: a styled title and its lines
            yield from (Note(n) for n in notes)
            yield from (located(r, r.get("_line"), r.get("_page")) for r in blocks)
            produced, text_pages = True, []
        if text_pages:
            try:
                items = _text_items(text_pages)
            except ExtractionError:
                if not produced:
                    raise
                items = []
            yield from items
            produced = produced or any(isinstance(i, dict) for i in items)
        if not any_text:
            raise ExtractionError(
                f"{source.label} has no text layer (a scanned PDF?): OCR is not available in "
                "the embedded engine. Use a PDF with selectable text, or the hosted Lasso API."
            )


def _layout_rows(grid: Grid) -> Iterator[GridRow]:
    """A page laid out in columns without ruling lines: its header and rows."""
    yield GridRow(list(grid.header), {"page": grid.rows[0].page}, "header")
    for row in grid.rows:
        yield GridRow(row.cells, {"page": row.page, "line": row.line})


def _text_items(pages: list[tuple[int, str]]) -> list[Item]:
    """The text of pages without tables, parsed as one text; records keep their page."""
    text = "\n\n".join(t for _, t in pages)
    items = parse_text(text)
    # Map each record's line (within the joined text) back to its page.
    starts: list[tuple[int, int]] = []
    line = 1
    for number, page_text in pages:
        starts.append((line, number))
        line += len(page_text.splitlines()) + 2 - (1 if page_text.endswith("\n") else 0)
    for item in items:
        where = getattr(item, "where", None)
        if isinstance(item, Located) and where and "line" in where:
            page = next((n for s, n in reversed(starts) if s <= where["line"]), None)
            item.where = {"page": page}
    return items
