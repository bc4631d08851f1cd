"""Source headers -> schema columns. Strongest evidence first: a pin from additional_context
(``sku: Artikelnummer``), the exact key or label, the normalized form (case, spaces,
punctuation, accents), a synonym table of product fields, then rapidfuzz above a threshold.
Headerless tables (``column 1``...) are mapped by the shape of their values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from rapidfuzz import fuzz

from .records import TITLE

__all__ = ["FUZZY_THRESHOLD", "TITLE", "Mapper", "map_headers", "normalize", "parse_pins"]

#: Minimum rapidfuzz score (0-100) for a fuzzy header match.
FUZZY_THRESHOLD = 85

# Concepts -> spellings (already normalized: lowercase, no accents, no spaces/punctuation).
# A column belongs to a concept when its key or label is one of the spellings; a header then
# matches it when the header is another spelling of the same concept.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "title", "product", "productname", "producttitle", "itemname", "itemtitle",
        "item", "article", "articlename", "designation", "bezeichnung", "produkt", "produktname",
        "artikel", "artikelname", "nom", "nomduproduit", "nombre", "producto",
    ),
    "description": (
        "description", "desc", "details", "summary", "longdescription", "shortdescription",
        "productdescription", "beschreibung", "features", "overview",
    ),
    "sku": (
        "sku", "itemno", "itemnumber", "itemid", "itemcode", "articleno",
        "articlenumber", "artno", "artnr", "partno", "partnumber", "part", "mpn", "productcode",
        "productid", "productno", "code", "ref", "reference", "artikelnummer", "artikelnr",
        "bestellnummer", "modelnumber", "catalognumber", "catno", "stylenumber", "refarticle",
    ),
    "ean": ("ean", "gtin", "upc", "barcode", "ean13", "gtin13", "isbn"),
    "price": (
        "price", "unitprice", "msrp", "rrp", "cost", "amount", "priceamount", "listprice",
        "retailprice", "saleprice", "netprice", "pricenet", "pricegross", "preis", "prix",
        "precio", "verkaufspreis", "uvp", "priceusd", "priceeur", "pricegbp",
    ),
    "currency": ("currency", "curr", "pricecurrency", "currencycode", "wahrung", "waehrung", "devise"),
    "brand": (
        "brand", "manufacturer", "vendor", "make", "maker", "brandname", "marke", "hersteller",
        "marque", "marca", "supplier", "producer",
    ),
    "url": (
        "url", "link", "producturl", "productlink", "website", "href", "webpage",
        "productpage", "shopurl", "weblink",
    ),
    "image": (
        "image", "images", "imageurl", "imageurls", "img", "picture", "pictures", "photo",
        "photos", "gallery", "thumbnail", "mainimage", "imagelink", "bild", "bilder", "foto",
        "productimage", "productimages",
    ),
    "in_stock": (
        "instock", "available", "availability", "stock", "stockstatus", "instockstatus",
        "onstock", "lieferbar", "verfugbar", "verfuegbar", "verfugbarkeit", "disponible",
        "inventorystatus",
    ),
    "quantity": ("quantity", "qty", "stockqty", "stockquantity", "inventory", "onhand", "bestand"),
    "release_date": (
        "releasedate", "released", "launchdate", "launched", "releaseddate", "date",
        "availablefrom", "introduced", "erscheinungsdatum", "datum", "publishdate",
    ),
    "tags": (
        "tags", "tag", "categories", "keywords", "labels", "schlagworter", "schlagwoerter",
        "stichworte", "motscles",
    ),
    "category": ("category", "productcategory", "section", "kategorie", "categorie", "group", "department", "type"),
    "color": ("color", "colour", "farbe", "couleur"),
    "size": ("size", "dimensions", "grosse", "groesse", "taille"),
    "weight": ("weight", "weightkg", "gewicht", "poids", "netweight"),
    "email": ("email", "emailaddress", "mail", "contactemail", "contact"),
    "rating": ("rating", "stars", "score", "reviewscore"),
}  # fmt: skip

# Tiers of evidence, strongest first (recorded in the report as "by").
_TIERS = {5: "pin", 4: "exact", 3: "normalized", 2: "synonym", 1: "fuzzy", 0: "content"}
_POSITIONAL = re.compile(r"^column \d+$")


def normalize(text: str) -> str:
    """Lowercase, accents removed (``Währung`` -> ``wahrung``), no spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold().replace("#", "no"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", plain)


def _words(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def parse_pins(context: str | None, columns: list[dict[str, Any]]) -> dict[str, str]:
    """``normalized header -> column key`` from lines like ``sku: Artikelnummer`` (also
    ``sku = Art.-Nr.`` or ``Artikelnummer -> sku``) in additional_context; other lines are
    ignored, so the context can stay prose."""
    names = {}
    for col in columns:
        for text in (col["key"], col.get("label") or ""):
            if normalize(text):
                names.setdefault(normalize(text), col["key"])
    pins: dict[str, str] = {}
    for line in (context or "").splitlines():
        match = re.match(r"^\s*[-*•]?\s*(.+?)\s*(?:->|→|=>|:|=)\s*(.+?)\s*$", line)
        if not match:
            continue
        left, right = (normalize(g.strip("\"'`")) for g in match.groups())
        if left in names and right and right not in names:
            pins[right] = names[left]
        elif right in names and left and left not in names:
            pins[left] = names[right]
    return pins


class Mapper:
    """Maps each distinct header set (one per table of a document) and remembers what it did,
    for the report: which header went where and by what evidence, which were left unmapped."""

    def __init__(self, columns: list[dict[str, Any]], context: str | None = None) -> None:
        self.columns = columns
        self.pins = parse_pins(context, columns)
        self.exact: dict[str, str] = {}
        self.normal: dict[str, str] = {}
        self.concept_of: dict[str, str] = {}
        self.spellings: dict[str, list[str]] = {}
        for col in columns:
            key = col["key"]
            for text in (key, col.get("label") or ""):
                if text:
                    self.exact.setdefault(text, key)
                    self.normal.setdefault(normalize(text), key)
            for concept, spellings in SYNONYMS.items():
                if normalize(key) in spellings or normalize(col.get("label") or "") in spellings:
                    self.concept_of.setdefault(key, concept)
                    break
            names = {normalize(key), normalize(col.get("label") or "")}
            names |= set(SYNONYMS.get(self.concept_of.get(key, ""), ()))
            self.spellings[key] = sorted(n for n in names if n)
        self._cache: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self._scores: dict[str, list[tuple[int, float, str]]] = {}
        self.used: dict[str, dict[str, str]] = {}
        self.seen: dict[str, None] = {}

    # -- scoring one header against every column -----------------------------------------
    def _candidates(self, header: str) -> list[tuple[int, float, str]]:
        cached = self._scores.get(header)
        if cached is not None:
            return cached
        norm = normalize(header)
        found: list[tuple[int, float, str]] = []
        for col in self.columns:
            key = col["key"]
            if self.pins.get(norm) == key:
                found.append((5, 100.0, key))
            elif self.exact.get(header.strip()) == key:
                found.append((4, 100.0, key))
            elif norm and self.normal.get(norm) == key:
                found.append((3, 100.0, key))
            elif norm and norm in SYNONYMS.get(self.concept_of.get(key, ""), ()):
                found.append((2, 100.0, key))
            elif len(norm) >= 4 and norm not in self.pins:
                best = max(
                    (fuzz.ratio(norm, s) for s in self.spellings[key] if len(s) >= 3), default=0.0
                )
                words = _words(header)
                if 1 < len(words.split()) <= 4:
                    # "Unit Price (EUR)" contains the spelling "unit price": a strong hint.
                    for s in (_words(col["key"].replace("_", " ")), _words(col.get("label", ""))):
                        if len(s) >= 3:
                            best = max(best, 0.95 * fuzz.token_set_ratio(words, s))
                if best >= FUZZY_THRESHOLD:
                    found.append((1, best, key))
        self._scores[header] = found
        return found

    def map(
        self, headers: Iterable[str], samples: dict[str, list[Any]] | None = None
    ) -> list[tuple[str, str]]:
        """``[(header, column key)]`` for one header set, strongest matches taken first; each
        header feeds one column and each column takes one header. ``TITLE`` is added last as a
        fallback for the name column. ``samples`` (values per header) let headerless tables
        be mapped by content."""
        headers = tuple(dict.fromkeys(headers))
        cached = self._cache.get(headers)
        if cached is not None:
            return cached
        for h in headers:
            self.seen.setdefault(h, None)
        order = {h: i for i, h in enumerate(headers)}
        candidates = [
            (tier, score, -order[h], h, key)
            for h in headers
            if h != TITLE
            for tier, score, key in self._candidates(h)
        ]
        candidates.sort(reverse=True)
        mapping: dict[str, str] = {}
        taken: set[str] = set()
        for tier, _score, _o, header, key in candidates:
            if header in mapping or key in taken:
                continue
            mapping[header] = key
            taken.add(key)
            self.used.setdefault(header, {"column": key, "by": _TIERS[tier]})
        if samples:
            from .content import map_by_content

            free = [h for h in headers if h not in mapping and _POSITIONAL.match(h)]
            found = map_by_content(free, samples, self.columns, self.concept_of, taken)
            for header, key in found.items():
                mapping[header] = key
                taken.add(key)
                self.used.setdefault(header, {"column": key, "by": _TIERS[0]})
        result = sorted(mapping.items(), key=lambda item: order[item[0]])
        if TITLE in headers:
            name_key = self._name_key()
            if name_key:
                result.append((TITLE, name_key))  # used only when the name is still empty
                self.used.setdefault(TITLE, {"column": name_key, "by": "title line"})
        if len(self._cache) < 512:
            self._cache[headers] = result
        return result

    def _name_key(self) -> str | None:
        for col in self.columns:
            if self.concept_of.get(col["key"]) == "name":
                return col["key"]
        for col in self.columns:
            if col.get("type", "text") == "text" and col.get("required"):
                return col["key"]
        return None

    def report(self) -> dict[str, Any]:
        """What the report in the table's metadata says about mapping."""
        return {
            "mapping": {h: v for h, v in self.used.items()},
            "unmapped_source_columns": [h for h in self.seen if h not in self.used and h != TITLE],
        }


def map_headers(headers: Iterable[str], columns: list[dict[str, Any]]) -> dict[str, str]:
    """Header -> column key for one header set (compatibility helper over ``Mapper``)."""
    return dict(Mapper(columns).map(headers))
