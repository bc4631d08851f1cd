"""One product per line: ``Acme X100 Drill — SKU AX100 — $129.00 — in stock``. Segments split
on dashes, bars, bullets, tabs and dot leaders (or on commas when a line has none of those and
holds a price), and on the colon of ``Name: USD 57.95 (in stock)`` (a remark in parentheses
after a price is a segment of its own), are classified (price, also with a unit or tax
qualifier such as ``/Stk.`` or ``HT``; labelled value, URL, email, availability in five
languages, date, size or weight); the first plain segment is the name, and ``Name (CODE)``,
``Name (Art.-Nr. CODE)`` or a code leading every line's name gives the SKU. A size or weight
(``12 kg``, ``10"``) is never a SKU. Totals and charges (``Shipping: $5``, ``Minimum order:
$50``) are never products. A short line alone above a group is its category; intro and
sign-off prose, greetings and signatures are notes, never headings. The helpers that split
a name from its price are shared with the e-mail product lines of ``blocks``."""

from __future__ import annotations

import re
from typing import Any

from .coerce import is_measure
from .errors import ExtractionError
from .source import Item, Located, Note, Record, Skip
from .values import field_of_label, stock_of

__all__ = [
    "classify_line",
    "labelled_code",
    "lead_codes",
    "looks_like_listing",
    "parse_listing",
    "split_name_price",
    "trailing_charges",
    "without_qualifier",
]

