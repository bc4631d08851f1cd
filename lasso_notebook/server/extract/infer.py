"""Schema inference for ``POST /schemas/generate``: columns (key, label, type) from a CSV,
JSON or ``Key: value`` sample, typed by what every sample value parses as."""

from __future__ import annotations

import re
from typing import Any

from .coerce import coerce
from .mapping import TITLE
from .records import parse_text

__all__ = ["infer_columns"]

_IMAGE_EXT = re.compile(r"\.(png|jpe?g|gif|webp|svg|avif)(\?.*)?$", re.I)


def _key(header: str, used: set[str]) -> str:
    base = re.sub(r"[^0-9a-z]+", "_", header.casefold()).strip("_") or "column"
    if base[0].isdigit():
        base = "c_" + base
    key, n = base[:60], 2
    while key in used:
        key, n = f"{base[:56]}_{n}", n + 1
    used.add(key)
    return key


def _all(values: list[Any], kind: str, warnings_ok: bool = False) -> bool:
    def fits(value: Any) -> bool:
        issue = coerce(value, {"type": kind})[1]
        return issue is None or (warnings_ok and issue[0] == "warning")

    return all(fits(v) for v in values)


def _infer_type(values: list[Any]) -> str:
    if not values:
        return "text"
    if all(isinstance(v, list) for v in values):
        strings = [str(x) for v in values for x in v]
        if strings and all(_IMAGE_EXT.search(s) and s.startswith("http") for s in strings):
            return "images"
        return "tags"
    if all(isinstance(v, dict) for v in values):
        return "json"
    texts = [str(v).strip() for v in values]
    if all(isinstance(v, bool) for v in values) or all(
        t.casefold() in ("true", "false", "yes", "no") for t in texts
    ):
        return "boolean"
    if _all(values, "number") and not any(re.match(r"^0\d", t) for t in texts):
        return "number"
    if all(re.search(r"[-/.]|[a-z]{3}", t, re.I) for t in texts) and _all(
        texts, "date", warnings_ok=True
    ):
        return "date"
    if all(t.startswith(("http://", "https://")) for t in texts):
        return "image" if all(_IMAGE_EXT.search(t) for t in texts) else "url"
    if _all(texts, "email"):
        return "email"
    return "text"


def infer_columns(sample: str) -> list[dict[str, Any]]:
    """Columns for ``sample`` (raises ExtractionError when no structure is found)."""
    records = parse_text(sample)
    headers: list[str] = []
    for record in records:
        for header in record:
            if header not in headers:
                headers.append(header)
    used: set[str] = set()
    columns = []
    for header in headers:
        values = [r[header] for r in records if r.get(header) not in (None, "", [])]
        label = "Name" if header == TITLE else header.strip()
        columns.append({"key": _key(label, used), "label": label, "type": _infer_type(values)})
    return columns
