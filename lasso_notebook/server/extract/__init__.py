"""The extractor interface: ``extract(source, columns, additional_context, progress)`` yields
validated rows for one source (a text, or a stored file); ``ExtractionError`` carries the human
reason a source cannot be used. Readers per file type plug in with ``register_reader``.

Row shape: ``{"data": {key: value}, "validation_status": "valid"|"warning"|"error",
"validation_errors": [{"column_key", "message", "severity"}]}``. ``progress(fraction)`` is
called after each step (parsing, then ~16 chunks of rows) with the fraction of this source
done; rows of a chunk are yielded before its progress call, so the caller can persist them
first. A progress call may raise to abort extraction (engine stopping, table deleted).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from .coerce import coerce
from .errors import ExtractionError
from .mapping import map_headers
from .records import Record, parse_text

__all__ = [
    "STEPS",
    "ExtractedRow",
    "ExtractionError",
    "ProgressCallback",
    "Source",
    "extract",
    "register_reader",
]

#: Chunks of rows per source: progress (and ``pace``) moves in about this many steps.
STEPS = 16
#: Text files larger than this are refused rather than loaded into memory.
MAX_TEXT_BYTES = 256 * 1024 * 1024

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class Source:
    """One thing to extract from: inline ``text``, or a stored file at ``path``."""

    text: str | None = None
    path: Path | None = None
    filename: str | None = None
    content_type: str | None = None

    @property
    def label(self) -> str:
        return repr(self.filename) if self.filename else "the text"


class ExtractedRow(TypedDict):
    data: dict[str, Any]
    validation_status: str
    validation_errors: list[dict[str, str]]


Reader = Callable[[Source], list[Record]]
_READERS: list[tuple[tuple[str, ...], tuple[str, ...], Reader]] = []
# Types a later extractor will read (PDF, spreadsheets, Word, images): named in the message.
_KNOWN_BINARY = (
    ".pdf",
    ".xlsx",
    ".xls",
    ".docx",
    ".doc",
    ".png",
    ".jpg",
    ".jpeg",
    ".webp",
    ".gif",
    ".zip",
    ".pptx",
)


def register_reader(
    extensions: tuple[str, ...], content_types: tuple[str, ...], reader: Reader
) -> None:
    """Add a reader for files with these extensions (``.csv``) or MIME types; later wins."""
    _READERS.insert(0, (tuple(e.lower() for e in extensions), content_types, reader))


def read_text_file(source: Source) -> str:
    assert source.path is not None
    size = source.path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise ExtractionError(
            f"{source.label} is {size // (1024 * 1024)} MB; text sources are limited to "
            f"{MAX_TEXT_BYTES // (1024 * 1024)} MB."
        )
    raw = source.path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise ExtractionError(f"{source.label} is not readable text (it looks like a binary file).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _text_reader(hint: str | None) -> Reader:
    def read(source: Source) -> list[Record]:
        return parse_text(read_text_file(source), hint)

    return read


register_reader(
    (".txt", ".md", ".markdown", ".text"), ("text/plain", "text/markdown"), _text_reader(None)
)
register_reader(
    (".jsonl", ".ndjson"), ("application/x-ndjson", "application/jsonl"), _text_reader("jsonl")
)
register_reader((".json",), ("application/json",), _text_reader("json"))
register_reader((".tsv", ".tab"), ("text/tab-separated-values",), _text_reader("tsv"))
register_reader((".csv",), ("text/csv", "application/csv"), _text_reader("csv"))


def _load_records(source: Source) -> list[Record]:
    if source.text is not None:
        return parse_text(source.text)
    if source.path is None or not source.path.exists():
        raise ExtractionError(f"The stored file for {source.label} is missing; upload it again.")
    suffix = Path(source.filename or "").suffix.lower()
    ctype = (source.content_type or "").split(";")[0].strip().lower()
    for extensions, _ctypes, reader in _READERS:
        if suffix and suffix in extensions:
            return reader(source)
    for _extensions, ctypes, reader in _READERS:
        if (not suffix or suffix not in _KNOWN_BINARY) and ctype and ctype in ctypes:
            return reader(source)
    if suffix in _KNOWN_BINARY or (
        ctype and not ctype.startswith("text/") and ctype != "application/octet-stream"
    ):
        raise ExtractionError(
            f"Unsupported file type for {source.label} ({suffix or ctype}): the embedded engine "
            "reads CSV, TSV, TXT, Markdown, JSON and JSON Lines files."
        )
    return parse_text(read_text_file(source))  # unknown extension: try it as text


def _flatten(record: Record) -> Record:
    """Keep nested objects and also offer their fields as ``parent child`` headers."""
    flat = dict(record)
    for key, value in record.items():
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                flat.setdefault(f"{key} {sub}", sub_value)
    return flat


def _build_row(
    record: Record, mapping: dict[str, str], columns: dict[str, dict[str, Any]]
) -> ExtractedRow | None:
    data: dict[str, Any] = dict.fromkeys(columns)
    issues: list[dict[str, str]] = []
    for header, key in mapping.items():
        if header not in record or data[key] is not None:
            continue
        raw = record[header]
        if isinstance(raw, dict) and columns[key].get("type") != "json":
            # {"price": {"amount": 9.99, "currency": "EUR"}}: the amount is the price.
            raw = next(
                (raw[k] for k in ("amount", "value", "name", "text", "url") if k in raw), raw
            )
        value, issue = coerce(raw, columns[key])
        data[key] = value
        if issue:
            issues.append({"column_key": key, "message": issue[1], "severity": issue[0]})
    if all(v is None or v == [] for v in data.values()) and not issues:
        return None  # nothing of this record fits the schema: not a row
    flagged = {i["column_key"] for i in issues}
    for key, col in columns.items():
        if col.get("required") and data[key] in (None, "", []) and key not in flagged:
            issues.append(
                {"column_key": key, "message": "required value is missing", "severity": "error"}
            )
    severities = {i["severity"] for i in issues}
    status = "error" if "error" in severities else "warning" if severities else "valid"
    return {"data": data, "validation_status": status, "validation_errors": issues}


def extract(
    source: Source,
    columns: list[dict[str, Any]],
    additional_context: str | None,
    progress: ProgressCallback,
) -> Iterator[ExtractedRow]:
    """Yield the rows of ``source`` for ``columns`` (see the module docstring)."""
    del additional_context  # the rule-based extractor has no use for guidance text yet
    records = [_flatten(r) for r in _load_records(source)]
    progress(0.1)
    headers: list[str] = []
    seen: set[str] = set()
    for record in records[:2000]:
        for header in record:
            if header not in seen:
                seen.add(header)
                headers.append(header)
    by_key = {c["key"]: c for c in columns}
    mapping = map_headers(headers, columns)
    if not mapping:
        shown = ", ".join(h for h in headers[:8] if not h.startswith("_")) or "none"
        raise ExtractionError(
            f"None of the fields in {source.label} ({shown}) match the schema's columns "
            f"({', '.join(c.get('label') or c['key'] for c in columns)})."
        )
    total = len(records)
    chunk = max(1, math.ceil(total / STEPS))
    produced = 0
    for start in range(0, total, chunk):
        for record in records[start : start + chunk]:
            row = _build_row(record, mapping, by_key)
            if row is not None:
                produced += 1
                yield row
        progress(0.1 + 0.9 * min(total, start + chunk) / total)
    if produced == 0:
        raise ExtractionError(
            f"No rows could be extracted from {source.label}: every record was empty."
        )
