"""Part A templates (tables): exports, reports, price lists, quotes and offers as CSV/TSV,
Markdown and plain text, XLSX/XLS, ruled PDF tables, DOCX and HTML, plus multi-file tables
with one bad file. Each template draws its vendor, language, columns and traps from the seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Any

from .case import CATEGORY_COLUMN, GROUP_TABLES, PRODUCTS_COLUMNS, Case, truth_row
from .catalog import VENDORS, Product, Vendor, lang_of, make_products
from .grid import (
    Col,
    Style,
    Table,
    build_lines,
    cell_text,
    grid_rows,
    html_table,
    markdown,
    random_style,
    write_docx,
    write_pdf_table,
    write_xls,
    write_xlsx,
)
from .locales import (
    FINE_PRINT,
    LOCALES,
    SYMBOLS,
    TOTALS,
    Locale,
    currency_note,
    fmt_date,
    pick_header,
    section_name,
    title_line,
)
from .render import (
    csv_text,
    docx_bytes,
    new_pdf,
    pdf_bytes,
    png_picture,
    truncated,
    xls_bytes,
    xlsx_bytes,
)

PRICE_HEADER_WITH_CURRENCY = {
    "en": ["{h} ({c})", "{h} in {c}", "{h} [{c}]"],
    "de": ["{h} ({c})", "{h} in {c}", "{h} {s}"],
    "fr": ["{h} ({s})", "{h} en {c}"],
    "nl": ["{h} ({c})", "{h} in {s}"],
    "es": ["{h} ({s})", "{h} en {c}"],
}

CONTEXTS = {
    "en": "prices are in {c}",
    "de": "prices are in {c}",
    "fr": "Les prix sont en {c}.",
    "nl": "prices are in {c}",
    "es": "prices are in {c}",
}


# Roughly how often each language appears; a template's constraints may narrow the choice.
LANG_MIX = ["en"] * 4 + ["de"] * 3 + ["fr"] * 3 + ["nl"] * 2 + ["es"]


def pick_vendor(rng: random.Random, *, industries: tuple[str, ...] = (), langs: tuple[str, ...] = ()) -> Vendor:  # fmt: skip
    pool = [
        v
        for v in VENDORS
        if (not industries or v.industry in industries)
        and (not langs or lang_of(v.locale) in langs)
    ]
    present = {lang_of(v.locale) for v in pool}
    lang = rng.choice([lang for lang in LANG_MIX if lang in present])
    return rng.choice([v for v in pool if lang_of(v.locale) == lang])


FILE_STEMS = {
    "export": {"en": ["export", "products", "item_export"], "de": ["export_artikel", "artikel"], "fr": ["export_articles", "produits"], "nl": ["export_artikelen", "producten"], "es": ["exportacion", "productos"]},
    "report": {"en": ["stock_report", "inventory"], "de": ["lagerliste", "bestandsliste"], "fr": ["etat_stock", "inventaire"], "nl": ["voorraadlijst", "voorraad"], "es": ["inventario"]},
    "dealer": {"en": ["dealer_prices", "trade_prices"], "de": ["haendlerpreise"], "fr": ["tarif_revendeur"], "nl": ["dealerprijzen"], "es": ["tarifa_distribuidor"]},
    "pricelist": {"en": ["price_list", "pricelist"], "de": ["preisliste"], "fr": ["tarifs", "tarif"], "nl": ["prijslijst"], "es": ["tarifa", "lista_precios"]},
    "offer": {"en": ["offer", "quote_request"], "de": ["angebot"], "fr": ["offre"], "nl": ["aanbieding", "offerte"], "es": ["oferta"]},
    "message": {"en": ["message", "availability"], "de": ["nachricht", "verfuegbarkeit"], "fr": ["message", "disponibilites"], "nl": ["bericht"], "es": ["mensaje"]},
    "range": {"en": ["range", "catalogue"], "de": ["sortiment"], "fr": ["catalogue", "gamme"], "nl": ["assortiment"], "es": ["catalogo"]},
    "stock": {"en": ["stock"], "de": ["bestand"], "fr": ["stock"], "nl": ["voorraad"], "es": ["stock"]},
}  # fmt: skip


def filename(rng: random.Random, kind: str, lang: str, suffix: str) -> str:
    return rng.choice(FILE_STEMS[kind][lang]) + suffix


LANG_LOCALE = {LOCALES[k].lang: LOCALES[k] for k in ("en-US", "de", "fr", "nl", "es")}
PHONES = {"en-US": "+1 (216) 555-0142", "en-GB": "+44 118 496 0123", "de": "+49 30 1234 5678", "de-CH": "+41 44 123 45 67", "fr": "+33 4 72 00 12 34", "nl": "+31 30 123 45 67", "es": "+34 953 12 34 56"}  # fmt: skip


def nth(name: str) -> int:
    """The case's number within its template (1, 2, ...), to rotate variants evenly."""
    return int(name.rsplit("-", 1)[1])


class Doc:
    """What one template decides while it builds a document: columns, style, notes, traps."""

    def __init__(self, rng: random.Random, vendor: Vendor, products: list[Product]) -> None:
        self.rng = rng
        self.vendor = vendor
        self.loc: Locale = LOCALES[vendor.locale]
        self.lang = self.loc.lang
        self.products = products
        self.traps: list[str] = []
        self.above: list[str] = []
        self.below: list[str] = []
        self.context: str | None = None
        self.currency_known = True
        self.style: Style = random_style(rng, self.loc, vendor.currency)
        self.notes: list[str] = []
        self.group = GROUP_TABLES

    def header(self, field: str) -> str:
        return pick_header(self.rng, self.lang, field)

    def cols(self, fields: list[str]) -> list[Col]:
        return [Col(f, self.header(f) if f != "blank" else "") for f in fields]

    def currency(self, way: str, cols: list[Col]) -> list[Col]:
        """Apply one way of stating the currency; returns the (maybe extended) columns."""
        rng, lang, cur = self.rng, self.lang, self.vendor.currency
        self.traps.append(f"currency-{way}")
        if way == "symbol":
            self.style.price = rng.choice(["symbol", "symbol", "code"])
            return cols
        self.style.price = "plain"
        if way == "header":
            for c in cols:
                if c.field in ("price", "net"):
                    pattern = rng.choice(PRICE_HEADER_WITH_CURRENCY[lang])
                    c.header = pattern.format(h=c.header, c=cur, s=SYMBOLS[cur])
            return cols
        if way == "column":
            at = next(i for i, c in enumerate(cols) if c.field in ("price", "net", "list"))
            last_price = max(i for i, c in enumerate(cols) if c.field in ("price", "net", "list", "amount"))  # fmt: skip
            where = rng.choice([at, last_price + 1])
            return [*cols[:where], Col("currency", self.header("currency")), *cols[where:]]
        if way == "note":
            note = currency_note(rng, self.loc, cur)
            (self.above if rng.random() < 0.5 else self.below).append(note)
            return cols
        if way == "context":
            self.context = CONTEXTS[lang].format(c=cur)
            return cols
        self.currency_known = False  # "none"
        return cols

    def title(self, p: float = 1.0) -> None:
        if self.rng.random() < p:
            self.above.insert(0, title_line(self.rng, self.loc))
            self.traps.append("title-lines")

    def fine_print(self, p: float = 0.5) -> None:
        if self.rng.random() < p:
            (self.below if self.rng.random() < 0.7 else self.above).append(
                self.rng.choice(FINE_PRINT[self.lang])
            )
            self.traps.append("notes")

    def fields(self, cols: list[Col], extra: tuple[str, ...] = ()) -> list[str]:
        have = {c.field for c in cols}
        out = ["name"]
        out += [f for f in ("sku", "brand") if f in have]
        if have & {"price", "net"}:
            out.append("price")
            if self.currency_known:
                out.append("currency")
        if have & {"in_stock", "qty"}:
            out.append("in_stock")
        out += [f for f in ("release_date", "tags", "url") if f in have]
        return out + list(extra)

    def case(
        self,
        name: str,
        category: str,
        fields: list[str],
        rows: list[dict[str, Any]],
        *,
        files: list[tuple[str, bytes]] | None = None,
        text: str | None = None,
        columns: list[dict[str, Any]] | None = None,
        key: str | None = None,
        failed: list[str] | None = None,
    ) -> Case:
        return Case(
            case=name,
            category=category,
            group=self.group,
            rows=rows,
            fields=fields,
            traps=[*self.traps, f"lang-{self.lang}"],
            files=files or [],
            text=text,
            additional_context=self.context,
            key=key or ("sku" if "sku" in fields else "name"),
            expect_failed_files=failed or [],
            columns=columns or list(PRODUCTS_COLUMNS),
            notes=" ".join(self.notes) or None,
        )


