"""HTML tables with the stdlib parser: every ``<table>`` drawn as a grid (``thead`` and
``<th>`` rows are headers, ``tfoot`` rows footers, ``colspan``/``rowspan`` cells fill every cell
they cover; links and images kept on the cells) read by the grid stage, with the page's other
visible lines as notes. ``parse_html`` reads a whole page (``htmlpage``): structured data
first, then these tables, then product blocks, a product page, text lines."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from .grid import GridRow, grid_items
from .source import Item, Linked, Note

__all__ = ["looks_like_html", "parse_html", "table_items"]

_BLOCK = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "dt", "dd", "header", "footer", "ul", "ol", "table", "hr", "dl",
}  # fmt: skip
_SKIP = {"script", "style", "template", "noscript", "head", "svg"}
_HTML_START = re.compile(r"^\s*(?:<!doctype html|<html|<table|<body|<div|<ul|<p[\s>])", re.I)


def looks_like_html(text: str) -> bool:
    head = text[:2000]
    return bool(_HTML_START.match(head)) or ("<table" in head.lower() and "</" in text)


def _span(value: str | None) -> int:
    try:
        return max(1, min(int((value or "1").strip()), 1000))
    except ValueError:
        return 1


class _Cell:
    def __init__(self, header: bool, colspan: int = 1, rowspan: int = 1) -> None:
        self.header = header
        self.colspan = colspan
        self.rowspan = rowspan
        self.text: list[str] = []
        self.urls: list[str] = []

    def value(self) -> str:
        text = " ".join("".join(self.text).split())
        if self.urls:
            return Linked(text or " ".join(self.urls), self.urls)
        return text


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[tuple[list[_Cell], str | None]]] = []
        self.stack: list[list[tuple[list[_Cell], str | None]]] = []  # nested tables
        self.part: list[str | None] = []  # thead / tbody / tfoot of each open table
        self.in_table_text = 0
        self.cell: _Cell | None = None
        self.skip = 0
        self.lines: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in _SKIP:
            self.skip += 1
        elif tag == "table":
            self.stack.append([])
            self.part.append(None)
        elif tag in ("thead", "tbody", "tfoot") and self.part:
            self.part[-1] = tag
        elif tag == "tr" and self.stack:
            self.stack[-1].append(([], self.part[-1]))
        elif tag in ("td", "th") and self.stack:
            if not self.stack[-1]:
                self.stack[-1].append(([], self.part[-1]))
            self.cell = _Cell(tag == "th", _span(a.get("colspan")), _span(a.get("rowspan")))
            self.stack[-1][-1][0].append(self.cell)
        elif tag == "a" and a.get("href") and self.cell is not None:
            self.cell.urls.append(a["href"])
        elif tag == "img" and self.cell is not None and (a.get("src") or a.get("data-src")):
            self.cell.urls.append(a.get("src") or a["data-src"])
        if tag in _BLOCK:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "table" and self.stack:
            self.tables.append(self.stack.pop())
            self.part.pop()
            self.cell = None
            self.lines.append("\x00table")  # where the table stood among the lines
        elif tag in ("thead", "tbody", "tfoot") and self.part:
            self.part[-1] = None
        elif tag in ("td", "th"):
            self.cell = None
        if tag in _BLOCK or tag in ("td", "th"):
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cell is not None:
            self.cell.text.append(data)
        if not self.stack:
            self.lines[-1] += data  # text outside tables: the page's notes and prose


def _carried(carry: dict[int, list[Any]], values: list[Any], col: int) -> int:
    """Fill the cells a rowspan from above covers, from column ``col``; the next free one."""
    while col in carry:
        left = carry[col]
        values.append(left[1])
        left[0] -= 1
        if left[0] <= 0:
            del carry[col]
        col += 1
    return col


def _grid(rows: list[tuple[list[_Cell], str | None]]) -> list[GridRow]:
    """Rows of cells as drawn: a cell spanning columns or rows fills every cell it covers."""
    out: list[GridRow] = []
    carry: dict[int, list[Any]] = {}  # column -> [rows still covered, value]
    for n, (cells, part) in enumerate(rows):
        values: list[Any] = []
        col = _carried(carry, values, 0)
        for cell in cells:
            col = _carried(carry, values, col)
            value = cell.value()
            for _ in range(cell.colspan):
                values.append(value)
                if cell.rowspan > 1:
                    carry[col] = [cell.rowspan - 1, value]
                col += 1
        _carried(carry, values, col)
        role = None
        if part == "thead" or (cells and all(c.header for c in cells) and len(cells) > 1):
            role = "header"
        elif part == "tfoot":
            role = "footer"
        if cells and n == 0 and all(c.header for c in cells):
            role = "header"
        out.append(GridRow(values, None, role))
    return out


def table_items(text: str) -> list[Item] | None:
    """The items of the page's tables that hold products (with the page's other lines as
    notes), or ``None`` when no table does."""
    parser = _Parser()
    parser.feed(text)
    parser.close()
    items: list[Item] = []
    found = False
    tables = iter(parser.tables)
    for line in parser.lines:
        if line != "\x00table":
            if line.strip():
                items.append(Note(" ".join(line.split())))
            continue
        table = [row for row in next(tables) if row[0]]
        if len(table) < 2 or max(sum(c.colspan for c in r[0]) for r in table) < 2:
            continue  # layout tables and one-column lists are not product tables
        read = list(grid_items(_grid(table)))
        found = found or any(isinstance(item, dict) for item in read)
        items.extend(read)
    return items if found else None


def parse_html(text: str, label: str = "the page") -> list[Item]:
    """Structured data, product tables, repeated product blocks, a product page, text lines:
    see ``htmlpage.read_html``."""
    from .htmlpage import read_html

    return list(read_html(text, table_items, label))
