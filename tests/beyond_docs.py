"""Documents beyond tables, generated for tests and DEV fixtures: product card grids in several
markup styles inside site chrome, product pages (JSON-LD, microdata, RDFa, none) with related
teasers, printed ERP reports, PDFs laid out in columns without ruling lines, Word product
blocks and e-mails listing products between prose."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

BASE = "https://shop.example.test"

PRODUCTS: list[dict[str, Any]] = [
    {
        "name": 'Echo CS-590 Timber Wolf Chainsaw 20"',
        "sku": "ECH-9",
        "brand": "Echo",
        "price": 1099.0,
        "in_stock": True,
        "tags": ["chainsaw", "petrol"],
    },
    {
        "name": "Acme X100 Cordless Drill 18V",
        "sku": "AX-100",
        "brand": "Acme",
        "price": 129.0,
        "in_stock": False,
        "tags": ["drill", "cordless"],
    },
    {
        "name": "Bosk Pro Angle Grinder 125 mm",
        "sku": "BG-125",
        "brand": "Bosk",
        "price": 89.5,
        "in_stock": True,
        "tags": ["grinder"],
    },
    {
        "name": "Makito Circular Saw 190 mm",
        "sku": "MK-190",
        "brand": "Makito",
        "price": 219.99,
        "in_stock": True,
        "tags": ["saw", "wood"],
    },
    {
        "name": "Stanlee Claw Hammer 16 oz",
        "sku": "ST-16H",
        "brand": "Stanlee",
        "price": 24.5,
        "in_stock": False,
        "tags": ["hammer"],
    },
    {
        "name": "Gardenia Hose Reel 30 m",
        "sku": "GH-30R",
        "brand": "Gardenia",
        "price": 2349.0,
        "in_stock": True,
        "tags": ["garden", "hose"],
    },
]


def url_of(p: dict[str, Any]) -> str:
    return f"{BASE}/products/{p['sku'].lower()}"


def usd(value: float) -> str:
    return f"${value:,.2f}"


def eur(value: float) -> str:
    return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") + " €"


def expected(
    products: list[dict[str, Any]], fields: list[str], currency: str = "USD"
) -> list[dict[str, Any]]:
    rows = []
    for p in products:
        full = dict(p, currency=currency, url=url_of(p))
        rows.append({k: full[k] for k in fields})
    return rows


# -- site chrome -----------------------------------------------------------------------------
def chrome(
    body: str, *, title: str = "All products", canonical: str = "/collections/all", head: str = ""
) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Toolshop</title>
<link rel="canonical" href="{BASE}{canonical}">{head}
<style>.grid {{ display: grid }}</style><script>window.dataLayer = [{{"event": "view"}}];</script></head>
<body>
<div class="announcement-bar">Free shipping on orders over $50</div>
<header class="site-header"><a class="logo" href="/">Toolshop</a>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/c/tools">Tools</a></li><li><a href="/c/garden">Garden</a></li><li><a href="/sale">Sale</a></li></ul></nav>
<form class="search" action="/search"><input name="q" placeholder="Search"><button>Go</button></form>
<div class="mini-cart"><a href="/cart">Cart</a> <span>2 items</span> <span>$153.50</span></div></header>
<nav class="breadcrumbs" aria-label="breadcrumb"><a href="/">Home</a> / <span>{title}</span></nav>
<main>{body}</main>
<div id="cookie-consent" class="cookie-banner"><p>We use cookies to improve your experience.</p><button>Accept</button></div>
<footer class="site-footer"><ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li><li><a href="/jobs">Jobs</a></li></ul>
<form class="newsletter"><p>Get 10% off: subscribe to our newsletter</p><input type="email"></form><p>&copy; 2024 Toolshop</p></footer>
</body></html>"""