def truth(products: list[Product], fields: list[str], **by: Callable[[Product], Any]) -> list[dict[str, Any]]:  # fmt: skip
    return [truth_row(p, fields, **{k: f(p) for k, f in by.items()}) for p in products]


def optional_fields(rng: random.Random, pool: list[str], low: int, high: int) -> list[str]:
    chosen = rng.sample(pool, rng.randint(low, high))
    return [f for f in pool if f in chosen]  # keep a natural order


def note_traps(doc: Doc, cols: list[Col]) -> None:
    have = {c.field for c in cols}
    for f, trap in (("ean", "ean-column"), ("blank", "blank-column"), ("weight", "weights"), ("uom", "uom-column"), ("qty", "stock-quantity"), ("available_from", "available-from-date")):  # fmt: skip
        if f in have:
            doc.traps.append(trap)
    if doc.loc.decimal == "," or doc.loc.group not in (",",):
        doc.traps.append("locale-numbers")
    if doc.style.date_style in ("slash_dmy", "dotted", "dash_dmy") and "release_date" in have:
        doc.traps.append("day-first-dates")
    if doc.style.yes_no[0] not in ("Yes", "yes", "Y", "In stock") and "in_stock" in have:
        doc.traps.append("local-booleans")
    if sum(1 for c in cols if c.field in ("sku", "name")) == 2 and cols[0].field == "sku":
        doc.traps.append("sku-first")


def encode(text: str, rng: random.Random, lang: str) -> bytes:
    if lang != "en" and rng.random() < 0.3:
        try:
            return text.encode("cp1252")  # an old Windows export
        except UnicodeEncodeError:
            pass
    return text.encode("utf-8-sig" if rng.random() < 0.3 else "utf-8")


def section_of(lang: str) -> Callable[[Product], str]:
    return lambda p: section_name(p.category, lang)


def by_section(products: list[Product]) -> list[Product]:
    order: dict[str, int] = {}
    for p in products:
        order.setdefault(p.category, len(order))
    return sorted(products, key=lambda p: order[p.category])


# -- CSV / TSV -------------------------------------------------------------------------------------
def csv_export(rng: random.Random, name: str) -> Case:
    """A shop or ERP export: one header row, maybe title lines above and notes below."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(8, 16)))
    head = rng.choice([["name", "sku"], ["sku", "name"]])
    extra = optional_fields(rng, ["brand", "ean", "uom", "weight", "release_date", "tags", "url"], 2, 5)  # fmt: skip
    fields = [*head, *extra[:2], "price", rng.choice(["in_stock", "qty"]), *extra[2:]]
    if nth(name) % 2 == 0:
        fields.insert(rng.randint(2, len(fields) - 1), "blank")
    if doc.lang != "en" and "release_date" not in fields:
        fields.insert(-1, "release_date")
        doc.style.date_style = doc.loc.date_styles[0]  # the region's numeric dates
    way = ["symbol", "header", "column", "note", "context"][(nth(name) - 1) % 5]
    cols = doc.currency(way, doc.cols(fields))
    doc.title(0.5)
    doc.fine_print()
    note_traps(doc, cols)
    table = Table(cols, build_lines(rng, doc.products, cols, doc.style), doc.style)
    tab = rng.random() < 0.25
    delimiter = "\t" if tab else ("," if doc.lang == "en" else ";")
    body = csv_text(grid_rows(table), delimiter)
    lines = [*doc.above, *([""] if doc.above else [])]
    text = "\r\n".join(lines) + ("\r\n" if lines else "") + body
    if doc.below:
        text += "\r\n" + "\r\n".join(doc.below) + "\r\n"
    suffix = ".tsv" if tab and rng.random() < 0.6 else (".txt" if tab else ".csv")
    f = doc.fields(cols)
    files = [(filename(rng, "export", doc.lang, suffix), encode(text, rng, doc.lang))]
    return doc.case(name, "csv", f, truth(doc.products, f), files=files)  # fmt: skip


def csv_report(rng: random.Random, name: str) -> Case:
    """A printed report saved as CSV: sections, subtotals, a grand total, the header repeated
    at every page break, stock quantity next to an available-from date."""
    vendor = pick_vendor(rng, langs=("de", "fr", "nl", "en"))
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(14, 24))))
    fields = ["sku", "name", *optional_fields(rng, ["brand", "uom"], 0, 2), "price", "qty"]
    if rng.random() < 0.7:
        fields.append("available_from")
    cols = doc.currency(rng.choice(["symbol", "header", "note", "column"]), doc.cols(fields))
    doc.title()
    doc.fine_print(0.6)
    note_traps(doc, cols)
    price_at = next(i for i, c in enumerate(cols) if c.field == "price")
    label_col = rng.choice([0, max(0, price_at - 1)])
    if label_col:
        doc.traps.append("total-label-not-first")
    every = rng.choice([None, 6, 8])
    page_word = {"en": "Page", "de": "Seite", "fr": "Page", "nl": "Pagina", "es": "Página"}[
        doc.lang
    ]
    lines = build_lines(
        rng,
        doc.products,
        cols,
        doc.style,
        sections=section_of(doc.lang),
        subtotals=rng.random() < 0.6,
        totals="total",
        total_label_col=label_col,
        repeat_header_every=every,
        page_label=(lambda n: f"{page_word} {n}") if every and rng.random() < 0.6 else None,
    )
    doc.traps += ["sections", "totals"] + (["repeated-headers"] if every else [])
    if any(ln.kind == "total" for ln in lines[:-1]):
        doc.traps.append("subtotals")
    table = Table(cols, lines, doc.style)
    delimiter = "," if doc.lang == "en" else ";"
    text = "\r\n".join([*doc.above, ""]) + "\r\n" + csv_text(grid_rows(table), delimiter)
    if doc.below:
        text += "\r\n" + "\r\n".join(doc.below) + "\r\n"
    with_category = rng.random() < 0.5
    f = doc.fields(cols, ("category",) if with_category else ())
    columns = [*PRODUCTS_COLUMNS, CATEGORY_COLUMN] if with_category else None
    rows = truth(doc.products, f, category=section_of(doc.lang))
    if with_category:
        doc.notes.append("category = the section heading the row stands under.")
    if "available_from" in fields:
        doc.notes.append("The available-from date is neither stock nor release date.")
    files = [(filename(rng, "report", doc.lang, ".csv"), encode(text, rng, doc.lang))]
    return doc.case(name, "csv", f, rows, files=files, columns=columns)  # fmt: skip


TWO_ROW_PRICE = {
    "en": ("Price", "List", "Net"),
    "de": ("Preis", "UVP", "netto"),
    "fr": ("Prix", "public", "net"),
    "nl": ("Prijs", "advies", "netto"),
    "es": ("Precio", "PVP", "neto"),
}


def competing_cols(doc: Doc, two_row: bool) -> list[Col]:
    rng = doc.rng
    base = rng.choice([["name", "sku"], ["sku", "name"]])
    extra = optional_fields(rng, ["brand", "ean", "in_stock", "url"], 1, 3)
    cols = doc.cols([*base, *[f for f in extra if f != "in_stock"]])
    group, list_word, net_word = TWO_ROW_PRICE[doc.lang]
    if two_row:
        prices = [Col("list", list_word, group), Col("net", net_word, group)]
        doc.traps.append("two-row-header")
    else:
        prices = [Col("list", doc.header("list")), Col("net", doc.header("net"))]
    if rng.random() < 0.3:
        prices.reverse()
    cols += prices
    if "in_stock" in extra:
        cols.append(Col("in_stock", doc.header("in_stock")))
    doc.traps.append("competing-price-columns")
    doc.notes.append("price = the net / dealer price, not the list price (RRP, MSRP, UVP).")
    return cols


def csv_competing(rng: random.Random, name: str) -> Case:
    """A dealer price list with list price and net price side by side."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(8, 14)))
    two_row = rng.random() < 0.5
    cols = doc.currency(rng.choice(["symbol", "header", "column", "note"]), competing_cols(doc, two_row))  # fmt: skip
    doc.title(0.7)
    doc.fine_print()
    note_traps(doc, cols)
    table = Table(cols, build_lines(rng, doc.products, cols, doc.style), doc.style)
    delimiter = rng.choice([",", "\t"]) if doc.lang == "en" else rng.choice([";", "\t"])
    text = "\r\n".join([*doc.above, ""] if doc.above else []) + ("\r\n" if doc.above else "")
    text += csv_text(grid_rows(table), delimiter) + "".join(f"\r\n{n}" for n in doc.below)
    suffix = ".tsv" if delimiter == "\t" else ".csv"
    files = [(filename(rng, "dealer", doc.lang, suffix), encode(text, rng, doc.lang))]
    f = doc.fields(cols)
    return doc.case(name, "csv", f, truth(doc.products, f), files=files)  # fmt: skip


