"""Ruled plain-text tables: the box tables of reStructuredText "grid" tables, psql, MySQL's
client, ``tabulate``, PrettyTable and org-mode, also drawn with box-drawing characters
(``│ ┼ ═``), and psql's expanded display (``-[ RECORD 1 ]--`` over ``column | value``)::

    +---------+-----------------+--------+        sku  | name          | price
    | SKU     | Name            | Price  |       ------+---------------+-------
    +=========+=================+========+        A-1  | Garden Hose   | 12.50
    | A-1     | Garden Hose     | 12.50  |        (1 row)
    +---------+-----------------+--------+

This module owns finding such tables in a text and turning each into rows for the grid
stage: rule lines (``+---+``, ``+===+``, or ``---+---`` under a psql header) cut a table into
blocks; the header is the block above a ``=`` rule (or the line above a psql rule, or a
first block of labels between rules), its lines joined cell-wise ("Lager-" over "bestand"
reads "Lagerbestand"); each line of a body block is a row, except continuation lines (a cell
wrapped onto the next line) that are joined to the row above. Each table goes through
``grid_items`` on its own, so totals, sections and notes are classified as in any other
table; a title boxed over the columns is a title line, and the text around the tables (a
title, "Prices in EUR", a greeting) becomes ``Note``s.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .grid import GridRow, grid_items
from .source import Item, Note

__all__ = ["has_ruled_table", "parse_expanded", "parse_ruled"]

# "+-----+=====+" (reST grid, PrettyTable, MySQL), "|-----+-----|" (org-mode): joints or
# bars at both ends, a "+" somewhere (a markdown "|---|---|" separator is markdown's), ':'
# for alignment.
_BOX_RULE = re.compile(r"^\s*(?=[^+]*\+)[+|](?:[-=:]+\+)*[-=:]+[+|]\s*$")
# "-----+------" (psql): joints inside only.
_OPEN_RULE = re.compile(r"^\s*[-=:]{2,}(?:\+[-=:]{2,})+\s*$")
# psql's expanded display (\x): "-[ RECORD 1 ]-+------" over "column | value" lines.
_RECORD = re.compile(r"^\s*-\[\s*RECORD\s+\d+\s*\][-+]*\s*$", re.I)
# "(3 rows)" under a psql table.
_ROW_COUNT = re.compile(r"^\s*\(\d+ rows?\)\s*$")
_WORDS_ONLY = re.compile(r"^[^\d]*$")
# Box-drawing tables (psql's unicode style, tabulate's fancy_grid, rich): the same rules
# drawn with other characters; "═" and "━" mark the header rule as "=" does.
_BOX_DRAWING = str.maketrans(
    {
        **dict.fromkeys("─┄┈╌", "-"),
        **dict.fromkeys("═━", "="),
        **dict.fromkeys("│┃║┆┊╎", "|"),
        **dict.fromkeys("┼┬┴├┤┌┐└┘╪╞╡╤╧╒╕╘╛╔╗╚╝╠╣╦╩╬╭╮╰╯┏┓┗┛┣┫┳┻╋┡┩╇╈┢┪┠┨┯┷┿╂", "+"),
    }
)
_NUMBER = re.compile(
    r"^[-+]?(?:[$€£¥]|EUR|USD|GBP|CHF)?\s*\d[\d.,' ]*\s*(?:[$€£¥%]|EUR|USD|GBP|CHF)?$"
)

# An article code ("A-3", "GH-201", "4711-20"): a row of its own, never a wrapped line.
_ARTICLE = re.compile(r"^(?=\S*\d)(?:[A-Z0-9]*[A-Z][A-Z0-9./-]*|\d+[-./]\d[\d./-]*)$")

Lines = list[tuple[int, list[str]]]  # (1-based line number, cells)


@dataclass
class _Table:
    """One ruled table as drawn: its rule's joints and its blocks of lines between rules."""

    joints: list[int]
    boxed: bool  # "+--+" rules and "|" at both ends (else psql's open layout)
    blocks: list[Lines] = field(default_factory=list)
    heavy: list[bool] = field(default_factory=list)  # a "=" rule closes the block
    end: int = 0  # index of the first line after the table

    @property
    def width(self) -> int:
        return len(self.joints) - 1 if self.boxed else len(self.joints) + 1


def _is_rule(line: str) -> bool:
    return bool(_BOX_RULE.match(line) or _OPEN_RULE.match(line))


