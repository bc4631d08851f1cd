"""Header -> column matching: by key or label, ignoring case, spaces and punctuation, plus a
small alias list. The extraction issue after this one replaces it with fuzzy matching."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["TITLE", "map_headers", "normalize"]

TITLE = "_title"  # pseudo-header: the untitled first line of a "Key: value" block

# Normalized column key -> normalized header spellings that mean the same thing.
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("title", "product", "productname", "itemname", "productitle", "producttitle"),
    "price": ("cost", "unitprice", "amount", "priceamount"),
    "currency": ("curr", "pricecurrency", "currencycode"),
    "instock": ("available", "availability", "stock", "stockstatus", "instockstatus"),
    "url": ("link", "producturl", "website", "href", "productlink"),
    "releasedate": ("released", "launchdate", "launched", "releaseddate"),
    "brand": ("manufacturer", "make", "vendor", "maker"),
    "sku": ("itemnumber", "partnumber", "articlenumber", "productcode", "itemcode", "code"),
    "tags": ("tag", "categories", "keywords", "labels"),
    "description": ("desc", "details", "summary"),
    "image": ("imageurl", "img", "picture", "photo"),
    "images": ("imageurls", "pictures", "photos", "gallery"),
}


def normalize(text: str) -> str:
    return re.sub(r"[\W_]+", "", str(text).casefold())


def map_headers(headers: Iterable[str], columns: list[dict[str, Any]]) -> dict[str, str]:
    """Map source headers to column keys; each column takes the first header that matches."""
    headers = list(dict.fromkeys(headers))
    by_name: dict[str, str] = {}
    for col in columns:
        for text in (col["key"], col.get("label") or ""):
            norm = normalize(text)
            if norm:
                by_name.setdefault(norm, col["key"])
    mapping: dict[str, str] = {}
    taken: set[str] = set()

    def take(header: str, key: str) -> None:
        if header not in mapping and key not in taken:
            mapping[header] = key
            taken.add(key)

    for header in headers:  # pass 1: exact key/label matches
        key = by_name.get(normalize(header))
        if key:
            take(header, key)
    for header in headers:  # pass 2: aliases
        norm = normalize(header)
        for col in columns:
            if norm in _ALIASES.get(normalize(col["key"]), ()):
                take(header, col["key"])
                break
    if TITLE in headers:  # pass 3: a record's title fills the name-like column when empty
        for col in columns:
            if normalize(col["key"]) in ("name", "title", "productname"):
                mapping[TITLE] = col["key"]  # may share the column: used only as a fallback
                break
    return mapping
