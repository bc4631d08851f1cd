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

from .grid import is_code
from .source import SECTION, TITLE

__all__ = [
    "FUZZY_THRESHOLD",
    "POSITIONAL",
    "SECTION",
    "TITLE",
    "Mapper",
    "known_header",
    "map_headers",
    "normalize",
    "parse_pins",
    "price_role",
]

#: Minimum rapidfuzz score (0-100) for a fuzzy header match.
FUZZY_THRESHOLD = 85

# Concepts -> spellings (already normalized: lowercase, no accents, no spaces/punctuation).
# A column belongs to a concept when its key or label is one of the spellings; a header then
# matches it when the header is another spelling of the same concept.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "title", "product", "productname", "producttitle", "itemname", "itemtitle",
        "item", "article", "articlename", "designation", "bezeichnung", "produkt", "produktname",
        "artikel", "artikelname", "artikelbezeichnung", "produktbezeichnung", "nom",
        "nomduproduit", "libelle", "produit", "nombre", "producto", "articulo", "naam",
        "productnaam", "omschrijving", "benaming", "itemdescription",
        "bez", "bezeichn", "desig", "omschr", "artikelbez",
    ),
    "description": (
        "description", "desc", "details", "summary", "longdescription", "shortdescription",
        "productdescription", "beschreibung", "features", "overview", "descripcion",
        "beschrijving",
    ),
    "sku": (
        "sku", "itemno", "itemnumber", "itemid", "itemcode", "articleno", "itemnr",
        "articlenumber", "artno", "artnr", "partno", "partnumber", "part", "mpn", "productcode",
        "productid", "productno", "code", "ref", "reference", "artikelnummer", "artikelnr",
        "bestellnummer", "bestnr", "bestellnr", "modelnumber", "catalognumber", "catno",
        "stylenumber", "refarticle", "codearticle", "noarticle", "numeroarticle", "refproduit",
        "codeproduit", "artikelcode", "bestelnr", "bestelnummer", "codigo", "referencia",
        "codigoarticulo", "materialnummer", "matnr", "stocknumber", "skuno", "sellersku",
        "refart", "artref", "referencearticle", "artikelnrs", "orderno", "ordercode",
    ),
    "ean": ("ean", "gtin", "upc", "barcode", "ean13", "gtin13", "isbn", "eancode"),
    "price": (
        "price", "unitprice", "msrp", "rrp", "cost", "amount", "priceamount", "listprice",
        "retailprice", "saleprice", "netprice", "pricenet", "pricegross", "preis", "prix",
        "precio", "verkaufspreis", "uvp", "priceusd", "priceeur", "pricegbp", "einzelpreis",
        "stuckpreis", "stueckpreis", "prixunitaire", "prixht", "prixnet", "prijs", "nettoprijs",
        "precioneto", "preciounitario", "pvp", "unitcost", "yourprice", "ihrpreis", "vkpreis",
        "nettopreis", "listenpreis", "bruttopreis", "prixpublic", "prixttc", "adviesprijs",
        "stukprijs", "eenheidsprijs", "net", "nett", "netto", "list",
        "vk", "vkp", "pu", "puht", "prixunitht", "prijsst", "prijsperstuk", "sell",
        "sellprice", "sellingprice", "ep", "einzelpr", "stkpreis", "preisjestk", "precioud",
    ),
    "currency": (
        "currency", "curr", "cur", "ccy", "pricecurrency", "currencycode", "wahrung",
        "waehrung", "devise", "monnaie", "munt", "valuta", "moneda", "divisa",
    ),
    "brand": (
        "brand", "manufacturer", "vendor", "make", "maker", "brandname", "marke", "hersteller",
        "marque", "marca", "supplier", "producer", "mfr", "mfg", "mfgr", "fabrikat",
        "fabricant", "merk", "fabrikant", "fabricante", "lieferant", "hst", "herst", "fourn",
        "fournisseur", "leverancier",
    ),
    "url": (
        "url", "link", "producturl", "productlink", "website", "href", "webpage",
        "productpage", "shopurl", "weblink", "lien", "enlace", "produktlink", "produkturl",
        "produktseite", "artikelseite", "productpagina", "pageproduit", "ficheproduit",
        "paginadelproducto", "paginaproducto",
    ),
    "image": (
        "image", "images", "imageurl", "imageurls", "img", "picture", "pictures", "photo",
        "photos", "gallery", "thumbnail", "mainimage", "imagelink", "bild", "bilder", "foto",
        "productimage", "productimages",
    ),
    "in_stock": (
        "instock", "available", "availability", "stock", "stockstatus", "instockstatus",
        "onstock", "lieferbar", "verfugbar", "verfuegbar", "verfugbarkeit", "disponible",
        "inventorystatus", "avail", "avl", "dispo", "disponibilite", "disponibilidad",
        "auflager", "lagerstatus", "lieferstatus", "opvoorraad", "beschikbaar", "leverbaar",
        "enstock", "stockstatus", "status",
    ),
    "quantity": (
        "quantity", "qty", "stockqty", "stockquantity", "inventory", "onhand", "bestand",
        "lagerbestand", "lagermenge", "qtyavail", "qtyavailable", "qtyinstock", "qtyonhand",
        "stocklevel", "qteenstock", "qtestock", "quantiteenstock", "stockdisponible",
        "voorraad", "existencias", "stockonhand", "soh", "lager", "qtedispo", "qoh",
        "lagerbest", "vrd", "qtyoh", "stockqte",
    ),
    "release_date": (
        "releasedate", "released", "launchdate", "launched", "releaseddate", "date",
        "introduced", "erscheinungsdatum", "datum", "publishdate", "launch", "release",
        "markteinfuhrung", "erscheinung", "datedesortie", "sortie", "lancement",
        "releasedatum", "uitgiftedatum", "fechadelanzamiento", "lanzamiento",
    ),
    "tags": (
        "tags", "tag", "categories", "keywords", "labels", "schlagworter", "schlagwoerter",
        "stichworte", "schlagworte", "motscles", "trefwoorden", "etiquetas", "etiketten",
    ),
    "category": (
        "category", "productcategory", "section", "kategorie", "categorie", "group",
        "department", "type", "warengruppe", "rubrik", "categoria", "familie", "famille",
    ),
    "color": ("color", "colour", "farbe", "couleur", "kleur"),
    "size": ("size", "dimensions", "grosse", "groesse", "taille", "maat"),
    "weight": ("weight", "weightkg", "gewicht", "poids", "netweight", "peso"),
    "email": ("email", "emailaddress", "mail", "contactemail", "contact"),
    "rating": ("rating", "stars", "score", "reviewscore"),
}  # fmt: skip