# Dashes, bars, bullets, "=", "@", arrows, tabs, and dot leaders ("Garden Hose ..... $40.25";
# an ellipsis separates only before a price: "Coming soon... more hoses" is a sentence).
_SPLIT = re.compile(
    r"\s+(?:[—–|·•=@→]|-+>|=>)\s+|\s+-{1,2}\s+|\t+|\s*\|\s*|\s*(?:\.{4,}|…{2,}|·{3,})\s*|\s*(?:\.{3}|…)\s*(?=[$€£¥\d])"
)
_COMMA = re.compile(r",\s+")
_CODE_IN_PARENS = re.compile(r"^(?P<name>.+?)\s*\((?P<code>[A-Za-z0-9][A-Za-z0-9./_-]{2,24})\)$")
_BARE_CODE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9./_-]{2,24}$")
_WEIGHT = re.compile(r"(?:kg|g|mg|lbs?|oz)\.?$", re.I)
_GREETING = re.compile(
    r"^(?:dear|hi|hello|hey|good (?:morning|afternoon)|liebe[rs]?|sehr geehrte|hallo|guten tag"
    r"|bonjour|cher|chère|madame|monsieur|beste|geachte|hoi|hola|estimad[oa]s?|best regards"
    r"|kind regards|regards|thanks|thank you|cheers|sincerely|mit freundlichen|viele grüße"
    r"|beste grüße|gruß|cordialement|bien à vous|met vriendelijke|groeten|saludos|atentamente"
    r"|best(?:,|\s+wishes)|--\s*$)",
    re.I,
)
# "Canvas Sneakers 42: USD 57.95": a name, a colon, then (maybe) its price.
_NAME_COLON = re.compile(r"^(?P<head>[^:]*?[^\s:])\s*:\s+(?P<rest>\S.*)$")
# Charges and conditions written like "Name: price" lines: never a product (totals, taxes,
# shipping and discounts are the grid's total labels).
_CHARGE = re.compile(
    r"^(?:min(?:imum|\.)?\s+order(?:\s+value)?|mindestbestell\w*|mindermengen\w*|pfand|deposit"
    r"|gutschein|voucher|coupon|bon\s+d.achat|handling|bearbeitungs\w*|\w*geb[uü]hr\w*|\w*\s*fee"
    r"|frais\b.*|minimum\s+de\s+commande|borg|toeslag|minimale\s+bestel\w*|cargo\b.*"
    r"|pedido\s+m[ií]nimo|dep[oó]sito|cup[oó]n|vale"
    r"|(?:order|invoice|bestellung|rechnung|auftrag|commande|facture|pedido|factura|bestelling"
    r"|factuur)\b.*)$",
    re.I,
)
# "USD 57.95 (in stock)": a value with a remark in parentheses.
_PAREN_TAIL = re.compile(r"^(?P<value>.*?\S)\s*\((?P<remark>[^()]{2,40})\)$")
_QUOTED = re.compile(r"^(?:>\s?)+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,4}[.)])\s+")
# A unit or tax qualifier after a price ("12,50 €/Stk.", "€ 8,90 per stuk", "19,99 € HT").
_QUALIFIER = (
    r"\s*(?:/\s*(?:stk|st|stück|pièce|pce|ud|u|unidad|item|ea)\.?|(?:per|pro|je|por|par|la|l')\s*"
    r"(?:unit|piece|item|stuk|stück|unité|pièce|unidad)|net(?:to)?|brutto|gross|ht|ttc"
    r"|(?:excl|incl|exkl|inkl|zzgl|ex|inc)\.?\s*(?:vat|btw|tax|mwst|ust|tva|iva)\.?"
    r"|[+]\s*(?:iva|vat|mwst|tva|btw)\.?|hors\s+taxes?|sin\s+iva|con\s+iva|iva\s+incl\.?)"
)
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "US$": "USD", "EURO": "EUR"}
_CURRENCY |= {"EUROS": "EUR", "DOLLAR": "USD", "DOLLARS": "USD", "FR.": "CHF", "SFR.": "CHF"}
_PRICE = re.compile(
    r"^(?:(?:price|from|only|now|ab|nur|jetzt|prix|preis|prijs|precio|à partir de|dès|desde"
    r"|vanaf|nu|maintenant|ahora)\s*:?\s*)?"
    r"(?P<c1>[$€£¥]|US\$|USD|EUR|GBP|CHF|JPY|S?Fr\.)?\s*(?P<num>\d[\d.,' ]*\d|\d)(?:,-)?\s*"
    r"(?:(?:k|K|Tsd\.?|M|Mio\.?)(?![A-Za-z])\s*)?(?P<c2>[$€£¥]|USD|EUR|GBP|CHF|JPY|euros?|dollars?|S?Fr\.)?(?:\s*(?:each|/\s*(?:pc|piece|unit|ea)))?"
    rf"(?:{_QUALIFIER})*$",
    re.I,
)
_QUALIFIERS = re.compile(rf"(?:{_QUALIFIER})+$", re.I)
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
_STOCK_VALUE = re.compile(
    r"^(?:\d+|yes|no|y|n|ja|nein|oui|non|sí|si|ja|nee|available|unavailable|in|out|low|high"
    r"|sold out|in stock|out of stock)\b",
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


def without_qualifier(segment: str) -> str:
    """A price without the unit or tax qualifier after it (``8,90 € pro Stück`` ->
    ``8,90 €``); other text unchanged."""
    return _QUALIFIERS.sub("", segment).strip() or segment


_LABELLED_PARENS = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()]{3,40})\)$")
# A code leading a name ("GH-201 Garden Hose"): letters and digits, or digits cut by a dash,
# dot or slash ("4711-20"); a bare number is a quantity ("100 Screws").
_LEAD_CODE = re.compile(
    r"^(?P<code>(?=[A-Z0-9./-]*\d)(?:[A-Z0-9]*[A-Z][A-Z0-9./-]*|\d+[./-][\d./-]*\d))\s+(?P<name>.*[A-Za-zÀ-ÿ].*)$"
)


def labelled_code(segment: str) -> tuple[str, str] | None:
    """``Name (Art.-Nr. 4711-20)`` / ``Name (SKU: AX1)`` -> the name and the code."""
    match = _LABELLED_PARENS.match(segment)
    if match is None:
        return None
    labelled = _label(match.group("inner"))
    if labelled is None or labelled[0] != "sku" or not re.search(r"\d", labelled[1]):
        return None
    return match.group("name"), labelled[1]


def trailing_charges(records: list[dict[str, Any]]) -> set[int]:
    """The ``id``s of the records after the last product that are totals or charges
    (``Shipping – $5.00``, ``Total – $26.40``, ``Versand: 5,90 €``): named by a total or
    charge label, without a SKU. A product so named among the others ("Total Station") is
    kept; only the lines closing the list are the order's sums."""
    from .grid import is_total_label

    out: set[int] = set()
    for record in reversed(records):
        name = record.get("name")
        if record.get("sku") or not isinstance(name, str):
            break
        if not (is_total_label(name) or _CHARGE.match(name.strip())):
            break
        out.add(id(record))
    return out if len(out) < len(records) else set()


