"""Value coercion to the column types. Each call returns the coerced value and, when the value
needed fixing or could not be used, ``(severity, message)`` with severity warning or error.

Ambiguity rules (also in the README):

- Numbers: with both ``,`` and ``.`` the later one is the decimal mark (``1,299.00`` and
  ``1.299,00`` are both 1299). A single separator followed by exactly three digits
  (``1,299`` / ``1.299``) follows the column's evidence: when other values of the same column
  in the source show a decimal comma (``9,99``, ``1.299,00``) it is read European style;
  otherwise ``1,299`` is 1299 (thousands) and ``1.299`` is 1.299 (decimal point).
- Dates: ISO first. ``d.m.y`` with dots is always day-first. ``a/b/y`` and ``a-b-y``: a part
  above 12 decides; if both are 12 or less the column's evidence decides (another value of
  the column with a day above 12 in front means day-first), else month/day (US) with a
  warning. Two-digit years are 2000-2069 / 1970-1999. Month-only dates take the 1st (warning).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from rapidfuzz import fuzz

from .values import label_key

__all__ = [
    "DASH_FALSE",
    "DAY_FIRST",
    "DECIMAL_COMMA",
    "QUANTITY",
    "Coercer",
    "Money",
    "coerce",
    "coercer",
    "column_style",
    "currency_in",
    "is_measure",
]

Issue = tuple[str, str]  # (severity, message)

#: Private column keys set by ``column_style``: per-source evidence for ambiguous values.
DECIMAL_COMMA = "_decimal_comma"
DAY_FIRST = "_day_first"
#: A yes/no column filled from a stock quantity: quantity > 0 is yes (a documented rule).
QUANTITY = "_quantity"
#: A yes/no column drawn with check marks, where a dash means no (✓ / –).
DASH_FALSE = "_dash_false"


class Money(float):
    """A number that carries its currency (a spreadsheet cell with a currency format)."""

    currency: str | None

    def __new__(cls, value: float, currency: str | None = None) -> Money:
        obj = super().__new__(cls, value)
        obj.currency = currency
        return obj


_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "Fr.": "CHF", "CHF": "CHF", "kr": "SEK", "zł": "PLN"}  # fmt: skip
_CODES = "USD|EUR|GBP|CHF|JPY|CZK|SEK|NOK|DKK|PLN|CAD|AUD|NZD|HUF|INR|CNY|HKD|SGD|ZAR|MXN|BRL"
_CURRENCY_IN = re.compile(rf"(?<![A-Za-z])({_CODES})(?![A-Za-z])|(US\$|C\$|A\$|[$€£¥₹])")
_OTHER_DOLLARS = {"C$": "CAD", "A$": "AUD"}


def currency_in(text: Any) -> str | None:
    """The ISO 4217 code a text shows by code or symbol (``$129.00`` -> USD, ``EUR 12``)."""
    if isinstance(text, Money):
        return text.currency
    if not isinstance(text, str):
        return None
    found = _CURRENCY_IN.search(text)
    if not found:
        return None
    if found.group(1):
        return found.group(1).upper()
    symbol = found.group(2)
    return _OTHER_DOLLARS.get(symbol) or _SYMBOLS.get(symbol)


_MEASURE = re.compile(
    r"^(?:\d+(?:[.,]\d+)?\s*(?:[x×*]\s*\d+(?:[.,]\d+)?\s*){0,2}"
    r"(?:kg|g|mg|lbs?|oz|t|mm|cm|dm|m|km|in|inch(?:es)?|\"|''|″|ft|feet|yd|l|ml|cl|dl|gal|w|kw|v|"
    r"mah|ah|hz|khz|ghz|gb|tb|mb|px|pcs|pc|stk|st|pack|pk|qt|pt|m2|m²|m3|m³|°|%)\.?"
    r"|\d+(?:[.,]\d+)?\s*[x×]\s*\d+(?:[.,]\d+)?(?:\s*[x×]\s*\d+(?:[.,]\d+)?)?\s*[a-z]*)$",
    re.I,
)


def is_measure(value: Any) -> bool:
    """A size, weight or dimension (``12 kg``, ``10"``, ``250FT``, ``30 x 40 cm``): never a SKU."""
    return isinstance(value, str) and bool(_MEASURE.match(value.strip()))


_TRUE = {
    "true", "yes", "y", "1", "t", "on", "instock", "available", "x", "✓", "✔", "☑", "ja",
    "j", "oui", "o", "si", "sí", "wahr", "lieferbar", "verfugbar", "verfügbar", "auflager",
    "vorratig", "vorrätig", "enstock", "disponible", "opvoorraad", "voorradig", "leverbaar",
    "beschikbaar", "enexistencia", "enexistencias", "verdadero", "vrai", "waar", "instockyes",
}  # fmt: skip
_FALSE = {
    "false", "no", "n", "0", "f", "off", "outofstock", "unavailable", "notavailable", "soldout",
    "✗", "✘", "×", "☐", "nein", "non", "falsch", "ausverkauft", "nichtlieferbar",
    "nichtverfugbar", "nichtverfügbar", "nichtvorratig", "nichtvorrätig", "vergriffen",
    "discontinued", "backorder", "backordered", "nostock", "rupture", "rupturedestock",
    "epuise", "épuisé", "indisponible", "nee", "uitverkocht", "nietopvoorraad",
    "nietleverbaar", "agotado", "sinexistencias", "faux", "onwaar", "falso",
}  # fmt: skip
_DASHES = {"-", "–", "—", "--"}
_STOCK_TRUE = re.compile(
    r"^(?:in stock|available|only \d+ left|\d+ (?:in stock|available)|auf lager|lieferbar"
    r"|en stock|op voorraad|en existencia|disponible|noch \d+|nur noch \d+|plus que \d+)\b",
    re.I,
)
_STOCK_FALSE = re.compile(
    r"^(?:out of stock|sold out|not available|unavailable|nicht (?:auf lager|lieferbar|"
    r"verfügbar)|ausverkauft|épuisé|epuise|rupture|uitverkocht|niet (?:op voorraad|leverbaar)"
    r"|agotado|sin existencias)\b",
    re.I,
)
# Magnitudes after a number: 1.2k, 1,2 Tsd., 3.5M, 2 Mio., 1.5 million.
_MAGNITUDE = re.compile(
    r"^\s*(k|tsd\.?|tausend|thousand|m|mio\.?|million|millionen|mn|mm|mrd\.?|bn|billion)"
    r"(?![a-z])",
    re.I,
)
_SCALE = {"k": 1e3, "tsd": 1e3, "tausend": 1e3, "thousand": 1e3, "m": 1e6, "mio": 1e6,
          "million": 1e6, "millionen": 1e6, "mn": 1e6, "mm": 1e6, "mrd": 1e9, "bn": 1e9,
          "billion": 1e9}  # fmt: skip
# Placeholders that mean "no value" in every column type.
_NULLS = {"-", "—", "–", "n/a", "n.a.", "null", "none", "nan", "#n/a", "tbd", "k.a."}
_NULLS_TYPED = _NULLS | {"na", "?", "--"}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_EMAIL_IN = re.compile(r"<([^@\s<>]+@[^@\s<>]+\.[^@\s<>]+)>")
_NUMBER = re.compile(r"[-+−]?(?:\d[\d.,' \u00a0\u202f]*\d|\d)(?:[eE][-+]?\d+)?")
_CURRENCY = re.compile(
    r"^[\s$€£¥₹%]*|[\s$€£¥₹%]*$|^(?:USD|EUR|GBP|CHF|JPY|CZK|SEK|NOK|DKK|PLN|CAD|AUD)\s*"
    r"|\s*(?:USD|EUR|GBP|CHF|JPY|CZK|SEK|NOK|DKK|PLN|CAD|AUD|,-)$",
    re.I,
)
_SPLIT = re.compile(r"\s*[,;|\n]\s*")
_DIGIT_GROUPING = re.compile(r"[ '\u00a0\u202f]")  # 1 299,00 / 1'299.00 / narrow spaces
_BOOL_NOISE = re.compile(r"[\s_\-.!]+")
_ALL_DIGITS = re.compile(r"\d+")
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b")
_HTTP = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
_SCHEMELESS = re.compile(r"^//[a-z0-9-]+(\.[a-z0-9-]+)+", re.I)
_BARE_HOST = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?$", re.I)
_MD_LINK = re.compile(r"^!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)$")
_DATE_FORMATS = (
    "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d-%b-%Y",
    "%d-%b-%y", "%d. %B %Y", "%d %B, %Y", "%a, %d %b %Y", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d",
)  # fmt: skip
_MONTH_FORMATS = ("%Y-%m", "%B %Y", "%b %Y", "%m/%Y")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(.+))?")