#: Available-from / ships-from dates: neither stock nor a release date (never mapped).
NEVER = (
    "availablefrom", "availabledate", "shipsfrom", "shipdate", "lieferbarab", "verfugbarab",
    "verfuegbarab", "lieferdatum", "liefertermin", "dispole", "disponiblele",
    "disponibleapartirdu", "disponiblea", "leverbaarvanaf", "beschikbaarvanaf",
    "disponibledesde", "eta", "expected", "restockdate", "nachschub",
)  # fmt: skip
#: Model numbers: the article code of a table that has no other code column.
WEAK_CODES = ("model", "modelno", "modelnumber", "modelnr", "modell", "modele", "modelo", "typ", "art")  # fmt: skip
#: Position numbers are never the SKU.
POSITION = ("no", "nr", "pos", "position", "posnr", "lfdnr", "line", "lineno", "n", "numero")

# Price roles, strongest preference first: net / dealer price, unit or plain price, list
# price, line amount (quantity x price). Stems are matched inside the normalized header.
_AMOUNT = ("amount", "betrag", "montant", "bedrag", "importe", "extvalue", "extended", "ext",
           "wert", "linetotal", "total", "gesamt", "value", "summe")  # fmt: skip
_LIST = ("list", "rrp", "msrp", "uvp", "brutto", "gross", "public", "ttc", "advies", "pvp",
         "retail", "compareat", "regular", "statt", "streich", "vorher", "was")  # fmt: skip
_NET = ("netto", "net", "yourprice", "ihrpreis", "votreprix", "uwprijs", "ht", "dealer",
        "handler", "haendler", "wholesale", "trade", "sale", "angebot", "aktion", "promo",
        "special", "now", "einkauf", "hek", "neto", "revendeur")  # fmt: skip
_PRICE_STEMS = ("price", "preis", "prix", "prijs", "precio", "amount", "betrag", "montant",
                "bedrag", "importe", "extvalue", "uvp", "rrp", "msrp", "pvp", "netto", "brutto",
                "ttc")  # fmt: skip
_ROLE_NAMES = {3: "net price", 2: "unit price", 1: "list price", 0: "line amount"}

_UNIT_SUFFIX = re.compile(
    r"\s*(?:[(\[][^)\]]{1,12}[)\]]|[$€£¥]|\b(?:EUR|USD|GBP|CHF|JPY)\b|\bin\s+\S{1,4})\s*$", re.I
)