# -- card grids --------------------------------------------------------------------------------
def _card(style: str, p: dict[str, Any]) -> str:
    href = f"/products/{p['sku'].lower()}"
    stock = "In stock" if p["in_stock"] else "Sold out"
    price = usd(p["price"])
    was = usd(round(p["price"] * 1.2, 2))
    if style == "bem":
        tags = "".join(f'<li class="product-card__tag">#{t}</li>' for t in p["tags"])
        return f"""<li class="product-grid__item"><div class="product-card">
<a class="product-card__media" href="{href}"><img src="/img/{p["sku"]}.jpg" alt=""></a>
<div class="product-card__info"><p class="product-card__vendor">{p["brand"]}</p>
<h3 class="product-card__title"><a href="{href}">{p["name"]}</a></h3>
<div class="product-card__meta"><span>SKU: {p["sku"]}</span><span class="price price--sale"><span class="price__current">{price}</span> <s class="price__compare">{was}</s></span></div>
<span class="badge badge--stock">{stock}</span><ul class="product-card__tags">{tags}</ul>
<button class="product-card__add">Add to cart</button></div></div></li>"""
    if style == "utility":
        tags = "".join(
            f'<span class="rounded-full bg-gray-100 px-2 text-xs">#{t}</span>' for t in p["tags"]
        )
        return f"""<div class="group relative flex flex-col rounded-lg border p-4">
<img class="aspect-square w-full object-cover" src="/img/{p["sku"]}.jpg" alt="">
<p class="mt-2 text-xs uppercase tracking-wide text-gray-500">{p["brand"]}</p>
<h3 class="mt-1 text-sm font-medium text-gray-900"><a href="{href}">{p["name"]}</a></h3>
<div class="mt-1 flex gap-2 text-xs text-gray-500"><span>SKU: {p["sku"]}</span><span class="font-semibold text-gray-900">{price}</span></div>
<p class="mt-1 text-xs text-green-700">{stock}</p><div class="mt-2 flex gap-1">{tags}</div></div>"""
    if style == "plain":
        tags = ", ".join(p["tags"])
        return f"""<div><a href="{href}"><img src="/img/{p["sku"]}.jpg" alt=""></a>
<div><small>by {p["brand"]}</small></div><h4><a href="{href}">{p["name"]}</a></h4>
<p><span>SKU: {p["sku"]}</span><span>{price}</span></p><p><b>{stock}</b></p><p>Tags: {tags}</p></div>"""
    if style == "data":
        tags = "".join(f'<span data-role="tag">{t}</span>' for t in p["tags"])
        return f"""<article data-product-id="{p["sku"]}" class="tile">
<a data-role="link" href="{href}"><span data-role="title">{p["name"]}</span></a>
<span data-role="vendor">{p["brand"]}</span><span data-role="sku">{p["sku"]}</span>
<span data-role="price"><del>{was}</del> <ins>{price}</ins></span>
<span data-role="availability">{stock}</span><div data-role="tags">{tags}</div></article>"""
    raise ValueError(style)


def card_page(style: str, products: list[dict[str, Any]] = PRODUCTS, *, site: bool = True) -> str:
    if style == "bem":
        grid = f'<ul class="product-grid">{"".join(_card(style, p) for p in products)}</ul>'
    else:
        grid = f'<div class="grid grid-cols-3 gap-4">{"".join(_card(style, p) for p in products)}</div>'
    body = f"<h1>All products</h1><p>{len(products)} products</p>{grid}"
    return chrome(body) if site else grid


# -- product pages -------------------------------------------------------------------------------
def _teasers(exclude: dict[str, Any]) -> str:
    others = [p for p in PRODUCTS if p is not exclude][:4]
    cards = "".join(
        f'<div class="card"><h3><a href="/products/{o["sku"].lower()}">{o["name"]}</a></h3><span>{usd(o["price"])}</span><span>SKU: {o["sku"]}</span></div>'
        for o in others
    )
    return f'<section class="related-products"><h2>You may also like</h2><div class="cards">{cards}</div></section>'


