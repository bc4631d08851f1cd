"""Part B templates (beyond tables): product pages with JSON-LD, microdata, RDFa or no
structured data; collection pages of product cards in several template styles inside site
chrome; fixed-width ERP reports; PDFs laid out in text columns without rules; product blocks
in DOCX and PDF; e-mails listing products between prose paragraphs."""

from __future__ import annotations

import html
import json
import random
from datetime import datetime

from .case import GROUP_BEYOND, Case
from .catalog import Product, Vendor, make_products
from .locales import FINE_PRINT, LOCALES, amount, fmt_date, section_name, title_line
from .render import docx_bytes, new_pdf, pdf_bytes
from .tables_cases import (
    PHONES,
    STOCK_WORDS,
    Doc,
    by_section,
    filename,
    greeting_parts,
    nth,
    pick_vendor,
    signature,
    truth,
)

esc = html.escape

UI = {
    "en": {"home": "Home", "cart": "Cart", "add": "Add to cart", "in": "In stock", "out": "Sold out", "left": "Only {n} left", "sale": "Sale", "sku": "SKU", "vendor": "Vendor", "brand": "Brand", "newsletter": "Sign up for our newsletter", "subscribe": "Subscribe", "cookie": "We use cookies to improve your experience.", "accept": "Accept all", "showing": "Showing 1–{n} of {t} products", "filter": "Price", "related": "You may also like", "desc": "Description", "specs": "Specifications", "ship": "Free shipping on orders over {p}", "tags": "Tags", "sort": "Sort by: Featured", "account": "My account", "search": "Search products…"},
    "de": {"home": "Startseite", "cart": "Warenkorb", "add": "In den Warenkorb", "in": "Auf Lager", "out": "Ausverkauft", "left": "Nur noch {n} verfügbar", "sale": "Angebot", "sku": "Art.-Nr.", "vendor": "Hersteller", "brand": "Marke", "newsletter": "Newsletter abonnieren", "subscribe": "Anmelden", "cookie": "Wir verwenden Cookies, um Ihr Einkaufserlebnis zu verbessern.", "accept": "Alle akzeptieren", "showing": "1–{n} von {t} Artikeln", "filter": "Preis", "related": "Das könnte Ihnen auch gefallen", "desc": "Beschreibung", "specs": "Technische Daten", "ship": "Versandkostenfrei ab {p}", "tags": "Schlagwörter", "sort": "Sortieren: Beliebtheit", "account": "Mein Konto", "search": "Produkte suchen…"},
    "fr": {"home": "Accueil", "cart": "Panier", "add": "Ajouter au panier", "in": "En stock", "out": "Épuisé", "left": "Plus que {n} en stock", "sale": "Promo", "sku": "Réf.", "vendor": "Marque", "brand": "Marque", "newsletter": "Inscrivez-vous à notre newsletter", "subscribe": "S'inscrire", "cookie": "Nous utilisons des cookies pour améliorer votre expérience.", "accept": "Tout accepter", "showing": "1–{n} sur {t} produits", "filter": "Prix", "related": "Vous aimerez aussi", "desc": "Description", "specs": "Caractéristiques", "ship": "Livraison offerte dès {p}", "tags": "Étiquettes", "sort": "Trier par : pertinence", "account": "Mon compte", "search": "Rechercher…"},
    "nl": {"home": "Home", "cart": "Winkelwagen", "add": "In winkelwagen", "in": "Op voorraad", "out": "Uitverkocht", "left": "Nog maar {n} op voorraad", "sale": "Aanbieding", "sku": "Artikelnr.", "vendor": "Merk", "brand": "Merk", "newsletter": "Schrijf je in voor de nieuwsbrief", "subscribe": "Inschrijven", "cookie": "Wij gebruiken cookies om je ervaring te verbeteren.", "accept": "Alles accepteren", "showing": "1–{n} van {t} producten", "filter": "Prijs", "related": "Misschien ook interessant", "desc": "Omschrijving", "specs": "Specificaties", "ship": "Gratis verzending vanaf {p}", "tags": "Labels", "sort": "Sorteren: populair", "account": "Mijn account", "search": "Zoeken…"},
    "es": {"home": "Inicio", "cart": "Carrito", "add": "Añadir al carrito", "in": "En stock", "out": "Agotado", "left": "Solo quedan {n}", "sale": "Oferta", "sku": "Ref.", "vendor": "Marca", "brand": "Marca", "newsletter": "Suscríbete a nuestro boletín", "subscribe": "Suscribirse", "cookie": "Usamos cookies para mejorar tu experiencia.", "accept": "Aceptar todo", "showing": "1–{n} de {t} productos", "filter": "Precio", "related": "También te puede interesar", "desc": "Descripción", "specs": "Especificaciones", "ship": "Envío gratis a partir de {p}", "tags": "Etiquetas", "sort": "Ordenar: destacados", "account": "Mi cuenta", "search": "Buscar…"},
}  # fmt: skip

NAV = {
    "tools": ["Power tools", "Hand tools", "Measuring", "Workshop", "Deals"],
    "electronics": ["Audio", "Computing", "Smart home", "Cables", "Deals"],
    "food": ["Coffee & tea", "Pantry", "Sweets", "Drinks", "Gift boxes"],
    "fashion": ["New in", "Men", "Women", "Accessories", "Sale"],
    "office": ["Paper", "Writing", "Filing", "Desk", "Technology"],
    "lab": ["Pipetting", "Glassware", "Consumables", "Instruments", "Safety"],
}


def stock_badge(p: Product, lang: str, rng: random.Random) -> str:
    ui = UI[lang]
    if not p.in_stock:
        return ui["out"]
    if p.stock_qty <= 5 and rng.random() < 0.7:
        return ui["left"].format(n=p.stock_qty)
    return ui["in"]


