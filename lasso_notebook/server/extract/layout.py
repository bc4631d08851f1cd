"""The grid a layout reader hands on: column titles, rows of cells with where each row stood
(1-based line, page), and the lines around the table (titles, notes such as ``CURRENCY: EUR``).
Column boundaries come from positions, so cells are assigned by where their words stand."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Grid", "GridRow", "Span", "assign"]

Span = tuple[float, float]  # [start, end) of a column: characters or PDF points


@dataclass
class GridRow:
    cells: list[str]
    line: int | None = None
    page: int | None = None


@dataclass
class Grid:
    header: list[str]
    rows: list[GridRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Lines dropped as page furniture (repeated page headers, page numbers, end-of-report).
    dropped: int = 0


def assign(words: Sequence[tuple[float, float, str]], spans: Sequence[Span]) -> list[str]:
    """Cells of one line: each word ``(start, end, text)`` goes to the column it overlaps most
    (the nearest when it overlaps none); a cell's words are joined by one space."""
    cells: list[list[str]] = [[] for _ in spans]
    starts = [left for left, _ in spans]
    last = len(spans) - 1
    for start, end, text in words:
        # Candidates: the column starting at or before the word, and those the word reaches.
        first = max(0, bisect_right(starts, start) - 1)
        stop = min(last, max(first, bisect_right(starts, end) - 1) + 1)
        best, best_overlap = first, None
        for i in range(first, stop + 1):
            left, right = spans[i]
            overlap = min(end, right) - max(start, left)  # negative: the distance to it
            if best_overlap is None or overlap > best_overlap:
                best, best_overlap = i, overlap
        cells[best].append(text)
    return [" ".join(c) for c in cells]
