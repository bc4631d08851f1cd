"""The extractor interface: ``extract(source, columns, additional_context, progress)`` yields
validated rows for one source (a text, or a stored file); ``ExtractionError`` carries the human
reason a source cannot be used. Readers per file type plug in with ``register_reader``; tabular
readers hand their rows of cells to the grid stage (``grid.py``), which classifies every row.

Row shape: ``{"data": {key: value}, "validation_status": "valid"|"warning"|"error",
"validation_errors": [{"column_key", "message", "severity"}], "source": {"file", "sheet",
"page", "line"}}``. Readers stream records with markers: ``Step`` (bytes read, sheets, PDF
pages), ``Skip`` (a row that is not a product, by reason) and ``Note`` (text around a table);
``progress(fraction)`` is called when the fraction crosses the next 1/STEPS boundary and after
every PDF page, always after the rows read so far were yielded, so the caller can persist them
first. A progress call may raise to abort extraction (engine stopping, table deleted).
``report`` (a dict) receives the source's entry of the table's ``extraction_report``: mapping,
unmapped columns and why, rows, skipped rows by reason with samples, notes on rules applied,
and ``fill`` (values a late note gave for rows already yielded without them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypedDict

from .coerce import QUANTITY, coercer, column_style, currency_in
from .currency import note_currency
from .errors import ExtractionError
from .mapping import POSITIONAL, Mapper, normalize
from .records import iter_csv, parse_text
from .sniff import EXTENSION_OF_TYPE, sniff
from .source import (
    MAX_TEXT_BYTES,
    SECTION,
    TITLE,
    Item,
    Note,
    Record,
    Skip,
    Source,
    Step,
    iter_text_lines,
    read_text_file,
)

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


class ExtractedRow(TypedDict, total=False):
    data: dict[str, Any]
    validation_status: str
    validation_errors: list[dict[str, str]]
    source: dict[str, Any]


Reader = Callable[[Source], Iterable[Item]]
#: Samples kept per skip reason in the report, and their longest length.
MAX_SAMPLES = 3
_READERS: list[tuple[tuple[str, ...], tuple[str, ...], Reader]] = []
_SUPPORTED = (
    "CSV, TSV, TXT, Markdown, HTML, JSON, JSON Lines, Excel (.xlsx, .xls), PDF, Word (.docx) "
    "and e-mail (.eml)"
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
    def read(source: Source) -> list[Item]:
        return parse_text(read_text_file(source), hint)

    return read


def _csv_reader(delimiter: str | None) -> Reader:
    def read(source: Source) -> Iterator[Item]:
        lines, fraction = iter_text_lines(source)
        yield from iter_csv(lines, delimiter, fraction)

    return read


def _lazy(module: str, name: str) -> Reader:
    """Import a binary reader (pdfplumber, openpyxl ...) only when a file needs it."""

    def read(source: Source) -> Iterable[Item]:
        from importlib import import_module

        reader: Reader = getattr(import_module(f".readers.{module}", __name__), name)
        return reader(source)

    return read


register_reader(_IMAGES, ("image/png", "image/jpeg", "image/webp"), _lazy("image", "read_image"))
register_reader((".docx",), (), _lazy("docx", "read_docx"))
register_reader((".pdf",), ("application/pdf",), _lazy("pdf", "read_pdf"))
register_reader((".xls",), ("application/vnd.ms-excel",), _lazy("spreadsheet", "read_xls"))
register_reader((".xlsx", ".xlsm"), (), _lazy("spreadsheet", "read_xlsx"))


def _html_reader(source: Source) -> Iterable[Item]:
    """Pages stream their markers (structured data read, blocks found) as the work goes."""
    from .html import table_items
    from .htmlpage import read_html

    text = read_text_file(source)
    if not text.strip():
        raise ExtractionError(f"{source.label} is empty: there is no text to extract rows from.")
    return read_html(text, table_items, source.label)


def _eml_reader(source: Source) -> Iterable[Item]:
    from .textlayouts import read_eml_file

    return read_eml_file(source)


register_reader((".eml",), ("message/rfc822",), _eml_reader)
register_reader((".html", ".htm", ".xhtml"), ("text/html",), _html_reader)
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


def _load(source: Source) -> Iterable[Item]:
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
_FALLBACKS = (TITLE, SECTION)


class _Currency:
    """Where a row's currency comes from, in order: the price cell's own sign or code, the
    price column's header, the currency column, a note in the document, additional_context."""

    def __init__(self, key: str | None, context: str | None) -> None:
        self.key = key
        self.note: str | None = None
        self.context = note_currency(context)
        self.used: dict[str, int] = {}

    def fill(self, data: dict[str, Any], raw_price: Any, header_code: str | None) -> None:
        if self.key is None:
            return
        code = currency_in(raw_price) if raw_price is not None else None
        how = "the price cells"
        if code is None:
            code, how = header_code, "the price column's header"
        if code is None:
            code, how = data[self.key], "a currency column"
        if code is None:
            code, how = self.note, "a note in the document"
        if code is None:
            code, how = self.context, "additional_context"
        if code is not None:
            data[self.key] = code
            self.used[how] = self.used.get(how, 0) + 1


