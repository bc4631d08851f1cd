"""How each language and region prints a product list: number and date formats, currency
placement, yes/no words, column headers (with trade abbreviations), total lines and notes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
}  # fmt: skip

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CHF": "CHF"}


@dataclass(frozen=True)
class Locale:
    key: str
    lang: str
    decimal: str
    group: str
    date_styles: tuple[str, ...]  # keys of DATE_STYLES this region writes
    symbol_after: bool  # "12,50 €" rather than "€12.50"


LOCALES: dict[str, Locale] = {
    "en-US": Locale("en-US", "en", ".", ",", ("us", "long_us", "iso"), False),
    "en-GB": Locale("en-GB", "en", ".", ",", ("slash_dmy", "long_dmy", "iso"), False),
    "de": Locale("de", "de", ",", ".", ("dotted", "long_dmy", "iso"), True),
    "de-CH": Locale("de-CH", "de", ".", "'", ("dotted", "iso"), False),
    "fr": Locale("fr", "fr", ",", "\u202f", ("slash_dmy", "long_dmy"), True),
    "nl": Locale("nl", "nl", ",", ".", ("dash_dmy", "long_dmy", "iso"), False),
    "es": Locale("es", "es", ",", ".", ("slash_dmy", "long_dmy"), True),
}


def amount(value: float, loc: Locale, *, decimals: int = 2, group: str | None = None) -> str:
    """``1299.5`` as the locale prints it: ``1,299.50``, ``1.299,50``, ``1'299.50`` ..."""
    text = f"{value:,.{decimals}f}"
    sep = loc.group if group is None else group
    return text.replace(",", "\x00").replace(".", loc.decimal).replace("\x00", sep)


def money(value: float, currency: str, loc: Locale, *, code: bool = False) -> str:
    """A price with its currency sign placed the local way (``code``: ISO code instead)."""
    sign = currency if code else SYMBOLS[currency]
    number = amount(value, loc)
    if sign == "$" and loc.lang == "en":
        return f"${number}"
    if sign in ("£",):
        return f"£{number}"
    if loc.symbol_after:
        return f"{number}\u00a0{sign}" if sign == "€" else f"{number} {sign}"
    return f"{sign} {number}" if len(sign) > 1 or loc.lang == "nl" else f"{sign}{number}"


DATE_STYLES = {
    "us": lambda d, lang: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "long_us": lambda d, lang: f"{MONTHS['en'][d.month - 1][:3]} {d.day}, {d.year}",
    "iso": lambda d, lang: d.isoformat(),
    "slash_dmy": lambda d, lang: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "dotted": lambda d, lang: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "dash_dmy": lambda d, lang: f"{d.day:02d}-{d.month:02d}-{d.year}",
    "long_dmy": lambda d, lang: (
        f"{d.day}. {MONTHS[lang][d.month - 1]} {d.year}"
        if lang == "de"
        else f"{d.day} de {MONTHS[lang][d.month - 1]} de {d.year}"
        if lang == "es"
        else f"{d.day} {MONTHS[lang][d.month - 1]} {d.year}"
    ),
}


def fmt_date(d: date, loc: Locale, style: str) -> str:
    return DATE_STYLES[style](d, loc.lang)


YES_NO = {
    "en": [("Yes", "No"), ("Y", "N"), ("In stock", "Out of stock"), ("✓", "–"), ("yes", "no")],
    "de": [("ja", "nein"), ("Ja", "Nein"), ("lieferbar", "nicht lieferbar"), ("auf Lager", "ausverkauft"), ("✓", "–")],
    "fr": [("oui", "non"), ("Oui", "Non"), ("en stock", "rupture"), ("disponible", "épuisé"), ("✓", "–")],
    "nl": [("ja", "nee"), ("Ja", "Nee"), ("op voorraad", "niet op voorraad"), ("leverbaar", "uitverkocht"), ("✓", "–")],
    "es": [("sí", "no"), ("Sí", "No"), ("en stock", "agotado"), ("disponible", "agotado"), ("✓", "–")],
}  # fmt: skip