def _cells(line: str, table: _Table) -> list[str]:
    """The cells of one table line: split on its bars, or by the bars' positions when a cell
    spans columns (its text repeated in each column it covers, as the grid expects)."""
    width = table.width
    text = line.rstrip()
    inner = text.strip() if table.boxed else text
    if table.boxed:
        inner = inner[1:] if inner.startswith("|") else inner
        inner = inner[:-1] if inner.endswith("|") else inner
    parts = [p.strip() for p in inner.split("|")]
    if len(parts) == width:
        return parts
    bars = [i for i, ch in enumerate(text) if ch == "|"]
    if table.boxed and len(bars) >= 2 and set(bars) <= set(table.joints):
        cells: list[str] = []
        for a, b in itertools.pairwise(bars):
            span = table.joints.index(b) - table.joints.index(a)
            cells.extend([text[a + 1 : b].strip()] * span)
        return cells
    if len(parts) > width and table.boxed and text[table.joints[-1] : table.joints[-1] + 1] == "|":
        # A "|" inside a cell ("Red | Blue"): the rule's joints say where the columns are.
        return [text[a + 1 : b].strip() for a, b in itertools.pairwise(table.joints)]
    return (parts + [""] * width)[:width]


def _row_line(line: str, boxed: bool) -> bool:
    stripped = line.strip()
    if boxed:
        return len(stripped) > 1 and stripped[0] == "|" and stripped[-1] == "|"
    return "|" in stripped and not _ROW_COUNT.match(stripped)


def _header_over_rule(line: str, rule: str) -> bool:
    """A header line over the table's first rule (psql, org-mode): as many bars as joints."""
    if _OPEN_RULE.match(rule):
        return line.count("|") == rule.count("+")
    if _BOX_RULE.match(rule):
        return _row_line(line, boxed=True) and line.count("|") == rule.count("+") + rule.count("|")
    return False


def _read_table(lines: list[str], start: int) -> _Table | None:
    """The ruled table starting at ``lines[start]`` (its top rule, or a psql header line
    over its rule), else ``None``."""
    line = lines[start]
    if _BOX_RULE.match(line):
        table = _Table([i for i, ch in enumerate(line) if ch in "+|"], boxed=True)
        i = start + 1
    elif start + 1 < len(lines) and "|" in line and _header_over_rule(line, lines[start + 1]):
        rule = lines[start + 1]
        boxed = bool(_BOX_RULE.match(rule))
        table = _Table([i for i, ch in enumerate(rule) if ch in "+|"], boxed=boxed)
        table.blocks.append([(start + 1, _cells(line, table))])
        table.heavy.append(True)  # psql, org-mode: the line over the first rule is the header
        i = start + 2
    else:
        return None
    block: Lines = []
    while i < len(lines):
        current = lines[i]
        if _is_rule(current):
            joints = [k for k, ch in enumerate(current) if ch in "+|"]
            if table.boxed and len(joints) > len(table.joints):
                table.joints = joints  # a title box over the table ("| Price list 2025 |")
            if block:
                table.blocks.append(block)
                table.heavy.append("=" in current)
            elif table.blocks and "=" in current:
                table.heavy[-1] = True
            block = []
        elif _row_line(current, table.boxed):
            block.append((i + 1, _cells(current, table)))
        else:
            break
        i += 1
    if block:
        table.blocks.append(block)
        table.heavy.append(False)
    table.end = i + 1 if i < len(lines) and _ROW_COUNT.match(lines[i]) else i
    rows = sum(len(b) for b in table.blocks)
    return table if rows >= 2 and table.width >= 2 else None


def _blank(cell: str) -> bool:
    return not cell.strip()


def _continues(cells: list[str], first: list[str], per_row: bool) -> bool:
    """A line carrying on the row above (cells wrapped onto a second line): its first column
    blank under a filled one, without a number or an article code (an unlabeled total under
    the rows, a product without a brand, is a row of its own), or fewer cells, words only.
    Where rules separate the rows, a line of half the row's cells or fewer without a number
    also carries on ("Pro 20 m")."""
    filled = [c for c in cells if not _blank(c)]
    if not filled:
        return True
    numbers = any(_NUMBER.match(c.strip()) or _ARTICLE.match(c.strip()) for c in filled)
    if _blank(cells[0]) and not _blank(first[0]):
        return not numbers
    first_filled = sum(1 for c in first if not _blank(c))
    if per_row and not numbers and len(filled) <= first_filled / 2:
        return True
    return len(filled) < first_filled and all(_WORDS_ONLY.match(c) for c in filled)


def _join(lines: list[list[str]]) -> list[str]:
    """Cells of several lines joined column-wise; a word hyphenated at a line end is rejoined
    ("Lager-" + "bestand"), a compound keeps its hyphen ("Artikel-" + "Nr.")."""
    width = max(len(c) for c in lines)
    out: list[str] = []
    for j in range(width):
        text = ""
        for cells in lines:
            part = cells[j].strip() if j < len(cells) else ""
            if not part:
                continue
            if text.endswith("-"):
                text = text[:-1] + part if part[:1].islower() else text + part
            else:
                text = f"{text} {part}" if text else part
        out.append(text)
    return out


