"""PDF tables without ruling lines: pdfplumber's word boxes grouped into lines, phrases and
columns (x ranges no phrase crosses), with right-aligned numbers, wrapped names and headers
repeated per page handled; one ``Grid`` per page. Also a page's lines as styled paragraphs."""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .blocks import Paragraph
from .fixedwidth import is_furniture
from .layout import Grid, GridRow, Span, assign

__all__ = ["ColumnReader", "Phrase", "lines_of", "paragraphs_of"]

_NUMERIC = re.compile(r"^[-+(]?[$€£]?\s*\d[\d.,' ]*[)%]?\s*(?:[$€£]|EUR|USD|GBP|CHF)?-?$", re.I)
_HAS_NUMBER = re.compile(r"\d")


@dataclass
class Phrase:
    """Words of one line close enough to be one cell: text, x range, font size and boldness."""

    x0: float
    x1: float
    text: str
    size: float
    bold: bool


@dataclass
class Line:
    top: float
    phrases: list[Phrase]

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.phrases)


def lines_of(words: Iterable[dict[str, Any]]) -> list[Line]:
    """Words (``x0 x1 top bottom text`` and optionally ``size``/``fontname``) -> lines of
    phrases, top to bottom."""
    ordered = sorted(words, key=lambda w: (round(float(w["top"]), 0), float(w["x0"])))
    rows: list[list[dict[str, Any]]] = []
    for word in ordered:
        height = float(word["bottom"]) - float(word["top"])
        if rows and abs(float(rows[-1][0]["top"]) - float(word["top"])) <= max(1.5, height * 0.4):
            rows[-1].append(word)
        else:
            rows.append([word])
    lines = []
    for row in rows:
        row.sort(key=lambda w: float(w["x0"]))
        phrases: list[Phrase] = []
        for word in row:
            size = float(word.get("size") or (float(word["bottom"]) - float(word["top"])))
            bold = "bold" in str(word.get("fontname", "")).lower()
            if phrases and float(word["x0"]) - phrases[-1].x1 <= size * 0.6:
                last = phrases[-1]
                last.text += " " + str(word["text"])
                last.x1 = float(word["x1"])
            else:
                phrases.append(Phrase(float(word["x0"]), float(word["x1"]), str(word["text"]), size, bold))  # fmt: skip
        lines.append(Line(float(row[0]["top"]), phrases))
    return lines


def _numeric(phrase: Phrase) -> bool:
    return bool(_NUMERIC.match(phrase.text)) or bool(re.search(r"\d[.,]\d\d\b", phrase.text))


def _spans(lines: Sequence[Line], size: float) -> list[Span]:
    """Column x ranges: the union of the table lines' phrases, split where no phrase is."""
    intervals = sorted((p.x0, p.x1) for line in lines for p in line.phrases)
    spans: list[Span] = []
    for x0, x1 in intervals:
        if spans and x0 <= spans[-1][1] + size * 0.3:
            spans[-1] = (spans[-1][0], max(spans[-1][1], x1))
        else:
            spans.append((x0, x1))
    return spans


