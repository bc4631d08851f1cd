"""The grid stage every tabular reader shares: rows of cells in, product records out. It finds
the header (two header rows are joined: "Preis" over "netto" -> "Preis netto"), title lines
and notes above, below and beside the table, blank columns and further tables, and classifies
every row before it becomes a record: product, total, section, repeated header, note or empty.

Entry point for readers (CSV, spreadsheets, HTML, markdown, Word, PDF, fixed-width reports)::

    from .grid import GridRow, TableGrid, grid_items

    yield from grid_items(GridRow(cells, where) for ... in ...)   # one table or sheet

    grid = TableGrid()              # a table read in parts (PDF pages): one grid, fed per part
    for page in pages:
        yield from grid.feed(page_rows, part=True)
    yield from grid.close()

``GridRow.cells`` is the list of cell values in column order, a spanning cell (colspan,
rowspan, merged range) repeated in every cell it covers; ``where`` its location
(``{"sheet": ..., "page": ..., "line": ...}``, 1-based, where known); ``role`` is ``"header"``
for rows the document marks as headings (``<thead>``, all ``<th>``), ``"footer"`` for
``<tfoot>`` rows, else None. The grid yields ``Located`` records (``{header: value}``, plus
``SECTION`` when the row stands under a section heading), ``Skip(reason, sample)`` for every
candidate row that is not a product and ``Note(text)`` for title lines and notes.

Rules, structure first and words second: a row repeating the header is ``header``; a sparse
row whose number equals the sum of the product rows above it (since the start, or since the
last section or subtotal), or whose label is a total/tax/shipping word in English, German,
French, Dutch or Spanish, is ``total`` -- unless it carries an article code under a column
of codes (a product named "Total Station"); a label spanning several cells counts once; a row
with one distinct value (a label alone, or one spanning the table) is a ``section`` when
products follow it, a ``note`` when none do or when it reads as a sentence; a sparse row of
labels that do not fit the columns' value shapes (words under a column of codes: "GRP 10 |
HOSES") is a section the same way, other misfits are ``note``; ``<tfoot>`` rows are never
products. Tables side by side (blocks of columns between blank columns, each under its own
header naming two or more of the same concepts) are read one after the other; the header's
titles again in another column order start a new table. Memory stays
bounded: a lookahead of the first rows, running sums per numeric column, and the few label
rows waiting for their verdict (side-by-side tables after the first are held until it ends).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from .source import SECTION, Item, Located, Note, Skip

__all__ = ["LOOKAHEAD", "GridRow", "TableGrid", "grid_items", "is_code", "is_total_label"]

#: Non-blank rows read before the header and the column shapes are decided.
LOOKAHEAD = 40
#: Label rows (section candidates) held while waiting for the next product row.
_MAX_PENDING = 50

_VALUE_CELL = re.compile(
    r"^(?:[-+]?[$€£¥]?\s*\d[\d.,' \u00a0\u202f]*\s*(?:[$€£¥%]|EUR|USD|GBP|CHF)?|https?://\S+"
    r"|www\.\S+|\S+@\S+\.\w+|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|true|false)$",
    re.I,
)
_DATED = re.compile(
    r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b(?:page|seite|pagina|página|blad|p\.)\s*\d", re.I
)
_DATE_CELL = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_NUMBER_CELL = re.compile(
    r"^[-+−]?(?:[$€£¥]|EUR|USD|GBP|CHF)?\s*[-+−]?\d[\d.,' \u00a0\u202f]*"
    r"\s*(?:[$€£¥%]|EUR|USD|GBP|CHF|,-)?$",
    re.I,
)
# Totals, subtotals, taxes, shipping and discounts in EN/DE/FR/NL/ES (accents removed).
_TOTAL = re.compile(
    r"^(?:(?:zzgl|inkl|incl|excl|exkl|plus|hors|dont|davon)\.?\s+)?(?:\d+[.,]?\d*\s*%\s*)?"
    r"(?:grand\s*total|sub-?\s*total|total(?:e|s|es)?|totaal|subtotaal|sum|summe|zwischensumme"
    r"|endsumme|gesamt\w*|somme|sous-total|montant\s+total|net\s+total|mwst|mehrwertsteuer"
    r"|ust|umsatzsteuer|vat|sales\s+tax|tax|tva|btw|iva|shipping|versand\w*|porto"
    r"|frais\s+de\s+port|frais\s+d.envoi|verzend\w*|envio|gastos\s+de\s+envio|rabatt"
    r"|discount|remise|korting|descuento|importe\s+total|suma)\b",
)
# "Order total", "Invoice total", "Total due", "Bestellsumme", "Rechnungsbetrag": a short label
# whose last word is a total word (a product is never named so and sits in a sparse row).
_TOTAL_LAST = re.compile(
    r"^(?:[\w.-]+\s+){0,2}(?:total|totaal|totale|sum|summe|somme|suma|gesamt)$"
    r"|^\w*(?:summe|gesamtbetrag|rechnungsbetrag|endbetrag)$|^total\s+(?:due|ttc|ht|net|general)$"
)
_PAGE_LABEL = re.compile(
    r"^(?:page|seite|pagina|página|blad|p\.)\s*\d+(?:\s*(?:/|of|von|de|sur|van)\s*\d+)?$", re.I
)
_SENTENCE_END = re.compile(r"[.!?…]$")
_LABELLED = re.compile(r"^[^:]{2,40}:\s*\S")
_NOTE_START = re.compile(r"^(?:\*|†|‡|¹|²|\(|note\b|hinweis\b|remarque\b|nb\b|n\.b\.)", re.I)


class GridRow(NamedTuple):
    """One row of a table as drawn: cells in column order, where it was read, its role."""

    cells: list[Any]
    where: dict[str, Any] | None = None
    role: str | None = None  # "header" | "footer" | None


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_total_label(text: str) -> bool:
    """A label of a total, subtotal, tax, shipping or discount line (in EN/DE/FR/NL/ES)."""
    plain = _plain(text.strip()).rstrip(":")
    return bool(_TOTAL.match(plain) or _TOTAL_LAST.match(plain))


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _text(cell: Any) -> str:
    return " ".join(str(cell).split()) if not _blank(cell) else ""


def _is_value(cell: Any) -> bool:
    if isinstance(cell, (int, float)) or not isinstance(cell, str):
        return not _blank(cell)
    return bool(_VALUE_CELL.match(cell.strip()))


_FAST_NUMBER = re.compile(r"[$€£¥]?\s?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _number(cell: Any) -> float | None:
    """The number a cell holds, or None (cheap: most cells are plain numbers or text)."""
    kind = type(cell)
    if kind is int or kind is float:
        return float(cell)
    if kind is not str:
        return (
            float(cell) if isinstance(cell, (int, float)) and not isinstance(cell, bool) else None
        )
    text = cell.strip()
    if not text or not ("0" <= text[-1] <= "9" or text[-1] in "$€£¥%-DPRFKUSBHC"):
        return None
    if _FAST_NUMBER.fullmatch(text):  # $1,299.00: the commonest formatted price
        return float(text.lstrip("$€£¥ ").replace(",", ""))
    if text[0] not in "$€£¥" and "," not in text:
        try:
            return float(text)
        except ValueError:
            pass
    if not _NUMBER_CELL.match(text) or _DATE_CELL.match(text):
        return None
    value, issue = _number_coercer()(text)
    return float(value) if value is not None and issue is None else None


_COERCE: list[Any] = []


def _number_coercer() -> Any:
    if not _COERCE:
        from .coerce import coercer

        _COERCE.append(coercer({"type": "number"}))
    return _COERCE[0]


_CODE = re.compile(r"^(?=[^\s]*\d)[\w][\w./#-]*$")


def is_code(cell: Any) -> bool:
    """One token holding a digit: an article number, SKU or code."""
    return isinstance(cell, str) and bool(_CODE.match(cell.strip()))


def _sample(cells: list[Any]) -> str:
    texts = [_text(c) for c in cells]
    # A spanning cell is shown once; blank cells at both ends are dropped.
    texts = [t for k, t in enumerate(texts) if k == 0 or not t or t != texts[k - 1]]
    text = " | ".join(texts)
    text = re.sub(r"(?:\s*\|\s*)+$", "", re.sub(r"^(?:\s*\|\s*)+", "", text))
    return text if len(text) <= 80 else text[:79] + "…"


def _sentence(text: str) -> bool:
    words = text.split()
    return (
        len(words) >= 7
        or bool(_SENTENCE_END.search(text) and len(words) >= 2)
        or bool(_LABELLED.match(text))
        or bool(_NOTE_START.match(text))
        or bool(_PAGE_LABEL.match(text.strip()))  # "Page 2": a printed page's number
    )


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return out


def _header_row(cells: list[Any]) -> bool:
    """Cells that can be column titles: text, no values (numbers, prices, dates, links)."""
    filled = [c for c in cells if not _blank(c)]
    return len(filled) >= 2 and not any(_is_value(c) for c in filled)


def find_header(rows: list[list[Any]]) -> tuple[int, bool]:
    """Index of the header row among the first rows of a table, and whether it is a header.

    Title lines above the header ("Spring catalog 2024") have fewer cells than the table and
    are skipped. A first full row made of values (prices, URLs, dates) means there is no
    header: ``(index, False)``, and columns are named ``column 1`` ... and mapped by content.
    """
    # A label spanning the table (merged or colspan cells) counts as one cell.
    widths = [
        1 if len({_text(c) for c in row} - {""}) == 1 else sum(not _blank(c) for c in row)
        for row in rows
    ]
    if not widths:
        return 0, True
    # The table's width: the most common width among rows of two cells or more (title lines
    # have one), the wider on ties; a one-column table is width 1.
    from collections import Counter

    wide = Counter(w for w in widths if w >= 2) or Counter(w for w in widths if w)
    full = max(wide.items(), key=lambda item: (item[1], item[0]))[0] if wide else 1
    need = max(min(2, full), -(-full * 7 // 10))
    for i, width in enumerate(widths):
        if width >= need:
            values = sum(_is_value(c) for c in rows[i] if not _blank(c))
            return i, not (values and values >= max(1, width // 3))
    return 0, True


class TableGrid:
    """Reads one table (or several, one after the other) from rows of cells; see the module
    docstring. ``feed`` may be called once per part (page); ``close`` ends the last table."""

    def __init__(self, *, lookahead: int = LOOKAHEAD) -> None:
        self.lookahead = lookahead
        self._buffer: list[GridRow] | None = []
        self._gap = False  # a blank row or a part boundary since the last product
        self.header: list[str] | None = None
        self.tables = 0
        self._reset_table()

    # -- public ---------------------------------------------------------------------------
    def feed(self, rows: Iterable[GridRow], *, part: bool = False) -> Iterator[Item]:
        """Classify ``rows``; ``part=True`` marks the start of a new part (a PDF page), where
        a header-like first row may start a new table or repeat the current header."""
        if part:
            self._gap = True
        for row in rows:
            if self._buffer is not None:
                self._buffer.append(row)
                if len(self._buffer) >= self.lookahead * 3 or self._enough():
                    yield from self._start()
                continue
            yield from self._row(row)
        if part and self._buffer:
            yield from self._start()  # a part is decided on its own rows: no waiting

    def close(self) -> Iterator[Item]:
        """End of the input: decide the rows still waiting."""
        while self._buffer:
            yield from self._start()
        self._buffer = None
        yield from self._flush_pending(final=True)

    # -- the header ---------------------------------------------------------------------------
    def _enough(self) -> bool:
        assert self._buffer is not None
        return sum(1 for r in self._buffer if any(not _blank(c) for c in r.cells)) >= self.lookahead

    def _start(self) -> Iterator[Item]:
        """Decide header, title lines and column shapes from the buffered rows, then read them."""
        rows, self._buffer = self._buffer or [], None
        self._reset_table()
        nonblank = [r for r in rows if any(not _blank(c) for c in r.cells)]
        if not nonblank:
            return
        width = max(len(r.cells) for r in nonblank)
        marked = [i for i, r in enumerate(nonblank) if r.role == "header"]
        if marked:
            first = marked[0]
            head = [i for i in range(first, len(nonblank)) if nonblank[i].role == "header"]
            head = [i for k, i in enumerate(head) if i == first + k]  # consecutive rows only
            while len(head) > 1 and len({_text(c) for c in nonblank[head[0]].cells} - {""}) == 1:
                head.pop(0)  # a title spanning the table above the column titles
                first += 1
            is_header = True
        else:
            first, is_header = find_header([r.cells for r in nonblank])
            head = [first] if is_header else []
            if is_header:
                if first > 0 and self._group_row(nonblank[first - 1].cells, nonblank[first].cells):
                    head.insert(0, first - 1)
                    first -= 1
                below = head[-1] + 1
                if below < len(nonblank) and self._sub_row(
                    nonblank[head[-1]].cells, nonblank[below].cells
                ):
                    head.append(below)
        for row in nonblank[:first]:  # title lines and notes above the table
            text = " ".join(dict.fromkeys(_text(c) for c in row.cells if not _blank(c)))
            yield Note(text)
            yield Skip("note", _sample(row.cells))
        body_start = (head[-1] + 1) if head else first
        body = nonblank[body_start:]
        if head:
            self._raw_headers = [[_text(c).casefold() for c in nonblank[i].cells] for i in head]
            self._header_words = {t for raw in self._raw_headers for t in raw if t}
            names = self._join([nonblank[i].cells for i in head], width)
        else:
            self._raw_headers = []
            names = [f"column {j + 1}" for j in range(width)]
        for text in self._set_columns(names, [r.cells for r in body[: self.lookahead]]):
            yield Note(text)
        self.tables += 1
        # Read the body, blank rows included (they are gaps between tables).
        positions = [i for i, r in enumerate(rows) if any(not _blank(c) for c in r.cells)]
        index = positions[body_start] if body else len(rows)
        for row in rows[index:]:
            if self._buffer is not None:
                self._buffer.append(row)
                continue
            yield from self._row(row)

    @staticmethod
    def _group_row(above: list[Any], header: list[Any]) -> bool:
        """A row of group titles over the header ("Preis" over "netto | brutto"): text only,
        not only in the first column, each title over header cells."""
        filled = [j for j, c in enumerate(above) if not _blank(c)]
        # One title over the table's first column is a title line, also when the sheet keeps
        # a blank margin column left of the table.
        left = next((j for j, c in enumerate(header) if not _blank(c)), 0)
        if not filled or filled == [left] or any(_is_value(above[j]) for j in filled):
            return False
        if any(j >= len(header) or _blank(header[j]) for j in filled):
            return False
        texts = [_text(above[j]) for j in filled]
        if any(_DATED.search(t) for t in texts):
            return False  # a title line ("valid until 31.05.2025 | page 1"), not group titles
        # A group spans: a title repeated (merged cells filled) or followed by blank cells.
        spans = len(set(texts)) < len(texts) or any(
            j + 1 < len(above) and _blank(above[j + 1]) and j + 1 < len(header)
            and not _blank(header[j + 1])
            for j in filled
        )  # fmt: skip
        return spans and len(filled) < sum(not _blank(c) for c in header)

    @staticmethod
    def _sub_row(header: list[Any], below: list[Any]) -> bool:
        """A second header row: text only, under header cells that span (repeated or blank)."""
        filled = [j for j, c in enumerate(below) if not _blank(c)]
        if not filled or any(_is_value(below[j]) for j in filled):
            return False
        texts = [_text(c) for c in header]
        for j in filled:
            spanning = (
                j >= len(texts)
                or not texts[j]
                or (j > 0 and texts[j - 1] == texts[j])
                or (j + 1 < len(texts) and texts[j + 1] == texts[j])
            )
            if spanning:
                return True
        return False

    @staticmethod
    def _join(rows: list[list[Any]], width: int) -> list[str]:
        """Column names from one or more header rows: a group title carried over the blank
        cells it spans, parts joined with a space, repeats dropped."""
        grid = [[_text(r[j]) if j < len(r) else "" for j in range(width)] for r in rows]
        for level, row in enumerate(grid[:-1]):
            for j in range(1, width):
                below = grid[level + 1]
                if not row[j] and row[j - 1] and below[j] and below[j - 1]:
                    row[j] = row[j - 1]  # "Preis" | "" over "netto" | "brutto"
        names = []
        for j in range(width):
            parts: list[str] = []
            for row in grid:
                if row[j] and (not parts or parts[-1] != row[j]):
                    parts.append(row[j])
            names.append(" ".join(parts))
        return names

    def _reset_table(self) -> None:
        self.header = None
        self._raw_headers: list[list[str]] = []
        self._header_words: set[str] = set()
        self._keep: list[tuple[int, str]] = []
        self._names: list[str] = []
        self._plain = False
        self._note_cols: list[int] = []
        self._num_cols: list[int] = []
        self._kinds: dict[int, str] = {}
        self._typical = 1
        self._all_sums: dict[int, float] = {}
        self._part_sums: dict[int, float] = {}
        self._counted = 0
        self._part_counted = 0
        self._section: str | None = None
        self._pending: list[GridRow] = []
        self._gap = False

    def _set_columns(self, names: list[str], sample: list[list[Any]]) -> list[str]:
        """Which columns to keep (blank ones and note columns beside the table are dropped),
        their value shapes, the numeric columns for sums, a product row's usual fill. Returns
        the notes found in the header row (a sentence over an empty column)."""
        notes: list[str] = []
        width = len(names)
        # A label spanning the table (merged cells filled) is no data row: it would make every
        # column look like text.
        data = [r for r in sample if len({_text(c) for c in r if not _blank(c)}) >= 2]
        keep: list[tuple[int, str]] = []
        for j in range(width):
            values = [r[j] for r in data if j < len(r) and not _blank(r[j])]
            if names[j] and not values and data and _sentence(names[j]):
                notes.append(names[j])  # a note written beside the header
                continue
            if not names[j]:
                if not values:
                    continue  # a blank column
                texts = [v for v in values if not _is_value(v)]
                if data and len(values) <= len(data) / 2 and len(texts) == len(values):
                    self._note_cols.append(j)  # notes beside the table
                    continue
                names[j] = f"column {j + 1}"
            keep.append((j, names[j]))
            if values:
                numbers = sum(1 for v in values if _number(v) is not None)
                dates = sum(1 for v in values if isinstance(v, str) and _DATE_CELL.match(v.strip()))  # fmt: skip
                kind = "num" if numbers >= 0.8 * len(values) else "date" if dates >= 0.8 * len(values) else "text"  # fmt: skip
                if kind == "text" and len(values) >= 3:
                    codes = sum(1 for v in values if is_code(v))
                    kind = "code" if codes >= 0.6 * len(values) else kind
                self._kinds[j] = kind
                if kind == "num" and len(self._num_cols) < 6:
                    self._num_cols.append(j)
        unique = _unique([name for _, name in keep])
        self._keep = [(j, name) for (j, _), name in zip(keep, unique, strict=True)]
        self.header = unique
        self._names = unique
        self._plain = [j for j, _ in self._keep] == list(range(len(self._keep)))
        fills = [sum(1 for j, _ in self._keep if j < len(r) and not _blank(r[j])) for r in data]
        # The fill of a full product row: the upper quartile, as totals and notes may make up
        # much of a short sample.
        fills.sort()
        self._typical = max(1, fills[(len(fills) * 3) // 4]) if fills else len(self._keep)
        return notes

    # -- rows ----------------------------------------------------------------------------------
    def _row(self, row: GridRow) -> list[Item]:
        """The items one row gives: usually its record alone."""
        cells = row.cells
        out: list[Item] = []
        n = len(cells)
        keep = self._keep
        filled = [
            (j, c)
            for j, _ in keep
            if j < n and (c := cells[j]) is not None and (type(c) is not str or c.strip())
        ]
        for j in self._note_cols:
            if j < n and not _blank(cells[j]):
                out.append(Note(_text(cells[j])))
        if not filled:
            if not any(not _blank(c) for c in cells):
                self._gap = True  # a blank row (a row of notes beside the table is no gap)
            return out
        if self._raw_headers and self._repeats_header(cells, filled):
            if self._reordered(cells):
                # The same column titles in another order: a new table (the rows below it
                # follow its order), not a repeated header.
                out.extend(self._flush_pending(final=True))
                self._buffer = [row]
                return out
            out.append(Skip("header", _sample(cells)))
            return out
        first = filled[0][1]
        same = all(c == first for _, c in filled)  # usually decided at the second cell
        distinct = {_text(c) for _, c in filled} if same or len(filled) <= 2 else {"", " "}
        if (row.role == "header" and len(distinct) > 1) or (
            (self._gap or self._pending) and self._new_table(cells, filled)
        ):
            out.extend(self._flush_pending(final=True))
            self._buffer = [row]
            return out
        sparse = len(filled) <= max(1, self._typical - 1) or row.role == "footer"
        if not sparse and len(filled) > 1 and len(set(cells)) < n:  # repeats: at C speed
            values = [c for _, c in filled]
            if len(set(values)) < len(values):
                # A label spanning several columns (colspan, merged cells) counts once:
                # "Total | Total | Total | 5,460.53 | 42" is a sparse row.
                spans = sum(
                    1
                    for (i, a), (k, b) in itertools.pairwise(filled)
                    if k == i + 1 and a == b and isinstance(a, str)
                )
                sparse = len(filled) - spans <= max(1, self._typical - 1)
        if sparse and self._is_total(filled):
            out.extend(self._flush_pending(final=True))
            self._part_sums = {}
            self._part_counted = 0
            out.append(Skip("total", _sample(cells)))
            return out
        if row.role == "footer":
            out.append(Skip("note", _sample(cells)))
            return out
        label = next(iter(distinct)) if len(distinct) == 1 else ""
        if label and len(keep) > 1 and not (_is_value(label) and self._fits(filled)):
            # A label alone, or spanning the table (a lone value in its column is a row).
            text = label
            if _sentence(text) or _is_value(text):
                out += [Note(text), Skip("note", _sample(cells))]
            elif len(self._pending) >= _MAX_PENDING:
                out.append(Skip("note", _sample(cells)))
            else:
                self._pending.append(row)
            return out
        if sparse and len(filled) <= self._typical / 2 and not self._fits(filled):
            labels = all(not _is_value(c) for _, c in filled)
            # Labels only, split over columns ("GRP 10" | "HOSES"): a section heading when
            # products follow it, a note when none do.
            if (
                labels
                and len(self._pending) < _MAX_PENDING
                and not _sentence(" ".join(_text(c) for _, c in filled))
            ):
                self._pending.append(row)
                return out
            out += [Note(" ".join(_text(c) for _, c in filled)), Skip("note", _sample(cells))]
            return out
        if self._pending:
            out.extend(self._flush_pending(final=False))
        self._gap = False
        if self._plain and n == len(keep) and None not in cells:
            record = Located(
                zip(self._names, cells, strict=True), row.where
            )  # the common case, at C speed
        else:
            record = Located({name: ("" if j >= n or cells[j] is None else cells[j]) for j, name in keep}, row.where)  # fmt: skip
        if self._section is not None:
            record[SECTION] = self._section
        for j in self._num_cols:
            if j < n:
                value = _number(cells[j])
                if value is not None:
                    self._all_sums[j] = self._all_sums.get(j, 0.0) + value
                    self._part_sums[j] = self._part_sums.get(j, 0.0) + value
        self._counted += 1
        self._part_counted += 1
        out.append(record)
        return out

    def _repeats_header(self, cells: list[Any], filled: list[tuple[int, Any]]) -> bool:
        # Cheap first: the row's first value must be one of the header texts.
        first = filled[0][1]
        if not isinstance(first, str) or _text(first).casefold() not in self._header_words:
            return False
        texts = [_text(c).casefold() for c in cells]
        for raw in self._raw_headers:
            pairs = [(t, raw[j]) for j, t in enumerate(texts) if t and j < len(raw)]
            same = sum(1 for t, h in pairs if t == h)
            if (same >= 2 and same >= 0.6 * len(pairs)) or (
                same == len(pairs) == 1 and len(raw) == 1
            ):
                return True
        return False

    def _reordered(self, cells: list[Any]) -> bool:
        """The row holds exactly the header's titles, in another column order."""
        texts = [_text(c).casefold() for c in cells]
        for raw in self._raw_headers:
            titles = [t for t in raw if t]
            if sorted(t for t in texts if t) == sorted(titles) and texts[: len(raw)] != raw:
                return True
        return False

    def _new_table(self, cells: list[Any], filled: list[tuple[int, Any]]) -> bool:
        """After a gap, a row of column titles different from the current header."""
        if len(filled) < 2 or not _header_row(cells):
            return False
        from .mapping import known_header

        return sum(1 for _, c in filled if known_header(_text(c))) >= 2

    def _is_total(self, filled: list[tuple[int, Any]]) -> bool:
        kinds = self._kinds
        if any(kinds.get(j) == "code" and is_code(cell) for j, cell in filled):
            return False  # an article code: a product ("Total Station 360"), never a total
        for _, cell in filled:
            if isinstance(cell, str) and not _is_value(cell) and is_total_label(cell):
                return True
        if self._counted < 2:
            return False
        numbers = [(j, _number(c)) for j, c in filled]
        texts = {_text(c) for (j, c), (_, v) in zip(filled, numbers, strict=True) if v is None}
        if len(texts) > 1:  # one label at most (spanning several columns or not)
            return False
        for j, value in numbers:
            if value is None or j not in self._all_sums:
                continue
            for sums, count in ((self._all_sums, self._counted), (self._part_sums, self._part_counted)):  # fmt: skip
                if count >= 2 and j in sums and abs(sums[j] - value) <= 0.005 + 1e-9 * abs(value):
                    return True
        return False

    def _fits(self, filled: list[tuple[int, Any]]) -> bool:
        """Every value sits in a column whose values look like it (a number under numbers)."""
        for j, cell in filled:
            kind = self._kinds.get(j)
            if kind is None:
                return False
            is_number = _number(cell) is not None
            if kind == "num" and not is_number:
                return False
            is_date = hasattr(cell, "year") or (
                isinstance(cell, str) and bool(_DATE_CELL.match(cell.strip()))
            )
            if kind == "date" and not is_date:
                return False
            if kind == "code" and not is_code(cell):
                return False  # words under a column of codes: a heading split over columns
        return True

    def _flush_pending(self, *, final: bool) -> Iterator[Item]:
        """Label rows held back: before a product they are section headings (the last one is
        the section the next rows stand under); at the end of a table they are notes."""
        pending, self._pending = self._pending, []
        for k, row in enumerate(pending):
            text = " ".join(dict.fromkeys(_text(c) for c in row.cells if not _blank(c)))
            if final:
                yield Note(text)
                yield Skip("note", _sample(row.cells))
                continue
            yield Skip("section", _sample(row.cells))
            if k == len(pending) - 1:
                self._section = text
                self._part_sums = {}
                self._part_counted = 0