def magnitude_price(rng: random.Random) -> float:
    if rng.random() < 0.15:
        return round(rng.uniform(1.1, 3.9), 1) * 1_000_000
    return round(rng.uniform(1.2, 98), 1) * 1000


def csv_magnitudes(rng: random.Random, name: str) -> Case:
    """Laboratory equipment with prices written in thousands and millions ($12.5k, 1,2 Mio. €)."""
    vendor = pick_vendor(rng, industries=("lab",))
    products = make_products(rng, vendor, rng.randint(7, 12))
    for p in products:
        p.price = magnitude_price(rng)
        p.list_price = p.price * 1.2
    doc = Doc(rng, vendor, products)
    doc.style.price = "magnitude"
    doc.traps += ["magnitudes", "currency-symbol"]
    fields = ["name", "sku", *optional_fields(rng, ["brand", "release_date", "url"], 1, 2), "price", "in_stock"]  # fmt: skip
    cols = doc.cols(fields)
    doc.title(0.8)
    note_traps(doc, cols)
    table = Table(cols, build_lines(rng, doc.products, cols, doc.style), doc.style)
    delimiter = "\t" if rng.random() < 0.5 else ("," if doc.lang == "en" else ";")
    text = "\n".join([*doc.above, ""]) + "\n" + csv_text(grid_rows(table), delimiter).replace("\r\n", "\n")  # fmt: skip
    files = [(filename(rng, "pricelist", doc.lang, ".tsv" if delimiter == "\t" else ".csv"), text.encode())]  # fmt: skip
    f = doc.fields(cols)
    return doc.case(name, "csv", f, truth(doc.products, f), files=files)


