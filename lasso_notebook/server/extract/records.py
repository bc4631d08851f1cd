"""Text -> records: finds the tabular structure in a text (CSV/TSV, markdown or HTML table,
JSON / JSON Lines, line listings, ``Key: value`` blocks) and returns ``{header: value}`` dicts.
CSV is also parsed as a stream (``iter_csv``) so big files need bounded memory."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import ExtractionError
from .source import Linked, Record, Step

__all__ = [
    "TITLE",
    "iter_csv",
    "parse_csv",
    "parse_json",
    "parse_jsonl",
    "parse_keyvalue",
    "parse_markdown",
    "parse_text",
    "table_records",
]

TITLE = "_title"  # pseudo-header: the untitled first line of a "Key: value" block

# Containers under which a JSON document usually keeps its list of items.
_LIST_KEYS = ("products", "items", "data", "rows", "records", "results", "entries", "list")
_KV_LINE = re.compile(r"^\s*(?:[-*•]\s*)?([^:,;\t|]{1,60}?)\s*:\s*(.*)$")
_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
# A cell that is plainly a value, not a column title: numbers, prices, URLs, emails, dates.
_VALUE_CELL = re.compile(
    r"^(?:[-+]?[$€£¥]?\s*\d[\d.,' ]*\s*(?:[$€£¥%]|EUR|USD|GBP)?|https?://\S+|www\.\S+|\S+@\S+\.\w+"
    r"|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|true|false)$",
    re.I,
)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: A CSV stream yields a ``Step`` each time this much more of the file (1/64) has been read
#: into records, so a small upload moves in steps too, not 0 → 99 → 100.
_CSV_STEPS = 64


def parse_text(text: str, hint: str | None = None) -> list[Record]:
    """Detect the format of ``text`` (or use ``hint``: csv, tsv, json, jsonl, markdown, kv,
    html, listing) and return its records."""
    from .html import looks_like_html, parse_html
    from .listing import looks_like_listing, parse_listing

    parsers: dict[str, Callable[[str], list[Record]]] = {
        "csv": parse_csv,
        "tsv": lambda t: parse_csv(t, delimiter="\t"),
        "json": parse_json,
        "jsonl": parse_jsonl,
        "markdown": parse_markdown,
        "kv": parse_keyvalue,
        "html": parse_html,
        "listing": parse_listing,
    }
    if hint in parsers:
        if not text.strip():
            raise ExtractionError("The source is empty: there is no text to extract rows from.")
        return parsers[hint](text)
    stripped = text.strip()
    if not stripped:
        raise ExtractionError("The source is empty: there is no text to extract rows from.")
    if stripped[0] in "[{":
        try:
            json.loads(stripped)
        except ValueError:
            pass
        else:
            return parse_json(stripped)  # valid JSON: its own error if it holds no objects
        try:
            json.loads(stripped.splitlines()[0])
        except ValueError:
            pass  # e.g. a CSV whose first cell starts with "[": fall through
        else:
            return parse_jsonl(stripped)
    if looks_like_html(stripped):
        return parse_html(stripped)
    lines = [line for line in stripped.splitlines() if line.strip()]
    md_lines = [line for line in lines if line.lstrip().startswith("|")]
    if len(md_lines) >= 2 and any(_MD_SEPARATOR.match(line) for line in md_lines):
        return parse_markdown(stripped)
    if looks_like_listing(lines):
        return parse_listing(stripped)
    kv_lines = sum(1 for line in lines if _KV_LINE.match(line))
    if kv_lines >= max(1, int(len(lines) * 0.6)):
        return parse_keyvalue(stripped)
    records = _try_csv(stripped)
    if records:
        return records
    if kv_lines:
        return parse_keyvalue(stripped)
    raise ExtractionError(
        "Could not find a table in the text: expected CSV/TSV with a header line, a markdown "
        "or HTML table, JSON or JSON Lines objects, 'Key: value' records, or one product per "
        "line such as 'Acme Drill — SKU AX100 — $129.00'."
    )


def _try_csv(text: str) -> list[Record]:
    try:
        records = parse_csv(text)
    except ExtractionError:
        return []
    headers = list(records[0]) if records else []
    # A one-column "CSV" is any list of lines: only accept it under a short, label-like header.
    if len(headers) == 1 and (len(headers[0]) > 40 or len(headers[0].split()) > 4):
        return []
    return records


# -- tables (shared by CSV, spreadsheets, PDF, Word, HTML) ------------------------------------
def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _is_value(cell: Any) -> bool:
    if isinstance(cell, (int, float)) or not isinstance(cell, str):
        return not _blank(cell)
    return bool(_VALUE_CELL.match(cell.strip()))


def _headers(row: list[Any]) -> list[str]:
    names: list[str] = []
    seen: Counter[str] = Counter()
    for i, cell in enumerate(row):
        name = " ".join(str(cell).split()) if not _blank(cell) else f"column {i + 1}"
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return names


def find_header(rows: list[list[Any]]) -> tuple[int, bool]:
    """Index of the header row among the first rows of a table, and whether it is a header.

    Title lines above the header ("Spring catalog 2024") have fewer cells than the table and
    are skipped. A first full row made of values (prices, URLs, dates) means there is no
    header: ``(index, False)``, and columns are named ``column 1`` ... and mapped by content.
    """
    widths = [sum(not _blank(c) for c in row) for row in rows]
    if not widths:
        return 0, True
    # The table's width: the most common width among rows of two cells or more (title lines
    # have one), the wider on ties; a one-column table is width 1.
    wide = Counter(w for w in widths if w >= 2) or Counter(w for w in widths if w)
    full = max(wide.items(), key=lambda item: (item[1], item[0]))[0] if wide else 1
    need = max(min(2, full), math.ceil(full * 0.7))
    for i, width in enumerate(widths):
        if width >= need:
            values = sum(_is_value(c) for c in rows[i] if not _blank(c))
            return i, not (values and values >= max(1, width // 3))
    return 0, True


def table_records(
    rows: Iterable[list[Any]], header: list[str] | None = None, lookahead: int = 30
) -> Iterator[Record]:
    """Records of a grid of cells: finds the header row (see ``find_header``), skips blank
    rows and repeated header rows (tables continued over pages or sheets)."""
    it = iter(rows)
    if header is None:
        head = [r for r in itertools.islice(it, lookahead)]
        nonblank = [r for r in head if any(not _blank(c) for c in r)]
        if not nonblank:
            return
        index, is_header = find_header(nonblank)
        if is_header:
            header, body = _headers(nonblank[index]), nonblank[index + 1 :]
        else:
            width = max(len(r) for r in nonblank)
            header, body = [f"column {i + 1}" for i in range(width)], nonblank[index:]
        it = itertools.chain(body, it)
    raw_header = [h.casefold() for h in header]
    first = raw_header[0] if raw_header else ""
    width = len(header)
    for row in it:
        cells = [c.strip() if type(c) is str else c for c in row]  # keeps Linked cells
        if not any(c is not None and c != "" for c in cells):
            continue
        if (
            cells
            and str(cells[0] or "").casefold() == first
            and [str(c or "").casefold() for c in cells[:width]] == raw_header
        ):
            continue  # the header repeated (page break, pasted twice)
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        yield {h: ("" if c is None else c) for h, c in zip(header, cells, strict=False)}


# -- CSV / TSV ---------------------------------------------------------------------------------
def _sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        found = ""
    # The sniffer picks any character it sees consistently; trust it only when the candidate
    # also splits most lines (title lines above a table can fool it).
    counts = {d: sum(1 for line in lines if d in line) for d in ",;\t|"}
    best = max(counts, key=lambda d: (counts[d], d == "\t"))
    if found and counts.get(found, 0) >= len(lines) * 0.6:
        return found
    return best if counts[best] else ","


def iter_csv(
    lines: Iterable[str],
    delimiter: str | None = None,
    fraction: Callable[[], float] | None = None,
) -> Iterator[Record | Step]:
    """Stream the records of CSV/TSV lines, with a ``Step`` each 1/64 of the way."""
    it = iter(lines)
    head: list[str] = []
    size = 0
    whole = True  # the head holds every line
    for line in it:
        head.append(line)
        size += len(line)
        if size > 64_000 or len(head) >= 200:
            whole = False
            break
    if not any(line.strip() for line in head):
        raise ExtractionError("The source is empty: there is no text to extract rows from.")
    delimiter = delimiter or _sniff_delimiter("".join(head))
    # How far the records are: a text that fits in the head counts its lines. Beyond that,
    # ``fraction()`` counts what was read from the file, and the head was read ahead: scaled by
    # the share of the text read so far that the CSV reader took, it follows the records
    # (off by the header search's lookahead of 30 rows at most).
    head_chars = sum(map(len, head))
    consumed = 0

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in itertools.chain(head, it):
            consumed += len(line)
            yield line

    reader = csv.reader(feed(), delimiter=delimiter)
    next_step = 1 / _CSV_STEPS
    produced = False
    count = 0
    try:
        for record in table_records(reader):
            produced = True
            yield record
            count += 1
            if fraction is not None:
                if whole:
                    done = count / max(1, len(head) - 1)  # less the header line
                else:
                    done = fraction() * consumed / max(head_chars, consumed, 1)
                if done >= next_step:
                    yield Step(done)
                    next_step = (int(done * _CSV_STEPS) + 1) / _CSV_STEPS
    except csv.Error as exc:
        raise ExtractionError(f"The CSV text could not be read: {exc}") from exc
    if not produced:
        raise ExtractionError("The CSV source needs a header line and at least one data line.")


def parse_csv(text: str, delimiter: str | None = None) -> list[Record]:
    stream = io.StringIO(text.lstrip("\ufeff"))
    return [r for r in iter_csv(stream, delimiter) if not isinstance(r, Step)]


# -- markdown ----------------------------------------------------------------------------------
def _md_cell(cell: str) -> str:
    cell = cell.strip().replace("\\|", "|")
    links = _MD_LINK.findall(cell)
    cell = re.sub(r"(\*\*|__|`)", "", cell)
    if links:
        text = _MD_LINK.sub(lambda m: m.group(1), cell).strip()
        return Linked(text or links[0][1], [url for _, url in links])
    return cell


def _split_md_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [_md_cell(c) for c in re.split(r"(?<!\\)\|", line)]


def parse_markdown(text: str) -> list[Record]:
    """Every markdown table in the text; tables with the same header are concatenated."""
    records: list[Record] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines) - 1:
        if lines[i].lstrip().startswith("|") and _MD_SEPARATOR.match(lines[i + 1]):
            header = _headers(_split_md_row(lines[i]))
            i += 2
            body = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                body.append(_split_md_row(lines[i]))
                i += 1
            records.extend(table_records(body, header))
        else:
            i += 1
    if not records:
        raise ExtractionError("No markdown table with a header and a separator line was found.")
    return records


# -- JSON --------------------------------------------------------------------------------------
def _find_records(doc: Any, depth: int = 0) -> list[Record] | None:
    if isinstance(doc, list):
        objs = [x for x in doc if isinstance(x, dict)]
        return objs if objs else None
    if isinstance(doc, dict) and depth < 3:
        for key in _LIST_KEYS:
            for k, v in doc.items():
                if k.lower() == key and isinstance(v, (list, dict)):
                    found = _find_records(v, depth + 1)
                    if found:
                        return found
        # Any single list of objects, e.g. {"catalog": {"entries": [...]}}
        for v in doc.values():
            if isinstance(v, (list, dict)):
                found = _find_records(v, depth + 1)
                if found and (isinstance(v, list) or not any(r is v for r in found)):
                    return found
        if depth == 0 and any(not isinstance(v, (list, dict)) for v in doc.values()):
            return [doc]  # a single object is a single record
    return None


def parse_json(text: str) -> list[Record]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ExtractionError(f"The JSON source is not valid JSON: {exc}") from exc
    records = _find_records(doc)
    if not records:
        raise ExtractionError(
            "The JSON holds no objects to turn into rows (expected an array of objects, or an "
            "object with a 'products' or 'items' array)."
        )
    return records


def parse_jsonl(text: str) -> list[Record]:
    records: list[Record] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise ExtractionError(f"Line {n} of the JSON Lines source is not JSON: {exc}") from exc
        found = _find_records(value)
        if found:
            records.extend(found)
    if not records:
        raise ExtractionError("The JSON Lines source holds no objects.")
    return records


# -- Key: value blocks -------------------------------------------------------------------------
def parse_keyvalue(text: str) -> list[Record]:
    """``Key: value`` lines; blank lines or a repeated key start the next record.

    A first line without a colon is kept as the record's title (mapped to a name column).
    """
    records: list[Record] = []
    current: Record = {}

    def close() -> None:
        nonlocal current
        if any(k != TITLE for k in current):
            records.append(current)
        current = {}

    for line in text.splitlines():
        if not line.strip():
            close()
            continue
        match = _KV_LINE.match(line)
        if match is None or match.group(1).strip().lower() in ("http", "https"):
            if current and any(k != TITLE for k in current):
                close()
            if not current:
                current[TITLE] = line.strip().lstrip("#").strip()
            continue
        key, value = match.group(1).strip(), match.group(2).strip()
        if key in current:
            close()
        current[key] = value
    close()
    if not records:
        raise ExtractionError("No 'Key: value' records were found in the text.")
    return records