# Day, month name, year in German, French, Dutch, Spanish and Italian ("21. Juli 2022",
# "8 de febrero de 2024", "1er mars 2024"): strptime's %B knows only the C locale's English.
_LOCAL_DATE = re.compile(
    r"(\d{1,2})(?:\.|er|º|°)?\s*(?:de\s+)?([^\W\d_]{3,10})\.?,?\s+(?:de\s+)?(\d{4})"
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "januar jan janner janvier janv januari enero ene gennaio gen",
            "februar feb fevrier fevr februari febrero febbraio",
            "marz mar maerz mars maart mrt marzo",
            "april apr avril avr abril abr aprile",
            "mai mei mayo may maggio mag",
            "juni jun juin junio giugno giu",
            "juli jul juillet juil julio luglio lug",
            "august aug aout augustus agosto ago",
            "september sep sept septembre septiembre setiembre settembre set",
            "oktober okt octobre oct octubre ottobre ott",
            "november nov novembre noviembre",
            "dezember dez decembre dec december diciembre dic dicembre",
        ),
        start=1,
    )
    for name in names.split()
}


def _text(value: Any) -> str:
    if type(value) is str:  # by far the commonest case: every cell of a text source
        return value.strip()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # spreadsheets store codes like 1001 as 1001.0
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(_text(v) for v in value if v is not None)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


