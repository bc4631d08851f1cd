"""What a short piece of text is, whatever layout it came from: a price (and its currency), an
availability phrase, a ``Label: value`` pair naming a product field, a SKU-like code. Shared by
the page, block, report and e-mail readers, in the five languages the engine reads."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "FIELD_LABELS",
    "Price",
    "currency_in",
    "currency_note",
    "field_of_label",
    "find_price",
    "is_prose",
    "is_sku_like",
    "label_key",
    "split_label",
    "stock_of",
]

_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "Fr.": "CHF"}
_CODES = ("USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK")
_CUR = r"(?:US\$|[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK|PLN|CZK)\b|Fr\.)"
# A number as prices print it: 1,299.00 / 1.299,00 / 1'299.00 / 1 299,00 / 12.5k / 1,2 Tsd.
_NUM = r"\d{1,3}(?:[,.'\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2}|,-|\.-)?|\d+(?:[.,]\d{1,2}|,-|\.-)?"
_MAG = r"(?:\s?(?:k|K|M|Mio\.?|Tsd\.?|mil))?"
_PRICE_WORDS = (
    r"price|our price|your price|unit price|net|net price|now|sale|from|only|each|per unit"
    r"|preis|ihr preis|netto|nettopreis|ab|nur|prix|prix net|prix ht|dès|à partir de|precio"
    r"|precio neto|desde|prijs|nettoprijs|vanaf|nu|special price|offer|angebot|promo"
)
_TAIL_WORDS = (
    r"each|ea\.?|/\s*(?:pc|pcs|piece|unit|ea|stk|stück|pièce|unidad|stuk)|per (?:piece|unit)"
    r"|incl\.? (?:vat|tax|mwst\.?)|excl\.? (?:vat|tax)|zzgl\.? mwst\.?|inkl\.? mwst\.?"
    r"|ht|ttc|hors taxes|btw|iva incl\.?|net|netto|\*"
)
_PRICE_RE = re.compile(
    rf"^(?:(?:{_PRICE_WORDS})\s*:?\s*)?(?P<c1>{_CUR})?\s*(?P<num>-?(?:{_NUM})){_MAG}\s*"
    rf"(?P<c2>{_CUR})?(?:\s*(?:{_TAIL_WORDS}))*\.?$",
    re.I,
)
_HAS_DECIMALS = re.compile(r"[.,]\d{2}$|,-$|\.-$")


@dataclass(frozen=True)
class Price:
    """A price read from text: ``text`` is the number as printed (``1.299,00``, ``12.5k``) so
    coercion can use the column's evidence for ambiguous separators; ``currency`` an ISO code."""

    text: str
    currency: str | None


def _currency_code(symbol: str | None) -> str | None:
    if not symbol:
        return None
    symbol = symbol.strip()
    return _SYMBOLS.get(symbol) or (symbol.upper() if symbol.upper() in _CODES else None)


def find_price(text: str, *, loose: bool = False) -> Price | None:
    """The price ``text`` is (a sign, a code or two decimals make a number a price; ``loose``
    accepts a bare number too, for text already known to be a price), else ``None``."""
    text = " ".join(text.split())
    if not text or len(text) > 60:
        return None
    match = _PRICE_RE.match(text)
    if match is None:
        return None
    symbol = match.group("c1") or match.group("c2")
    number = match.group("num")
    magnitude = text[match.end("num") :].lstrip()[:4]
    if not (symbol or loose or _HAS_DECIMALS.search(number)):
        return None
    printed = number.rstrip("-").rstrip(",.")
    if number.endswith(("-",)):  # "1.099,-": whole units, the dot groups thousands
        printed = re.sub(r"[.,'\s]", "", printed)
    mag = re.match(r"(k|K|M|Mio\.?|Tsd\.?)\b", magnitude)
    if mag:
        printed += " " + mag.group(1)
    return Price(printed, _currency_code(symbol))


