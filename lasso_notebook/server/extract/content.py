"""Headerless tables: columns named ``column 1``... are matched to schema columns by what
their values look like (web addresses, emails, dates, prices, codes, names)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["map_by_content"]

_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_IMAGE = re.compile(r"\.(?:png|jpe?g|gif|webp|avif|svg)(?:\?\S*)?$", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.\w+$")
_DATE = re.compile(r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})(?:[ T].*)?$")
_PRICE = re.compile(r"^[$€£¥]?\s*-?\d[\d.,' ]*\s*(?:[$€£¥]|EUR|USD|GBP|CHF)?$", re.I)
_CODE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-_/.]{2,}$")
_BOOL = {"yes", "no", "true", "false", "y", "n", "in stock", "out of stock", "✓", "✗", "ja", "nein"}


def _shape(values: list[Any]) -> str | None:
    texts = [str(v).strip() for v in values if v not in (None, "") and str(v).strip()]
    if not texts:
        return None

    def share(pattern: re.Pattern[str]) -> float:
        return sum(1 for t in texts if pattern.match(t)) / len(texts)

    if share(_URL) >= 0.8:
        return "image" if sum(1 for t in texts if _IMAGE.search(t)) >= len(texts) * 0.8 else "url"
    if share(_EMAIL) >= 0.8:
        return "email"
    if share(_DATE) >= 0.8:
        return "date"
    if sum(1 for t in texts if t.casefold() in _BOOL) >= len(texts) * 0.8:
        return "boolean"
    if share(_PRICE) >= 0.8:
        return "number"
    if share(_CODE) >= 0.8:
        return "code"
    if sum(1 for t in texts if len(t.split()) >= 2) >= len(texts) * 0.5:
        return "words"
    return "word"


def map_by_content(
    headers: list[str],
    samples: dict[str, list[Any]],
    columns: list[dict[str, Any]],
    concept_of: dict[str, str],
    taken: set[str],
) -> dict[str, str]:
    """``header -> column key`` for positional headers, by value shape; first fit wins."""
    free = [c for c in columns if c["key"] not in taken]
    wanted = {  # shape -> (column types, preferred concepts), in preference order
        "image": (("image", "images"), ("image",)),
        "url": (("url",), ("url",)),
        "email": (("email",), ("email",)),
        "date": (("date",), ("release_date",)),
        "boolean": (("boolean",), ("in_stock",)),
        "number": (("number",), ("price",)),
        "code": (("text",), ("sku", "ean")),
        "words": (("text", "richtext"), ("name", "description")),
        "word": (("text", "enum"), ("brand", "category", "currency")),
    }
    mapping: dict[str, str] = {}
    for header in headers:
        shape = _shape(samples.get(header, [])[:200])
        if shape is None:
            continue
        types, concepts = wanted[shape]
        pick = None
        for concept in concepts:  # a column of the right concept first, then of the right type
            pick = next((c for c in free if concept_of.get(c["key"]) == concept), None)
            if pick:
                break
        if pick is None and shape not in ("word", "code"):
            pick = next((c for c in free if c.get("type", "text") in types), None)
        if pick is not None:
            mapping[header] = pick["key"]
            free.remove(pick)
    return mapping
