"""Text -> records: finds the tabular structure in a text (CSV/TSV, markdown, ruled or HTML table,
JSON / JSON Lines, line listings, ``Key: value`` blocks) and returns ``{header: value}`` dicts
(located by line where known) with the grid stage's ``Skip``/``Note`` markers. CSV is also
parsed as a stream (``iter_csv``) so big files need bounded memory."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import ExtractionError
from .grid import GridRow, find_header, grid_items
from .mapping import POSITIONAL, known_header
from .source import TITLE, Item, Linked, Located, Note, Record, Skip, Step

__all__ = [
    "TITLE",
    "delimited_block",
    "find_header",
    "has_markdown_table",
    "iter_csv",
    "parse_csv",
    "parse_json",
    "parse_jsonl",
    "parse_keyvalue",
    "parse_markdown",
    "parse_text",
    "table_records",
]

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


def parse_text(text: str, hint: str | None = None) -> list[Item]:
    """Detect the format of ``text`` (or use ``hint``: csv, tsv, json, jsonl, markdown, kv,
    html, listing) and return its records."""
    from .html import looks_like_html, parse_html
    from .listing import looks_like_listing, parse_listing

    parsers: dict[str, Callable[[str], list[Item]]] = {
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
    from .mail import looks_like_mail
    from .textlayouts import describe_text, loose_items, mail_items, report_items

    if looks_like_mail(stripped):
        return mail_items(stripped)
    lines = [line for line in stripped.splitlines() if line.strip()]
    from .ruled import has_ruled_table, parse_expanded, parse_ruled

    expanded = parse_expanded(stripped) if "RECORD" in stripped[:4000] else None
    if expanded is not None:
        return expanded  # psql's expanded display: "-[ RECORD 1 ]--" over "column | value"
    if has_ruled_table(lines):
        # "+----+----+" rules around "| cell | cell |" lines (reST, psql, PrettyTable): read
        # by the rules, before the markdown check would take the "|" lines as its own.
        ruled = parse_ruled(stripped)
        if ruled is not None:
            return ruled
    if has_markdown_table(lines):
        return parse_markdown(stripped)
    report = report_items(text.strip("\n"))
    if report is not None:
        return report
    delimiter = _delimited_table(lines)
    if delimiter is not None:
        # Every line cut into the same fields by one delimiter under a header of labels: a
        # table, whatever the delimiter ("SKU|Product|Price"), not a list of product lines.
        # The delimiter found is the one read by (decimal commas in a tab table are no CSV).
        records = _try_csv(stripped, delimiter)
        if records:
            return records
    if looks_like_listing(lines):
        return parse_listing(stripped)
    kv_lines = sum(1 for line in lines if _KV_LINE.match(line))
    if kv_lines >= max(1, int(len(lines) * 0.6)):
        return parse_keyvalue(stripped)
    loose = loose_items(stripped)
    if loose is not None:
        return loose
    records = _try_csv(stripped)
    if records:
        return records
    if kv_lines:
        return parse_keyvalue(stripped)
    raise ExtractionError(
        "Could not find a table in the text: no CSV/TSV with a header line, no markdown or "
        "HTML table, no JSON, no report columns, no 'Key: value' records and no product lines "
        f"such as 'Acme Drill — SKU AX100 — $129.00'; {describe_text(lines)}."
    )


def _md_header(line: str, below: str) -> bool:
    """A markdown table's header line over its separator: ``| SKU | Price |`` over
    ``|---|---|``, or without outer bars (``SKU | Price`` over ``--- | ---``)."""
    if "|" not in line or not _MD_SEPARATOR.match(below):
        return False
    return line.lstrip().startswith("|") or "|" in below


def has_markdown_table(lines: list[str]) -> bool:
    """A markdown table: a header line of ``|`` cells over a separator (``|---|---|``)."""
    if not any("|" in line for line in lines[:400]):
        return False
    return any(_md_header(a, b) for a, b in itertools.pairwise(lines))


def _delimited_table(lines: list[str]) -> str | None:
    """The delimiter when nearly every line holding it holds it the same number (2+) of times
    and the first such line is a header of labels (no prices, no numbers). A few title lines
    above the header ("Stock list week 12", "As of 18.03.2025") and lines without it below
    (notes, "Page 1/1") do not count against it."""
    from .grid import find_header

    sample = lines[:200]
    for delimiter in (";", "\t", "|"):
        counts = Counter(line.count(delimiter) for line in sample if delimiter in line)
        count = counts.most_common(1)[0][0] if counts else 0
        if count < 2:
            continue
        start = next(k for k, line in enumerate(sample) if line.count(delimiter) == count)
        body = sample[start:] if start <= 5 else sample
        holding = [line for line in body if delimiter in line]
        if len(holding) < 0.6 * len(body) or sum(
            1 for line in holding if line.count(delimiter) == count
        ) < 0.9 * len(holding):
            continue
        rows = [line.strip().strip(delimiter).split(delimiter) for line in holding if line.count(delimiter) == count]  # fmt: skip
        return delimiter if find_header(rows[:40]) == (0, True) else None
    return None


def delimited_block(lines: list[str]) -> tuple[int, int, str] | None:
    """``(start, end, delimiter)`` of a run of three or more lines cut into the same number
    (2+) of fields by a tab, ``;`` or ``|`` under a header of labels: a table pasted into
    prose (an e-mail), whose columns a reading line by line would lose."""
    from .grid import find_header

    for delimiter in ("\t", ";", "|"):
        start = 0
        while start < len(lines):
            count = lines[start].count(delimiter)
            end = start
            while end < len(lines) and count >= 1 and lines[end].count(delimiter) == count:
                end += 1
            # Rows of values under the header (prose with a ";" per line has no numbers).
            numbered = sum(1 for line in lines[start + 1 : end] if re.search(r"\d", line))
            if end - start >= 3 and numbered * 2 >= end - start - 1:
                rows = [line.strip().split(delimiter) for line in lines[start:end]]
                if find_header(rows[:40]) == (0, True):
                    return start, end, delimiter
            start = max(end, start + 1)
    return None


def _try_csv(text: str, delimiter: str | None = None) -> list[Item]:
    try:
        records = parse_csv(text, delimiter)
    except ExtractionError:
        return []
    first = next((r for r in records if isinstance(r, dict)), None)
    headers = list(first) if first else []
    # A one-column "CSV" is any list of lines: only accept it under a column title the mapper
    # knows ("Product"), not under a letter's "Kind regards".
    if len(headers) == 1 and not known_header(headers[0]):
        return []
    # Untitled columns cut by a delimiter that half the lines or fewer hold are commas in prose
    # ("Hello Sam,", "Minimum order 50,00"), not a table.
    if len(headers) > 1 and all(POSITIONAL.match(h) for h in headers):
        lines = [line for line in text.splitlines() if line.strip()][:200]
        used = delimiter or _sniff_delimiter("\n".join(lines[:50]))
        if sum(used in line for line in lines) <= len(lines) / 2:
            return []
    return records


# -- tables (shared by CSV, spreadsheets, PDF, Word, HTML) ------------------------------------
def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _headers(row: list[Any]) -> list[str]:
    names: list[str] = []
    seen: Counter[str] = Counter()
    for i, cell in enumerate(row):
        name = " ".join(str(cell).split()) if not _blank(cell) else f"column {i + 1}"
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return names


def table_records(
    rows: Iterable[list[Any]], header: list[str] | None = None, lookahead: int = 30
) -> Iterator[Item]:
    """Classified items of a grid of cells (see ``grid``): the header row is found below any
    title lines, or given as ``header``."""
    grid_rows: Iterable[GridRow] = (GridRow(list(r)) for r in rows)
    if header is not None:
        grid_rows = itertools.chain([GridRow(list(header), None, "header")], grid_rows)
    return grid_items(grid_rows, lookahead=lookahead)


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
        chosen = found
    else:
        chosen = best if counts[best] else ","
    if chosen == ",":
        return _decimal_comma_table(lines) or chosen
    return chosen


_DECIMAL_COMMA = re.compile(r"\d,\s?\d")


def _decimal_comma_table(lines: list[str]) -> str | None:
    """The delimiter of a ``;`` (or ``|``, tab) export whose commas are decimal commas
    (``0,8 kg;76,50``, even ``76, 50``): it splits as many lines as ``,`` does into one
    number of fields, and the commas sit between digits or are fewer per line than it. A
    title line above the header can make the sniffer pick ``,``; reading such a file by
    commas cuts every number in two."""
    commas = Counter(line.count(",") for line in lines if "," in line)
    comma_count, comma_lines = commas.most_common(1)[0] if commas else (0, 0)
    for delimiter in (";", "|", "\t"):
        counts = Counter(line.count(delimiter) for line in lines if delimiter in line)
        if not counts:
            continue
        count, with_count = counts.most_common(1)[0]
        if with_count < max(2, len(lines) * 0.6) or with_count < comma_lines:
            continue
        rows = [line for line in lines if line.count(delimiter) == count]
        total = sum(line.count(",") for line in rows)
        decimal = sum(len(_DECIMAL_COMMA.findall(line)) for line in rows)
        if count >= comma_count or decimal * 2 >= total:
            return delimiter
    return None


def iter_csv(
    lines: Iterable[str],
    delimiter: str | None = None,
    fraction: Callable[[], float] | None = None,
) -> Iterator[Item]:
    """Stream the records of CSV/TSV lines (through the grid stage), with a ``Step`` each
    1/64 of the way."""
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

    def rows() -> Iterator[GridRow]:
        for cells in reader:
            yield GridRow(cells, {"line": reader.line_num})

    produced = False
    count = 0
    try:
        for item in grid_items(rows()):
            yield item
            if isinstance(item, Skip):
                produced = True
            elif isinstance(item, dict):
                produced = True
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


def parse_csv(text: str, delimiter: str | None = None) -> list[Item]:
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


def parse_markdown(text: str) -> list[Item]:
    """Every markdown table in the text, each read by the grid stage; the lines around the
    tables are notes (a title, "Prices in USD")."""
    items: list[Item] = []
    lines = text.splitlines()
    i = 0
    found = False
    while i < len(lines):
        if i < len(lines) - 1 and _md_header(lines[i], lines[i + 1]):
            # Rows start with "|", or (a table without outer bars) hold one.
            barred = lines[i].lstrip().startswith("|")
            rows = [GridRow(_split_md_row(lines[i]), {"line": i + 1}, "header")]
            i += 2
            while i < len(lines) and (
                lines[i].lstrip().startswith("|") if barred else "|" in lines[i]
            ):
                rows.append(GridRow(_split_md_row(lines[i]), {"line": i + 1}))
                i += 1
            items.extend(grid_items(rows))
            found = True
        else:
            if lines[i].strip():
                items.append(Note(lines[i].strip().lstrip("#").strip()))
            i += 1
    if not found:
        raise ExtractionError("No markdown table with a header and a separator line was found.")
    return items


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


def parse_json(text: str) -> list[Item]:
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


def parse_jsonl(text: str) -> list[Item]:
    records: list[Item] = []
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
def parse_keyvalue(text: str) -> list[Item]:
    """``Key: value`` lines; blank lines or a repeated key start the next record.

    A first line without a colon is kept as the record's title (mapped to a name column).
    """
    records: list[Item] = []
    current: Record = {}
    start = 1

    def close() -> None:
        nonlocal current
        if any(k != TITLE for k in current):
            records.append(Located(current, {"line": start}))
        current = {}

    for number, line in enumerate(text.splitlines(), 1):
        if not current:
            start = number
        if not line.strip():
            close()
            continue
        match = _KV_LINE.match(line)
        if match is None or match.group(1).strip().lower() in ("http", "https"):
            if current and any(k != TITLE for k in current):
                close()
            if not current:
                start = number
                current[TITLE] = line.strip().lstrip("#").strip()
            continue
        key, value = match.group(1).strip(), match.group(2).strip()
        if key in current:
            close()
            start = number
        current[key] = value
    close()
    if not records:
        raise ExtractionError("No 'Key: value' records were found in the text.")
    return records
