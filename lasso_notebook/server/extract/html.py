"""HTML -> records with the stdlib parser: every ``<table>`` (header from ``<th>`` or the first
row; links and images kept on the cells), else the page's visible text lines parsed as text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .errors import ExtractionError
from .source import Linked, Record

__all__ = ["looks_like_html", "parse_html"]

_BLOCK = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "dt", "dd", "header", "footer", "ul", "ol", "table", "hr", "dl",
}  # fmt: skip
_SKIP = {"script", "style", "template", "noscript", "head", "svg"}
_HTML_START = re.compile(r"^\s*(?:<!doctype html|<html|<table|<body|<div|<ul|<p[\s>])", re.I)


def looks_like_html(text: str) -> bool:
    head = text[:2000]
    return bool(_HTML_START.match(head)) or ("<table" in head.lower() and "</" in text)


class _Cell:
    def __init__(self, header: bool) -> None:
        self.header = header
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
        self.tables: list[list[list[_Cell]]] = []
        self.stack: list[list[list[_Cell]]] = []  # nested tables
        self.cell: _Cell | None = None
        self.skip = 0
        self.lines: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in _SKIP:
            self.skip += 1
        elif tag == "table":
            self.stack.append([])
        elif tag == "tr" and self.stack:
            self.stack[-1].append([])
        elif tag in ("td", "th") and self.stack:
            if not self.stack[-1]:
                self.stack[-1].append([])
            self.cell = _Cell(tag == "th")
            self.stack[-1][-1].append(self.cell)
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
            self.cell = None
        elif tag in ("td", "th"):
            self.cell = None
        if tag in _BLOCK or tag in ("td", "th"):
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cell is not None:
            self.cell.text.append(data)
        self.lines[-1] += data


def parse_html(text: str) -> list[Record]:
    from .records import parse_text, table_records

    parser = _Parser()
    parser.feed(text)
    parser.close()
    records: list[Record] = []
    for table in parser.tables:
        rows = [row for row in table if row]
        if len(rows) < 2 or max(len(r) for r in rows) < 2:
            continue  # layout tables and one-column lists are not product tables
        first = rows[0]
        header = None
        if all(c.header for c in first):
            header = [
                " ".join(str(c.value()).split()) or f"column {i + 1}" for i, c in enumerate(first)
            ]
            rows = rows[1:]
        records.extend(table_records([[c.value() for c in r] for r in rows], header))
    if records:
        return records
    # No table: product cards, lists, prose. Their visible text may hold listings or records.
    visible = "\n".join(" ".join(line.split()) for line in parser.lines)
    visible = re.sub(r"\n{3,}", "\n\n", visible).strip()
    if not visible:
        raise ExtractionError("The HTML page has no table and no visible text.")
    return parse_text(visible)
