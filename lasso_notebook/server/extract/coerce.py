"""Value coercion to the twelve column types. Each call returns the coerced value and, when
the value needed fixing or could not be used, a message and its severity (warning/error)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

__all__ = ["coerce"]

Issue = tuple[str, str]  # (severity, message)

_TRUE = {"true", "yes", "y", "1", "t", "on", "instock", "available", "x", "✓", "✔", "ja", "oui"}
_FALSE = {
    "false",
    "no",
    "n",
    "0",
    "f",
    "off",
    "outofstock",
    "unavailable",
    "soldout",
    "-",
    "nein",
    "non",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"[-+]?(?:\d[\d.,' \u00a0]*\d|\d)(?:[eE][-+]?\d+)?")
_CURRENCY = re.compile(
    r"^[\s$€£¥₹%]*|[\s$€£¥₹%]*$|^(?:USD|EUR|GBP|CHF|JPY|CZK)\s*|\s*(?:USD|EUR|GBP|CHF|JPY|CZK)$",
    re.I,
)
_SPLIT = re.compile(r"\s*[,;|\n]\s*")
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d.%m.%Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%Y%m%d",
)
_MONTH_FORMATS = ("%Y-%m", "%B %Y", "%b %Y")


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _number(value: Any) -> tuple[Any, Issue | None]:
    if isinstance(value, bool):
        return None, ("error", f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return value, None
    raw = _text(value)
    core = _CURRENCY.sub("", raw)
    match = _NUMBER.search(core)
    if not match:
        return None, ("error", f"{raw!r} is not a number")
    digits = match.group(0).replace(" ", "").replace("\u00a0", "").replace("'", "")
    if "," in digits and "." in digits:
        # The later separator is the decimal one: 1.299,00 (EU) vs 1,299.00 (US).
        if digits.rfind(",") > digits.rfind("."):
            digits = digits.replace(".", "").replace(",", ".")
        else:
            digits = digits.replace(",", "")
    elif "," in digits:
        head, _, tail = digits.rpartition(",")
        # 1,299 is a thousands separator; 9,99 is a decimal comma.
        digits = (
            digits.replace(",", "")
            if len(tail) == 3 and head
            else head.replace(",", "") + "." + tail
        )
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")
    try:
        number: float | int = float(digits) if any(c in digits for c in ".eE") else int(digits)
    except ValueError:
        return None, ("error", f"{raw!r} is not a number")
    leftover = core.replace(match.group(0), "", 1).strip()
    if leftover:
        return number, ("warning", f"kept the number {number} from {raw!r}")
    return number, None


def _boolean(value: Any) -> tuple[Any, Issue | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), None
    norm = re.sub(r"[\s_]+", "", _text(value).casefold())
    if norm in _TRUE:
        return True, None
    if norm in _FALSE:
        return False, None
    return None, ("error", f"{_text(value)!r} is not a yes/no value")


def _date(value: Any) -> tuple[Any, Issue | None]:
    raw = _text(value)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if len(raw) <= 10:
            return parsed.date().isoformat(), None
        return parsed.isoformat().replace("+00:00", "Z"), None
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date().isoformat(), None
        except ValueError:
            continue
    slash = re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})", raw)
    if slash:
        a, b, year = (int(x) for x in slash.groups())
        day, month = (a, b) if a > 12 else (b, a)  # 03/10/2025 reads as US month/day
        try:
            date = datetime(year, month, day).date().isoformat()
        except ValueError:
            return None, ("error", f"{raw!r} is not a valid date")
        if a <= 12 and b <= 12 and a != b:
            return date, ("warning", f"{raw!r} is ambiguous; read as month/day/year")
        return date, None
    for fmt in _MONTH_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date().isoformat(), (
                "warning",
                f"{raw!r} has no day; used the first of the month",
            )
        except ValueError:
            continue
    return None, ("error", f"{raw!r} is not a date")


def _url(value: Any) -> tuple[Any, Issue | None]:
    raw = _text(value)
    if re.match(r"^https?://[^\s/$.?#][^\s]*$", raw, re.I):
        return raw, None
    if re.match(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/\S*)?$", raw, re.I):
        return "https://" + raw, ("warning", f"added https:// to {raw!r}")
    return None, ("error", f"{raw!r} is not a web address")


def _email(value: Any) -> tuple[Any, Issue | None]:
    raw = _text(value)
    if raw.lower().startswith("mailto:"):
        raw = raw[7:]
    if _EMAIL.match(raw):
        return raw, None
    return None, ("error", f"{raw!r} is not an email address")


def _items(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_text(v) for v in value if v is not None and _text(v)]
    return [part for part in _SPLIT.split(_text(value)) if part]


def _json(value: Any) -> tuple[Any, Issue | None]:
    if not isinstance(value, str):
        return value, None
    try:
        return json.loads(value), None
    except ValueError:
        return None, ("error", f"{value[:60]!r} is not valid JSON")


def coerce(value: Any, column: dict[str, Any]) -> tuple[Any, Issue | None]:
    """Coerce ``value`` for ``column``. Unusable values become ``None`` with an error message
    that quotes the original, so nothing is silently lost."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    kind = column.get("type", "text")
    if kind in ("text", "richtext"):
        return _text(value), None
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "date":
        return _date(value)
    if kind in ("url", "image"):
        return _url(value)
    if kind == "email":
        return _email(value)
    if kind == "enum":
        allowed = column.get("enum_values") or []
        raw = _text(value)
        for option in allowed:
            if option.casefold() == raw.casefold():
                return option, None
        return None, ("error", f"{raw!r} is not one of {', '.join(allowed)}")
    if kind == "tags":
        return _items(value), None
    if kind == "images":
        good, bad = [], []
        for item in _items(value):
            url, issue = _url(item)
            (good if issue is None or issue[0] == "warning" else bad).append(url or item)
        if bad:
            return good, ("error", f"dropped values that are not web addresses: {', '.join(bad)}")
        return good, None
    if kind == "json":
        return _json(value)
    return value, None  # newer column types pass through untouched