# -- Markdown and plain text -----------------------------------------------------------------------
def text_markdown(rng: random.Random, name: str) -> Case:
    """A Markdown page (a wiki or README price list): heading, notes, a table with bold section
    and total rows."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(7, 13))))
    fields = ["name", "sku", *optional_fields(rng, ["brand", "tags", "url"], 0, 2), "price", "in_stock"]  # fmt: skip
    cols = doc.currency(rng.choice(["symbol", "header", "note", "context"]), doc.cols(fields))
    sections = rng.random() < 0.6
    totals = rng.choice(["total", "none"])
    lines = build_lines(rng, doc.products, cols, doc.style, sections=section_of(doc.lang) if sections else None, totals=totals)  # fmt: skip
    doc.traps += (["sections"] if sections else []) + (["totals"] if totals != "none" else [])
    doc.title()
    doc.fine_print(0.7)
    note_traps(doc, cols)
    table = Table(cols, lines, doc.style)
    out = [f"# {doc.above[0]}", "", *[f"_{n}_" for n in doc.above[1:]], "", *markdown(table), ""]
    out += [f"> {n}" for n in doc.below]
    text = "\n".join(out) + "\n"
    f = doc.fields(cols)
    inline = rng.random() < 0.4
    files = None if inline else [(filename(rng, "pricelist", doc.lang, ".md"), text.encode())]  # fmt: skip
    return doc.case(name, "text-table", f, truth(doc.products, f), files=files, text=text if inline else None)  # fmt: skip


GREETINGS = {
    "en": (["Hi {who},", "Dear {who},", "Hello {who},"], ["As discussed on the phone, here is what we can ship this week (PO ref. {ref}):", "Please find below our current availability. Prices are per unit, ex works.", "Thanks for your enquiry of {date}. We can offer the following:"], ["Let me know if you need anything else.", "Prices valid for 14 days.", "Looking forward to your order."], ["Best regards,", "Kind regards,", "Cheers,"]),
    "de": (["Hallo {who},", "Sehr geehrte Damen und Herren,", "Guten Tag {who},"], ["wie telefonisch besprochen, hier unser aktuelles Angebot (Ihre Anfrage Nr. {ref}):", "anbei die Artikel, die wir kurzfristig liefern können:", "vielen Dank für Ihre Anfrage vom {date}. Wir bieten Ihnen an:"], ["Bei Fragen stehe ich gerne zur Verfügung.", "Das Angebot gilt 14 Tage.", "Wir freuen uns auf Ihre Bestellung."], ["Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße"]),
    "fr": (["Bonjour {who},", "Madame, Monsieur,", "Cher {who},"], ["Suite à notre échange, voici notre offre (réf. {ref}) :", "Veuillez trouver ci-dessous nos disponibilités :", "Merci pour votre demande du {date}. Nous pouvons vous proposer :"], ["N'hésitez pas à me contacter pour toute question.", "Offre valable 14 jours.", "Dans l'attente de votre commande."], ["Cordialement,", "Bien à vous,", "Meilleures salutations,"]),
    "nl": (["Hallo {who},", "Beste {who},", "Geachte heer/mevrouw,"], ["Zoals besproken, hierbij ons actuele aanbod (ref. {ref}):", "Hieronder de artikelen die we direct kunnen leveren:", "Bedankt voor uw aanvraag van {date}. Wij bieden u aan:"], ["Laat het gerust weten als u vragen heeft.", "Deze aanbieding is 14 dagen geldig."], ["Met vriendelijke groet,", "Groeten,"]),
    "es": (["Hola {who}:", "Estimado {who}:"], ["Como hablamos por teléfono, aquí tiene nuestra oferta (ref. {ref}):", "Le detallo a continuación los artículos disponibles:"], ["Quedo a su disposición para cualquier consulta.", "Oferta válida 14 días."], ["Un saludo,", "Atentamente,"]),
}  # fmt: skip
PEOPLE = {"en": ["Sarah", "Mr Patel", "Tom"], "de": ["Frau Keller", "Herr Brandt", "Jan"], "fr": ["Marie", "Monsieur Girard"], "nl": ["Pieter", "Sanne"], "es": ["Laura", "Sr. Ortega"]}  # fmt: skip
STOCK_WORDS = {
    "en": [("in stock", "out of stock"), ("available", "sold out"), ("on hand", "backordered")],
    "de": [("auf Lager", "nicht auf Lager"), ("lieferbar", "ausverkauft"), ("sofort lieferbar", "derzeit nicht lieferbar")],
    "fr": [("en stock", "en rupture"), ("disponible", "épuisé")],
    "nl": [("op voorraad", "niet op voorraad"), ("leverbaar", "uitverkocht")],
    "es": [("en stock", "agotado"), ("disponible", "sin stock")],
}  # fmt: skip


def signature(rng: random.Random, vendor: Vendor, lang: str) -> list[str]:
    person = rng.choice(["Anna Berger", "Mark Ellis", "Sophie Martin", "Joost de Vries", "Lucía Gómez", "Peter Olsen"])  # fmt: skip
    phone = PHONES[vendor.locale]
    role = {"en": "Sales", "de": "Vertrieb", "fr": "Service commercial", "nl": "Verkoop", "es": "Ventas"}[lang]  # fmt: skip
    return ["", person, f"{role} | {vendor.company}", f"Tel. {phone}", f"{vendor.city} · www.{vendor.domain}"]  # fmt: skip


def greeting_parts(rng: random.Random, lang: str) -> tuple[str, str, str, str]:
    hello, intro, outro, bye = GREETINGS[lang]
    return (
        rng.choice(hello).format(who=rng.choice(PEOPLE[lang])),
        rng.choice(intro).format(ref=f"PO-{rng.randint(2024, 2025)}-{rng.randint(100, 999)}", date=fmt_date(date(2025, rng.randint(1, 5), rng.randint(1, 28)), LANG_LOCALE[lang], "long_dmy" if lang != "en" else "long_us")),
        rng.choice(outro),
        rng.choice(bye),
    )  # fmt: skip


BY_WORD = {"en": "by ", "de": "von ", "fr": "de ", "nl": "van ", "es": "de "}
LISTING_STYLES = ["em", "en", "hyphen", "pipe", "tab", "paren"]
BULLETS = ["", "• ", "- ", "* ", "{n}. ", "{n}) "]


def listing_line(p: Product, style: str, bullet: str, n: int, parts: dict[str, str]) -> str:
    """One product on one line, as people type them in mails and notes."""
    lead = bullet.format(n=n)
    if style == "paren":
        head = f"{p.name} ({parts['sku']})" if parts.get("sku") else p.name
        rest = [parts[k] for k in ("brand", "price", "stock") if parts.get(k)]
        return lead + head + ": " + ", ".join(rest)
    sep = {"em": " — ", "en": " – ", "hyphen": " - ", "pipe": " | ", "tab": "\t"}[style]
    values = [p.name, *[parts[k] for k in ("sku", "brand", "price", "stock") if parts.get(k)]]
    return lead + sep.join(values)


def text_listing(rng: random.Random, name: str) -> Case:
    """A short message: greeting, intro, one product per line, closing and signature."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(5, 10)))
    lang = doc.lang
    style = LISTING_STYLES[(nth(name) - 1) % len(LISTING_STYLES)]
    bullet = rng.choice(BULLETS) if style != "tab" else ""
    with_sku = nth(name) % 3 != 0
    with_brand = rng.random() < 0.3
    with_stock = rng.random() < 0.6
    stock_words = rng.choice(STOCK_WORDS[lang])
    sku_label = rng.choice(["", "SKU ", "Art.-Nr. " if lang == "de" else "Ref. ", "#"])
    doc.style.price = rng.choice(["symbol", "symbol", "code"])
    out_lines = []
    for n, p in enumerate(doc.products, 1):
        parts = {
            "sku": (sku_label + p.sku if style != "paren" else p.sku) if with_sku else "",
            "brand": BY_WORD[lang] + p.brand if with_brand else "",
            "price": doc.style.money(p.price),
            "stock": (stock_words[0] if p.in_stock else stock_words[1]) if with_stock else "",
        }
        out_lines.append(listing_line(p, style, bullet, n, parts))
    hello, intro, outro, bye = greeting_parts(rng, lang)
    text = "\n".join([hello, "", intro, "", *out_lines, "", outro, "", bye, *signature(rng, vendor, lang)]) + "\n"  # fmt: skip
    doc.traps += [f"listing-{style}", "greeting-and-signature", "currency-symbol"]
    if not with_sku:
        doc.traps.append("no-sku")
        if any(any(ch.isdigit() for ch in p.name) for p in doc.products):
            doc.traps.append("dimensions-not-sku")
    fields = ["name", "sku", "price", "currency"]
    fields += ["brand"] if with_brand else []
    fields += ["in_stock"] if with_stock else []
    rows = truth(doc.products, fields, sku=lambda p: p.sku if with_sku else None)
    if not with_sku:
        doc.notes.append(
            "The lines carry no SKU: sku must stay empty (sizes and weights are not SKUs)."
        )
    inline = rng.random() < 0.5
    files = None if inline else [(filename(rng, "message", lang, ".txt"), text.encode())]  # fmt: skip
    return doc.case(name, "text-table", fields, rows, files=files, text=text if inline else None, key="sku" if with_sku else "name")  # fmt: skip


