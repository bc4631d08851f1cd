"""Printed fixed-width reports -> a ``Grid``: columns from a dashed ruler or from whitespace
aligned down the lines; page headers, page numbers, run dates, ``CONTINUED`` and end-of-report
lines dropped; wrapped descriptions joined. The grid stage classifies the rows."""

from __future__ import annotations

import itertools
import re

from .layout import Grid, GridRow, Span, assign

__all__ = ["is_furniture", "looks_like_report", "read_report"]

_RULER = re.compile(r"^\s*[-=_~]{2,}(?:[ +|]+[-=_~]{2,})+\s*$")
_RULE = re.compile(r"^\s*[-=_~*]{4,}\s*$|^\s*(?:[-=_~*] ?){6,}\s*$")
_END = re.compile(
    r"^\W*(?:end of (?:report|listing|list|file|data)|ende (?:des|der) (?:berichts|liste|auswertung)"
    r"|berichtsende|listenende|fin (?:du|de) (?:rapport|l'état|l’état|liste|listado|informe)"
    r"|einde (?:van )?(?:het )?(?:rapport|overzicht|lijst)|fin del (?:informe|listado))\W*$",
    re.I,
)
_CONTINUED = re.compile(
    r"^\W*(?:\(?(?:continued|cont'?d|to be continued|fortsetzung|fortgesetzt|suite|à suivre"
    r"|vervolg|wordt vervolgd|continuación|continúa|continua)\)?)(?:\s+(?:on|auf|sur|op|en|in)"
    r"\b.*)?\W*$",
    re.I,
)
_PAGE = re.compile(
    r"\b(?:page|seite|pagina|página|blad|blatt|p\.|pg\.?)\s*:?\s*\d+(?:\s*(?:of|von|de|sur|van|/)\s*\d+)?\b"
    r"|^\W*-\s*\d+\s*-\W*$|^\s*\d+\s*/\s*\d+\s*$",
    re.I,
)
_RUN = re.compile(
    r"\b(?:run|print(?:ed)?|report|druck|erstellt|gedruckt|édité|imprimé|généré|generado|impreso"
    r"|gegenereerd|afgedrukt|date|datum|fecha|time|zeit|heure|hora|tijd)\b[^|]{0,20}?"
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}",
    re.I,
)
_NUMERIC = re.compile(r"^[-+(]?[$€£]?\s*\d[\d.,' ]*[)%]?\s*(?:[$€£]|EUR|USD|GBP|CHF)?-?$", re.I)


def _norm(line: str) -> str:
    return re.sub(r"\d", "#", " ".join(line.split())).casefold()


def _chunks(line: str) -> list[tuple[int, int, str]]:
    """Runs of text separated by two or more spaces: ``(start, end, text)``."""
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]


def _words(line: str) -> list[tuple[float, float, str]]:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", line)]


def _ruler_spans(line: str) -> list[Span]:
    return [(m.start(), m.end()) for m in re.finditer(r"[-=_~]{2,}", line)]


def is_furniture(line: str) -> bool:
    text = line.strip()
    if _END.match(text) or _CONTINUED.match(text) or _RULE.match(text):
        return True
    words = len(text.split())
    if _PAGE.search(text) and words <= 10:
        return True
    return bool(_RUN.search(text)) and words <= 10


def _aligned_spans(lines: list[str]) -> list[Span]:
    """Column spans from whitespace: positions blank on (almost) every table line."""
    width = max(len(line) for line in lines)
    filled = [0] * (width + 1)
    for line in lines:
        for start, end, _ in _words(line):
            for i in range(int(start), int(end)):
                filled[i] += 1
    limit = max(0, len(lines) // 20)  # a few stray lines may cross a gap
    spans: list[Span] = []
    start = None
    for i, count in enumerate(filled):
        if count > limit and start is None:
            start = i
        elif count <= limit and start is not None:
            spans.append((start, i))
            start = None
    # Gaps of one column are word spaces inside a column, not column boundaries.
    merged: list[Span] = []
    for span in spans:
        if merged and span[0] - merged[-1][1] < 2:
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged


def looks_like_report(lines: list[str]) -> bool:
    """A dashed ruler with two or more runs under a header line, or 3+ lines with the same
    columns (two or more chunks separated by 2+ spaces at shared positions)."""
    for i, line in enumerate(lines[:400]):
        if _RULER.match(line) and i > 0 and len(_chunks(lines[i - 1])) >= 2:
            return True
    filled = [line for line in lines[:400] if line.strip()]
    if sum(1 for line in filled if "\t" in line) >= len(filled) / 2:
        return False  # tab-separated values, not columns laid out with spaces
    table = [line for line in lines[:400] if len(_chunks(line)) >= 3]
    return len(table) >= 3 and len(table) >= 0.4 * sum(1 for line in lines[:400] if line.strip())


def _table_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if len(_chunks(line)) >= 2]


def _header_lines(lines: list[str], ruler_at: int, spans: list[Span]) -> list[int]:
    """The header line above a ruler, and the line above it when it is a first header row
    (every chunk inside one column: ``UNIT`` over ``PRICE``)."""
    found = [ruler_at - 1]
    above = ruler_at - 2
    # A ruler above the header too (reST simple tables: "=====  =====" over and under) is no
    # header row.
    if above >= 0 and lines[above].strip() and not is_furniture(lines[above]) and not _RULER.match(lines[above]):  # fmt: skip
        inside = all(
            any(left <= start and end <= right + 1 for left, right in spans)
            for start, end, _ in _chunks(lines[above])
        )
        if inside:
            found.insert(0, above)
    return found