def site_page(
    rng: random.Random,
    vendor: Vendor,
    lang: str,
    title: str,
    main: str,
    *,
    canonical: str,
    head_extra: str = "",
    crumbs: list[str] | None = None,
    cart: str = "",
) -> str:
    """A full shop page around ``main``: header with search, account and cart, navigation,
    breadcrumbs, cookie bar, newsletter form and footer."""
    ui = UI[lang]
    nav = "".join(f'<li><a href="/{lang}/c/{i}">{esc(n)}</a></li>' for i, n in enumerate(NAV[vendor.industry]))  # fmt: skip
    trail = [ui["home"], *(crumbs or [])]
    crumbs_html = " › ".join(f'<a href="/">{esc(c)}</a>' if i == 0 else esc(c) for i, c in enumerate(trail))  # fmt: skip
    year = 2025
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} – {esc(vendor.company)}</title>
<link rel="canonical" href="{esc(canonical)}">
<link rel="stylesheet" href="/assets/theme.{rng.randint(1000, 9999)}.css">
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}</script>
{head_extra}
</head>
<body>
<div class="announcement-bar">{esc(ui["ship"].format(p=amount(250, LOCALE_OF[lang])))}</div>
<header class="site-header">
  <a class="logo" href="/"><img src="/assets/logo.svg" alt="{esc(vendor.company)}"></a>
  <form action="/search" role="search"><input type="search" name="q" placeholder="{esc(ui["search"])}"></form>
  <a href="/account">{esc(ui["account"])}</a>
  <a class="cart-link" href="/cart">{esc(ui["cart"])} {cart}</a>
</header>
<nav class="main-nav"><ul>{nav}</ul></nav>
<nav class="breadcrumbs" aria-label="breadcrumb">{crumbs_html}</nav>
<main id="main">
{main}
</main>
<section class="newsletter">
  <h2>{esc(ui["newsletter"])}</h2>
  <form action="/newsletter" method="post"><input type="email" name="email" placeholder="you@example.com"><button>{esc(ui["subscribe"])}</button></form>
</section>
<footer class="site-footer">
  <ul><li><a href="/pages/shipping">Shipping</a></li><li><a href="/pages/returns">Returns</a></li><li><a href="/pages/contact">Contact</a></li></ul>
  <p>&copy; {year} {esc(vendor.company)} · {esc(vendor.city)} · Tel. {PHONES[vendor.locale]}</p>
</footer>
<div class="cookie-banner" role="dialog"><p>{esc(ui["cookie"])}</p><button>{esc(ui["accept"])}</button></div>
</body>
</html>
"""


LOCALE_OF = {LOCALES[key].lang: LOCALES[key] for key in ("en-US", "de", "fr", "nl", "es")}


def cart_text(doc: Doc) -> str:
    n = doc.rng.randint(1, 4)
    return f"({n}) · {esc(doc.style.money(round(doc.rng.uniform(20, 300), 2)))}"


# -- product pages ----------------------------------------------------------------------------------
AVAILABILITY = {True: "https://schema.org/InStock", False: "https://schema.org/OutOfStock"}


def related_block(doc: Doc, others: list[Product]) -> str:
    ui = UI[doc.lang]
    items = "".join(
        f'<li><a href="{esc(o.url)}"><img src="/img/{o.sku}.jpg" alt=""><span>{esc(o.name)}</span></a> <span class="price">{esc(doc.style.money(o.price))}</span></li>'
        for o in others
    )
    return f'<aside class="related"><h2>{esc(ui["related"])}</h2><ul>{items}</ul></aside>'


def product_page_html(doc: Doc, p: Product, markup: str, related: list[Product], sale: bool) -> str:  # fmt: skip
    rng, lang = doc.rng, doc.lang
    ui = UI[lang]
    price_text = esc(doc.style.money(p.price))
    was = esc(doc.style.money(p.list_price))
    price_html = f'<s class="compare-at">{was}</s> <span class="sale">{price_text}</span>' if sale else f'<span class="price">{price_text}</span>'  # fmt: skip
    badge = esc(stock_badge(p, lang, rng))
    spec_rows = (("EAN", p.ean), ("Weight", p.weight), ("Released", p.release_date.isoformat()))
    specs = "".join(f"<tr><th>{k}</th><td>{esc(v)}</td></tr>" for k, v in spec_rows)
    description = f"<p>{esc(p.name)} — {esc(rng.choice(FINE_PRINT[lang]))}</p>"
    head_extra = ""
    if markup == "jsonld":
        data = {
            "@context": "https://schema.org/",
            "@type": "Product",
            "name": p.name,
            "image": [f"https://{doc.vendor.domain}/img/{p.sku}.jpg"],
            "description": f"{p.name}.",
            "sku": p.sku,
            "gtin13": p.ean,
            "brand": {"@type": "Brand", "name": p.brand},
            "offers": {
                "@type": "Offer",
                "url": p.url,
                "priceCurrency": p.currency,
                "price": f"{p.price:.2f}",
                "availability": AVAILABILITY[p.in_stock],
                "itemCondition": "https://schema.org/NewCondition",
            },
        }
        crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 1, "name": ui["home"], "item": f"https://{doc.vendor.domain}/"}]}  # fmt: skip
        org = {"@context": "https://schema.org", "@type": "Organization", "name": doc.vendor.company, "url": f"https://{doc.vendor.domain}/", "telephone": PHONES[doc.vendor.locale]}  # fmt: skip
        blocks = [crumbs, data, org]
        rng.shuffle(blocks)
        head_extra = "\n".join(f'<script type="application/ld+json">{json.dumps(b, ensure_ascii=False, indent=rng.choice([None, 2]))}</script>' for b in blocks)  # fmt: skip
        body = f"""<div class="product">
<div class="gallery"><img src="/img/{p.sku}.jpg" alt="{esc(p.name)}"></div>
<div class="product-info">
<p class="brand"><a href="/brands/{esc(p.brand.lower())}">{esc(p.brand)}</a></p>
<h1 class="product-title">{esc(p.name)}</h1>
<p class="sku">{ui["sku"]}: {esc(p.sku)}</p>
<div class="price-box">{price_html}</div>
<p class="stock">{badge}</p>
<button class="add-to-cart">{esc(ui["add"])}</button>
</div></div>"""
    elif markup == "microdata":
        body = f"""<div class="product" itemscope itemtype="https://schema.org/Product">