def ascii_table(t: Table) -> list[str]:
    rows = [t.header_rows()[0]] + [ln.cells for ln in t.lines if ln.kind != "header"]
    widths = [max(len(r[i]) for r in rows) for i in range(t.width)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(r: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    out = [rule, fmt(rows[0]), rule.replace("-", "=")]
    for line in t.lines:
        if line.kind == "total" and out[-1] != rule:
            out.append(rule)
        if line.kind != "header":
            out.append(fmt(line.cells))
    out.append(rule)
    return out


def text_ascii(rng: random.Random, name: str) -> Case:
    """A plain-text table drawn with + - | (a console or terminal export)."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(6, 11)))
    fields = ["sku", "name", *optional_fields(rng, ["brand", "weight", "release_date"], 1, 2), "price", "qty"]  # fmt: skip
    cols = doc.currency(rng.choice(["header", "symbol", "note"]), doc.cols(fields))
    doc.title()
    doc.fine_print(0.6)
    note_traps(doc, cols)
    lines = build_lines(rng, doc.products, cols, doc.style, totals="total", total_label_col=len(cols) - 2)  # fmt: skip
    doc.traps += ["totals", "total-label-not-first", "ascii-rules"]
    table = Table(cols, lines, doc.style)
    text = "\n".join([*doc.above, "", *ascii_table(table), "", *doc.below]) + "\n"
    f = doc.fields(cols)
    return doc.case(name, "text-table", f, truth(doc.products, f), files=[(filename(rng, "stock", doc.lang, ".txt"), text.encode())])  # fmt: skip


# -- spreadsheets ---------------------------------------------------------------------------------
STOCK_GROUP = {"en": "Stock", "de": "Lager", "fr": "Stock", "nl": "Voorraad", "es": "Stock"}
STOCK_SUBHEADERS = {
    "en": ("Qty", "Avail. from"),
    "de": ("Bestand", "Lieferbar ab"),
    "fr": ("Qté", "Dispo le"),
    "nl": ("Aantal", "Leverbaar vanaf"),
    "es": ("Cant.", "Disponible desde"),
}


def xlsx_merged(rng: random.Random, name: str) -> Case:
    """A formatted workbook: merged title, a two-row header with merged group cells, merged
    category rows, totals, a note beside the table, real numbers with currency formats."""
    from openpyxl import Workbook

    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(10, 18))))
    lang = doc.lang
    base = ["sku", "name", *optional_fields(rng, ["brand", "ean", "release_date"], 1, 2)]
    cols = doc.cols(base)
    if rng.random() < 0.5:
        cols += competing_cols_only(doc)
    else:
        cols.append(Col("price", doc.header("price")))
    if rng.random() < 0.5:
        group = STOCK_GROUP[lang]
        qty_word, from_word = STOCK_SUBHEADERS[lang]
        cols += [Col("qty", qty_word, group), Col("available_from", from_word, group)]
        doc.notes.append("The available-from date is neither stock nor release date.")
    else:
        cols.append(Col("in_stock", doc.header("in_stock")))
    if any(c.group for c in cols):
        doc.traps.append("two-row-header")
    way = rng.choice(["symbol", "header", "note", "context"])
    cols = doc.currency(way, cols)
    if way == "symbol":
        doc.style.price = "symbol"
        doc.traps.append("currency-number-format")
    doc.title()
    doc.fine_print(0.5)
    note_traps(doc, cols)
    money_at = max(i for i, c in enumerate(cols) if c.field in ("price", "net", "list"))
    lines = build_lines(rng, doc.products, cols, doc.style, sections=section_of(lang), subtotals=rng.random() < 0.6, totals="total", total_label_col=rng.choice([0, money_at - 1]))  # fmt: skip
    doc.traps += ["merged-cells", "sections", "totals"]
    table = Table(cols, lines, doc.style, above=doc.above, below=doc.below)
    if nth(name) % 2:
        table.beside = rng.choice(FINE_PRINT[lang])
        doc.traps.append("note-beside")
    wb = Workbook()
    ws = wb.active
    ws.title = {"en": "Price list", "de": "Preisliste", "fr": "Tarif", "nl": "Prijslijst", "es": "Tarifa"}[lang]  # fmt: skip
    write_xlsx(ws, table)
    f = doc.fields(cols)
    files = [(filename(rng, "pricelist", lang, "_2025.xlsx"), xlsx_bytes(wb))]
    return doc.case(name, "spreadsheet", f, truth(doc.products, f), files=files)  # fmt: skip


def competing_cols_only(doc: Doc) -> list[Col]:
    group, list_word, net_word = TWO_ROW_PRICE[doc.lang]
    doc.traps.append("competing-price-columns")
    doc.notes.append("price = the net / dealer price, not the list price (RRP, MSRP, UVP).")
    return [Col("list", list_word, group), Col("net", net_word, group)]


def xlsx_multi_table(rng: random.Random, name: str) -> Case:
    """Two product tables on one sheet (below each other or side by side), a conditions sheet
    with a shipping-rate table and a summary sheet holding only totals."""
    from openpyxl import Workbook

    vendor = pick_vendor(rng)
    lang = LOCALES[vendor.locale].lang
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(10, 16)))
    split = len(doc.products) // 2 + rng.randint(-1, 1)
    first, second = doc.products[:split], doc.products[split:]
    fields = ["name", "sku", *optional_fields(rng, ["brand", "url", "tags"], 0, 2), "price", "in_stock"]  # fmt: skip
    cols = doc.currency(rng.choice(["symbol", "header", "note"]), doc.cols(fields))
    cols2 = [Col(c.field, c.header) for c in cols]
    if rng.random() < 0.5:  # the second table orders its columns differently
        cols2 = [cols2[1], cols2[0], *cols2[2:]]
        doc.traps.append("tables-differ-in-column-order")
    note_traps(doc, cols)
    titles = {"en": ("Main range", "Accessories"), "de": ("Sortiment", "Zubehör"), "fr": ("Gamme principale", "Accessoires"), "nl": ("Assortiment", "Accessoires"), "es": ("Gama principal", "Accesorios")}[lang]  # fmt: skip
    t1 = Table(cols, build_lines(rng, first, cols, doc.style), doc.style, above=[titles[0]])
    t2 = Table(cols2, build_lines(rng, second, cols2, doc.style), doc.style, above=[titles[1]])
    wb = Workbook()
    ws = wb.active
    ws.title = titles[0][:30]
    if doc.above:
        ws.cell(row=1, column=1, value=doc.above[0])
    top = 3
    side_by_side = rng.random() < 0.4
    if side_by_side:
        write_xlsx(ws, t1, top=top, merge=False)
        write_xlsx(ws, t2, top=top, left=len(cols) + 3, merge=False)
        doc.traps.append("tables-side-by-side")
    else:
        nxt = write_xlsx(ws, t1, top=top, merge=False)
        write_xlsx(ws, t2, top=nxt + rng.randint(1, 3), merge=False)
        doc.traps.append("several-tables-one-sheet")
    for note in doc.below:
        ws.cell(row=ws.max_row + 2, column=1, value=note)
    terms = wb.create_sheet({"en": "Terms", "de": "Konditionen", "fr": "Conditions", "nl": "Voorwaarden", "es": "Condiciones"}[lang])  # fmt: skip
    terms.append([{"en": "Shipping zone", "de": "Versandzone", "fr": "Zone", "nl": "Zone", "es": "Zona"}[lang], {"en": "Cost", "de": "Kosten", "fr": "Frais", "nl": "Kosten", "es": "Coste"}[lang], {"en": "Free from", "de": "Frei ab", "fr": "Franco à partir de", "nl": "Gratis vanaf", "es": "Gratis desde"}[lang]])  # fmt: skip
    for zone, cost, free in (("1", 6.9, 150.0), ("2", 12.5, 250.0), ("3", 24.0, 500.0)):
        terms.append([f"Zone {zone}", cost, free])
    terms.append([])
    terms.append([rng.choice(FINE_PRINT[lang])])
    summary = wb.create_sheet({"en": "Summary", "de": "Übersicht", "fr": "Synthèse", "nl": "Overzicht", "es": "Resumen"}[lang])  # fmt: skip
    summary.append([titles[0], sum(p.price for p in first)])
    summary.append([titles[1], sum(p.price for p in second)])
    summary.append([rng.choice(TOTALS[lang]["total"]), sum(p.price for p in doc.products)])
    doc.traps += ["non-product-sheet", "summary-sheet-totals"]
    f = doc.fields(cols)
    files = [(filename(rng, "range", lang, ".xlsx"), xlsx_bytes(wb))]
    return doc.case(name, "spreadsheet", f, truth(doc.products, f), files=files)  # fmt: skip


def xls_legacy(rng: random.Random, name: str) -> Case:
    """An old .xls price list: title rows, merged section rows, totals, notes at the foot."""
    import xlwt

    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(9, 16))))
    fields = ["sku", "name", *optional_fields(rng, ["brand", "uom", "ean", "release_date"], 1, 3), "price", rng.choice(["in_stock", "qty"])]  # fmt: skip
    way = ["column", "header", "note", "context"][(nth(name) - 1) % 4]
    cols = doc.currency(way, doc.cols(fields))
    doc.title()
    doc.fine_print(0.7)
    note_traps(doc, cols)
    lines = build_lines(rng, doc.products, cols, doc.style, sections=section_of(doc.lang), totals=rng.choice(["total", "unlabeled"]))  # fmt: skip
    doc.traps += ["sections", "merged-cells", "totals"]
    if lines[-1].cells[0] == "" and lines[-1].kind == "total":
        doc.traps.append("unlabeled-total")
    table = Table(cols, lines, doc.style, above=doc.above, below=doc.below)
    wb = xlwt.Workbook(encoding="utf-8")
    write_xls(wb.add_sheet("Sheet1"), table)
    f = doc.fields(cols)
    return doc.case(name, "spreadsheet", f, truth(doc.products, f), files=[(filename(rng, "pricelist", doc.lang, ".xls"), xls_bytes(wb))])  # fmt: skip


# -- PDF -------------------------------------------------------------------------------------------
def pdf_ruled(rng: random.Random, name: str) -> Case:
    """A printed price list over several pages: company header and page numbers on every
    page, the table heading repeated after each page break, sections, totals, notes."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(24, 40))))
    lang = doc.lang
    fields = ["sku", "name", *optional_fields(rng, ["brand", "weight", "release_date"], 1, 2), "price", rng.choice(["in_stock", "qty"])]  # fmt: skip
    two_row = rng.random() < 0.35
    cols = doc.cols(fields)
    if two_row:
        at = next(i for i, c in enumerate(cols) if c.field == "price")
        cols[at : at + 1] = competing_cols_only(doc)
        doc.traps.append("two-row-header")
    cols = doc.currency(rng.choice(["symbol", "header", "note", "column"]), cols)
    doc.title()
    doc.fine_print(0.8)
    note_traps(doc, cols)
    sections = rng.random() < 0.6
    lines = build_lines(rng, doc.products, cols, doc.style, sections=section_of(lang) if sections else None, totals=rng.choice(["total", "none"]))  # fmt: skip
    doc.traps += ["repeated-headers", "page-headers"] + (["sections"] if sections else [])
    if lines[-1].kind == "total":
        doc.traps.append("totals")
    page = {"en": "Page {page} of {pages}", "de": "Seite {page} von {pages}", "fr": "Page {page}/{pages}", "nl": "Pagina {page} van {pages}", "es": "Página {page} de {pages}"}[lang]  # fmt: skip
    pdf = new_pdf(rng.choice(["P", "L"]), header=f"{vendor.company} · {vendor.city}", footer=page)
    pdf.add_page()
    pdf.set_font("Sans", "B", 14)
    pdf.cell(0, 9, doc.above[0], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", size=9)
    for note in doc.above[1:]:
        pdf.cell(0, 6, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    width = pdf.epw
    widths = tuple(width * (0.34 if c.field == "name" else 0.66 / (len(cols) - 1)) for c in cols)
    write_pdf_table(pdf, Table(cols, lines, doc.style), widths)
    pdf.ln(4)
    for note in doc.below:
        pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    f = doc.fields(cols)
    files = [(filename(rng, "pricelist", lang, ".pdf"), pdf_bytes(pdf))]
    return doc.case(name, "pdf-table", f, truth(doc.products, f), files=files)  # fmt: skip


QUOTE_WORDS = {
    "en": ("Quotation", "Quote no.", "Date", "Pos.", "Payment terms: 30 days net. This quotation is valid for 30 days."),
    "de": ("Angebot", "Angebots-Nr.", "Datum", "Pos.", "Zahlungsbedingungen: 30 Tage netto. Dieses Angebot ist 30 Tage gültig."),
    "fr": ("Devis", "Devis n°", "Date", "Pos.", "Conditions de paiement : 30 jours net. Devis valable 30 jours."),
    "nl": ("Offerte", "Offertenr.", "Datum", "Pos.", "Betalingsvoorwaarden: 30 dagen netto. Deze offerte is 30 dagen geldig."),
    "es": ("Presupuesto", "N.º de presupuesto", "Fecha", "Pos.", "Condiciones de pago: 30 días neto. Presupuesto válido 30 días."),
}  # fmt: skip


CUSTOMERS = {
    "en": ["Westbrook Facilities Ltd", "Attn. Purchasing", "12 Harbour Road", "Bristol BS1 4QA"],
    "de": ["Stadtwerke Nordheim GmbH", "z. Hd. Einkauf", "Hafenstraße 12", "26122 Oldenburg"],
    "fr": ["Collège Jean Moulin", "Service achats", "12 rue des Lilas", "69003 Lyon"],
    "nl": ["Gemeente Zeeveld", "t.a.v. Inkoop", "Havenweg 12", "3511 AB Utrecht"],
    "es": ["Hotel Miramar S.A.", "Dpto. de Compras", "Calle Mayor 12", "28013 Madrid"],
}


def pdf_quote(rng: random.Random, name: str) -> Case:
    """A quotation: letterhead, addresses, quantity, unit price and line amount columns, then
    subtotal, tax and total lines whose labels stand in the amount's neighbour column."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(4, 9)))
    lang = doc.lang
    step = rng.choice([1, 10])
    for n, p in enumerate(doc.products, 1):
        p.extra["qty"] = rng.choice([1, 2, 5, 10, 12, 25, 50])
        p.extra["pos"] = str(n * step)
    title, number, date_word, pos, terms = QUOTE_WORDS[lang]
    cols = [Col("pos", pos), *doc.cols(rng.choice([["sku", "name"], ["name", "sku"]])), Col("qty_ordered", doc.header("qty_ordered")), Col("price", doc.header("price")), Col("amount", doc.header("amount"))]  # fmt: skip
    cols = doc.currency(rng.choice(["symbol", "header", "note"]), cols)
    note_traps(doc, cols)
    lines = build_lines(rng, doc.products, cols, doc.style, totals="invoice", total_label_col=len(cols) - 2)  # fmt: skip
    doc.traps += ["quote", "line-amount-column", "invoice-totals", "total-label-not-first", "position-numbers"]  # fmt: skip
    doc.notes.append("price = the unit price, not the line amount (quantity x unit price).")
    pdf = new_pdf("P")
    pdf.add_page()
    pdf.set_font("Sans", "B", 12)
    pdf.cell(0, 6, vendor.company, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", size=8)
    pdf.cell(0, 5, f"{vendor.city} · www.{vendor.domain} · Tel. +49 30 1234 5678", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(8)
    pdf.set_font("Sans", size=9)
    for line in CUSTOMERS[lang]:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Sans", "B", 14)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", size=9)
    pdf.cell(0, 5, f"{number} Q-{rng.randint(2024000, 2025999)}   {date_word}: {fmt_date(doc.products[0].available_from, doc.loc, doc.loc.date_styles[0])}", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    for note in doc.above:
        pdf.cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = tuple(12 if c.field == "pos" else 60 if c.field == "name" else 24 for c in cols)
    write_pdf_table(pdf, Table(cols, lines, doc.style), widths)
    pdf.ln(5)
    for note in [*doc.below, terms]:
        pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    f = doc.fields(cols)
    files = [(filename(rng, "offer", lang, f"_{rng.randint(1000, 9999)}.pdf"), pdf_bytes(pdf))]
    return doc.case(name, "pdf-table", f, truth(doc.products, f), files=files)  # fmt: skip


# -- DOCX ------------------------------------------------------------------------------------------
def docx_offer(rng: random.Random, name: str) -> Case:
    """A letter with an offer table (merged section rows, totals), maybe a second table of
    contacts or delivery terms that holds no products, then a signature."""
    import docx

    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(6, 14))))
    lang = doc.lang
    fields = ["name", "sku", *optional_fields(rng, ["brand", "uom", "release_date"], 0, 2), "price", rng.choice(["in_stock", "qty"])]  # fmt: skip
    cols = doc.cols(fields)
    if rng.random() < 0.3:
        at = next(i for i, c in enumerate(cols) if c.field == "price")
        cols[at : at + 1] = competing_cols_only(doc)
        doc.traps.append("two-row-header")
    cols = doc.currency(rng.choice(["symbol", "header", "note", "context"]), cols)
    note_traps(doc, cols)
    sections = rng.random() < 0.6
    lines = build_lines(rng, doc.products, cols, doc.style, sections=section_of(lang) if sections else None, totals=rng.choice(["total", "none", "unlabeled"]))  # fmt: skip
    doc.traps += ["merged-cells"] * sections + ["sections"] * sections
    if lines[-1].kind == "total":
        doc.traps.append("totals")
    hello, intro, outro, bye = greeting_parts(rng, lang)
    document = docx.Document()
    document.add_heading(title_line(rng, doc.loc), 1)
    document.add_paragraph(hello)
    document.add_paragraph(intro)
    for note in doc.above:
        document.add_paragraph(note)
    write_docx(document, Table(cols, lines, doc.style))
    for note in doc.below:
        document.add_paragraph(note)
    if rng.random() < 0.5:
        document.add_paragraph({"en": "Your contacts", "de": "Ihre Ansprechpartner", "fr": "Vos contacts", "nl": "Uw contactpersonen", "es": "Sus contactos"}[lang])  # fmt: skip
        contacts = document.add_table(rows=1, cols=3)
        contacts.style = "Table Grid"
        for cell, text in zip(contacts.rows[0].cells, ["Name", "Tel.", "E-Mail"], strict=True):
            cell.text = text
        for who, phone in (("Anna Berger", "+49 30 1234 5601"), ("Mark Ellis", "+49 30 1234 5602")):  # fmt: skip
            row = contacts.add_row().cells
            row[0].text, row[1].text, row[2].text = who, phone, who.split()[0].lower() + "@" + vendor.domain  # fmt: skip
        doc.traps.append("non-product-table")
    document.add_paragraph(outro)
    for line in [bye, *signature(rng, vendor, lang)[1:]]:
        document.add_paragraph(line)
    f = doc.fields(cols)
    files = [(filename(rng, "offer", lang, ".docx"), docx_bytes(document))]
    return doc.case(name, "docx-table", f, truth(doc.products, f), files=files)  # fmt: skip


# -- HTML ------------------------------------------------------------------------------------------
def page(title: str, body: str, lang: str, vendor: Vendor) -> str:
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} | {vendor.company}</title>
<link rel="stylesheet" href="/assets/site.css"><script src="/assets/analytics.js" async></script></head>
<body>
<table class="layout" width="100%"><tr><td><a href="/"><img src="/logo.png" alt="{vendor.company}"></a></td><td align="right"><a href="/login">Login</a> | <a href="/cart">Cart (0)</a></td></tr></table>
<div id="content">
<h1>{title}</h1>
{body}
</div>
<div class="footer"><p>&copy; 2025 {vendor.company} &middot; {vendor.city} &middot; <a href="/imprint">Imprint</a></p></div>
</body></html>
"""


def html_rowspan_table(doc: Doc, cols: list[Col], products: list[Product]) -> str:
    """Brand cells spanning the rows of each brand (rowspan)."""
    import html as h

    head = "".join(f"<th>{h.escape(c.header)}</th>" for c in cols)
    out = [f'<table class="list">\n<thead><tr>{head}</tr></thead>\n<tbody>']
    i = 0
    while i < len(products):
        brand = products[i].brand
        span = 1
        while i + span < len(products) and products[i + span].brand == brand:
            span += 1
        for k in range(span):
            p = products[i + k]
            cells = []
            for c in cols:
                if c.field == "brand":
                    if k == 0:
                        cells.append(f'<td rowspan="{span}">{h.escape(brand)}</td>')
                    continue
                text = h.escape(cell_text(p, c, doc.style))
                cells.append(f'<td><a href="{text}">{text}</a></td>' if c.field == "url" else f"<td>{text}</td>")  # fmt: skip
            out.append("<tr>" + "".join(cells) + "</tr>")
        i += span
    out.append("</tbody>\n</table>")
    return "\n".join(out)


def html_table_case(rng: random.Random, name: str) -> Case:
    """An HTML page with product tables: thead/tbody/tfoot, colspan section rows and two-row
    headers, brand cells with rowspan, or one table per category next to a shipping table."""
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(8, 16))))
    lang = doc.lang
    variant = ["sections", "rowspan", "per-category", "two-row"][(nth(name) - 1) % 4]
    fields = ["name", "sku", *optional_fields(rng, ["release_date", "tags", "url"], 0, 2), "price", "in_stock"]  # fmt: skip
    if variant == "rowspan":
        fields.insert(1, "brand")
        doc.products.sort(key=lambda p: p.brand)
        doc.traps.append("rowspan")
    cols = doc.cols(fields)
    if variant == "two-row":
        at = next(i for i, c in enumerate(cols) if c.field == "price")
        cols[at : at + 1] = competing_cols_only(doc)
        doc.traps += ["two-row-header", "colspan"]
    cols = doc.currency(rng.choice(["symbol", "header", "note", "context"]), cols)
    doc.title()
    doc.fine_print(0.6)
    note_traps(doc, cols)
    title = doc.above[0]
    notes = "".join(f'<p class="note">{n}</p>' for n in doc.above[1:])
    foot = "".join(f"<p><small>{n}</small></p>" for n in doc.below)
    if variant == "rowspan":
        body = notes + html_rowspan_table(doc, cols, doc.products) + foot
    elif variant == "per-category":
        parts = [notes]
        current = None
        group: list[Product] = []
        groups: list[tuple[str, list[Product]]] = []
        for p in doc.products:
            if p.category != current:
                current = p.category
                group = []
                groups.append((section_name(current, lang), group))
            group.append(p)
        for heading, items in groups:
            t = Table(cols, build_lines(rng, items, cols, doc.style), doc.style)
            parts += [f"<h2>{heading}</h2>", html_table(t, attrs=' class="products"', use_thead=rng.random() < 0.5)]  # fmt: skip
        ship = {"en": ("Shipping", "Zone", "Cost"), "de": ("Versand", "Zone", "Kosten"), "fr": ("Livraison", "Zone", "Frais"), "nl": ("Verzending", "Zone", "Kosten"), "es": ("Envío", "Zona", "Coste")}[lang]  # fmt: skip
        rows = "".join(f"<tr><td>Zone {z}</td><td>{doc.style.money(c)}</td></tr>" for z, c in ((1, 6.9), (2, 12.5), (3, 24.0)))  # fmt: skip
        parts += [f"<h2>{ship[0]}</h2>", f"<table><tr><th>{ship[1]}</th><th>{ship[2]}</th></tr>{rows}</table>", foot]  # fmt: skip
        body = "\n".join(parts)
        doc.traps += ["several-tables", "non-product-table"]
    else:
        lines = build_lines(rng, doc.products, cols, doc.style, sections=section_of(lang), totals="total", total_label_col=rng.choice([0, len(cols) - 2]))  # fmt: skip
        body = notes + html_table(Table(cols, lines, doc.style), attrs=' class="pricelist"') + foot
        doc.traps += ["sections", "colspan", "tfoot-totals", "thead"]
    text = page(title, body, lang, vendor)
    doc.traps.append("layout-table")
    f = doc.fields(cols)
    return doc.case(name, "html-table", f, truth(doc.products, f), files=[(filename(rng, "range", lang, rng.choice([".html", ".htm"])), text.encode())])  # fmt: skip


# -- several files, one of them bad ---------------------------------------------------------------
def multi_file(rng: random.Random, name: str) -> Case:
    """A table made of 2-4 uploaded files where one (or two) cannot give products: a damaged
    PDF, an empty file, a photo without text, a cover letter."""
    import docx
    from openpyxl import Workbook

    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(10, 18)))
    lang = doc.lang
    fields = ["name", "sku", "price", rng.choice(["in_stock", "brand"])]
    cols = doc.currency("symbol", doc.cols(fields))
    note_traps(doc, cols)
    good_count = rng.choice([1, 2, 2, 3])
    formats = rng.sample(["csv", "xlsx", "pdf", "html", "docx", "md"], good_count)
    chunks = [doc.products[i::good_count] for i in range(good_count)]
    files: list[tuple[str, bytes]] = []
    ordered: list[Product] = []
    for n, (fmt, part) in enumerate(zip(formats, chunks, strict=True), 1):
        t = Table(cols, build_lines(rng, part, cols, doc.style), doc.style)
        ordered += part
        stem = {"en": "pricelist", "de": "preisliste", "fr": "tarif", "nl": "prijslijst", "es": "tarifa"}[lang] + f"_{n}"  # fmt: skip
        if fmt == "csv":
            files.append((stem + ".csv", csv_text(grid_rows(t), "," if lang == "en" else ";").encode()))  # fmt: skip
        elif fmt == "md":
            files.append((stem + ".md", ("\n".join(markdown(t)) + "\n").encode()))
        elif fmt == "html":
            files.append((stem + ".html", page(title_line(rng, doc.loc), html_table(t), lang, vendor).encode()))  # fmt: skip
        elif fmt == "xlsx":
            wb = Workbook()
            write_xlsx(wb.active, t)
            files.append((stem + ".xlsx", xlsx_bytes(wb)))
        elif fmt == "docx":
            document = docx.Document()
            document.add_paragraph(title_line(rng, doc.loc))
            write_docx(document, t)
            files.append((stem + ".docx", docx_bytes(document)))
        else:
            pdf = new_pdf()
            pdf.add_page()
            write_pdf_table(pdf, t)
            files.append((stem + ".pdf", pdf_bytes(pdf)))
    kinds = ["corrupt-pdf", "empty-file", "image-without-text", "no-products"]
    first = kinds[(nth(name) - 1) % len(kinds)]
    bad_kinds = [first] + (
        [rng.choice([k for k in kinds if k != first])] if good_count == 1 else []
    )
    bad: list[str] = []
    for kind in bad_kinds:
        if kind == "corrupt-pdf":
            pdf = new_pdf()
            pdf.add_page()
            extra = make_products(rng, vendor, 6)
            write_pdf_table(pdf, Table(cols, build_lines(rng, extra, cols, doc.style), doc.style))
            files.append(("catalog_part2.pdf", truncated(pdf_bytes(pdf))))
        elif kind == "empty-file":
            files.append(("stock_update.csv", b""))
        elif kind == "image-without-text":
            files.append(("product_photo.png", png_picture(rng)))
        else:
            hello, _intro, outro, bye = greeting_parts(rng, lang)
            document = docx.Document()
            for line in [hello, rng.choice(FINE_PRINT[lang]), outro, bye, *signature(rng, vendor, lang)[1:]]:  # fmt: skip
                document.add_paragraph(line)
            files.append(("cover_letter.docx", docx_bytes(document)))
        bad.append(files[-1][0])
        doc.traps.append(f"bad-file-{kind}")
    rng.shuffle(files)
    doc.traps.append("multi-file")
    doc.notes.append("The rows are those of the readable files; the bad files are reported as failed.")  # fmt: skip
    f = doc.fields(cols)
    return doc.case(name, "multi-file", f, truth(ordered, f), files=files, failed=bad)


TEMPLATES: list[tuple[Callable[[random.Random, str], Case], int]] = [
    (csv_export, 5),
    (csv_report, 4),
    (csv_competing, 3),
    (csv_magnitudes, 2),
    (text_markdown, 3),
    (text_listing, 6),
    (text_ascii, 2),
    (xlsx_merged, 4),
    (xlsx_multi_table, 3),
    (xls_legacy, 3),
    (pdf_ruled, 4),
    (pdf_quote, 3),
    (docx_offer, 4),
    (html_table_case, 4),
    (multi_file, 4),
]