def _side_by_side(rows: list[GridRow]) -> list[tuple[int, int]] | None:
    """Column ranges of tables laid side by side, or ``None``. Blank columns cut the columns
    into blocks; two or more blocks of two columns or more, each under its own header row,
    whose headers name two or more of the same concepts (a name, a code, a price...), are
    separate tables: one table with a blank spacer column repeats no concept."""
    from .mapping import header_concept

    width = max((len(r.cells) for r in rows), default=0)
    used = [any(j < len(r.cells) and not _blank(r.cells[j]) for r in rows) for j in range(width)]
    blocks: list[tuple[int, int]] = []
    for j, filled in enumerate(used):
        if filled and (j == 0 or not used[j - 1]):
            blocks.append((j, j + 1))
        elif filled:
            blocks[-1] = (blocks[-1][0], j + 1)
    if len(blocks) < 2:
        return None
    tables: list[tuple[int, set[str]]] = []
    for a, b in blocks:
        if b - a < 2:
            continue
        sub = [r.cells[a:b] for r in rows]
        sub = [cells for cells in sub if any(not _blank(c) for c in cells)]
        index, is_header = find_header(sub[:LOOKAHEAD])
        if not sub or not is_header:
            continue
        concepts = {c for cell in sub[index] if (c := header_concept(_text(cell)))}
        if len(concepts) >= 2:
            tables.append((a, concepts))
    if len(tables) < 2:
        return None
    if any(len(tables[0][1] & concepts) < 2 for _, concepts in tables[1:]):
        return None
    starts = [0, *(a for a, _ in tables[1:])]
    return [(start, end) for start, end in zip(starts, [*starts[1:], width + 10**6], strict=True)]  # fmt: skip


