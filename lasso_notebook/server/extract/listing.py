"""One product per line: ``Acme X100 Drill — SKU AX100 — $129.00 — in stock``. Segments split
on dashes, bars and bullets are classified (price, labelled value, URL, email, availability,
date); the first plain segment is the name. A short line alone above a group is its category."""

from __future__ import annotations

import re

from .errors import ExtractionError
from .source import Record

__all__ = ["classify_line", "looks_like_listing", "parse_listing"]

_SPLIT = re.compile(r"\s+[—–|·•]\s+|\s+-{1,2}\s+|\t+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,4}[.)])\s+")
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_PRICE = re.compile(
    r"^(?:(?:price|from|only|now|ab|prix|preis)\s*:?\s*)?"
    r"(?P<c1>[$€£¥]|USD|EUR|GBP|CHF|JPY)?\s*(?P<num>\d[\d.,' ]*\d|\d)\s*"
    r"(?P<c2>[$€£¥]|USD|EUR|GBP|CHF|JPY)?(?:\s*(?:each|/\s*(?:pc|piece|unit|ea)))?$",
    re.I,
)
_LABELS = {
    "sku": "sku", "item": "sku", "itemno": "sku", "itemnumber": "sku", "art": "sku",
    "artnr": "sku", "artno": "sku", "article": "sku", "articleno": "sku", "articlenumber": "sku",
    "part": "sku", "partno": "sku", "partnumber": "sku", "ref": "sku", "code": "sku",
    "mpn": "mpn", "ean": "ean", "gtin": "gtin", "upc": "upc", "model": "model",
    "brand": "brand", "by": "brand", "make": "brand", "color": "color", "colour": "color",
    "size": "size", "weight": "weight", "material": "material", "category": "category",
    "tags": "tags", "price": "price", "released": "release date", "release": "release date",
    "date": "date", "stock": "availability", "availability": "availability",
}  # fmt: skip
_AVAILABILITY = re.compile(
    r"^(?:in stock|out of stock|sold out|available|unavailable|not available|back-?ordered?"
    r"|pre-?order|discontinued|\d+ in stock|only \d+ left|in stock \(\d+\))$",
    re.I,
)
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_IMAGE = re.compile(r"\.(?:png|jpe?g|gif|webp|avif|svg)(?:\?\S*)?$", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.\w+$")
_DATE = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2},? \d{4})$",
    re.I,
)


def _label(segment: str) -> tuple[str, str] | None:
    words = segment.split()
    for n in (3, 2, 1):
        if len(words) <= n:
            continue
        head = " ".join(words[:n])
        norm = re.sub(r"[\W_]+", "", head.casefold())
        if norm in _LABELS:
            value = " ".join(words[n:]).lstrip(":#").strip()
            if value:
                return _LABELS[norm], value
    match = re.match(r"^([^:]{1,24}):\s*(.+)$", segment)
    if match:
        norm = re.sub(r"[\W_]+", "", match.group(1).casefold())
        if norm in _LABELS:
            return _LABELS[norm], match.group(2).strip()
    return None


def classify_line(line: str) -> tuple[Record, int] | None:
    """The record of one listing line and how many segments were recognised (typed), or
    ``None`` when the line has no separators."""
    line = _BULLET.sub("", line.strip())
    segments = [s.strip() for s in _SPLIT.split(line) if s.strip()]
    if len(segments) < 2:
        return None
    record: Record = {}
    typed = 0
    plain = ["name", "description"]
    for segment in segments:
        key, value = None, segment
        price = _PRICE.match(segment)
        if price and (price.group("c1") or price.group("c2") or re.search(r"[.,]\d{2}$", segment)):
            key = "price"
            symbol = (price.group("c1") or price.group("c2") or "").upper()
            if symbol and "currency" not in record:
                record["currency"] = _CURRENCY.get(symbol, symbol)
        elif (labelled := _label(segment)) is not None:
            key, value = labelled
        elif _AVAILABILITY.match(segment):
            key = "availability"
        elif _URL.match(segment):
            key = "image" if _IMAGE.search(segment) else "url"
        elif _EMAIL.match(segment):
            key = "email"
        elif _DATE.match(segment):
            key = "date"
        if key is None:
            key = plain.pop(0) if plain else f"detail {len(record) + 1}"
        else:
            typed += 1
        if key in record:
            key = f"{key} {len(record) + 1}"
        record[key] = value
    return record, typed


def looks_like_listing(lines: list[str]) -> bool:
    """Most lines are listings with at least one typed segment, and the first is not a
    header line of a delimited table (``Name | Price``)."""
    parsed = [classify_line(line) for line in lines[:200]]
    hits = sum(1 for p in parsed if p is not None and p[1] > 0)
    if not hits or hits < len(parsed) * 0.5:
        return False
    first = next((p for p in parsed if p is not None), None)
    return first is not None and first[1] > 0


def parse_listing(text: str) -> list[Record]:
    records: list[Record] = []
    section: str | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        parsed = classify_line(line)
        if parsed is None or parsed[1] == 0:
            heading = line.strip().lstrip("#").strip().rstrip(":")
            if parsed is None and len(heading) <= 60 and not heading.endswith("."):
                section = heading
            continue
        record = parsed[0]
        if section:
            record.setdefault("category", section)
        records.append(record)
    if not records:
        raise ExtractionError("No product lines were found (e.g. 'Acme Drill — SKU A1 — $9').")
    return records