def product_page(kind: str, p: dict[str, Any] = PRODUCTS[0]) -> str:
    canonical = f"/products/{p['sku'].lower()}"
    stock = "In stock" if p["in_stock"] else "Sold out"
    availability = "https://schema.org/" + ("InStock" if p["in_stock"] else "OutOfStock")
    head = f'<meta property="og:type" content="product"><meta property="og:title" content="{p["name"]}">'
    if kind == "jsonld":
        data = {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "BreadcrumbList",
                    "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Home"}],
                },
                {
                    "@type": "Product",
                    "name": p["name"],
                    "sku": p["sku"],
                    "gtin13": "4006381333931",
                    "brand": {"@type": "Brand", "name": p["brand"]},
                    "image": [f"{BASE}/img/{p['sku']}.jpg"],
                    "keywords": ", ".join(p["tags"]),
                    "url": f"{BASE}{canonical}",
                    "offers": {
                        "@type": "Offer",
                        "price": f"{p['price']:.2f}",
                        "priceCurrency": "USD",
                        "availability": availability,
                    },
                },
            ],
        }
        head += f'<script type="application/ld+json">{json.dumps(data)}</script>'
        info = f"<h1>{p['name']}</h1><p class='price'>{usd(p['price'])}</p><p>{stock}</p>"
    elif kind == "microdata":
        info = f"""<div itemscope itemtype="https://schema.org/Product">
<h1 itemprop="name">{p["name"]}</h1><meta itemprop="sku" content="{p["sku"]}">
<div itemprop="brand" itemscope itemtype="https://schema.org/Brand"><span itemprop="name">{p["brand"]}</span></div>
<div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><span itemprop="price" content="{p["price"]:.2f}">{usd(p["price"])}</span>
<meta itemprop="priceCurrency" content="USD"><link itemprop="availability" href="{availability}">{stock}</div></div>"""
    elif kind == "rdfa":
        info = f"""<div vocab="https://schema.org/" typeof="Product"><h1 property="name">{p["name"]}</h1>
<span property="sku">{p["sku"]}</span><div property="brand" typeof="Brand"><span property="name">{p["brand"]}</span></div>
<div property="offers" typeof="Offer"><span property="priceCurrency" content="USD">$</span><span property="price" content="{p["price"]:.2f}">{p["price"]:,.2f}</span>
<link property="availability" href="{availability}">{stock}</div></div>"""
    elif kind == "none":
        tags = "".join(f"<a class='tag' href='/t/{t}'>{t}</a>" for t in p["tags"])
        info = f"""<div class="product"><div class="product__gallery"><img src="/img/{p["sku"]}.jpg" alt=""></div>
<div class="product__info"><p class="product__vendor">{p["brand"]}</p><h1 class="product__title">{p["name"]}</h1>
<p class="product__sku">SKU: {p["sku"]}</p><div class="product__price"><s>{usd(p["price"] * 1.25)}</s> <span>{usd(p["price"])}</span></div>
<p class="product__stock">{stock}</p><div class="product__tags">{tags}</div>
<form action="/cart/add"><select name="qty"><option>1</option></select><button>Add to cart</button></form>
<div class="product__description"><p>A sturdy tool for demanding work. Ships within 2 days.</p></div></div></div>"""
    else:
        raise ValueError(kind)
    return chrome(info + _teasers(p), title=p["name"], canonical=canonical, head=head)


# -- printed ERP report ----------------------------------------------------------------------------
def erp_report(products: list[dict[str, Any]] = PRODUCTS, *, per_page: int = 4) -> str:
    def head(page: int, pages: int) -> list[str]:
        return [
            f"TOOLSHOP DISTRIBUTION INC.               ITEM PRICE LIST                    PAGE {page:>3} OF {pages}",
            "RUN DATE: 03/15/2024  06:02:11          WAREHOUSE: MAIN           CURRENCY: USD",
            "",
            "ITEM NUMBER  DESCRIPTION                     BRAND        ON HAND   UNIT PRICE",
            "------------ ------------------------------- ------------ -------- ------------",
        ]

    pages = (len(products) + per_page - 1) // per_page
    lines: list[str] = []
    for page in range(pages):
        if page:
            lines += [
                "",
                "                                   CONTINUED",
                "\f" + head(page + 1, pages)[0],
            ]
            lines += head(page + 1, pages)[1:]
        else:
            lines += head(1, pages)
        for p in products[page * per_page : (page + 1) * per_page]:
            name = p["name"]
            first, rest = name[:31], name[31:]
            if rest:  # the description column wraps a long name onto a second line
                first, rest = name[: name.rfind(" ", 0, 31)], name[name.rfind(" ", 0, 31) + 1 :]
            qty = 12 if p["in_stock"] else 0
            lines.append(
                f"{p['sku']:<12} {first:<31} {p['brand']:<12} {qty:>8} {p['price']:>12,.2f}"
            )
            if rest:
                lines.append(f"{'':<12} {rest:<31}")
    total = sum(p["price"] for p in products)
    lines += [
        "",
        f"{'':<12} {'TOTAL ITEMS LISTED: ' + str(len(products)):<31} {'':<12} {'':>8} {total:>12,.2f}",
        "",
        "*** END OF REPORT ***",
    ]
    return "\n".join(lines) + "\n"