def read_report(text: str) -> Grid | None:
    """The grid of a printed report, or ``None`` when the text has no columns."""
    lines = [line.expandtabs(8).rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    ruler_at = next(
        (
            i
            for i, line in enumerate(lines)
            if _RULER.match(line) and i > 0 and len(_chunks(lines[i - 1])) >= 2
        ),
        None,
    )
    if ruler_at is not None:
        spans = _ruler_spans(lines[ruler_at])
        header_at = _header_lines(lines, ruler_at, spans)
        start = ruler_at + 1
    else:
        candidates = [i for i in _table_lines(lines) if not is_furniture(lines[i])]
        ruled = _ruled_header(lines, candidates)
        if ruled is not None:
            # Page-header lines above the ruled column header repeat on every page: they
            # neither shape the columns nor start the table.
            above = {_norm(line) for line in lines[:ruled]}
            candidates = [ruled] + [
                i for i in candidates if i > ruled and _norm(lines[i]) not in above
            ]
        if len(candidates) < 3:
            return None
        # Columns come from the full lines: a section label of two chunks ("GRP 10  TOOLS")
        # would bridge the gap between two columns of the rows.
        counts = {i: len(_chunks(lines[i])) for i in candidates}
        least = max(2, -(-max(counts.values()) // 2))
        full = [i for i in candidates if counts[i] >= least]
        spans = _aligned_spans([lines[i] for i in (full if len(full) >= 3 else candidates)])
        if len(spans) < 2:
            return None
        first = candidates[0]
        header_at = [first] if _is_header(assign(_words(lines[first]), spans)) else []
        start = first + 1 if header_at else first
    if len(spans) < 2:
        return None
    header_rows = [assign(_words(lines[i]), spans) for i in header_at]
    header = [" ".join(h[c] for h in header_rows if h[c]).strip() for c in range(len(spans))]
    header = [h or f"column {c + 1}" for c, h in enumerate(header)]
    grid = Grid(header)
    top = min([*header_at, start])
    above = [line.strip() for line in lines[:top] if line.strip()]
    grid.notes.extend(line for line in above if not _RULE.match(line))
    drop = {_norm(line) for line in above} | {_norm(lines[i]) for i in header_at}
    first_head = _norm(above[0]) if above else None
    _read_rows(lines, start, spans, grid, drop, first_head)
    return grid if grid.rows else None


def _ruled_header(lines: list[str], candidates: list[int]) -> int | None:
    """A column header set off by full-width rules: a line of two or more chunks, none of them
    a number, directly above a rule line; one with a rule above it too wins (a page-header
    line may sit on the upper rule)."""
    found: list[int] = []
    for i in candidates[:60]:
        below = lines[i + 1] if i + 1 < len(lines) else ""
        if _RULE.match(below) and not any(_NUMERIC.match(t) for _, _, t in _chunks(lines[i])):
            found.append(i)
    boxed = [i for i in found if i > 0 and _RULE.match(lines[i - 1])]
    return (boxed or found or [None])[0]


def _crosses(line: str, spans: list[Span]) -> bool:
    """A line of prose running over a column gap, holding no number (a totals line has one)."""
    chunks = _chunks(line)
    if any(_NUMERIC.match(text) or re.search(r"\d[.,]\d\d\b", text) for _, _, text in chunks):
        return False
    if len(line.split()) < 5 and not line.rstrip().endswith((".", "!", "?")):
        return False  # a short label ("POWER TOOLS"): a section heading for the grid stage
    gaps = [(a[1], b[0]) for a, b in itertools.pairwise(spans)]
    return any(start < left and end > right for start, end, _ in chunks for left, right in gaps)


def _is_header(cells: list[str]) -> bool:
    filled = [c for c in cells if c]
    return len(filled) >= 2 and not any(_NUMERIC.match(c) for c in filled)


def _read_rows(
    lines: list[str],
    start: int,
    spans: list[Span],
    grid: Grid,
    drop: set[str],
    first_head: str | None,
) -> None:
    """Rows from ``start`` on; ``drop``: page-header and column-header lines (digits as #);
    ``first_head``: the page header's first line, whose return starts a new page."""
    page = 1
    new_page = False  # a form feed started a page: its header line must not count again
    previous: GridRow | None = None
    blank_before = False
    for index in range(start, len(lines)):
        line = lines[index]
        if "\f" in line:
            page, new_page = page + 1, True
            line = line.replace("\f", "")
        if not line.strip():
            blank_before = True
            continue
        norm = _norm(line)
        if norm in drop or is_furniture(line) or _RULER.match(line):
            if norm == first_head and not new_page:
                page += 1
            new_page = False
            grid.dropped += 1
            previous = None
            continue
        new_page = False
        if _crosses(line, spans):
            grid.notes.append(line.strip())  # prose across the columns: a note, not a row
            previous = None
            continue
        chunks = _chunks(line)
        if len(chunks) == 1 and not re.search(r"\d", line):
            # One label alone ("POWER TOOLS"): one cell, in the column where it starts.
            start, _end, text = chunks[0]
            cells = assign([(start, start + 1, text)], spans)
        else:
            cells = assign(_words(line), spans)
        filled = [i for i, c in enumerate(cells) if c]
        if (
            previous is not None
            and not blank_before
            and len(filled) == 1
            and filled[0] > 0
            and not _NUMERIC.match(cells[filled[0]])
            and previous.cells[filled[0]]
        ):
            column = filled[0]  # a wrapped description: continues the row above
            previous.cells[column] = f"{previous.cells[column]} {cells[column]}"
            continue
        row = GridRow(cells, line=index + 1, page=page)
        grid.rows.append(row)
        previous = row
        blank_before = False