def lead_codes(records: list[dict[str, Any]]) -> None:
    """When every product line's name starts with a code and none has a SKU otherwise
    (``GH-201 Garden Hose: $40.25`` on each line), the codes are the SKUs: the names are
    split in place. One line alone proves nothing ("RTX-4090 Graphics Card")."""
    named = [r for r in records if isinstance(r.get("name"), str)]
    if len(named) < 2 or any(r.get("sku") for r in records):
        return
    matches = [_LEAD_CODE.match(r["name"]) for r in named]
    if not all(matches) or any(is_measure(m.group("code")) for m in matches if m):
        return
    for record, match in zip(named, matches, strict=True):
        assert match is not None
        record["sku"] = match.group("code")
        record["name"] = match.group("name")


def _label(segment: str) -> tuple[str, str] | None:
    words = segment.split()
    for n in (3, 2, 1):
        if len(words) <= n:
            continue
        head = " ".join(words[:n])
        norm = re.sub(r"[\W_]+", "", head.casefold())
        if norm in _LABELS:
            value = " ".join(words[n:]).lstrip(":#").strip()
            if _LABELS[norm] == "availability" and not _STOCK_VALUE.match(value):
                continue  # "Stock update": a word of a title, not a stock label
            if value:
                return _LABELS[norm], value
    match = re.match(r"^([^:]{1,24}):\s*(.+)$", segment)
    if match:
        norm = re.sub(r"[\W_]+", "", match.group(1).casefold())
        if norm in _LABELS:
            return _LABELS[norm], match.group(2).strip()
    return None


def _is_price(segment: str) -> bool:
    price = _PRICE.match(segment)
    return bool(
        price and (price.group("c1") or price.group("c2") or re.search(r"[.,]\d{2}$", segment))
    )


def _price_pieces(text: str, commas: bool) -> list[str] | None:
    """``USD 57.95 (in stock)`` -> the price and the remark (and, with ``commas``, the pieces
    after ", "), when ``text`` starts with a price; else ``None``."""
    parts = [p.strip() for p in (_COMMA.split(text) if commas else [text]) if p.strip()]
    if not parts:
        return None
    first, extra = parts[0], []
    tail = _PAREN_TAIL.match(first)
    if tail and _is_price(tail.group("value")):
        first, extra = tail.group("value"), [tail.group("remark")]
    return [first, *extra, *parts[1:]] if _is_price(first) else None


def split_name_price(segment: str) -> list[str]:
    """``Name: USD 57.95 (out of stock)`` -> ``["Name", "USD 57.95", "out of stock"]``: a
    colon separates a name from its price as a dash would, and a remark in parentheses after
    a price is a field of its own. A labelled value (``Price: $9``, ``SKU: A1``), a total
    (``Shipping: $5``) or a charge (``Minimum order: $50``) stays one segment, as does
    anything not followed by a price."""
    from .grid import is_total_label

    if ":" in segment and _label(segment) is None:
        # The colon before the price: a name may hold one too ("Reel (SKU: HR-110): $129").
        for colon in re.finditer(r"\s*:\s+", segment):
            head, rest = segment[: colon.start()], segment[colon.end() :]
            pieces = _price_pieces(rest, commas=True) if head.strip() else None
            if pieces is None:
                continue
            label = re.split(r"[,;(]\s*", head)[-1]  # "Saw, Réf.: MK190, Prix: 219,99 EUR"
            if is_total_label(head) or _CHARGE.match(head) or field_of_label(label) is not None:
                break  # a total, a charge, or a labelled value ("Prix: ...") of a record
            return [head, *pieces]
    if segment.endswith(")"):
        pieces = _price_pieces(segment, commas=False)
        if pieces is not None:
            return pieces
    return [segment]


def _segments(line: str) -> list[str]:
    segments = [p for s in _SPLIT.split(line) if s.strip() for p in split_name_price(s.strip())]
    if len(segments) < 2 and "," in line:
        # "Acme anvil, 12 kg, $49.90": commas separate only when a segment is a price.
        parts = [s.strip() for s in _COMMA.split(line) if s.strip()]
        if 2 <= len(parts) <= 8 and any(_is_price(p) for p in parts[1:]):
            return parts
    return segments