# -- PDF in columns, no ruling lines ------------------------------------------------------------
def columns_pdf(
    path: Path, products: list[dict[str, Any]] = PRODUCTS, *, per_page: int = 4
) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for start in range(0, len(products), per_page):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.text(15, 18, "Toolshop wholesale price list")
        pdf.set_font("Helvetica", "", 8)
        pdf.text(15, 24, "All prices in USD, excluding sales tax.")
        pdf.set_font("Helvetica", "B", 9)
        y = 36.0
        for x, title in (
            (15, "Item #"),
            (38, "Product"),
            (110, "Brand"),
            (140, "Stock"),
            (165, "Price"),
        ):
            pdf.text(x, y, title)
        pdf.set_font("Helvetica", "", 9)
        for p in products[start : start + per_page]:
            y += 7
            pdf.text(15, y, p["sku"])
            name = p["name"]
            if len(name) > 30:  # wrap the name onto a second line
                cut = name.rfind(" ", 0, 28)
                pdf.text(38, y, name[:cut])
                pdf.text(38, y + 4, name[cut + 1 :])
            else:
                pdf.text(38, y, name)
            pdf.text(110, y, p["brand"])
            stock = "yes" if p["in_stock"] else "no"
            pdf.text(140, y, stock)
            price = usd(p["price"])
            pdf.text(185 - pdf.get_string_width(price), y, price)  # right-aligned
            if len(name) > 30:
                y += 4
        pdf.set_font("Helvetica", "", 7)
        pdf.text(95, 285, f"Page {start // per_page + 1}")
    pdf.output(str(path))
    return path


# -- Word product blocks ----------------------------------------------------------------------
def blocks_docx(path: Path, products: list[dict[str, Any]] = PRODUCTS) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Spring tool selection", level=1)
    document.add_paragraph("Our pick of the season. All prices in EUR, VAT included.")
    for p in products:
        document.add_heading(f"{p['name']} ({p['sku']})", level=2)
        document.add_paragraph(f"Brand: {p['brand']}")
        document.add_paragraph(f"Price: {eur(p['price'])}")
        document.add_paragraph("Availability: " + ("in stock" if p["in_stock"] else "sold out"))
        document.add_paragraph("A dependable tool for professionals, tested in our workshop.")
    document.add_heading("Contact", level=2)
    document.add_paragraph("Questions? Call us on weekdays between 8 and 17 o'clock.")
    document.save(str(path))
    return path


# -- e-mails -------------------------------------------------------------------------------------
def email_text(products: list[dict[str, Any]] = PRODUCTS) -> str:
    lines = [
        "Hi Anna,",
        "",
        "thanks for your call this morning. As promised, here are the items we can deliver",
        "next week at the prices we agreed on. Prices are in USD and exclude shipping.",
        "",
    ]
    for p in products:
        stock = "in stock" if p["in_stock"] else "sold out"
        lines.append(f"- {p['name']} ({p['sku']}): {usd(p['price'])}, {stock}")
    lines += [
        "",
        "Let me know which ones you would like to order and I will reserve them for you.",
        "",
        "Best regards,",
        "Tom Miller",
        "Sales | Toolshop Distribution | +1 555 0100",
        "",
        "On Mon, Mar 11, 2024 at 9:12 AM Anna Berg <anna@example.test> wrote:",
        "> Could you send me prices for the Bosk grinder and the Acme drill?",
        "> - Acme X100 Cordless Drill 18V (AX-100): $119.00",
    ]
    return "\n".join(lines) + "\n"


def eml_bytes(products: list[dict[str, Any]] = PRODUCTS) -> bytes:
    message = EmailMessage()
    message["From"] = "Tom Miller <tom@example.test>"
    message["To"] = "Anna Berg <anna@example.test>"
    message["Subject"] = "Re: prices for next week"
    message["Date"] = "Tue, 12 Mar 2024 10:00:00 +0000"
    text = email_text(products)
    message.set_content(text)
    rows = "".join(f"<li>{p['name']} ({p['sku']}): {usd(p['price'])}</li>" for p in products)
    message.add_alternative(
        f"<html><body><p>Hi Anna,</p><ul>{rows}</ul></body></html>", subtype="html"
    )
    return bytes(message)