# -- numbers -----------------------------------------------------------------------------------
def _digits(digits: str, decimal_comma: bool | None) -> str:
    if "," in digits and "." in digits:
        # The later separator is the decimal one: 1.299,00 (EU) vs 1,299.00 (US).
        if digits.rfind(",") > digits.rfind("."):
            return digits.replace(".", "").replace(",", ".")
        return digits.replace(",", "")
    for sep in (",", "."):
        if sep not in digits:
            continue
        if digits.count(sep) > 1:
            return digits.replace(sep, "")  # 1,299,000 or 1.299.000: thousands
        head, _, tail = digits.partition(sep)
        if len(tail) == 3 and head.lstrip("-+") not in ("", "0"):
            # 1,299 / 1.299: the column's evidence decides, else comma = thousands, dot = decimal.
            thousands = sep == "," if decimal_comma is None else (sep == ".") == decimal_comma
            return head + tail if thousands else head + "." + tail
        return head + "." + tail
    return digits


def _number(value: Any, decimal_comma: bool | None = None) -> tuple[Any, Issue | None]:
    if isinstance(value, bool):
        return None, ("error", f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return value, None
    raw = _text(value)
    core = _CURRENCY.sub("", raw)
    match = _NUMBER.search(core)
    if not match:
        return None, ("error", f"{raw!r} is not a number")
    digits = _DIGIT_GROUPING.sub("", match.group(0)).replace("−", "-")
    digits = _digits(digits, decimal_comma)
    try:
        is_float = "." in digits or "e" in digits or "E" in digits
        number: float | int = float(digits) if is_float else int(digits)
    except ValueError:
        return None, ("error", f"{raw!r} is not a number")
    leftover = core.replace(match.group(0), "", 1).strip()
    if leftover:
        after = core[match.end() :]
        magnitude = _MAGNITUDE.match(after)
        word = magnitude.group(1) if magnitude else ""
        # "m" alone is a metre unless written as a capital M (3.5M); "mm" only as a capital MM.
        if magnitude and (word not in ("m", "mm") or word.isupper()):
            rest = (core[: match.start()] + after[magnitude.end() :]).strip(" .")
            scaled = number * _SCALE[word.casefold().rstrip(".")]
            number = int(scaled) if float(scaled).is_integer() else round(scaled, 6)
            if not _CURRENCY.sub("", rest).strip():
                return number, None
        return number, ("warning", f"kept the number {number} from {raw!r}")
    return number, None


def number_style(value: Any) -> bool | None:
    """True: the value shows a decimal comma (9,99 / 1.299,00); False: a decimal point; None:
    it does not tell (1,299 / 1.299 / 12)."""
    if not isinstance(value, str):
        return None
    match = _NUMBER.search(_CURRENCY.sub("", value.strip()))
    if not match:
        return None
    digits = _DIGIT_GROUPING.sub("", match.group(0))
    if "," in digits and "." in digits:
        return digits.rfind(",") > digits.rfind(".")
    for sep in (",", "."):
        if digits.count(sep) == 1 and len(digits.partition(sep)[2]) != 3:
            return sep == ","
    return None


# -- booleans ------------------------------------------------------------------------------
# A count with its unit: "12 Stk.", "3 pcs", "40 St.", "5 stuks", "2 pièces", "1 ea".
_COUNT_UNIT = re.compile(
    r"^\s*([-+]?\d+)\s*(?:stk|stck|st|pcs|pc|pce|pces|ea|each|units?|x|pz|pieces?|pièces?"
    r"|stuks?|unid|uds)\.?\s*$",
    re.I,
)


def count_of(value: Any) -> str:
    """``12 Stk.`` -> ``12``: a stock count without its unit; other values unchanged."""
    if isinstance(value, str) and (match := _COUNT_UNIT.match(value)):
        return match.group(1)
    return value


def _quantity(value: Any) -> tuple[Any, Issue | None]:
    """A stock quantity as in stock: quantity > 0 (the documented rule, reported once)."""
    if isinstance(value, bool):
        return value, None
    number, issue = _number(count_of(value))
    if number is None or (issue and issue[0] == "error"):
        return _boolean(value)
    return number > 0, None


def _boolean(value: Any) -> tuple[Any, Issue | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value), None
        if value > 0:
            return True, ("warning", f"read the quantity {_text(value)} as yes")
    raw = _text(value)
    norm = _BOOL_NOISE.sub("", raw.casefold())
    if norm in _TRUE:
        return True, None
    if norm in _FALSE:
        return False, None
    if _STOCK_FALSE.match(raw):
        return False, None
    if _STOCK_TRUE.match(raw):
        return True, None
    if _ALL_DIGITS.fullmatch(norm):
        return int(norm) > 0, (
            "warning",
            f"read the quantity {raw} as {'yes' if int(norm) else 'no'}",
        )
    return None, ("error", f"{raw!r} is not a yes/no value")


# -- dates ----------------------------------------------------------------------------------
def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _date(value: Any, day_first: bool | None = None) -> tuple[Any, Issue | None]:
    if isinstance(value, (datetime, date)):
        return _text(value), None
    raw = _text(value)
    # d/m/y-style dates first: no ISO 8601 form starts with a 1-2 digit field and a separator,
    # and trying fromisoformat on them first would cost an exception per cell.
    numeric = _NUMERIC_DATE.fullmatch(raw)
    if not numeric:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if len(raw) <= 10 or parsed.time() == datetime.min.time():  # midnight: a plain date
                return parsed.date().isoformat(), None
            return parsed.isoformat().replace("+00:00", "Z"), None
        except ValueError:
            pass
    if numeric:
        a, sep, b, year_text, _time = numeric.groups()
        first, second, year = int(a), int(b), _year(year_text)
        issue: Issue | None = None
        if sep == "." or first > 12:
            day, month = first, second
        elif second > 12:
            day, month = second, first
        elif day_first is not None:
            day, month = (first, second) if day_first else (second, first)
        else:
            day, month = second, first
            if first != second:
                issue = ("warning", f"{raw!r} is ambiguous; read as month/day/year")
        try:
            return date(year, month, day).isoformat(), issue
        except ValueError:
            return None, ("error", f"{raw!r} is not a valid date")
    cleaned = _ORDINAL.sub(r"\1", raw)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date().isoformat(), None
        except ValueError:
            continue
    local = _LOCAL_DATE.fullmatch(cleaned)
    if local:
        day, month_name, year_text = local.groups()
        month = _MONTHS.get(label_key(month_name))  # "März" -> "marz"
        if month:
            try:
                return date(int(year_text), month, int(day)).isoformat(), None
            except ValueError:
                return None, ("error", f"{raw!r} is not a valid date")
    for fmt in _MONTH_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date().isoformat(), (
                "warning",
                f"{raw!r} has no day; used the first of the month",
            )
        except ValueError:
            continue
    return None, ("error", f"{raw!r} is not a date")


def date_style(value: Any) -> bool | None:
    """True: the value proves day-first (25/12/2024); False: month-first (12/25/2024)."""
    if not isinstance(value, str):
        return None
    match = _NUMERIC_DATE.fullmatch(value.strip())
    if not match or match.group(2) == ".":
        return None
    first, second = int(match.group(1)), int(match.group(3))
    if first > 12 >= second:
        return True
    if second > 12 >= first:
        return False
    return None


def column_style(column: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    """``column`` plus the evidence its sample ``values`` give for ambiguous numbers/dates."""
    kind = column.get("type")
    if kind == "number":
        votes = [v for v in (number_style(x) for x in values) if v is not None]
        if votes:
            return {**column, DECIMAL_COMMA: sum(votes) > len(votes) / 2}
    if kind == "date":
        votes = [v for v in (date_style(x) for x in values) if v is not None]
        if votes:
            return {**column, DAY_FIRST: sum(votes) > len(votes) / 2}
    if kind == "boolean":
        marks = {"✓", "✔", "☑", "x", "X"}
        if any(isinstance(x, str) and x.strip() in marks for x in values):
            return {**column, DASH_FALSE: True}
    return column


# -- links, emails, lists -------------------------------------------------------------------
def _url(value: Any) -> tuple[Any, Issue | None]:
    urls = getattr(value, "urls", None)
    if isinstance(value, dict):
        value = next((value[k] for k in ("url", "src", "href", "link") if k in value), value)
    raw = urls[0] if urls else _text(value)
    link = _MD_LINK.match(raw)
    if link:
        raw = link.group(1)
    raw = raw.strip("<>\"' ")
    if _HTTP.match(raw):
        return raw, None
    if raw.startswith("//") and _SCHEMELESS.match(raw):
        return "https:" + raw, ("warning", f"added https: to {raw!r}")
    if _BARE_HOST.match(raw):
        return "https://" + raw, ("warning", f"added https:// to {raw!r}")
    return None, ("error", f"{raw!r} is not a web address")


def _email(value: Any) -> tuple[Any, Issue | None]:
    raw = _text(value)
    urls = getattr(value, "urls", None)
    if urls and urls[0].lower().startswith("mailto:"):
        raw = urls[0]
    if raw.lower().startswith("mailto:"):
        raw = raw[7:].split("?")[0]
    if _EMAIL.match(raw):
        return raw, None
    inner = _EMAIL_IN.search(raw)  # "Sales <sales@acme.test>"
    if inner:
        return inner.group(1), None
    return None, ("error", f"{raw!r} is not an email address")


def _items(value: Any) -> list[str]:
    if isinstance(value, list):
        out = []
        for v in value:
            if isinstance(v, dict):
                v = next((v[k] for k in ("name", "label", "value", "url", "src") if k in v), v)
            if v is not None and _text(v):
                out.append(_text(v))
        return list(dict.fromkeys(out))
    return list(dict.fromkeys(part for part in _SPLIT.split(_text(value)) if part))


def _images(value: Any) -> tuple[Any, Issue | None]:
    urls = getattr(value, "urls", None)
    items: list[Any] = list(urls) if urls else _items(value)
    good, bad, fixed = [], [], []
    for item in items:
        url, issue = _url(item)
        if issue is None or issue[0] == "warning":
            good.append(url)
            if issue:
                fixed.append(item)
        else:
            bad.append(item)
    if bad:
        return good, ("error", f"dropped values that are not web addresses: {', '.join(bad)}")
    if fixed:
        return good, ("warning", f"added https:// to {', '.join(fixed)}")
    return good, None


def _enum(value: Any, allowed: list[str]) -> tuple[Any, Issue | None]:
    from .mapping import normalize

    raw = _text(value)
    for option in allowed:
        if option.casefold() == raw.casefold():
            return option, None
    for option in allowed:
        if normalize(option) == normalize(raw):
            return option, None
    scored = [(fuzz.ratio(normalize(o), normalize(raw)), o) for o in allowed]
    best = max(scored, default=(0.0, ""))
    if best[0] >= 90:
        return best[1], ("warning", f"read {raw!r} as {best[1]!r}")
    return None, ("error", f"{raw!r} is not one of {', '.join(allowed)}")


def _json(value: Any) -> tuple[Any, Issue | None]:
    if not isinstance(value, str):
        return value, None
    try:
        return json.loads(value), None
    except ValueError:
        return None, ("error", f"{value[:60]!r} is not valid JSON")


Coercer = Callable[[Any], tuple[Any, "Issue | None"]]


def _text_value(value: Any) -> tuple[Any, Issue | None]:
    if isinstance(value, dict):
        value = next((value[k] for k in ("name", "text", "value", "label") if k in value), value)
    return _text(value), None


def _first_url(value: Any) -> tuple[Any, Issue | None]:
    if isinstance(value, list) and value:
        value = value[0]
    return _url(value)


#: Distinct strings one column remembers the coerced value of (a bound on its memory).
_MEMO_SIZE = 20_000


def coercer(column: dict[str, Any]) -> Coercer:
    """The coercion function of one column, with its type dispatch and evidence resolved once
    (a big file calls it for every cell)."""
    kind = column.get("type", "text")
    is_text = kind in ("text", "richtext")
    one_line = kind == "text"
    nulls = _NULLS if is_text else _NULLS_TYPED
    decimal_comma, day_first = column.get(DECIMAL_COMMA), column.get(DAY_FIRST)
    allowed = column.get("enum_values") or []
    if kind == "boolean" and column.get(DASH_FALSE):
        nulls = nulls - _DASHES
    inner: Coercer = {
        "text": _text_value,
        "richtext": _text_value,
        "number": lambda v: _number(v, decimal_comma),
        "boolean": _quantity if column.get(QUANTITY) else _boolean,
        "date": lambda v: _date(v, day_first),
        "url": _first_url,
        "image": _first_url,
        "email": _email,
        "enum": lambda v: _enum(v, allowed),
        "tags": lambda v: (_items(v), None),
        "images": _images,
        "json": _json,
    }.get(kind, lambda v: (v, None))  # newer column types pass through untouched
    if kind == "boolean" and column.get(DASH_FALSE):
        plain = inner
        inner = lambda v: (False, None) if isinstance(v, str) and v.strip() in _DASHES else plain(v)  # noqa: E731

    # Typed columns repeat their values (a brand's availability words, a price list's prices,
    # dates): a string seen before gets its earlier result without being parsed again. Lists
    # are copied (a row may be edited later); json values are never memoised (dicts).
    memo: dict[str, tuple[Any, Issue | None]] | None = None if is_text or kind == "json" else {}
    copies = kind in ("tags", "images")

    def run(value: Any) -> tuple[Any, Issue | None]:
        if value is None:
            return None, None
        if isinstance(value, str):
            # Plain strings only: a str subclass (a link's text carrying its address) is more
            # than its text.
            plain = type(value) is str
            if plain and memo is not None:
                known = memo.get(value)
                if known is not None:
                    return (list(known[0]), known[1]) if copies and known[0] else known
            stripped = value.strip()
            if not stripped:
                return None, None
            # Every placeholder is short: only short values pay for the casefold and lookup.
            if len(stripped) <= 4 and stripped.casefold() in nulls:
                return None, None
            if is_text and plain:
                if one_line and ("\n" in stripped or "\r" in stripped):
                    # A name wrapped in its cell ("Werkbank\nmit Schublade") is one line of
                    # text; richtext keeps its line breaks.
                    stripped = " ".join(stripped.split())
                return stripped, None
            result = inner(value)
            if plain and memo is not None and len(memo) < _MEMO_SIZE:
                memo[value] = (list(result[0]), result[1]) if copies and result[0] else result
            return result
        return inner(value)

    return run


def coerce(value: Any, column: dict[str, Any]) -> tuple[Any, Issue | None]:
    """Coerce ``value`` for ``column``. Unusable values become ``None`` with an error message
    that quotes the original, so nothing is silently lost."""
    return coercer(column)(value)