# Column headers per field; several alternatives each, trade abbreviations included.
HEADERS: dict[str, dict[str, list[str]]] = {
    "en": {
        "name": ["Product", "Product Name", "Description", "Item Description", "Article"],
        "sku": ["SKU", "Item #", "Item No.", "Part No.", "Art. No.", "Product Code"],
        "brand": ["Brand", "Manufacturer", "Mfr.", "Make"],
        "price": ["Price", "Unit Price", "Price each", "Unit price"],
        "net": ["Net price", "Your price", "Dealer price", "Net"],
        "list": ["List price", "RRP", "MSRP", "List"],
        "currency": ["Currency", "Curr.", "CCY"],
        "in_stock": ["In stock", "Availability", "Avail.", "Stock status"],
        "qty": ["Stock", "Qty on hand", "On hand", "Qty avail."],
        "available_from": ["Available from", "Avail. date", "Ships from"],
        "release_date": ["Release date", "Released", "Launch date"],
        "tags": ["Tags", "Keywords"],
        "url": ["URL", "Link", "Product page"],
        "ean": ["EAN", "GTIN", "Barcode"],
        "uom": ["UOM", "Unit"],
        "weight": ["Weight", "Wt."],
        "qty_ordered": ["Qty", "Quantity"],
        "amount": ["Amount", "Line total", "Ext. price"],
    },
    "de": {
        "name": ["Bezeichnung", "Artikelbezeichnung", "Artikel", "Produkt", "Bez."],
        "sku": ["Art.-Nr.", "Artikelnummer", "Artikel-Nr.", "Best.-Nr.", "Bestellnummer"],
        "brand": ["Hersteller", "Marke", "Fabrikat"],
        "price": ["Preis", "Einzelpreis", "Stückpreis", "EP"],
        "net": ["Netto", "Ihr Preis", "Händlerpreis", "Nettopreis"],
        "list": ["UVP", "Listenpreis", "Brutto"],
        "currency": ["Währung", "Whg."],
        "in_stock": ["Verfügbar", "Lieferbar", "Verfügbarkeit"],
        "qty": ["Lagerbestand", "Bestand", "Lagermenge"],
        "available_from": ["Lieferbar ab", "Verfügbar ab"],
        "release_date": ["Erscheinungsdatum", "Markteinführung"],
        "tags": ["Schlagwörter", "Stichwörter"],
        "url": ["Link", "URL", "Produktseite"],
        "ean": ["EAN", "GTIN"],
        "uom": ["VPE", "ME", "Einheit"],
        "weight": ["Gewicht"],
        "qty_ordered": ["Menge", "Anz."],
        "amount": ["Betrag", "Gesamtpreis", "GP"],
    },
    "fr": {
        "name": ["Désignation", "Produit", "Article", "Libellé"],
        "sku": ["Réf.", "Référence", "Code article", "Réf. article"],
        "brand": ["Marque", "Fabricant"],
        "price": ["Prix", "Prix unitaire", "P.U.", "Prix HT"],
        "net": ["Prix net", "Votre prix", "Prix HT"],
        "list": ["Prix public", "Prix catalogue", "Prix TTC"],
        "currency": ["Devise"],
        "in_stock": ["Dispo", "Disponible", "En stock"],
        "qty": ["Stock", "Qté en stock", "Qté dispo"],
        "available_from": ["Disponible à partir du", "Dispo. le"],
        "release_date": ["Date de sortie", "Lancement"],
        "tags": ["Mots-clés", "Étiquettes"],
        "url": ["Lien", "URL", "Page produit"],
        "ean": ["EAN", "Code EAN"],
        "uom": ["Unité", "UV"],
        "weight": ["Poids"],
        "qty_ordered": ["Qté", "Quantité"],
        "amount": ["Montant", "Total ligne"],
    },
    "nl": {
        "name": ["Omschrijving", "Product", "Artikel", "Productnaam"],
        "sku": ["Artikelnr.", "Art.nr.", "Artikelnummer", "Bestelnr."],
        "brand": ["Merk", "Fabrikant"],
        "price": ["Prijs", "Stukprijs", "Prijs per stuk"],
        "net": ["Nettoprijs", "Uw prijs", "Netto"],
        "list": ["Adviesprijs", "Catalogusprijs", "Bruto"],
        "currency": ["Valuta", "Munteenheid"],
        "in_stock": ["Op voorraad", "Leverbaar", "Beschikbaar"],
        "qty": ["Voorraad", "Aantal op voorraad"],
        "available_from": ["Leverbaar vanaf", "Beschikbaar vanaf"],
        "release_date": ["Releasedatum", "Introductiedatum"],
        "tags": ["Trefwoorden", "Labels"],
        "url": ["Link", "URL", "Productpagina"],
        "ean": ["EAN"],
        "uom": ["Eenheid", "VE"],
        "weight": ["Gewicht"],
        "qty_ordered": ["Aantal"],
        "amount": ["Bedrag", "Totaal regel"],
    },
    "es": {
        "name": ["Producto", "Descripción", "Artículo"],
        "sku": ["Ref.", "Referencia", "Código"],
        "brand": ["Marca", "Fabricante"],
        "price": ["Precio", "Precio unitario"],
        "net": ["Precio neto", "Su precio"],
        "list": ["PVP", "Precio de lista"],
        "currency": ["Moneda"],
        "in_stock": ["Disponible", "En stock"],
        "qty": ["Existencias", "Stock"],
        "available_from": ["Disponible desde"],
        "release_date": ["Fecha de lanzamiento", "Lanzamiento"],
        "tags": ["Etiquetas"],
        "url": ["Enlace", "URL"],
        "ean": ["EAN"],
        "uom": ["Unidad"],
        "weight": ["Peso"],
        "qty_ordered": ["Cant.", "Cantidad"],
        "amount": ["Importe"],
    },
}

