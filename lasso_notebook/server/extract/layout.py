"""The grid a layout reader hands on: column titles, rows of cells with where each row stood
(1-based line, page), and the lines around the table (titles, notes such as ``CURRENCY: EUR``).
Column boundaries come from positions, so cells are assigned by where their words stand."""

from __future__ import annotations

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
    for start, end, text in words:
        best, best_key = 0, (-1.0, 0.0)
        for i, (left, right) in enumerate(spans):
            overlap = min(end, right) - max(start, left)
            distance = 0.0 if overlap > 0 else min(abs(start - right), abs(left - end))
            key = (overlap, -distance)
            if key > best_key:
                best, best_key = i, key
        cells[best].append(text)
    return [" ".join(c) for c in cells]