def currency_in(text: str) -> str | None:
    """The currency a text names by sign or ISO code (``Unit Price (USD)``, ``Prix (€)``)."""
    match = re.search(_CUR, text)
    return _currency_code(match.group(0)) if match else None


_NOTE = re.compile(
    r"(?:prices?|preise?|prix|precios?|prijzen|currency|w[äa]hrung|devise|moneda|valuta|amounts?"
    r"|betr[äa]ge|montants?|importes?|bedragen)\b[^.\n]{0,40}?"
    rf"(?:in|en|:|=)\s*(?P<cur>{_CUR}|dollars?|euros?|pounds?|francs?)",
    re.I,
)
_NAMED = {"dollar": "USD", "euro": "EUR", "pound": "GBP", "franc": "CHF"}


def currency_note(text: str) -> str | None:
    """The currency a note states: ``Prices in USD``, ``Alle Preise in EUR zzgl. MwSt.``,
    ``CURRENCY: EUR``, ``Prix en euros``."""
    match = _NOTE.search(text)
    if not match:
        return None
    found = match.group("cur")
    return _currency_code(found) or _NAMED.get(found.lower().rstrip("s"))


# -- availability --------------------------------------------------------------------------
_IN = (
    r"in stock|on stock|available|available now|ready to ship|ships today|in store|instock"
    r"|only \d+ left|only \d+ in stock|\d+ in stock|\d+ available|few left|low stock|last items?"
    r"|auf lager|lieferbar|sofort lieferbar|verfügbar|vorrätig|am lager|nur noch \d+"
    r"|en stock|disponible|en magasin|plus que \d+|op voorraad|leverbaar|direct leverbaar"
    r"|beschikbaar|nog \d+|en existencia|disponible|quedan \d+|yes|ja|oui|sí|si|y|✓|✔|true"
)
_OUT = (
    r"out of stock|sold out|not available|unavailable|currently unavailable|no stock"
    r"|discontinued|backorder(?:ed)?|on backorder|pre-?order|coming soon|notify me"
    r"|ausverkauft|nicht lieferbar|nicht verfügbar|nicht auf lager|vergriffen|derzeit nicht"
    r"|épuisé|epuise|rupture(?: de stock)?|indisponible|non disponible|uitverkocht"
    r"|niet leverbaar|niet op voorraad|niet beschikbaar|agotado|sin existencias|sin stock"
    r"|no disponible|no|nein|non|nee|n|✗|✘|–|false"
)
_STOCK_TAIL = r"(?:\s*\([^)]*\)|\s*:\s*\d+(?:\s+\w+)?)?[.!]?$"
_STOCK_IN = re.compile(rf"^(?:{_IN}){_STOCK_TAIL}", re.I)
_STOCK_OUT = re.compile(rf"^(?:{_OUT}){_STOCK_TAIL}", re.I)
_QUANTITY = re.compile(r"^(?:stock|qty|on hand|bestand|lager|voorraad|existencias)?\s*:?\s*(\d+)$", re.I)  # fmt: skip
_SCHEMA = re.compile(r"(?:schema\.org/)?(\w+)$")
_SCHEMA_STOCK = {
    "instock": True, "instoreonly": True, "onlineonly": True, "limitedavailability": True,
    "presale": False, "preorder": False, "backorder": False, "outofstock": False,
    "soldout": False, "discontinued": False,
}  # fmt: skip


def stock_of(text: str, *, short_words: bool = False) -> bool | None:
    """``True``/``False`` for an availability phrase (``In stock``, ``Only 3 left``,
    ``ausverkauft``, ``épuisé``, schema.org ``InStock``), else ``None``. Bare yes/no words
    count only with ``short_words`` (a cell already known to be about stock)."""
    text = " ".join(text.split()).strip()
    if not text or len(text) > 60:
        return None
    if "schema.org" in text or re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", text):
        found = _SCHEMA_STOCK.get(_SCHEMA.search(text).group(1).lower())  # type: ignore[union-attr]
        if found is not None:
            return found
    words = len(text.split())
    if not short_words and words == 1 and text.lower() in _SHORT:
        return None
    if _STOCK_OUT.match(text):
        return False
    if _STOCK_IN.match(text):
        return True
    if short_words and (qty := _QUANTITY.match(text)):
        return int(qty.group(1)) > 0
    return None