TOTALS = {
    "en": {"subtotal": ["Subtotal", "Sub-total"], "tax": ["VAT 20%", "Sales tax 8.25%", "Tax"], "total": ["Total", "Grand total", "Order total", "TOTAL"]},
    "de": {"subtotal": ["Zwischensumme", "Summe"], "tax": ["MwSt. 19%", "zzgl. 19% MwSt."], "total": ["Gesamt", "Gesamtsumme", "Summe gesamt", "Gesamtbetrag"]},
    "fr": {"subtotal": ["Sous-total", "Total HT"], "tax": ["TVA 20%", "TVA (20 %)"], "total": ["Total TTC", "Total général", "TOTAL"]},
    "nl": {"subtotal": ["Subtotaal"], "tax": ["BTW 21%", "21% BTW"], "total": ["Totaal", "Totaal incl. BTW", "Eindtotaal"]},
    "es": {"subtotal": ["Subtotal", "Base imponible"], "tax": ["IVA 21%"], "total": ["Total", "Total con IVA"]},
}  # fmt: skip

CURRENCY_WORDS = {
    "en": {"USD": "US dollars", "EUR": "euros", "GBP": "pounds sterling", "CHF": "Swiss francs"},
    "de": {"USD": "US-Dollar", "EUR": "Euro", "GBP": "britischen Pfund", "CHF": "Schweizer Franken"},
    "fr": {"USD": "dollars US", "EUR": "euros", "GBP": "livres sterling", "CHF": "francs suisses"},
    "nl": {"USD": "Amerikaanse dollars", "EUR": "euro", "GBP": "Britse ponden", "CHF": "Zwitserse frank"},
    "es": {"USD": "dólares", "EUR": "euros", "GBP": "libras", "CHF": "francos suizos"},
}  # fmt: skip

# A note naming the currency ("{cur}": code, symbol or word, picked per document).
CURRENCY_NOTES = {
    "en": ["Prices in {cur}.", "All prices are in {cur}, excluding VAT.", "Prices shown in {cur} per unit."],
    "de": ["Alle Preise in {cur} zzgl. MwSt.", "Preise in {cur}, netto.", "Preise in {cur} inkl. MwSt."],
    "fr": ["Prix en {cur} HT.", "Tous nos prix sont exprimés en {cur}.", "Prix unitaires en {cur}."],
    "nl": ["Alle prijzen in {cur} excl. BTW.", "Prijzen in {cur}, per stuk."],
    "es": ["Precios en {cur}, IVA no incluido.", "Todos los precios en {cur}."],
}  # fmt: skip

