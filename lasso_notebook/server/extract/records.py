"""Text -> records: finds the tabular structure in a text (CSV/TSV, markdown table, JSON /
JSON Lines, ``Key: value`` blocks) and returns it as a list of ``{header: value}`` dicts."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from .errors import ExtractionError

__all__ = [
    "parse_csv",
    "parse_json",
    "parse_jsonl",
    "parse_keyvalue",
    "parse_markdown",
    "parse_text",
]

Record = dict[str, Any]

# Containers under which a JSON document usually keeps its list of items.
_LIST_KEYS = ("products", "items", "data", "rows", "records", "results", "entries", "list")
_KV_LINE = re.compile(r"^\s*(?:[-*•]\s*)?([^:,;\t|]{1,60}?)\s*:\s*(.*)$")
_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_TITLE = "_title"


def parse_text(text: str, hint: str | None = None) -> list[Record]:
    """Detect the format of ``text`` (or use ``hint``: csv, tsv, json, jsonl, markdown, kv)."""
    parsers = {
        "csv": parse_csv,
        "tsv": lambda t: parse_csv(t, delimiter="\t"),
        "json": parse_json,
        "jsonl": parse_jsonl,
        "markdown": parse_markdown,
        "kv": parse_keyvalue,
    }
    if hint in parsers:
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
    lines = [line for line in stripped.splitlines() if line.strip()]
    md_lines = [line for line in lines if line.lstrip().startswith("|")]
    if len(md_lines) >= 2 and any(_MD_SEPARATOR.match(line) for line in md_lines):
        return parse_markdown(stripped)
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
        "table, JSON or JSON Lines objects, or 'Key: value' records."
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


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        # The sniffer gives up on irregular samples; the most frequent candidate in the header
        # line is a good second guess.
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def parse_csv(text: str, delimiter: str | None = None) -> list[Record]:
    text = text.lstrip("\ufeff")
    delimiter = delimiter or _sniff_delimiter(text[:20_000])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ExtractionError(f"The CSV text could not be read: {exc}") from exc
    if len(rows) < 2:
        raise ExtractionError("The CSV source needs a header line and at least one data line.")
    header = [h.strip() for h in rows[0]]
    records = []
    for row in rows[1:]:
        records.append(
            {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        )
    return records


def _split_md_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [c.strip().replace("\\|", "|") for c in cells]


def parse_markdown(text: str) -> list[Record]:
    """Every markdown table in the text; tables with the same header are concatenated."""
    records: list[Record] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines) - 1:
        if lines[i].lstrip().startswith("|") and _MD_SEPARATOR.match(lines[i + 1]):
            header = _split_md_row(lines[i])
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = _split_md_row(lines[i])
                records.append(
                    {h: (cells[j] if j < len(cells) else "") for j, h in enumerate(header) if h}
                )
                i += 1
        else:
            i += 1
    if not records:
        raise ExtractionError("No markdown table with a header and a separator line was found.")
    return records


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


def parse_keyvalue(text: str) -> list[Record]:
    """``Key: value`` lines; blank lines or a repeated key start the next record.

    A first line without a colon is kept as the record's title (mapped to a name column).
    """
    records: list[Record] = []
    current: Record = {}

    def close() -> None:
        nonlocal current
        if any(k != _TITLE for k in current):
            records.append(current)
        current = {}

    for line in text.splitlines():
        if not line.strip():
            close()
            continue
        match = _KV_LINE.match(line)
        if match is None:
            if current and any(k != _TITLE for k in current):
                close()
            if not current:
                current[_TITLE] = line.strip().lstrip("#").strip()
            continue
        key, value = match.group(1).strip(), match.group(2).strip()
        if key in current:
            close()
        current[key] = value
    close()
    if not records:
        raise ExtractionError("No 'Key: value' records were found in the text.")
    return records