def _rows(block: Lines, per_row: bool) -> Lines:
    """The rows of a body block: a row per line, continuation lines joined to the row above."""
    rows: list[tuple[int, list[list[str]]]] = []
    for number, cells in block:
        if rows and _continues(cells, rows[-1][1][0], per_row):
            rows[-1][1].append(cells)
        else:
            rows.append((number, [cells]))
    return [(number, _join(lines) if len(lines) > 1 else lines[0]) for number, lines in rows]


def _labels(block: Lines) -> bool:
    """A block of column titles: words only (no prices, quantities or codes)."""
    return all(all(_WORDS_ONLY.match(c) for c in cells) for _, cells in block) and any(
        sum(1 for c in cells if not _blank(c)) >= 2 for _, cells in block
    )


def _title(cells: list[str], width: int) -> bool:
    """One cell across the table (read before the rule of the columns, or spanning them all),
    not a header cell over its column ("Artikel-" over "Nr.")."""
    if _blank(cells[0]):
        return False
    return len(cells) < width or (len(cells) > 1 and len(set(cells)) == 1)


def _grid_rows(table: _Table) -> Iterator[GridRow]:
    blocks = table.blocks
    heavy = [k for k, h in enumerate(table.heavy) if h]
    if heavy and heavy[0] < len(blocks) - 1:
        head = heavy[0]  # everything above the "=" rule is the header
    elif len(blocks) >= 2 and _labels(blocks[0]):
        head = 0  # a first block of labels between rules
    else:
        head = -1  # no header marked: the grid finds it
    if head >= 0:
        lines = [(n, cells) for block in blocks[: head + 1] for n, cells in block]
        # A title boxed over the column titles (one cell across the table): a title line
        # above the header, for the grid to keep as a note.
        while len(lines) > 1 and _title(lines[0][1], table.width):
            number, cells = lines.pop(0)
            yield GridRow(cells, {"line": number})
        yield GridRow(_join([cells for _, cells in lines]), {"line": lines[0][0]}, "header")
    body = blocks[head + 1 :]
    # Rules between the rows (reST grid tables, tabulate's "grid"): short blocks only.
    per_row = len(body) >= 2 and max(len(block) for block in body) <= 4
    for block in body:
        for number, cells in _rows(block, per_row):
            yield GridRow(cells, {"line": number})


def _tables(lines: list[str]) -> Iterator[tuple[int, _Table]]:
    i = 0
    while i < len(lines):
        table = _read_table(lines, i) if "+" in lines[i] or "|" in lines[i] else None
        if table is None:
            i += 1
            continue
        yield i, table
        i = max(table.end, i + 1)


def _drawn(lines: list[str]) -> list[str]:
    """Box-drawing characters as their ASCII rules ("│" as "|", "┼" as "+")."""
    if not any(ch in line for line in lines[:400] for ch in "│┃║┼╪╋┿"):
        return lines
    return [line.translate(_BOX_DRAWING) for line in lines]


def has_ruled_table(lines: list[str]) -> bool:
    """The text holds a ruled table (rule lines with ``+`` joints around ``|`` rows)."""
    lines = _drawn(lines)
    return any(_is_rule(line) for line in lines) and next(_tables(lines), None) is not None


def parse_ruled(text: str) -> list[Item] | None:
    """Every ruled table of ``text`` through the grid stage, the other lines as notes; ``None``
    when the text holds no ruled table."""
    lines = _drawn(text.splitlines())
    items: list[Item] = []
    done = 0
    for start, table in _tables(lines):
        items.extend(Note(line.strip()) for line in lines[done:start] if line.strip())
        items.extend(grid_items(_grid_rows(table)))
        done = table.end
    if not done:
        return None
    items.extend(Note(line.strip()) for line in lines[done:] if line.strip())
    return items


def parse_expanded(text: str) -> list[Item] | None:
    """psql's expanded display, one ``column | value`` line per field under each
    ``-[ RECORD n ]--`` line, as a table for the grid stage (the first record's columns are
    the header); the lines around are notes. ``None`` when the text has no such records."""
    lines = text.splitlines()
    if not any(_RECORD.match(line) for line in lines):
        return None
    notes: list[Item] = []
    records: list[tuple[int, dict[str, str]]] = []
    for number, line in enumerate(lines, 1):
        if _RECORD.match(line):
            records.append((number, {}))
        elif records and "|" in line and not _ROW_COUNT.match(line):
            key, _, value = line.partition("|")
            records[-1][1].setdefault(key.strip(), value.strip())
        elif line.strip():
            notes.append(Note(line.strip()))
    records = [(n, r) for n, r in records if r]
    if not records:
        return None
    header = list(dict.fromkeys(k for _, r in records for k in r))
    rows = [GridRow(header, None, "header")]
    rows += [GridRow([r.get(k, "") for k in header], {"line": n}) for n, r in records]
    return [*notes, *grid_items(rows)]