# Tiers of evidence, strongest first (recorded in the report as "by").
_TIERS = {5: "pin", 4: "exact", 3: "normalized", 2: "synonym", 1: "fuzzy", 0: "content"}
POSITIONAL = re.compile(r"^column \d+$")


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


def known_header(text: str) -> bool:
    """A column title of product data in one of the languages the mapper knows."""
    norm = normalize(text)
    if not norm or len(norm) > 40:
        return False
    if norm in _KNOWN or norm in NEVER:
        return True
    return any(stem in norm for stem in _PRICE_STEMS)


_KNOWN = frozenset(s for spellings in SYNONYMS.values() for s in spellings)
_CONCEPT_OF = {s: concept for concept, spellings in SYNONYMS.items() for s in spellings}


def header_concept(text: str) -> str | None:
    """The product concept a column title names (``Unit price (EUR)`` -> ``price``), if any."""
    norm = normalize(text)
    found = _CONCEPT_OF.get(norm) or _CONCEPT_OF.get(normalize(_UNIT_SUFFIX.sub("", str(text))))
    if found is None and any(stem in norm for stem in _PRICE_STEMS):
        return "price"
    return found


def price_role(header: str) -> int:
    """3 net/dealer price, 2 unit or plain price, 1 list price, 0 line amount."""
    norm = normalize(header)
    words = set(_words(header).split())
    if any(stem in norm for stem in _AMOUNT if len(stem) > 3) or words & {"ext", "amount"}:
        return 0
    if any(stem in norm for stem in _LIST if len(stem) > 3) or words & set(_LIST):
        return 1
    if any(stem in norm for stem in _NET if len(stem) > 3) or words & set(_NET):
        return 3
    return 2


def _price_like(header: str) -> bool:
    norm = normalize(header)
    return any(stem in norm for stem in _PRICE_STEMS)


#: Quantity headers that do not say whether they count stock or what is ordered.
_COUNT_ONLY = frozenset(
    ["quantity", "qty", "menge", "anzahl", "quantite", "qte", "aantal", "cantidad", "stk"]
)
#: Headers that name a price by its role alone ("Was" | "Now", "Statt" | "Jetzt"): a price
#: column when its values are numbers.
_ROLE_ONLY = frozenset(
    ("was", "now", "sale", "statt", "jetzt", "vorher", "nu", "voor", "avant", "maintenant",
     "antes", "ahora", "special", "offer", "deal", "promo", "aktion", "angebot", "regular")
)  # fmt: skip


def _role_only(header: str) -> bool:
    words = _words(header).split()
    return 0 < len(words) <= 2 and all(w in _ROLE_ONLY for w in words)


def _shape(values: list[Any]) -> str:
    from .coerce import coerce

    def share(kind: str) -> float:
        return sum(1 for v in values if coerce(v, {"type": kind})[1] is None) / len(values)

    if share("date") >= 0.6:
        return "dates"
    if share("number") >= 0.6:
        return "numbers"
    if share("boolean") >= 0.6:
        return "yes/no values"
    return "text values"


def _ordered(quantities: list[Any], prices: list[Any], amounts: list[Any]) -> bool:
    """Quantity x unit price gives the line amount on most rows: the quantities are what a
    quote or an order asks for, not stock."""
    from .coerce import coerce

    def number(value: Any) -> float | None:
        found, issue = coerce(value, {"type": "number"})
        return float(found) if issue is None and isinstance(found, (int, float)) else None

    checked = agreed = 0
    for q, p, a in zip(quantities, prices, amounts, strict=False):
        q, p, a = number(q), number(p), number(a)
        if q is None or p is None or a is None:
            continue
        checked += 1
        agreed += abs(q * p - a) <= 0.01 + 1e-6 * abs(a)
    return checked >= 1 and agreed >= 0.8 * checked


def _all_codes(values: list[Any]) -> bool:
    """Every value one token holding a digit (AT-100, 4711): article numbers, not names."""
    texts = [str(v).strip() for v in values if str(v or "").strip()]
    return len(texts) >= 2 and all(is_code(t) for t in texts)


def _mostly_words(values: list[Any]) -> bool:
    texts = [str(v).strip() for v in values if str(v or "").strip()]
    return bool(texts) and sum(len(t.split()) >= 2 for t in texts) >= 0.6 * len(texts)