<img itemprop="image" src="/img/{p.sku}.jpg" alt="{esc(p.name)}">
<h1 itemprop="name">{esc(p.name)}</h1>
<div itemprop="brand" itemscope itemtype="https://schema.org/Brand">{ui["brand"]}: <span itemprop="name">{esc(p.brand)}</span></div>
<p>{ui["sku"]}: <span itemprop="sku">{esc(p.sku)}</span></p>
<meta itemprop="gtin13" content="{p.ean}">
<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
<link itemprop="url" href="{esc(p.url)}">
<meta itemprop="priceCurrency" content="{p.currency}">
{f"<s>{was}</s> " if sale else ""}<span itemprop="price" content="{p.price:.2f}">{price_text}</span>
<link itemprop="availability" href="{AVAILABILITY[p.in_stock]}"><span class="stock">{badge}</span>
</div>
<button>{esc(ui["add"])}</button>
</div>"""
    elif markup == "rdfa":
        body = f"""<div class="product" vocab="https://schema.org/" typeof="Product">
<img property="image" src="/img/{p.sku}.jpg" alt="{esc(p.name)}">
<h1 property="name">{esc(p.name)}</h1>
<p>{ui["brand"]}: <span property="brand" typeof="Brand"><span property="name">{esc(p.brand)}</span></span></p>
<p>{ui["sku"]}: <span property="sku">{esc(p.sku)}</span></p>
<div property="offers" typeof="Offer">
<link property="url" href="{esc(p.url)}">
{f"<s>{was}</s> " if sale else ""}<span property="price" content="{p.price:.2f}">{price_text}</span>
<meta property="priceCurrency" content="{p.currency}">
<link property="availability" href="{AVAILABILITY[p.in_stock]}"><span>{badge}</span>
</div>
<button>{esc(ui["add"])}</button>
</div>"""
    else:
        body = f"""<div class="pdp">
<div class="pdp__media"><img src="/img/{p.sku}.jpg" alt=""></div>
<div class="pdp__info">
<h1>{esc(p.name)}</h1>
<div class="pdp__meta"><span>{ui["brand"]}: <a href="/brands/{esc(p.brand.lower())}">{esc(p.brand)}</a></span> <span>{ui["sku"]}: {esc(p.sku)}</span></div>
<div class="pdp__price">{price_html}</div>
<div class="pdp__stock">{badge}</div>
<label>Qty <input type="number" value="1" min="1"></label> <button>{esc(ui["add"])}</button>
</div></div>"""
    main = f"""{body}
<section class="description"><h2>{ui["desc"]}</h2>{description}</section>
<section class="specs"><h2>{ui["specs"]}</h2><table>{specs}</table></section>
{related_block(doc, related) if related else ""}"""
    return site_page(rng, doc.vendor, lang, p.name, main, canonical=p.url, head_extra=head_extra, crumbs=[section_name(p.category, lang), p.name], cart=cart_text(doc))  # fmt: skip


def product_page(rng: random.Random, name: str) -> Case:
    """One to three product pages (one product each), with JSON-LD, microdata, RDFa or no
    structured data; maybe a sale price, related products and a specifications table."""
    markup = ["jsonld", "microdata", "rdfa", "plain"][(nth(name) - 1) % 4]
    vendor = pick_vendor(rng)
    count = rng.choice([1, 2, 3])
    products = make_products(rng, vendor, count + 3)
    doc = Doc(rng, vendor, products[:count])
    doc.group = GROUP_BEYOND
    doc.style.price = "symbol"
    files = []
    sale_any = False
    for p in doc.products:
        sale = rng.random() < 0.35
        sale_any |= sale
        related = products[count:] if rng.random() < 0.6 else []
        if related:
            doc.traps.append("related-products")
        text = product_page_html(doc, p, markup, related, sale)
        files.append((f"{p.url.rsplit('/', 1)[1]}.html", text.encode()))
    doc.traps += [f"markup-{markup}", "site-chrome", "spec-table", "canonical-url"]
    if sale_any:
        doc.traps.append("sale-price")
        doc.notes.append("price = the sale price; the struck-through compare-at price is not the price.")  # fmt: skip
    doc.notes.append("Each page is one product; related-product teasers are not rows.")
    fields = ["name", "sku", "brand", "price", "currency", "in_stock", "url"]
    return doc.case(name, "product-page", fields, truth(doc.products, fields), files=files)


# -- card grids ------------------------------------------------------------------------------------
CARD_STYLES = ["shopify", "woocommerce", "utility", "data-attrs", "bare", "definition-list"]


def card_html(doc: Doc, p: Product, style: str, show: dict[str, bool], link: str, sale: bool) -> str:  # fmt: skip
    ui = UI[doc.lang]
    sku_label = ui["sku"]
    price = esc(doc.style.money(p.price))
    was = esc(doc.style.money(p.list_price))
    badge = esc(stock_badge(p, doc.lang, doc.rng))
    tags = p.tags
    title = esc(p.name)
    if style == "shopify":
        tag_html = "".join(f'<span class="badge badge--tag">{esc(t)}</span>' for t in tags) if show["tags"] else ""  # fmt: skip
        price_html = f'<s class="price-item price-item--regular">{was}</s> <span class="price-item price-item--sale">{price}</span>' if sale else f'<span class="price-item price-item--regular">{price}</span>'  # fmt: skip
        sold = f'<span class="badge badge--bottom-left">{badge}</span>'
        return f"""<li class="grid__item"><div class="card-wrapper product-card-wrapper">
<div class="card card--standard"><div class="card__media"><img src="/cdn/{p.sku}.jpg" alt="{title}" loading="lazy"></div>
<div class="card__content"><div class="card__information">
{f'<div class="caption-with-letter-spacing">{esc(p.brand)}</div>' if show["brand"] else ""}
<h3 class="card__heading"><a href="{esc(link)}" class="full-unstyled-link">{title}</a></h3>
{f'<span class="caption">{sku_label}: {esc(p.sku)}</span>' if show["sku"] else ""}
<div class="price">{price_html}</div></div>
<div class="card__badge">{sold}{tag_html}</div></div></div></div></li>"""
    if style == "woocommerce":
        tag_html = f'<span class="tagged_as">{ui["tags"]}: ' + ", ".join(f'<a href="/tag/{esc(t)}" rel="tag">{esc(t)}</a>' for t in tags) + "</span>" if show["tags"] else ""  # fmt: skip
        amount_html = f'<del><span class="woocommerce-Price-amount amount">{was}</span></del> <ins><span class="woocommerce-Price-amount amount">{price}</span></ins>' if sale else f'<span class="woocommerce-Price-amount amount">{price}</span>'  # fmt: skip
        return f"""<li class="product type-product status-publish {"instock" if p.in_stock else "outofstock"}">