def grid_items(rows: Iterable[GridRow], *, lookahead: int = LOOKAHEAD) -> Iterator[Item]:
    """Classified items of one table (or several in a row, or side by side) given as
    ``GridRow``s. Tables side by side are read one after the other, each with its own header:
    the first streams, the others wait in memory (a sheet laid out so is a small one)."""
    source = iter(rows)
    # No more rows than the grid buffers for its header anyway: progress is reported by how
    # far the reader got, and must not run ahead of the rows handed out.
    head = list(itertools.islice(source, lookahead))
    ranges = _side_by_side(head) if head else None
    if ranges is None:
        grid = TableGrid(lookahead=lookahead)
        yield from grid.feed(itertools.chain(head, source))
        yield from grid.close()
        return
    later: list[list[GridRow]] = [[] for _ in ranges[1:]]

    def first() -> Iterator[GridRow]:
        for row in itertools.chain(head, source):
            start, end = ranges[0]
            yield GridRow(row.cells[start:end], row.where, row.role)
            for k, (a, b) in enumerate(ranges[1:]):
                later[k].append(GridRow(row.cells[a:b], row.where, row.role))

    for part in [first(), *(iter(rows) for rows in later)]:
        grid = TableGrid(lookahead=lookahead)
        yield from grid.feed(part)
        yield from grid.close()