def classify_line(line: str) -> tuple[Record, int] | None:
    """The record of one listing line and how many segments were recognised (typed), or
    ``None`` when the line has no separators."""
    line = _BULLET.sub("", _QUOTED.sub("", line.strip()))  # "> - Drill — $9": a quoted reply
    segments = _segments(line)
    if len(segments) < 2:
        return None
    record: Record = {}
    typed = 0
    plain = ["name", "description"]
    for index, segment in enumerate(segments):
        key, value = None, segment
        price = _PRICE.match(segment)
        if price and (price.group("c1") or price.group("c2") or re.search(r"[.,]\d{2}$", segment)):
            key = "price"
            symbol = (price.group("c1") or price.group("c2") or "").upper()
            if symbol and "currency" not in record:
                record["currency"] = _CURRENCY.get(symbol, symbol)
        elif (labelled := _label(segment)) is not None:
            key, value = labelled
        elif _AVAILABILITY.match(segment) or stock_of(segment) is not None:
            key = "availability"  # "in stock", also "lieferbar", "agotado", "op voorraad"
        elif _URL.match(segment):
            key = "image" if _IMAGE.search(segment) else "url"
        elif _EMAIL.match(segment):
            key = "email"
        elif _DATE.match(segment):
            key = "date"
        elif is_measure(segment):
            key = "weight" if _WEIGHT.search(segment) else "size"
        elif (
            "sku" not in record
            and _BARE_CODE.match(segment)
            and ("name" not in plain or (index == 0 and len(segments) > 2))
        ):
            # A bare article code after the name ("Saw | BS-2 | $45.50"), or leading a line
            # of three fields or more ("BS-2 | Saw | $45.50").
            key = "sku"
        if key is None:
            key = plain.pop(0) if plain else f"detail {len(record) + 1}"
            coded = _CODE_IN_PARENS.match(segment) if key == "name" else None
            if coded and not is_measure(coded.group("code")) and re.search(r"\d", coded.group("code")):  # fmt: skip
                value = coded.group("name")
                if "sku" not in record:
                    record["sku"] = coded.group("code")
                    typed += 1
            elif key == "name" and (labelled := labelled_code(segment)) is not None:
                value, code = labelled  # "Gartenschlauch (Art.-Nr. 4711-20)"
                if "sku" not in record:
                    record["sku"] = code
                    typed += 1
        else:
            typed += 1
        if key in record:
            key = f"{key} {len(record) + 1}"
        record[key] = value
    return record, typed


def _prose(line: str) -> bool:
    """Intro or sign-off prose, a greeting or a signature line: never a section heading."""
    text = line.strip()
    words = text.split()
    return bool(
        _GREETING.match(text)
        or len(words) > 6
        or re.search(r"[,.!?;]$", text)
        or (text.endswith(":") and len(words) >= 4)
        or "@" in text
    )


def _charge(line: str) -> bool:
    """A total, shipping or fee line (``Shipping: $9``, ``Mindestbestellwert: 50,00 €``)."""
    from .grid import is_total_label

    named = _NAME_COLON.match(_BULLET.sub("", line.strip()))
    if named is None or _price_pieces(named.group("rest"), commas=True) is None:
        return False
    return is_total_label(named.group("head")) or bool(_CHARGE.match(named.group("head")))


def looks_like_listing(lines: list[str]) -> bool:
    """Most lines with separators are listings with at least one typed segment (prose, totals
    and charges around them do not count against it), and the first is not a header line of
    a delimited table (``Name | Price``)."""
    parsed = [classify_line(line) for line in lines[:200]]
    candidates = [p for p in parsed if p is not None]
    hits = sum(1 for p in candidates if p[1] > 0)
    plain = sum(
        1
        for p, line in zip(parsed, lines, strict=False)
        if p is None and not _prose(line) and not _charge(line)
    )
    if not hits or hits < len(candidates) * 0.5 or hits < plain * 0.5:
        return False
    return candidates[0][1] > 0


def parse_listing(text: str) -> list[Item]:
    records: list[Item] = []
    section: str | None = None
    found = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parsed = classify_line(line)
        if parsed is None or parsed[1] == 0:
            records.append(Note(line.strip()))
            heading = line.strip().lstrip("#").strip().rstrip(":")
            if parsed is None and len(heading) <= 60 and not _prose(line):
                section = heading
            continue
        record = parsed[0]
        if section:
            record.setdefault("category", section)
        records.append(Located(record, {"line": number}))
        found = True
    if not found:
        raise ExtractionError("No product lines were found (e.g. 'Acme Drill — SKU A1 — $9').")
    lead_codes([r for r in records if isinstance(r, dict)])
    charges = trailing_charges([r for r in records if isinstance(r, dict)])
    return [
        Skip("total", str(r.get("name"))) if isinstance(r, dict) and id(r) in charges else r
        for r in records
    ]