<a href="{esc(link)}" class="woocommerce-LoopProduct-link woocommerce-loop-product__link"><img src="/wp-content/uploads/{p.sku}.jpg" alt="">
<h2 class="woocommerce-loop-product__title">{title}</h2></a>
{f'<div class="brand">{esc(p.brand)}</div>' if show["brand"] else ""}
{f'<div class="sku_wrapper">{sku_label}: <span class="sku">{esc(p.sku)}</span></div>' if show["sku"] else ""}
<span class="price">{amount_html}</span>
<p class="stock">{badge}</p>{tag_html}
<a href="?add-to-cart={p.ean}" class="button add_to_cart_button">{esc(ui["add"])}</a></li>"""
    if style == "utility":
        tag_html = "".join(f'<span class="rounded bg-gray-100 px-2 text-xs">{esc(t)}</span>' for t in tags) if show["tags"] else ""  # fmt: skip
        price_html = f'<span class="line-through text-gray-400">{was}</span> <span class="font-bold text-red-600">{price}</span>' if sale else f'<span class="font-bold">{price}</span>'  # fmt: skip
        return f"""<div class="flex flex-col rounded-lg border p-4 shadow-sm">
<a href="{esc(link)}" class="block"><img class="aspect-square w-full object-cover" src="/i/{p.sku}.webp" alt=""></a>
{f'<p class="mt-2 text-xs uppercase tracking-wide text-gray-500">{esc(p.brand)}</p>' if show["brand"] else ""}
<a href="{esc(link)}" class="mt-1 text-sm font-medium hover:underline">{title}</a>
{f'<span class="text-xs text-gray-400">{sku_label}: {esc(p.sku)}</span>' if show["sku"] else ""}
<div class="mt-2 flex items-center gap-2">{price_html}</div>
<span class="mt-1 text-xs {"text-green-700" if p.in_stock else "text-gray-500"}">{badge}</span>
<div class="mt-2 flex flex-wrap gap-1">{tag_html}</div></div>"""
    if style == "data-attrs":
        return f"""<article class="tile" data-product-id="{p.ean}" data-url="{esc(link)}" data-available="{str(p.in_stock).lower()}">
<a href="{esc(link)}"><img src="/media/{p.sku}.jpg" alt=""><h3 class="tile-title">{title}</h3></a>
{f'<span class="tile-vendor">{esc(p.brand)}</span>' if show["brand"] else ""}
{f"<span>{sku_label}: {esc(p.sku)}</span>" if show["sku"] else ""}<span>{f"<s>{was}</s> " if sale else ""}{price}</span>
<span class="tile-stock">{badge}</span>
{"<ul class='tile-tags'>" + "".join(f"<li>{esc(t)}</li>" for t in tags) + "</ul>" if show["tags"] else ""}
</article>"""
    if style == "bare":
        parts = [f'<div><a href="{esc(link)}"><img src="/p/{p.sku}.jpg" alt=""></a></div>']
        if show["brand"]:
            parts.append(f"<div>{esc(p.brand)}</div>")
        parts.append(f'<div><a href="{esc(link)}">{title}</a></div>')
        if show["sku"]:
            parts.append(f"<div><span>{sku_label}: {esc(p.sku)}</span><span>{price}</span></div>")
        else:
            parts.append(f"<div>{f'<s>{was}</s> ' if sale else ''}{price}</div>")
        parts.append(f"<div>{badge}</div>")
        if show["tags"]:
            parts.append("<div>" + " ".join(f"<span>#{esc(t)}</span>" for t in tags) + "</div>")
        return "<div>" + "".join(parts) + "</div>"
    rows = []
    if show["brand"]:
        rows.append((ui["vendor"], esc(p.brand)))
    if show["sku"]:
        rows.append((ui["sku"], esc(p.sku)))
    rows.append((UI[doc.lang]["filter"], (f"<s>{was}</s> " if sale else "") + price))
    rows.append(("", badge))
    if show["tags"]:
        rows.append((ui["tags"], ", ".join(esc(t) for t in tags)))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<li class="item"><h3><a href="{esc(link)}">{title}</a></h3><dl>{dl}</dl></li>'


def card_grid(rng: random.Random, name: str) -> Case:
    """A collection page: cards with vendor, title, SKU, price (maybe on sale), stock badge and
    tags, inside header, navigation, filters, pagination and footer."""
    style = CARD_STYLES[(nth(name) - 1) % len(CARD_STYLES)]
    vendor = pick_vendor(rng, industries=("tools", "electronics", "food", "fashion", "office"))
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(8, 18)))
    doc.group = GROUP_BEYOND
    doc.style.price = "symbol"
    lang = doc.lang
    ui = UI[lang]
    show = {"brand": rng.random() < 0.7, "sku": rng.random() < 0.7 or style == "bare", "tags": rng.random() < 0.5}  # fmt: skip
    relative = rng.random() < 0.6
    category = NAV[vendor.industry][rng.randrange(4)]
    collection = f"https://{vendor.domain}/collections/{category.lower().replace(' & ', '-').replace(' ', '-')}"  # fmt: skip
    cards = []
    sale_any = False
    for p in doc.products:
        sale = rng.random() < 0.25
        sale_any |= sale
        link = p.url.split(vendor.domain, 1)[1] if relative else p.url
        cards.append(card_html(doc, p, style, show, link, sale))
    container = {
        "shopify": (
            '<ul id="product-grid" class="grid product-grid grid--4-col-desktop">',
            "</ul>",
        ),
        "woocommerce": ('<ul class="products columns-4">', "</ul>"),
        "utility": ('<div class="grid grid-cols-2 gap-4 md:grid-cols-4">', "</div>"),
        "data-attrs": ('<section class="tiles">', "</section>"),
        "bare": ("<div>", "</div>"),
        "definition-list": ('<ul class="items">', "</ul>"),
    }[style]
    ranges = [(0, 25), (25, 100), (100, 500)]
    filters = "".join(
        f'<li><label><input type="checkbox"> {esc(doc.style.money(a))} – {esc(doc.style.money(b))} ({rng.randint(1, 40)})</label></li>'
        for a, b in ranges
    )
    main = f"""<h1 class="collection-title">{esc(category)}</h1>