_SHORT = {"yes", "ja", "oui", "sí", "si", "y", "no", "nein", "non", "nee", "n", "true", "false", "–"}  # fmt: skip


# -- labels ----------------------------------------------------------------------------------
def label_key(text: str) -> str:
    """A label reduced for look-up: ``Art.-Nr.:`` -> ``artnr``, ``Réf.`` -> ``ref``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("#", "no"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", plain)


_LABEL_FIELDS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku", "itemno", "itemnumber", "item", "itemcode", "partno", "partnumber", "part",
        "artno", "artnr", "articleno", "articlenumber", "article", "productcode", "productno",
        "productid", "code", "ref", "reference", "artikelnummer", "artikelnr", "bestnr",
        "bestellnummer", "bestellnr", "reference", "codearticle", "bestelnr", "bestelnummer",
        "artikelcode", "codigo", "codigoarticulo", "referencia", "modelno", "catno", "stockcode",
    ),
    "ean": ("ean", "gtin", "upc", "barcode", "ean13", "gtin13", "eancode", "codebarre"),
    "mpn": ("mpn", "mfrpartno", "manufacturerpartnumber", "herstellernummer"),
    "brand": (
        "brand", "manufacturer", "mfr", "make", "maker", "vendor", "hersteller", "marke",
        "fabrikat", "marque", "fabricant", "merk", "fabrikant", "marca", "fabricante", "by", "von",
        "par", "door", "por",
    ),
    "price": (
        "price", "unitprice", "ourprice", "yourprice", "netprice", "net", "saleprice", "now",
        "preis", "ihrpreis", "netto", "nettopreis", "stuckpreis", "einzelpreis", "prix",
        "prixnet", "prixht", "prixunitaire", "prijs", "nettoprijs", "stukprijs", "precio",
        "precioneto", "preciounitario", "offer", "special", "angebot",
    ),
    "list price": (
        "list", "listprice", "rrp", "msrp", "uvp", "brutto", "bruttopreis", "was", "regular",
        "regularprice", "prixpublic", "prixttc", "adviesprijs", "pvp", "compareat", "statt",
        "avant", "voor", "antes", "retailprice",
    ),
    "in_stock": (
        "stock", "instock", "availability", "available", "verfugbarkeit", "lieferbarkeit",
        "lager", "lagerbestand", "bestand", "disponibilite", "enstock", "qteenstock",
        "beschikbaarheid", "voorraad", "disponibilidad", "existencias", "onhand", "qtyavail",
        "qtyavailable", "status", "lieferstatus", "leverbaarheid", "stockstatus",
    ),
    "tags": ("tags", "tag", "keywords", "schlagworter", "stichworte", "motscles", "etiquettes", "trefwoorden", "etiketten", "etiquetas", "palabrasclave"),
    "category": ("category", "kategorie", "categorie", "categoria", "rubrik", "warengruppe", "productgroup", "productgroep", "gamme"),
    "release_date": ("released", "releasedate", "release", "launch", "launchdate", "erscheinungsdatum", "erscheint", "datedesortie", "sortie", "releasedatum", "fechadelanzamiento", "lanzamiento"),
    "name": ("name", "product", "productname", "bezeichnung", "produkt", "artikelbezeichnung", "nom", "produit", "designation", "naam", "omschrijving", "nombre", "producto", "descripcion", "title", "titel", "titre"),
    "description": ("description", "beschreibung", "details", "descriptif", "beschrijving"),
    "url": ("url", "link", "web", "website", "productpage"),
    "currency": ("currency", "wahrung", "devise", "moneda", "valuta"),
}  # fmt: skip
FIELD_LABELS: dict[str, str] = {k: f for f, keys in _LABEL_FIELDS.items() for k in keys}


def field_of_label(label: str) -> str | None:
    """The product field a printed label names (``Art.-Nr.`` -> ``sku``), else ``None``."""
    return FIELD_LABELS.get(label_key(label))


#: Abbreviations that name an article number only when a code follows them ("Art. 4711-2",
#: "No. AX-100"); alone they are ordinary words ("Art" is German for "kind").
_CODE_ONLY_LABELS = {"art", "no", "nr", "nro", "num"}
_LABEL_SPLIT = re.compile(r"^\s*([^:：]{1,32}?)\s*[:：]\s*(.+)$")
_LABEL_WORDS = re.compile(r"^(item\s*#|art\.?-?\s*nr\.?|sku|ref\.?|réf\.?|ean|gtin|upc|mpn)\s*#?\s*(\S.*)$", re.I)  # fmt: skip


def split_label(text: str) -> tuple[str, str, str] | None:
    """``(field, label, value)`` for ``SKU: AX1`` / ``Art.-Nr. 4711`` / ``by Acme``; the field is
    the known product field or the label itself (``Color``) for other labels."""
    text = " ".join(text.split())
    match = _LABEL_SPLIT.match(text)
    if match and not re.match(r"^https?$", match.group(1), re.I):
        label, value = match.group(1), match.group(2).strip()
        field = field_of_label(label)
        if field is not None or (len(label.split()) <= 3 and not re.search(r"\d", label)):
            return field or label, label, value
    match = _LABEL_WORDS.match(text)
    if match:
        field = field_of_label(match.group(1))
        if field:
            return field, match.group(1), match.group(2).strip()
    words = text.split()
    for n in (3, 2, 1):  # "Item no. AX-100", "Artikelnummer 4711-02", "Réf. MK190"
        if len(words) == n + 1:
            head = " ".join(words[:n])
            fieldname = field_of_label(head)
            if fieldname is None and n == 1 and label_key(head) in _CODE_ONLY_LABELS:
                fieldname = "sku"  # "Art. NF-41": an abbreviation that names a code only here
            code = words[n].lstrip("#:")
            if fieldname in ("sku", "ean") and (is_sku_like(code) or (code.isdigit() and len(code) >= 4)):  # fmt: skip
                return fieldname, " ".join(words[:n]), code
    match = re.match(r"^(by|von|par|door|por)\s+(\S.{0,40})$", text, re.I)
    if match and match.group(2)[:1].isupper():
        return "brand", match.group(1), match.group(2).strip()
    return None


# -- codes and prose -------------------------------------------------------------------------
_SKU = re.compile(r"^(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-_./]{2,24}$|^\d{3,7}(?:[-./]\d{1,6})+$|^\d{2}(?:-\d{1,6}){2,}$")  # fmt: skip
_MEASURE = re.compile(
    r"^\d+(?:[.,/]\d+)?\s?(?:mm|cm|m|km|kg|g|mg|l|ml|cl|v|w|kw|wh|mah|ah|oz|lb|lbs|in|ft|pc|pcs"
    r"|pk|x|hz|ghz|mhz|gb|tb|mb|mp|k|p|st|stk|pairs?|er|°c|%)$",
    re.I,
)
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def is_sku_like(token: str) -> bool:
    """A code as sellers print article numbers (``ECH-9``, ``AX-100/B``, ``4711-02``): letters
    and digits, no spaces; not a size, weight, date, price or barcode."""
    token = token.strip()
    if not _SKU.match(token) or _MEASURE.match(token) or _DATE.match(token):
        return False
    return not token.isdigit()


def is_prose(text: str) -> bool:
    """A sentence rather than a field: several words ending in a full stop, or many words."""
    words = text.split()
    return (len(words) >= 6 and text.rstrip()[-1:] in ".!?:") or len(words) >= 14