class ColumnReader:
    """Reads page after page; a page whose table has no header of its own continues the
    previous page's columns."""

    def __init__(self) -> None:
        self.header: list[str] | None = None
        self.spans: list[Span] | None = None

    def page(self, words: Iterable[dict[str, Any]], number: int) -> Grid | None:
        every = lines_of(words)
        lines = [line for line in every if not is_furniture(line.text)]
        if not lines:
            return None
        size = statistics.median(p.size for line in lines for p in line.phrases)
        data = [i for i, line in enumerate(lines) if len(line.phrases) >= 2 and any(_numeric(p) for p in line.phrases)]  # fmt: skip
        if len(data) < 2 and not (data and self.spans):
            return None
        first = data[0]
        header_at = self._header_at(lines, first)
        top = header_at[0] if header_at else first
        last = data[-1]
        pitches = [lines[b].top - lines[a].top for a, b in itertools.pairwise(data)]
        pitch = min(pitches) if pitches else size * 1.4
        while (
            last + 1 < len(lines)
            and len(lines[last + 1].phrases) == 1
            and not _numeric(lines[last + 1].phrases[0])
            and lines[last + 1].top - lines[last].top <= pitch * 1.1
        ):
            last += 1  # the last row's name wraps onto the next line
        region = lines[top : last + 1]
        table = [line for line in region if len(line.phrases) >= 2 and not self._crossing(line)]
        if header_at or self.spans is None:
            spans = _spans(table, size)
            if len(spans) < 2:
                return None
            rows = [assign(_cells(lines[i]), spans) for i in header_at]
            header = [" ".join(r[c] for r in rows if r[c]) for c in range(len(spans))]
            body = [assign(_cells(lines[i]), spans) for i in data]
            spans, header = _join_orphans(spans, header, body)
            self.header = [h or f"column {c + 1}" for c, h in enumerate(header)]
            self.spans = spans
        assert self.header is not None and self.spans is not None
        grid = Grid(list(self.header))
        # Page furniture is never a row, but a page header may state the currency
        # ("Preisliste (EUR)    Seite 1/2").
        grid.notes.extend(line.text for line in every if is_furniture(line.text))
        grid.notes.extend(line.text for line in lines[:top])
        grid.notes.extend(line.text for line in lines[last + 1 :])
        start = (header_at[-1] + 1) if header_at else first
        self._rows(lines[start : last + 1], start, number, grid, size)
        return grid if grid.rows else None

    def _header_at(self, lines: list[Line], first: int) -> list[int]:
        """The header line above the first data line (section headings of one phrase may
        stand between them), and a first header row set tighter above it."""
        above = first - 1
        while above >= 0 and first - above <= 3 and len(lines[above].phrases) == 1:
            above -= 1  # "Power tools" between the header and the first row
        if above < 0 or len(lines[above].phrases) < 2 or any(_numeric(p) for p in lines[above].phrases):  # fmt: skip
            return []
        found = [above]
        two = above - 1
        if two >= 0 and lines[two].phrases and not any(_numeric(p) for p in lines[two].phrases):
            pitch = lines[first].top - lines[first - 1].top
            if lines[above].top - lines[two].top <= pitch * 0.9 and len(lines[two].phrases) >= 2:
                found.insert(0, two)  # a two-row header set tighter than the rows
        return found

    def _crossing(self, line: Line) -> bool:
        return len(line.phrases) == 1 and len(line.text.split()) >= 8

    def _rows(self, lines: list[Line], start: int, page: int, grid: Grid, size: float) -> None:
        spans = self.spans or []
        pitches = [b.top - a.top for a, b in itertools.pairwise(lines) if len(a.phrases) >= 2 and len(b.phrases) >= 2]  # fmt: skip
        pitch = statistics.median(pitches) if pitches else size * 1.4
        previous: tuple[GridRow, Line] | None = None
        gaps = [(a[1], b[0]) for a, b in itertools.pairwise(spans)]
        for offset, line in enumerate(lines):
            if len(line.phrases) == 1 and not _HAS_NUMBER.search(line.text) and _prose(line.text):
                x0, x1 = line.phrases[0].x0, line.phrases[0].x1
                if any(x0 < left and x1 > right for left, right in gaps):
                    grid.notes.append(line.text)  # prose across the columns
                    previous = None
                    continue
            cells = assign(_cells(line), spans)
            filled = [i for i, c in enumerate(cells) if c]
            if previous is not None and len(filled) == 1:
                row, above = previous
                column = filled[0]
                close = line.top - above.top <= pitch * 1.1
                plain = not _numeric(line.phrases[0]) and (not line.phrases[0].bold or above.phrases[0].bold)  # fmt: skip
                if close and plain and row.cells[column]:
                    row.cells[column] = f"{row.cells[column]} {cells[column]}"
                    previous = (row, line)
                    continue
            row = GridRow(cells, line=start + offset + 1, page=page)
            grid.rows.append(row)
            previous = (row, line)


def _join_orphans(
    spans: list[Span], header: list[str], body: list[list[str]]
) -> tuple[list[Span], list[str]]:
    """A title with no value under it beside values with no title over them are one column:
    a title set flush left over numbers set flush right ("Price" over "$12.50") do not
    overlap, so the gap between them looked like a column boundary."""
    filled = [any(row[c] for row in body) for c in range(len(spans))]
    spans, header = list(spans), list(header)
    c = 0
    while c < len(spans) - 1:
        pair = (c, c + 1)
        titled_only = [k for k in pair if header[k] and not filled[k]]
        values_only = [k for k in pair if filled[k] and not header[k]]
        if len(titled_only) == 1 and len(values_only) == 1:
            spans[c : c + 2] = [(spans[c][0], spans[c + 1][1])]
            header[c : c + 2] = [header[titled_only[0]]]
            filled[c : c + 2] = [True]
        c += 1
    return spans, header


def _prose(text: str) -> bool:
    """A note rather than a section heading: a sentence, or five words and more."""
    return len(text.split()) >= 5 or text.rstrip().endswith((".", "!", "?"))


def _cells(line: Line) -> list[tuple[float, float, str]]:
    return [(p.x0, p.x1, p.text) for p in line.phrases]


def paragraphs_of(words: Iterable[dict[str, Any]], page: int) -> list[Paragraph]:
    """A page's lines as paragraphs for the product-block reader: bold or larger lines are
    styled (a heading), a wide vertical gap is a blank line."""
    lines = [line for line in lines_of(words) if not is_furniture(line.text)]
    if not lines:
        return []
    sizes = [p.size for line in lines for p in line.phrases]
    body = statistics.median(sizes)
    pitches = [b.top - a.top for a, b in itertools.pairwise(lines)]
    pitch = statistics.median(pitches) if pitches else body * 1.4
    out: list[Paragraph] = []
    previous = None
    for number, line in enumerate(lines, 1):
        if previous is not None and line.top - previous.top > pitch * 1.6:
            out.append(Paragraph("", page=page))
        size = max(p.size for p in line.phrases)
        bold = all(p.bold for p in line.phrases) or size >= body * 1.15
        out.append(Paragraph(line.text, bold=bold, size=size, line=number, page=page))
        previous = line
    return out
