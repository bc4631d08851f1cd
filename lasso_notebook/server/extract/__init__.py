"""The extractor interface: ``extract(source, columns, additional_context, progress)`` yields
validated rows for one source (a text, or a stored file); ``ExtractionError`` carries the human
reason a source cannot be used. Readers per file type plug in with ``register_reader``.

Row shape: ``{"data": {key: value}, "validation_status": "valid"|"warning"|"error",
"validation_errors": [{"column_key", "message", "severity"}]}``. Readers stream records with
``Step`` markers (bytes read, sheets, PDF pages); ``progress(fraction)`` is called when the
fraction crosses the next 1/STEPS boundary and after every PDF page, always after the rows read
so far were yielded, so the caller can persist them first. A progress call may raise to abort
extraction (engine stopping, table deleted). ``report`` (a dict) receives the mapping used and
the source columns left unmapped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypedDict

from .coerce import coercer, column_style
from .errors import ExtractionError
from .mapping import Mapper, normalize
from .records import iter_csv, parse_text
from .sniff import EXTENSION_OF_TYPE, sniff
from .source import MAX_TEXT_BYTES, Record, Source, Step, iter_text_lines, read_text_file

__all__ = [
    "MAX_TEXT_BYTES",
    "STEPS",
    "ExtractedRow",
    "ExtractionError",
    "ProgressCallback",
    "Source",
    "Step",
    "extract",
    "read_text_file",
    "register_reader",
]

#: Progress moves in about this many steps per source (plus one per PDF page).
STEPS = 16
#: Records read before mapping: enough to see every header of a table and the value styles.
SAMPLE = 2000

ProgressCallback = Callable[[float], None]


class ExtractedRow(TypedDict):
    data: dict[str, Any]
    validation_status: str
    validation_errors: list[dict[str, str]]


Reader = Callable[[Source], Iterable[Record | Step]]
_READERS: list[tuple[tuple[str, ...], tuple[str, ...], Reader]] = []
_SUPPORTED = (
    "CSV, TSV, TXT, Markdown, HTML, JSON, JSON Lines, Excel (.xlsx, .xls), PDF and Word (.docx)"
)
_IMAGES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".bmp")
_UNSUPPORTED = {
    ".doc": "legacy Word .doc files are not read; save it as .docx",
    ".pptx": "presentations are not read",
    ".ppt": "presentations are not read",
    ".zip": "archives are not unpacked; upload the files inside",
    ".encrypted-office": "it is a password-protected (encrypted) Office file; remove the password",
}


def register_reader(
    extensions: tuple[str, ...], content_types: tuple[str, ...], reader: Reader
) -> None:
    """Add a reader for files with these extensions (``.csv``) or MIME types; later wins.
    A reader returns records (dicts), optionally interleaved with ``Step`` markers."""
    _READERS.insert(0, (tuple(e.lower() for e in extensions), content_types, reader))


def _text_reader(hint: str | None) -> Reader:
    def read(source: Source) -> list[Record]:
        return parse_text(read_text_file(source), hint)

    return read


def _csv_reader(delimiter: str | None) -> Reader:
    def read(source: Source) -> Iterator[Record | Step]:
        lines, fraction = iter_text_lines(source)
        yield from iter_csv(lines, delimiter, fraction)

    return read


def _lazy(module: str, name: str) -> Reader:
    """Import a binary reader (pdfplumber, openpyxl ...) only when a file needs it."""

    def read(source: Source) -> Iterable[Record | Step]:
        from importlib import import_module

        reader: Reader = getattr(import_module(f".readers.{module}", __name__), name)
        return reader(source)

    return read


register_reader(_IMAGES, ("image/png", "image/jpeg", "image/webp"), _lazy("image", "read_image"))
register_reader((".docx",), (), _lazy("docx", "read_docx"))
register_reader((".pdf",), ("application/pdf",), _lazy("pdf", "read_pdf"))
register_reader((".xls",), ("application/vnd.ms-excel",), _lazy("spreadsheet", "read_xls"))
register_reader((".xlsx", ".xlsm"), (), _lazy("spreadsheet", "read_xlsx"))
register_reader((".html", ".htm", ".xhtml"), ("text/html",), _text_reader("html"))
register_reader(
    (".txt", ".md", ".markdown", ".text"), ("text/plain", "text/markdown"), _text_reader(None)
)
register_reader(
    (".jsonl", ".ndjson"), ("application/x-ndjson", "application/jsonl"), _text_reader("jsonl")
)
register_reader((".json",), ("application/json",), _text_reader("json"))
register_reader((".tsv", ".tab"), ("text/tab-separated-values",), _csv_reader("\t"))
register_reader((".csv",), ("text/csv", "application/csv"), _csv_reader(None))


def _kind(source: Source) -> str:
    """The extension to read ``source`` as: the content's magic bytes win over a name that
    disagrees (an ``.xls`` that is really xlsx, a download called ``catalog``)."""
    assert source.path is not None
    suffix = Path(source.filename or "").suffix.lower()
    ctype = (source.content_type or "").split(";")[0].strip().lower()
    magic = sniff(source.path)
    if magic == ".xls" and suffix in (".doc", ".xlsx", ".docx"):
        magic = ".encrypted-office" if suffix in (".xlsx", ".docx") else ".doc"
    if magic == ".jpg" and suffix == ".jpeg":
        magic = ".jpeg"
    if magic:
        return magic
    if suffix:
        return suffix
    return EXTENSION_OF_TYPE.get(ctype, ctype)


def _load(source: Source) -> Iterable[Record | Step]:
    if source.text is not None:
        return parse_text(source.text)
    if source.path is None or not source.path.exists():
        raise ExtractionError(f"The stored file for {source.label} is missing; upload it again.")
    if source.path.stat().st_size == 0:
        raise ExtractionError(f"{source.label} is empty (0 bytes): there is nothing to extract.")
    kind = _kind(source)
    ctype = (source.content_type or "").split(";")[0].strip().lower()
    for extensions, _ctypes, reader in _READERS:
        if kind in extensions:
            return reader(source)
    if kind in _UNSUPPORTED:
        raise ExtractionError(
            f"Unsupported file type for {source.label}: {_UNSUPPORTED[kind]}. The embedded "
            f"engine reads {_SUPPORTED} files."
        )
    for _extensions, ctypes, reader in _READERS:
        if ctype and ctype in ctypes:
            return reader(source)
    if ctype and not ctype.startswith("text/") and ctype != "application/octet-stream":
        raise ExtractionError(
            f"Unsupported file type for {source.label} ({kind or ctype}): the embedded engine "
            f"reads {_SUPPORTED} files."
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


_INNER = ("amount", "value", "name", "text", "url", "href", "src", "status", "available")


def _unwrap(raw: dict[str, Any], column: dict[str, Any]) -> Any:
    """The inner value of a nested object: ``{"amount": 9.99, "currency": "EUR"}`` is a price,
    ``{"in_stock": true}`` under ``availability`` is the in-stock flag."""
    own = {normalize(column["key"]), normalize(column.get("label") or "")}
    for k, v in raw.items():
        if normalize(k) in own:
            return v
    return next((raw[k] for k in _INNER if k in raw), raw)


Plan = list[tuple[str, str, Any, dict[str, Any]]]  # (header, column key, coercer, column)


def _build_row(
    record: Record, plan: Plan, keys: list[str], required: list[str]
) -> ExtractedRow | None:
    data: dict[str, Any] = dict.fromkeys(keys)
    issues: list[dict[str, str]] = []
    filled = 0
    for header, key, convert, column in plan:
        if data[key] is not None:
            continue  # a fallback header (a block's title line) for a column already set
        raw = record.get(header)
        if raw is None:
            continue
        if isinstance(raw, dict) and column.get("type") != "json":
            raw = _unwrap(raw, column)
        value, issue = convert(raw)
        if issue:
            issues.append({"column_key": key, "message": issue[1], "severity": issue[0]})
        if value is not None and value != []:
            data[key] = value
            filled += 1
    if not filled and not issues:
        return None  # nothing of this record fits the schema: not a row
    status = "valid"
    for issue in issues:
        status = (
            "error" if issue["severity"] == "error" else status if status == "error" else "warning"
        )
    for key in required:
        if data[key] in (None, "", []):
            if not any(i["column_key"] == key and i["severity"] == "error" for i in issues):
                issues.append(
                    {"column_key": key, "message": "required value is missing", "severity": "error"}
                )
            status = "error"
    return {"data": data, "validation_status": status, "validation_errors": issues}


def _steps(items: Iterable[Record | Step]) -> Iterator[Record | Step]:
    """Readers that return a plain list get a Step per record, so progress still moves."""
    if isinstance(items, list):
        total = len(items)
        for n, item in enumerate(items, 1):
            yield item
            if not isinstance(item, Step):
                yield Step(n / total)
        return
    yield from items


def extract(
    source: Source,
    columns: list[dict[str, Any]],
    additional_context: str | None,
    progress: ProgressCallback,
    *,
    report: dict[str, Any] | None = None,
) -> Iterator[ExtractedRow]:
    """Yield the rows of ``source`` for ``columns`` (see the module docstring)."""
    items = iter(_steps(_load(source)))
    mapper = Mapper(columns, additional_context)
    by_key = {c["key"]: c for c in columns}

    # Sample first: every header set of the document's first records, and the value styles
    # (decimal comma, day-first dates) each column shows, decide mapping and coercion.
    state = {"fraction": 0.0, "next": 1}

    def step(item: Step) -> None:
        state["fraction"] = max(state["fraction"], min(1.0, item.fraction))
        if item.page or state["fraction"] * STEPS >= state["next"]:
            state["next"] = int(state["fraction"] * STEPS) + 1
            progress(state["fraction"])

    # The sample stops early at a page boundary, so a PDF's progress moves from page one; steps
    # before the first record are reported at once (no rows are pending then).
    sample: list[Record | Step] = []
    for item in items:
        if isinstance(item, Step):
            if len(sample) == 0:
                step(item)
                continue
            sample.append(item)
            if item.page:
                break
            continue
        sample.append(_flatten(item) if any(isinstance(v, dict) for v in item.values()) else item)
        if len(sample) >= SAMPLE:
            break
    records = [r for r in sample if not isinstance(r, Step)]
    header_sets: dict[tuple[str, ...], list[Record]] = {}
    for record in records:
        header_sets.setdefault(tuple(record), []).append(record)
    mapped_any = False
    for headers, group in header_sets.items():
        samples = {h: [r.get(h) for r in group[:200]] for h in headers}
        if mapper.map(headers, samples):
            mapped_any = True
    if report is not None:
        report.update({"source": source.filename or "text", **mapper.report()})
    if records and not mapped_any:
        seen = list(dict.fromkeys(h for r in records for h in r))
        shown = ", ".join(h for h in seen[:8] if not h.startswith("_")) or "none"
        raise ExtractionError(
            f"None of the fields in {source.label} ({shown}) match the schema's columns "
            f"({', '.join(c.get('label') or c['key'] for c in columns)})."
        )
    plans: dict[tuple[str, ...], Plan] = {}
    keys = list(by_key)
    required = [c["key"] for c in columns if c.get("required")]

    def plan_for(headers: tuple[str, ...], record: Record) -> Plan:
        """Mapping, evidence-styled columns and their coercers, once per header set."""
        found = plans.get(headers)
        if found is None:
            group = header_sets.get(headers) or [record]
            mapping = mapper.map(headers, {h: [r.get(h) for r in group[:200]] for h in headers})
            found = []
            for header, key in mapping:
                column = by_key[key]
                if column.get("type") in ("number", "date"):
                    column = column_style(column, [r.get(header) for r in group])
                found.append((header, key, coercer(column), column))
            if len(plans) < 512:
                plans[headers] = found
        return found

    counts = {"records": 0, "rows": 0, "skipped": 0}

    # Nested objects only come from JSON; when the sample had none, the rest is not checked
    # (the check costs more than the rest of the row on a 100,000-line CSV).
    nested = any(isinstance(v, dict) for r in records for v in r.values())

    def stream() -> Iterator[Record | Step]:
        yield from sample
        for item in items:
            if (
                nested
                and not isinstance(item, Step)
                and any(isinstance(v, dict) for v in item.values())
            ):
                item = _flatten(item)
            yield item

    for item in stream():
        if isinstance(item, Step):
            step(item)
            continue
        counts["records"] += 1
        row = _build_row(item, plan_for(tuple(item), item), keys, required)
        if row is None:
            counts["skipped"] += 1
            continue
        counts["rows"] += 1
        yield row
    if report is not None:
        report.update(mapper.report())
        report.update(counts)
    if state["fraction"] < 1.0:
        progress(1.0)
    if counts["rows"] == 0:
        if counts["records"] == 0:
            raise ExtractionError(f"{source.label} holds no records to extract.")
        raise ExtractionError(
            f"No rows could be extracted from {source.label}: every record was empty."
        )