# Notes that say nothing about currency (fine print above or below a table).
FINE_PRINT = {
    "en": ["Prices subject to change without notice.", "E&OE. Delivery within 3-5 working days.", "Minimum order value: 50.00", "Free shipping on orders over 250.00"],
    "de": ["Irrtümer und Änderungen vorbehalten.", "Lieferung frei Haus ab 250,00.", "Mindestbestellwert 50,00", "Es gelten unsere AGB."],
    "fr": ["Sous réserve de modifications.", "Franco de port à partir de 250,00.", "Minimum de commande : 50,00", "Conditions générales de vente sur demande."],
    "nl": ["Prijswijzigingen en drukfouten voorbehouden.", "Gratis verzending vanaf 250,00.", "Minimale bestelwaarde 50,00"],
    "es": ["Precios sujetos a cambios sin previo aviso.", "Envío gratuito a partir de 250,00."],
}  # fmt: skip

TITLES = {
    "en": ["Price List {year}", "Product Catalog {year}", "Stock List", "Wholesale price list - {season} {year}", "Current offer"],
    "de": ["Preisliste {year}", "Artikelliste", "Lagerliste Stand {date}", "Händlerpreisliste {season} {year}", "Aktuelles Angebot"],
    "fr": ["Tarifs {year}", "Catalogue {year}", "Liste de prix au {date}", "Tarif professionnel {season} {year}"],
    "nl": ["Prijslijst {year}", "Voorraadlijst", "Assortiment {year}", "Dealerprijslijst {season} {year}"],
    "es": ["Lista de precios {year}", "Catálogo {year}", "Tarifa {season} {year}"],
}  # fmt: skip

SEASONS = {"en": ["Spring", "Autumn"], "de": ["Frühjahr", "Herbst"], "fr": ["printemps", "automne"], "nl": ["voorjaar", "najaar"], "es": ["primavera", "otoño"]}  # fmt: skip

SECTION_NAMES = {
    "en": {}, "de": {"drill": "Bohren", "driver": "Schrauben", "grinder": "Schleifen", "socket": "Steckschlüssel", "wrench": "Schlüssel", "vacuum": "Werkstatt", "site": "Baustelle", "saw": "Sägen", "hammer": "Handwerkzeug", "measuring": "Messen", "coffee": "Kaffee", "tea": "Tee", "pipetting": "Pipettieren", "glassware": "Glaswaren", "consumables": "Verbrauchsmaterial"},
    "fr": {"coffee": "Cafés", "tea": "Thés", "chocolate": "Chocolats", "oil": "Huiles", "knitwear": "Maille", "trousers": "Pantalons", "outerwear": "Vestes"},
    "nl": {"audio": "Audio", "usb": "Accessoires", "display": "Beeldschermen", "paper": "Papier", "pens": "Schrijfwaren", "desk": "Bureau"},
    "es": {"oil": "Aceites", "vinegar": "Vinagres", "honey": "Mieles"},
}  # fmt: skip


def section_name(category: str, lang: str) -> str:
    return SECTION_NAMES.get(lang, {}).get(category, category.title())


def pick_header(rng: random.Random, lang: str, field: str) -> str:
    return rng.choice(HEADERS[lang][field])


def title_line(rng: random.Random, loc: Locale) -> str:
    text = rng.choice(TITLES[loc.lang])
    return text.format(
        year=rng.choice([2024, 2025]),
        season=rng.choice(SEASONS[loc.lang]),
        date=fmt_date(date(2025, rng.randint(1, 12), rng.randint(1, 28)), loc, loc.date_styles[0]),
    )


def currency_note(rng: random.Random, loc: Locale, currency: str) -> str:
    how = rng.choice(["code", "word", "symbol"])
    cur = {"code": currency, "word": CURRENCY_WORDS[loc.lang][currency], "symbol": SYMBOLS[currency]}[how]  # fmt: skip
    return rng.choice(CURRENCY_NOTES[loc.lang]).format(cur=cur)