def _build_row(
    record: Record,
    plan: Plan,
    keys: list[str],
    required: list[str],
    money: tuple[_Currency, str | None, str | None] | None = None,
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
            if header in _FALLBACKS:
                continue  # a section heading that does not fit the column is just not used
            issues.append({"column_key": key, "message": issue[1], "severity": issue[0]})
        if value is not None and value != []:
            data[key] = value
            filled += header not in _FALLBACKS
    if not filled and not issues:
        return None  # nothing of this record fits the schema: not a row
    if money is not None:
        currency, price_header, header_code = money
        currency.fill(data, record.get(price_header) if price_header else None, header_code)
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


def _steps(items: Iterable[Item]) -> Iterator[Item]:
    """Readers that return a plain list get a Step per record, so progress still moves."""
    if isinstance(items, list):
        total = sum(1 for item in items if isinstance(item, dict)) or 1
        n = 0
        for item in items:
            yield item
            if isinstance(item, dict):
                n += 1
                yield Step(n / total)
        return
    yield from items


class _Skips:
    """Rows not written, counted by reason with a few samples each."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.samples: dict[str, list[str]] = {}

    def add(self, reason: str, sample: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        kept = self.samples.setdefault(reason, [])
        sample = " ".join(sample.split())
        if sample and len(kept) < MAX_SAMPLES:
            kept.append(sample if len(sample) <= 80 else sample[:79] + "…")


def _row_text(record: Record) -> str:
    return " | ".join(str(v) for v in record.values() if v not in (None, ""))


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
    skips = _Skips()
    currency = _Currency(mapper.key_of.get("currency"), additional_context)
    price_key = mapper.key_of.get("price")
    origin = source.origin or source.filename or "text"

    # Sample first: every header set of the document's first records, and the value styles
    # (decimal comma, day-first dates) each column shows, decide mapping and coercion.
    state = {"fraction": 0.0, "next": 1}

    def step(item: Step) -> None:
        state["fraction"] = max(state["fraction"], min(1.0, item.fraction))
        if item.page or state["fraction"] * STEPS >= state["next"]:
            state["next"] = int(state["fraction"] * STEPS) + 1
            progress(state["fraction"])

    def note(text: str) -> None:
        if currency.note is None:
            currency.note = note_currency(text)

    # The sample stops early at a page boundary, so a PDF's progress moves from page one; steps
    # before the first record are reported at once (no rows are pending then). Notes and skips
    # are read as they come.
    sample: list[Item] = []
    for item in items:
        if isinstance(item, Step):
            if len(sample) == 0:
                step(item)
                continue
            sample.append(item)
            if item.page:
                break
            continue
        if isinstance(item, (Skip, Note)):
            sample.append(item)
            if isinstance(item, Note):
                note(item.text)
            continue
        if any(isinstance(v, dict) for v in item.values()):
            item = _flatten(item)
        sample.append(item)
        if len(sample) >= SAMPLE:
            break
    records = [r for r in sample if isinstance(r, dict)]
    header_sets: dict[tuple[str, ...], list[Record]] = {}
    for record in records:
        header_sets.setdefault(tuple(record), []).append(record)
    mappings = {
        headers: mapper.map(headers, {h: [r.get(h) for r in group[:200]] for h in headers})
        for headers, group in header_sets.items()
    }
    mapped_any = any(h not in _FALLBACKS for mapping in mappings.values() for h, _ in mapping)
    if report is not None:
        report.update({"source": origin, **mapper.report()})
    if records and not mapped_any:
        seen = list(dict.fromkeys(h for r in records for h in r))
        shown = ", ".join(h for h in seen[:8] if not h.startswith("_")) or "none"
        raise ExtractionError(
            f"None of the fields in {source.label} ({shown}) match the schema's columns "
            f"({', '.join(c.get('label') or c['key'] for c in columns)})."
        )
    plans: dict[tuple[str, ...], tuple[Plan, tuple[_Currency, str | None, str | None] | None, bool]] = {}  # fmt: skip
    keys = list(by_key)
    required = [c["key"] for c in columns if c.get("required")]

    filled = {headers: {key for _, key in mapping} for headers, mapping in mappings.items()}

    def titled(headers: tuple[str, ...]) -> bool:
        return any(not h.startswith("_") and not POSITIONAL.match(h) for h in headers)

    products = [h for h, keys in filled.items() if any(key in required for key in keys)]
    # Which tables are products when the document holds several. One none of whose columns
    # fills a required column (shipping rates beside the products) is another table. So is
    # one that fills a single column while another fills three or more (a table of contact
    # names under a price list), one without column titles beside one with them (a summary
    # of per-sheet sums under a titled price list), and one whose required columns only a
    # look-alike header fills beside one whose headers say so (shipping rates by
    # "Destination" under a list of products).
    identified = bool(required) and bool(products)
    richest = max((len(filled[h]) for h in products), default=0)
    any_titled = any(titled(h) for h in products)

    def weak(headers: tuple[str, ...]) -> bool:
        """Its required columns are filled only by a header that merely resembles theirs
        ("Destination" for a "Désignation")."""
        return all(
            (mapper.used.get(h) or {}).get("by") == "fuzzy"
            for h, key in mappings.get(headers, ())
            if key in required
        )

    any_strong = any(not weak(h) for h in products)

    def other_table(headers: tuple[str, ...], keys: set[str]) -> bool:
        if not identified:
            return False
        if not any(key in required for key in keys):
            return True
        return (
            (len(keys) <= 1 and richest >= 3)
            or (any_titled and not titled(headers))
            or (any_strong and weak(headers))
        )

    def plan_for(
        headers: tuple[str, ...], record: Record
    ) -> tuple[Plan, tuple[_Currency, str | None, str | None] | None, bool]:
        """Mapping, evidence-styled columns and their coercers, once per header set; and
        whether its rows belong to another table (they fill no required column)."""
        found = plans.get(headers)
        if found is None:
            group = header_sets.get(headers) or [record]
            mapping = mapper.map(headers, {h: [r.get(h) for r in group[:200]] for h in headers})
            plan: Plan = []
            price_header = None
            for header, key in mapping:
                column = by_key[key]
                if column.get("type") in ("number", "date", "boolean"):
                    column = column_style(column, [r.get(header) for r in group])
                if header in mapper.quantity:
                    column = {**column, QUANTITY: True}
                if key == price_key and header not in _FALLBACKS:
                    price_header = header
                plan.append((header, key, coercer(column), column))
            money = None
            if currency.key is not None:
                money = (currency, price_header, currency_in(price_header) if price_header else None)  # fmt: skip
            other = other_table(headers, {key for _, key, _, _ in plan})
            found = (plan, money, other)
            if len(plans) < 512:
                plans[headers] = found
        return found

    counts = {"records": 0, "rows": 0, "skipped": 0}
    no_currency = 0  # rows yielded before a note could say the currency

    # Nested objects only come from JSON; when the sample had none, the rest is not checked
    # (the check costs more than the rest of the row on a 100,000-line CSV).
    nested = any(isinstance(v, dict) for r in records for v in r.values())

    def stream() -> Iterator[Item]:
        yield from sample
        for item in items:
            if nested and isinstance(item, dict) and any(isinstance(v, dict) for v in item.values()):  # fmt: skip
                item = _flatten(item)
            yield item

    for item in stream():
        if isinstance(item, dict):
            counts["records"] += 1
            plan, money, other = plan_for(tuple(item), item)
            if other:
                counts["skipped"] += 1
                skips.add("other table", _row_text(item))
                continue
            row = _build_row(item, plan, keys, required, money)
            if row is None:
                counts["skipped"] += 1
                skips.add("empty", _row_text(item))
                continue
            where = getattr(item, "where", None)
            if where:
                where["file"] = origin  # the reader's own dict: no copy per row
                row["source"] = where
            else:
                row["source"] = {"file": origin}
            if currency.key is not None and row["data"][currency.key] is None:
                no_currency += 1
            counts["rows"] += 1
            yield row
        elif isinstance(item, Step):
            step(item)
        elif isinstance(item, Skip):
            skips.add(item.reason, item.sample)
        elif isinstance(item, Note):
            note(item.text)
    if report is not None:
        report.update(mapper.report())
        report.update(counts)
        report["skipped"] = dict(skips.counts)
        if skips.samples:
            report["skipped_samples"] = {k: v for k, v in skips.samples.items() if v}
        notes = list(mapper.notes)
        for how, n in currency.used.items():
            code = "" if how != "a note in the document" else f" {currency.note}"
            notes.append(f"currency{code} from {how} ({n} rows)")
        if no_currency and currency.note is not None and currency.key is not None:
            report["fill"] = {currency.key: currency.note}
            notes.append(
                f"currency {currency.note} from a note below the rows ({no_currency} rows)"
            )
        if notes:
            report["notes"] = notes
    if state["fraction"] < 1.0:
        progress(1.0)
    if counts["rows"] == 0:
        if counts["records"] == 0 and not skips.counts:
            raise ExtractionError(f"{source.label} holds no records to extract.")
        skipped = ", ".join(f"{n} {reason}" for reason, n in skips.counts.items())
        raise ExtractionError(
            f"No rows could be extracted from {source.label}: every record was empty"
            + (f" or not a product (skipped: {skipped})." if skipped else ".")
        )