def _quantities(values: list[Any]) -> bool:
    """Stock quantities: whole numbers, not only 0 and 1 (those read as no/yes)."""
    from .coerce import count_of

    numbers = []
    for v in values:
        text = str(count_of(v)).strip()
        if isinstance(v, bool) or not re.fullmatch(r"[-+]?\d+(?:\.0+)?", text):
            return False
        numbers.append(float(text))
    return bool(numbers) and any(n not in (0, 1) for n in numbers)


class Mapper:
    """Maps each distinct header set (one per table of a document) and remembers what it did,
    for the report: which header went where and by what evidence, which were left unmapped and
    why, and the rules applied (a stock quantity read as in_stock)."""

    def __init__(self, columns: list[dict[str, Any]], context: str | None = None) -> None:
        self.columns = columns
        self.by_key = {c["key"]: c for c in columns}
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
        self.key_of = {concept: key for key, concept in reversed(self.concept_of.items())}
        self._cache: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self._scores: dict[str, list[tuple[int, float, str]]] = {}
        self.used: dict[str, dict[str, str]] = {}
        self.seen: dict[str, None] = {}
        self.reasons: dict[str, str] = {}
        self.notes: list[str] = []
        #: Headers whose stock quantities fill a yes/no column (quantity > 0).
        self.quantity: set[str] = set()

    # -- scoring one header against every column -----------------------------------------
    def _candidates(self, header: str) -> list[tuple[int, float, str]]:
        cached = self._scores.get(header)
        if cached is not None:
            return cached
        norm = normalize(header)
        found: list[tuple[int, float, str]] = []
        if norm in self.pins:
            found.append((5, 100.0, self.pins[norm]))
            self._scores[header] = found
            return found
        if norm in NEVER:
            self._scores[header] = found
            self.reasons.setdefault(
                header, "an available-from date is neither stock nor a release date"
            )
            return found
        # "Net ($)", "Preis (EUR)", "Prijs €": the unit after the name is no part of it.
        bare = normalize(_UNIT_SUFFIX.sub("", header)) or norm
        for col in self.columns:
            key = col["key"]
            concept = self.concept_of.get(key, "")
            if concept == "sku" and norm in POSITION:
                continue  # a position number is never the article number
            if self.exact.get(header.strip()) == key:
                found.append((4, 100.0, key))
            elif norm and self.normal.get(norm) == key:
                found.append((3, 100.0, key))
            elif norm and (norm in SYNONYMS.get(concept, ()) or bare in SYNONYMS.get(concept, ())):  # fmt: skip
                found.append((2, 100.0, key))
            elif concept == "sku" and bare in WEAK_CODES:
                found.append((2, 80.0, key))  # a model number: the code when no other is
            elif concept == "in_stock" and (norm in SYNONYMS["quantity"] or bare in SYNONYMS["quantity"]):  # fmt: skip
                found.append((2, 90.0, key))  # a stock quantity: in_stock by quantity > 0
            elif len(norm) >= 4:
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

    def _misfit(self, header: str, key: str, values: list[Any], strong: bool = False) -> str | None:
        """Why the sample values of ``header`` cannot fill column ``key``, or None. A header
        named like the column (``strong``) is refused only when none of its values fit."""
        from .coerce import coerce, is_measure

        column = self.by_key[key]
        kind = column.get("type", "text")
        vals = [v for v in values if v is not None and str(v).strip() != ""][:60]
        if not vals:
            return None
        if kind == "boolean" and _quantities(vals):
            return None
        if kind in ("number", "boolean", "date", "url", "image", "email"):
            good = 0
            for v in vals:
                issue = coerce(v, column)[1]
                good += issue is None or (issue[0] == "warning" and kind != "boolean")
            if good >= 0.6 * len(vals) or (strong and (good or len(vals) < 3)):
                return None
            return f"{_shape(vals)} do not fit {key} ({kind})"
        if self.concept_of.get(key) == "sku" and sum(map(is_measure, vals)) >= len(vals) / 2:
            return "sizes and weights are not article numbers"
        if self.concept_of.get(key) == "sku" and normalize(_UNIT_SUFFIX.sub("", header)) in WEAK_CODES:  # fmt: skip
            from .values import is_sku_like

            # "Model" or "Art." may name a kind ("Art: Akku"): codes only.
            if sum(1 for v in vals if is_sku_like(str(v))) < 0.6 * len(vals):
                return "the values are not article codes"
        return None

    def _prices(
        self, headers: tuple[str, ...], samples: dict[str, list[Any]] | None
    ) -> tuple[str | None, set[str]]:
        """The one header for the price column when several compete, by the documented
        preference (net over unit over list price over line amount), and the headers that
        lose. Two of the same rank: none is taken, and both are reported."""
        key = self.key_of.get("price")
        if key is None:
            return None, set()
        contenders = [
            h
            for h in headers
            if h not in (TITLE, SECTION)
            and normalize(h) not in self.pins
            and normalize(h) not in NEVER
            and (
                any(k == key for _, _, k in self._candidates(h))
                or _price_like(h)
                or (_role_only(h) and bool(samples) and h in samples)  # numbers: _misfit
            )
            and not (samples and h in samples and self._misfit(h, key, samples[h]))
        ]
        if len(contenders) < 2:
            return (contenders[0] if contenders else None), set()
        ranked = sorted(contenders, key=price_role, reverse=True)
        best = price_role(ranked[0])
        winners = [h for h in ranked if price_role(h) == best]
        if len(winners) > 1:
            for h in winners:
                others = ", ".join(repr(o) for o in winners if o != h)
                self.reasons.setdefault(h, f"competes with {others} for {key}: left unmapped")
            losers = set(contenders)
            return None, losers
        for h in ranked[1:]:
            self.reasons.setdefault(
                h,
                f"a {_ROLE_NAMES[price_role(h)]}; the {_ROLE_NAMES[best]} {ranked[0]!r} "
                f"fills {key}",
            )
        return ranked[0], set(ranked[1:])

    def map(
        self, headers: Iterable[str], samples: dict[str, list[Any]] | None = None
    ) -> list[tuple[str, str]]:
        """``[(header, column key)]`` for one header set, strongest matches taken first; each
        header feeds one column and each column takes one header, and only when its sample
        values fit the column's type. ``TITLE`` and ``SECTION`` are added last as fallbacks for
        the name and category columns. ``samples`` (values per header) also let headerless
        tables be mapped by content."""
        headers = tuple(dict.fromkeys(headers))
        cached = self._cache.get(headers)
        if cached is not None:
            return cached
        for h in headers:
            if h not in (TITLE, SECTION):
                self.seen.setdefault(h, None)
        order = {h: i for i, h in enumerate(headers)}
        price_key = self.key_of.get("price")
        price_header, price_losers = self._prices(headers, samples)
        candidates = [
            (tier, score, -order[h], h, key)
            for h in headers
            if h not in (TITLE, SECTION)
            for tier, score, key in self._candidates(h)
            if not (key == price_key and h in price_losers and tier < 5)
        ]
        forced: dict[str, str] = {}
        if price_header is not None and price_key is not None:
            if not any(k == price_key for _, _, k in self._candidates(price_header)):
                candidates.append((2, 100.0, -order[price_header], price_header, price_key))
                forced[price_header] = "price word"
            elif price_losers:
                forced[price_header] = "price preference"
        candidates.sort(reverse=True)
        mapping: dict[str, str] = {}
        taken: set[str] = set()
        for tier, _score, _o, header, key in candidates:
            if header in mapping or key in taken:
                continue
            if tier < 5 and samples is not None and header in samples:
                problem = self._misfit(header, key, samples[header], strong=tier >= 3)
                if problem:
                    self.reasons.setdefault(header, problem)
                    continue
            mapping[header] = key
            taken.add(key)
            by = forced.get(header) if key == price_key else None
            self.used.setdefault(header, {"column": key, "by": by or _TIERS[tier]})
        self._codes_are_not_names(headers, mapping, taken, samples)
        self._description_as_name(headers, mapping, taken, samples)
        if samples:
            from .content import map_by_content

            free = [h for h in headers if h not in mapping and POSITIONAL.match(h)]
            found = map_by_content(free, samples, self.columns, self.concept_of, taken)
            for header, key in found.items():
                mapping[header] = key
                taken.add(key)
                self.used.setdefault(header, {"column": key, "by": _TIERS[0]})
        stock = self.key_of.get("in_stock")
        self._drop_ordered_quantity(headers, mapping, samples)
        for header, key in mapping.items():
            if key == stock and self.by_key[key].get("type") == "boolean":
                values = [v for v in (samples or {}).get(header, []) if str(v or "").strip()]
                quantity = normalize(header) in SYNONYMS["quantity"] or _quantities(values)
                if quantity and header not in self.quantity:
                    self.quantity.add(header)
                    self.notes.append(f"{key} from {header!r} (quantity > 0)")
        result = sorted(mapping.items(), key=lambda item: order[item[0]])
        if TITLE in headers:
            name_key = self._name_key()
            if name_key:
                result.append((TITLE, name_key))  # used only when the name is still empty
                self.used.setdefault(TITLE, {"column": name_key, "by": "title line"})
        if SECTION in headers and self.key_of.get("category"):
            result.append((SECTION, self.key_of["category"]))  # only when still empty
        if len(self._cache) < 512:
            self._cache[headers] = result
        return result

    def _drop_ordered_quantity(
        self,
        headers: tuple[str, ...],
        mapping: dict[str, str],
        samples: dict[str, list[Any]] | None,
    ) -> None:
        """A bare quantity ("Qty", "Menge") mapped to stock that, times the price, gives a
        line-amount column is the quantity a quote or an order asks for: left unmapped, and
        said so."""
        stock, price = self.key_of.get("in_stock"), self.key_of.get("price")
        if not samples or stock is None or price is None:
            return
        by_key = {key: header for header, key in mapping.items()}
        quantity, unit = by_key.get(stock), by_key.get(price)
        if quantity is None or unit is None or quantity not in samples or unit not in samples:
            return
        if normalize(quantity) not in _COUNT_ONLY:
            return  # "On hand" x price = "Ext. value": the stock's worth in an inventory report
        for amount in headers:
            if amount in (quantity, unit) or amount not in samples or price_role(amount) != 0:
                continue
            if _ordered(samples[quantity], samples[unit], samples[amount]):
                del mapping[quantity]
                self.used.pop(quantity, None)
                self.reasons[quantity] = (
                    f"an ordered quantity ({quantity!r} x {unit!r} = {amount!r}), not stock"
                )
                return

    def _codes_are_not_names(
        self,
        headers: tuple[str, ...],
        mapping: dict[str, str],
        taken: set[str],
        samples: dict[str, list[Any]] | None,
    ) -> None:
        """ "Item" or "Artikel" mean the article in some documents and its number in others:
        a column mapped to the name that holds only codes, beside a name or description
        column of words, is the article number (the SKU when that is free)."""
        name_key, sku_key = self.key_of.get("name"), self.key_of.get("sku")
        if not samples or name_key is None:
            return
        coded = next((h for h, k in mapping.items() if k == name_key), None)
        if coded is None or not _all_codes(samples.get(coded, [])):
            return
        words = next(
            (
                h
                for h in headers
                if h not in mapping
                and normalize(h) in (*SYNONYMS["name"], *SYNONYMS["description"])
                and _mostly_words(samples.get(h, []))
            ),
            None,
        )
        if words is None:
            return
        del mapping[coded]
        self.used.pop(coded, None)
        mapping[words] = name_key
        self.used[words] = {"column": name_key, "by": "names beside codes"}
        if sku_key is not None and sku_key not in taken:
            mapping[coded] = sku_key
            taken.add(sku_key)
            self.used[coded] = {"column": sku_key, "by": "article codes"}
        else:
            self.reasons[coded] = f"holds article codes; the names are in {words!r}"

    def _description_as_name(
        self,
        headers: tuple[str, ...],
        mapping: dict[str, str],
        taken: set[str],
        samples: dict[str, list[Any]] | None,
    ) -> None:
        """A description column is the name when no better name column exists; so is a
        "Model" column of words ("Smart plug"), which elsewhere holds model numbers."""
        name_key = self.key_of.get("name")
        if name_key is None or name_key in taken:
            return
        for header in headers:
            if header in mapping:
                continue
            if normalize(header) in SYNONYMS["description"]:
                by = "description as name"
            elif (
                normalize(_UNIT_SUFFIX.sub("", header)) in WEAK_CODES
                and samples
                and _mostly_words(samples.get(header, []))
            ):
                by = "model names"
            else:
                continue
            mapping[header] = name_key
            taken.add(name_key)
            self.used.setdefault(header, {"column": name_key, "by": by})
            self.reasons.pop(header, None)
            return

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
        unmapped = [h for h in self.seen if h not in self.used]
        out: dict[str, Any] = {
            "mapping": {h: v for h, v in self.used.items()},
            "unmapped_source_columns": unmapped,
        }
        reasons = {h: self.reasons[h] for h in unmapped if h in self.reasons}
        if reasons:
            out["unmapped_reasons"] = reasons
        return out


def map_headers(headers: Iterable[str], columns: list[dict[str, Any]]) -> dict[str, str]:
    """Header -> column key for one header set (compatibility helper over ``Mapper``)."""
    return dict(Mapper(columns).map(headers))