<p class="collection-description">{esc(rng.choice(FINE_PRINT[lang]))}</p>
<div class="collection">
<aside class="facets"><h2>{ui["filter"]}</h2><ul>{filters}</ul></aside>
<div class="results">
<div class="toolbar"><span>{esc(ui["showing"].format(n=len(cards), t=len(cards) * 3))}</span> <span>{esc(ui["sort"])}</span></div>
{container[0]}
{chr(10).join(cards)}
{container[1]}
<nav class="pagination"><span>1</span> <a href="?page=2">2</a> <a href="?page=3">3</a> <a href="?page=2">→</a></nav>
</div></div>"""
    text = site_page(rng, vendor, lang, category, main, canonical=collection, crumbs=[category], cart=cart_text(doc))  # fmt: skip
    doc.traps += [f"cards-{style}", "site-chrome", "cart-widget-price", "price-filter-ranges", "page-heading"]  # fmt: skip
    if relative:
        doc.traps.append("relative-links")
        doc.notes.append("Relative links are resolved against the page's canonical URL.")
    if sale_any:
        doc.traps.append("sale-price")
        doc.notes.append("price = the sale price; the struck-through compare-at price is not the price.")  # fmt: skip
    fields = ["name"]
    fields += ["sku"] if show["sku"] else []
    fields += ["brand"] if show["brand"] else []
    fields += ["price", "currency", "in_stock"]
    fields += ["tags"] if show["tags"] else []
    fields += ["url"]
    files = [(f"collection-{rng.randint(2, 9)}.html", text.encode())]
    return doc.case(name, "card-grid", fields, truth(doc.products, fields), files=files)


# -- ERP reports -----------------------------------------------------------------------------------
REPORT_WORDS = {
    "en": {"title": "INVENTORY STATUS REPORT", "run": "RUN DATE", "page": "PAGE", "wh": "WAREHOUSE: 01 MAIN", "item": "ITEM NUMBER", "desc": "DESCRIPTION", "uom": "UOM", "onhand": "ON HAND", "price": "UNIT PRICE", "value": "EXT VALUE", "cont": "*** CONTINUED ON NEXT PAGE ***", "cont2": "(CONTINUED)", "group": "** PRODUCT GROUP", "gtotal": "** GROUP TOTAL", "total": "REPORT TOTAL", "end": "*** END OF REPORT ***", "cur": "CURRENCY", "items": "ITEMS PRINTED"},
    "de": {"title": "BESTANDSLISTE ARTIKEL", "run": "DRUCKDATUM", "page": "SEITE", "wh": "LAGER: 01 HAUPTLAGER", "item": "ARTIKELNR.", "desc": "BEZEICHNUNG", "uom": "ME", "onhand": "BESTAND", "price": "EINZELPREIS", "value": "WERT", "cont": "*** FORTSETZUNG AUF NAECHSTER SEITE ***", "cont2": "(FORTSETZUNG)", "group": "** WARENGRUPPE", "gtotal": "** SUMME WARENGRUPPE", "total": "GESAMTSUMME", "end": "*** ENDE DER LISTE ***", "cur": "WAEHRUNG", "items": "ANZAHL ARTIKEL"},
}  # fmt: skip


def erp_report(rng: random.Random, name: str) -> Case:
    """A printed ERP inventory report: fixed-width columns under a dashed ruler, the page
    header repeated on every page with page number and run date, group headings and totals,
    CONTINUED lines and an END OF REPORT trailer."""
    vendor = pick_vendor(rng, langs=("en", "de"))
    lang = "de" if vendor.locale.startswith("de") else "en"
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(25, 45))))
    doc.group = GROUP_BEYOND
    words = REPORT_WORDS[lang]
    upper = rng.random() < 0.5
    desc_w = rng.choice([30, 34, 40])
    loc = doc.loc
    run = datetime(2025, rng.randint(1, 12), rng.randint(1, 28), rng.randint(6, 22), rng.randint(0, 59))  # fmt: skip
    run_text = fmt_date(run.date(), loc, loc.date_styles[0]) + run.strftime("  %H:%M")
    width = 14 + 1 + desc_w + 1 + 4 + 1 + 9 + 1 + 12 + 1 + 14
    page_len = rng.choice([14, 18, 22])

    def printed(p: Product) -> str:
        text = p.name.upper() if upper else p.name
        return text[:desc_w].rstrip()

    def header(page: int) -> list[str]:
        left = vendor.company.upper()
        mid = words["title"]
        right = f"{words['page']}: {page:>4}"
        line1 = left + mid.center(width - len(left) - len(right)) + right
        line2 = f"{words['run']}: {run_text}".ljust(width // 2) + f"{words['wh']}   {words['cur']}: {vendor.currency}".rjust(width - width // 2)  # fmt: skip
        cols = f"{words['item']:<14} {words['desc']:<{desc_w}} {words['uom']:<4} {words['onhand']:>9} {words['price']:>12} {words['value']:>14}"  # fmt: skip
        ruler = " ".join("-" * n for n in (14, desc_w, 4, 9, 12, 14))
        return [line1, line2, "=" * width, cols, ruler]

    num = lambda v: amount(v, loc)  # noqa: E731
    body: list[tuple[str, str]] = []  # (kind, text)
    current = None
    group_value = 0.0
    total_value = 0.0
    for p in doc.products:
        group = section_name(p.category, lang).upper()
        if group != current:
            if current is not None:
                body.append(("total", f"{words['gtotal']} {current}".ljust(width - 14) + f"{num(group_value):>14}"))  # fmt: skip
                body.append(("blank", ""))
            current = group
            group_value = 0.0
            body.append(("group", f"{words['group']}: {group}"))
        value = round(p.price * p.stock_qty, 2)
        group_value += value
        total_value += value
        uom = {"en": "EA", "de": "ST"}[lang]
        body.append(("item", f"{p.sku:<14} {printed(p):<{desc_w}} {uom:<4} {p.stock_qty:>9} {num(p.price):>12} {num(value):>14}"))  # fmt: skip
    body.append(("total", f"{words['gtotal']} {current}".ljust(width - 14) + f"{num(group_value):>14}"))  # fmt: skip
    pages: list[list[str]] = []
    page: list[str] = []
    for _kind, text in body:
        if len(page) >= page_len:
            pages.append(page)
            page = []
        page.append(text)
    pages.append(page)
    out: list[str] = []
    for n, lines in enumerate(pages, 1):
        out += header(n)
        if n > 1:
            out.append(words["cont2"])
        out += lines
        if n < len(pages):
            out += ["", words["cont"].center(width), "\f"]
    out += ["", "-" * width, f"{words['total']}".ljust(width - 14) + f"{num(total_value):>14}", f"{words['items']}: {len(doc.products)}", "", words["end"].center(width)]  # fmt: skip
    text = "\n".join(out) + "\n"
    doc.traps += ["fixed-width", "dashed-ruler", "repeated-page-headers", "page-numbers", "run-date", "continued-lines", "end-of-report", "group-totals", "currency-note", "stock-quantity", "extended-value-column"]  # fmt: skip
    if any(len(p.name) > desc_w for p in doc.products):
        doc.traps.append("truncated-descriptions")
        doc.notes.append("name = the description as printed (cut to the column's width).")
    doc.notes.append("price = the unit price, not the extended value (quantity x price).")
    fields = ["name", "sku", "price", "currency", "in_stock"]
    rows = truth(doc.products, fields, name=printed)
    files = [(rng.choice(["INV410.TXT", "report.txt", "bestand.lst", "inventory.prn"]), text.encode("utf-8"))]  # fmt: skip
    return doc.case(name, "erp-report", fields, rows, files=files)


# -- PDFs laid out in text columns -----------------------------------------------------------------
def pdf_columns(rng: random.Random, name: str) -> Case:
    """A price list printed without ruling lines: text placed at column positions, numbers
    right-aligned, the column heading repeated on each page; names may wrap onto a second line,
    or run into dot leaders before the price."""
    variant = ["columns", "wrapped", "leaders", "sections"][(nth(name) - 1) % 4]
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, by_section(make_products(rng, vendor, rng.randint(30, 48))))
    doc.group = GROUP_BEYOND
    lang = doc.lang
    doc.style.price = "symbol" if variant == "leaders" else rng.choice(["symbol", "plain"])
    with_stock = variant != "leaders" and rng.random() < 0.7
    heads = {f: doc.header(f) for f in ("sku", "name", "price", "in_stock")}
    if doc.style.price == "plain":
        heads["price"] += f" ({vendor.currency})"
        doc.traps.append("currency-header")
    else:
        doc.traps.append("currency-symbol")
    pdf = new_pdf("P", footer={"en": "Page {page}", "de": "Seite {page}", "fr": "Page {page}", "nl": "Pagina {page}", "es": "Página {page}"}[lang])  # fmt: skip
    x_sku, x_name, x_price_right, x_stock = 12, 40, 168, 172
    name_w = 118 if variant != "wrapped" else 70
    if variant == "wrapped":
        x_price_right, x_stock = 135, 145

    def column_heads() -> None:
        pdf.set_font("Sans", "B", 9)
        y = pdf.get_y()
        pdf.text(x_sku, y, heads["sku"])
        pdf.text(x_name, y, heads["name"])
        if variant != "leaders":
            pdf.text(x_price_right - pdf.get_string_width(heads["price"]), y, heads["price"])
        if with_stock:
            pdf.text(x_stock, y, heads["in_stock"])
        pdf.set_font("Sans", size=9)
        pdf.set_y(y + 7)

    def new_page() -> None:
        pdf.add_page()
        pdf.set_font("Sans", "B", 13)
        pdf.set_y(18)
        pdf.text(12, pdf.get_y(), f"{vendor.company} — {heading}")
        pdf.set_font("Sans", size=9)
        pdf.set_y(26)
        column_heads()

    stock_words = rng.choice(STOCK_WORDS[lang])
    heading = title_line(rng, doc.loc)
    new_page()
    current = None
    for p in doc.products:
        lines_needed = 2 if variant == "wrapped" and pdf.get_string_width(p.name) > name_w else 1
        if pdf.get_y() + 6 * lines_needed > 275:
            new_page()
        if variant == "sections" and p.category != current:
            current = p.category
            pdf.set_font("Sans", "B", 10)
            pdf.text(x_sku, pdf.get_y() + 2, section_name(current, lang))
            pdf.set_font("Sans", size=9)
            pdf.set_y(pdf.get_y() + 8)
        y = pdf.get_y()
        pdf.text(x_sku, y, p.sku)
        price = doc.style.money(p.price)
        if variant == "leaders":
            price_w = pdf.get_string_width(price)
            dots_from = x_name + pdf.get_string_width(p.name) + 2
            dots = "." * max(3, int((x_price_right - price_w - 2 - dots_from) / pdf.get_string_width(".")))  # fmt: skip
            pdf.text(x_name, y, f"{p.name} {dots}")
        elif lines_needed == 2:
            words = p.name.split()
            first = ""
            while words and pdf.get_string_width((first + " " + words[0]).strip()) <= name_w:
                first = (first + " " + words.pop(0)).strip()
            pdf.text(x_name, y, first)
            pdf.text(x_name + 3, y + 4.5, " ".join(words))
        else:
            pdf.text(x_name, y, p.name)
        pdf.text(x_price_right - pdf.get_string_width(price), y, price)
        if with_stock:
            pdf.text(x_stock, y, stock_words[0] if p.in_stock else stock_words[1])
        pdf.set_y(y + 6 * lines_needed - (1.5 if lines_needed == 2 else 0))
    pdf.set_y(pdf.get_y() + 6)
    pdf.text(12, pdf.get_y(), rng.choice(FINE_PRINT[lang]))
    doc.traps += ["no-ruling-lines", "text-columns", "right-aligned-numbers", "repeated-headers"]
    if len(doc.products) and pdf.page_no() > 1:
        doc.traps.append("multi-page")
    doc.traps += {"wrapped": ["wrapped-names"], "leaders": ["dot-leaders"], "sections": ["sections"], "columns": []}[variant]  # fmt: skip
    fields = ["name", "sku", "price", "currency"] + (["in_stock"] if with_stock else [])
    files = [(filename(rng, "pricelist", lang, ".pdf"), pdf_bytes(pdf))]
    return doc.case(name, "pdf-columns", fields, truth(doc.products, fields), files=files)


# -- product blocks ----------------------------------------------------------------------------------
BLOCK_LABELS = {
    "en": {"sku": "SKU", "brand": "Brand", "price": "Price", "stock": "Availability", "released": "Release date", "tags": "Tags", "url": "Link", "weight": "Weight", "ean": "EAN"},
    "de": {"sku": "Artikelnummer", "brand": "Hersteller", "price": "Preis", "stock": "Verfügbarkeit", "released": "Erscheinungsdatum", "tags": "Schlagwörter", "url": "Produktseite", "weight": "Gewicht", "ean": "EAN"},
    "fr": {"sku": "Référence", "brand": "Marque", "price": "Prix", "stock": "Disponibilité", "released": "Date de sortie", "tags": "Mots-clés", "url": "Lien", "weight": "Poids", "ean": "EAN"},
    "nl": {"sku": "Artikelnummer", "brand": "Merk", "price": "Prijs", "stock": "Beschikbaarheid", "released": "Releasedatum", "tags": "Trefwoorden", "url": "Link", "weight": "Gewicht", "ean": "EAN"},
    "es": {"sku": "Referencia", "brand": "Marca", "price": "Precio", "stock": "Disponibilidad", "released": "Fecha de lanzamiento", "tags": "Etiquetas", "url": "Enlace", "weight": "Peso", "ean": "EAN"},
}  # fmt: skip


def product_blocks(rng: random.Random, name: str) -> Case:
    """A product sheet: one block per product, a heading then ``Label: value`` lines and a
    short description, as DOCX (headings and paragraphs) or PDF (text lines)."""
    import docx

    as_pdf = nth(name) % 2 == 0
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(5, 10)))
    doc.group = GROUP_BEYOND
    lang = doc.lang
    labels = BLOCK_LABELS[lang]
    doc.style.price = "symbol"
    shown = ["sku", "brand", "price", "stock", *[k for k in ("released", "tags", "url") if rng.random() < 0.6], "weight", "ean"]  # fmt: skip
    stock_words = rng.choice(STOCK_WORDS[lang])
    date_style = rng.choice(doc.loc.date_styles)
    blocks: list[tuple[str, list[str], str]] = []
    for p in doc.products:
        values = {
            "sku": p.sku,
            "brand": p.brand,
            "price": doc.style.money(p.price),
            "stock": stock_words[0] if p.in_stock else stock_words[1],
            "released": fmt_date(p.release_date, doc.loc, date_style),
            "tags": ", ".join(p.tags),
            "url": p.url,
            "weight": p.weight.replace(".", doc.loc.decimal),
            "ean": p.ean,
        }
        lines = [f"{labels[k]}: {values[k]}" for k in shown]
        blurb = f"{p.name} — {rng.choice(FINE_PRINT[lang])}"
        blocks.append((p.name, lines, blurb))
    title = {"en": "Product sheet", "de": "Produktdatenblatt", "fr": "Fiches produits", "nl": "Productinformatie", "es": "Fichas de producto"}[lang]  # fmt: skip
    if as_pdf:
        pdf = new_pdf("P", header=vendor.company, footer="{page}/{pages}")
        pdf.add_page()
        pdf.set_font("Sans", "B", 15)
        pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        for heading, lines, blurb in blocks:
            if pdf.get_y() > 230:
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font("Sans", "B", 11)
            pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Sans", size=9)
            for line in lines:
                pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Sans", size=8)
            pdf.multi_cell(0, 4.5, blurb, new_x="LMARGIN", new_y="NEXT")
        data = pdf_bytes(pdf)
        files = [(filename(rng, "range", lang, ".pdf"), data)]
    else:
        document = docx.Document()
        document.add_heading(title, 0)
        document.add_paragraph(f"{vendor.company} · {vendor.city}")
        for heading, lines, blurb in blocks:
            document.add_heading(heading, 2)
            for line in lines:
                document.add_paragraph(line)
            document.add_paragraph(blurb).runs[0].italic = True
        files = [(filename(rng, "range", lang, ".docx"), docx_bytes(document))]
    doc.traps += ["product-blocks", "label-value-lines", "weights", "ean-label", "description-prose", "currency-symbol"]  # fmt: skip
    fields = ["name", "sku", "brand", "price", "currency", "in_stock"]
    fields += [f for k, f in (("released", "release_date"), ("tags", "tags"), ("url", "url")) if k in shown]  # fmt: skip
    return doc.case(name, "product-blocks", fields, truth(doc.products, fields), files=files)


# -- e-mails ---------------------------------------------------------------------------------------
PROSE = {
    "en": ["We have had a busy quarter, and several lines came back into stock last week.", "Shipping is {ship} per parcel; orders over {free} ship free.", "Our warehouse is closed on {date} for stocktaking.", "If you order before Thursday, we can deliver by the end of next week."],
    "de": ["Nach einem arbeitsreichen Quartal sind einige Artikel seit letzter Woche wieder verfügbar.", "Der Versand kostet {ship} pro Paket, ab {free} liefern wir frei Haus.", "Am {date} bleibt unser Lager wegen Inventur geschlossen.", "Bei Bestellung bis Donnerstag liefern wir noch bis Ende nächster Woche."],
    "fr": ["Plusieurs articles sont de nouveau disponibles depuis la semaine dernière.", "Les frais de port sont de {ship} par colis, offerts dès {free}.", "Notre entrepôt sera fermé le {date} pour inventaire.", "Pour toute commande passée avant jeudi, livraison d'ici la fin de la semaine prochaine."],
    "nl": ["Sinds vorige week zijn verschillende artikelen weer op voorraad.", "Verzending kost {ship} per pakket, vanaf {free} gratis.", "Op {date} is ons magazijn gesloten wegens inventarisatie.", "Bestelt u voor donderdag, dan leveren wij voor het einde van volgende week."],
    "es": ["Varios artículos vuelven a estar disponibles desde la semana pasada.", "El envío cuesta {ship} por paquete, gratis a partir de {free}.", "El almacén cierra el {date} por inventario."],
}  # fmt: skip
QUOTED = {
    "en": ["> Hi, could you send me your current prices and availability?", "> We are planning our next order for the new branch.", "> Thanks, Sam"],
    "de": ["> Hallo, könnten Sie mir bitte aktuelle Preise und Verfügbarkeit schicken?", "> Wir planen die nächste Bestellung für unsere neue Filiale.", "> Danke, Sam"],
    "fr": ["> Bonjour, pourriez-vous m'envoyer vos prix et disponibilités actuels ?", "> Nous préparons la prochaine commande.", "> Merci, Sam"],
    "nl": ["> Hallo, kunt u mij de actuele prijzen en beschikbaarheid sturen?", "> We plannen onze volgende bestelling.", "> Groet, Sam"],
    "es": ["> Hola, ¿podría enviarme sus precios y disponibilidad actuales?", "> Gracias, Sam"],
}  # fmt: skip
WROTE = {"en": "On {d}, Sam Carter <sam@northfield.example> wrote:", "de": "Am {d} schrieb Sam Carter <sam@northfield.example>:", "fr": "Le {d}, Sam Carter <sam@northfield.example> a écrit :", "nl": "Op {d} schreef Sam Carter <sam@northfield.example>:", "es": "El {d}, Sam Carter <sam@northfield.example> escribió:"}  # fmt: skip
SKU_WORD = {"en": "SKU", "de": "Art.-Nr.", "fr": "réf.", "nl": "art.nr.", "es": "ref."}
SECOND_LIST = {"en": "And from our accessories range:", "de": "Außerdem aus unserem Zubehörprogramm:", "fr": "Et dans notre gamme d'accessoires :", "nl": "En uit ons assortiment accessoires:", "es": "Y de nuestra gama de accesorios:"}  # fmt: skip


def email(rng: random.Random, name: str) -> Case:
    """An e-mail reply listing products in two groups between prose paragraphs that mention
    shipping costs and dates, with a signature and the quoted question; as an .eml file, a
    .txt file or pasted text."""
    form = ["eml", "txt", "inline"][(nth(name) - 1) % 3]
    vendor = pick_vendor(rng)
    doc = Doc(rng, vendor, make_products(rng, vendor, rng.randint(5, 11)))
    doc.group = GROUP_BEYOND
    lang = doc.lang
    doc.style.price = rng.choice(["symbol", "symbol", "code"])
    bullet = rng.choice(["- ", "* ", "• ", ""])
    sep = rng.choice([" — ", " – ", ", ", " | "])
    with_sku = rng.random() < 0.75
    with_stock = rng.random() < 0.6
    stock_words = rng.choice(STOCK_WORDS[lang])

    def line(p: Product) -> str:
        head = f"{p.name} ({p.sku})" if with_sku and rng.random() < 0.5 else p.name
        parts = [head]
        if with_sku and "(" + p.sku + ")" not in head:
            parts.append(f"{SKU_WORD[lang]} {p.sku}")
        parts.append(doc.style.money(p.price))
        if with_stock:
            parts.append(stock_words[0] if p.in_stock else stock_words[1])
        return bullet + sep.join(parts)

    split = max(2, len(doc.products) // 2)
    hello, intro, outro, bye = greeting_parts(rng, lang)
    prose = PROSE[lang]
    fill = {"ship": doc.style.money(6.9), "free": doc.style.money(250), "date": fmt_date(datetime(2025, 6, 14).date(), doc.loc, doc.loc.date_styles[0])}  # fmt: skip
    sig = signature(rng, vendor, lang)
    body = [hello, "", intro, "", *[line(p) for p in doc.products[:split]], "", prose[0].format(**fill), prose[1].format(**fill), "", SECOND_LIST[lang], "", *[line(p) for p in doc.products[split:]], "", prose[2].format(**fill), outro, "", bye, *sig]  # fmt: skip
    body += ["", WROTE[lang].format(d=fmt_date(datetime(2025, 6, 2).date(), doc.loc, doc.loc.date_styles[0])), *QUOTED[lang]]  # fmt: skip
    text = "\n".join(body) + "\n"
    subject = {"en": "Re: prices and availability", "de": "AW: Preise und Verfügbarkeit", "fr": "RE: prix et disponibilités", "nl": "Re: prijzen en beschikbaarheid", "es": "RE: precios y disponibilidad"}[lang]  # fmt: skip
    doc.traps += ["email", "prose-between-lists", "prices-in-prose", "signature", "quoted-reply", "currency-symbol"]  # fmt: skip
    fields = ["name", "sku", "price", "currency"] + (["in_stock"] if with_stock else [])
    rows = truth(doc.products, fields, sku=lambda p: p.sku if with_sku else None)
    if not with_sku:
        doc.traps.append("no-sku")
        doc.notes.append("The lines carry no SKU: sku must stay empty.")
    key = "sku" if with_sku else "name"
    if form == "inline":
        return doc.case(name, "email", fields, rows, text=text, key=key)
    if form == "eml":
        sender = f"sales@{vendor.domain}"
        head = [
            f"From: {sig[1]} <{sender}>",
            "To: Sam Carter <sam@northfield.example>",
            f"Subject: {subject}",
            "Date: Tue, 03 Jun 2025 10:42:17 +0200",
            f"Message-ID: <{rng.randint(10**8, 10**9)}.{vendor.key}@{vendor.domain}>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        doc.traps.append("mail-headers")
        data = ("\r\n".join(head) + "\r\n" + text.replace("\n", "\r\n")).encode()
        return doc.case(name, "email", fields, rows, files=[(f"{subject.split(':')[0].lower()}-{nth(name)}.eml", data)], key=key)  # fmt: skip
    return doc.case(name, "email", fields, rows, files=[(filename(rng, "message", lang, ".txt"), text.encode())], key=key)  # fmt: skip


TEMPLATES = [
    (product_page, 9),
    (card_grid, 8),
    (erp_report, 4),
    (pdf_columns, 4),
    (product_blocks, 4),
    (email, 6),
]
