"""Module tests of the page readers on generated HTML: the clean DOM (chrome removed, text that
never glues), schema.org data in JSON-LD / microdata / RDFa, repeated product blocks in several
markup styles, single product pages with related teasers, and the description of a page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from beyond_docs import BASE, PRODUCTS, card_page, chrome, product_page, url_of

from lasso_notebook.server.extract.dom import element_text, load_page, parse_page, segments
from lasso_notebook.server.extract.html import parse_html
from lasso_notebook.server.extract.page import describe, find_units, single_product
from lasso_notebook.server.extract.structured import read_structured

_CHROME_TEXTS = ("Home", "Cart", "cookies", "newsletter", "About us", "Free shipping", "Toolshop")


def _units(html: str) -> list[dict[str, Any]]:
    page = parse_page(html)
    return [u.record for u in find_units(page)]


def _structured(html: str) -> list[dict[str, Any]]:
    page = load_page(html)
    return [p.record for p in read_structured(page.root, page.url)]


@pytest.mark.parametrize("style", ["bem", "utility", "plain", "data"])
def test_card_grid_in_site_chrome_gives_one_full_record_per_card(style: str) -> None:
    records = _units(card_page(style))
    assert [r["name"] for r in records] == [p["name"] for p in PRODUCTS]
    for record, p in zip(records, PRODUCTS, strict=True):
        assert record["sku"] == p["sku"]
        assert record["brand"] == p["brand"]
        assert record["price"] == f"{p['price']:,.2f}"  # the sale price, not the compare-at one
        assert record["currency"] == "USD"
        assert record["in_stock"] is p["in_stock"]
        assert record["tags"] == p["tags"]
        assert record["url"] == url_of(p)  # relative links resolved against the canonical URL
        assert not any(t in str(record) for t in _CHROME_TEXTS)


def test_cards_pasted_without_a_page_still_read() -> None:
    records = _units(card_page("bem", site=False))
    assert len(records) == len(PRODUCTS)
    assert records[0]["sku"] == "ECH-9" and records[0]["price"] == "1,099.00"
    assert records[0]["url"] == "/products/ech-9"  # no canonical URL to resolve against


def test_sku_label_and_price_in_sibling_spans_stay_apart() -> None:
    cards = "".join(
        f"<div class='item'><h3>Widget {n}</h3><span>SKU: AX{n}</span><span>$1{n}.00</span></div>"
        for n in range(1, 4)
    )
    records = _units(f"<html><body><div class='list'>{cards}</div></body></html>")
    assert records[0] == {"name": "Widget 1", "sku": "AX1", "price": "11.00", "currency": "USD"}
    assert [r["sku"] for r in records] == ["AX1", "AX2", "AX3"]


def test_segments_never_glue_and_chrome_is_removed() -> None:
    page = parse_page(card_page("bem"))
    texts = [s.text for s in segments(page.root)]
    assert "Echo" in texts and "SKU: ECH-9" in texts and "$1,099.00" in texts
    assert not any("EchoSKU" in t or "ECH-9$" in t for t in texts)
    assert not any(t in " ".join(texts) for t in ("Cart", "cookies", "newsletter", "About us"))
    assert element_text(page.root).startswith("All products")


def test_nav_footer_and_headings_are_never_products() -> None:
    links = "".join(f"<li><a href='/c/{n}'>Category {n}</a></li>" for n in range(8))
    html = chrome(f"<h1>Welcome</h1><ul class='categories'>{links}</ul><p>About our shop.</p>")
    assert _units(html) == []
    assert single_product(parse_page(html)) is None


def test_json_ld_graph_item_list_and_variants() -> None:
    items = [
        {
            "@type": "ListItem",
            "position": n,
            "item": {
                "@type": "Product",
                "name": p["name"],
                "sku": p["sku"],
                "url": f"/products/{p['sku'].lower()}",
                "brand": p["brand"],
                "offers": {
                    "@type": "AggregateOffer",
                    "lowPrice": p["price"],
                    "priceCurrency": "EUR",
                    "availability": "http://schema.org/"
                    + ("InStock" if p["in_stock"] else "SoldOut"),
                },
            },
        }
        for n, p in enumerate(PRODUCTS, 1)
    ]
    group = {
        "@type": "ProductGroup",
        "name": "Work gloves",
        "brand": {"@type": "Brand", "name": "3N"},
        "hasVariant": [
            {
                "@type": "Product",
                "sku": f"GL-{s}",
                "name": f"Work gloves {s}",
                "offers": {"price": "9.90", "priceCurrency": "EUR"},
            }
            for s in ("M", "L")
        ],
    }
    # A trailing comma, as some shops print it, must not lose the list.
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@graph": [{"@type": "ItemList", "itemListElement": items}, group],
        }
    )
    ld = ld[:-2] + ",]}"
    html = f"<html><head><link rel='canonical' href='{BASE}/c/all'><script type='application/ld+json'>{ld}</script></head><body></body></html>"
    records = _structured(html)
    assert [r["sku"] for r in records] == [p["sku"] for p in PRODUCTS] + ["GL-M", "GL-L"]
    first = records[0]
    assert first["price"] == 1099.0 and first["currency"] == "EUR" and first["in_stock"] is True
    assert first["url"] == url_of(PRODUCTS[0]) and first["brand"] == "Echo"
    assert records[1]["in_stock"] is False
    assert records[-1]["brand"] == "3N" and records[-1]["price"] == 9.9


@pytest.mark.parametrize("kind", ["jsonld", "microdata", "rdfa"])
def test_structured_product_pages(kind: str) -> None:
    (record,) = _structured(product_page(kind))
    p = PRODUCTS[0]
    assert record["name"] == p["name"] and record["sku"] == p["sku"]
    assert record["brand"] == p["brand"] and record["price"] == 1099.0
    assert record["currency"] == "USD" and record["in_stock"] is True
    if kind == "jsonld":
        assert record["gtin"] == "4006381333931" and record["tags"] == p["tags"]


def test_product_page_without_structured_data_gives_its_own_product_only() -> None:
    page = parse_page(product_page("none"))
    teasers = find_units(page)
    assert teasers == []  # the related-products grid is not the page's product list
    record = single_product(page)
    assert record is not None
    p = PRODUCTS[0]
    assert record["name"] == p["name"] and record["sku"] == p["sku"]
    assert record["brand"] == p["brand"] and record["price"] == "1,099.00"
    assert record["in_stock"] is True and record["tags"] == p["tags"]
    assert record["url"] == url_of(p)  # the page's canonical URL


def test_describe_names_the_heading_and_what_the_page_holds() -> None:
    page = parse_page(chrome("<h1>About us</h1><p>We sell tools.</p><p>Since 1990.</p><p>Bye.</p>"))
    assert (
        describe(page) == "the page's text starts with a heading 'About us' and holds 3 paragraphs"
    )
    assert describe(parse_page("<html><body></body></html>")) == "the page has no visible text"


def test_a_specification_table_belongs_to_the_product_page() -> None:
    body = """<div class="product"><h1>Bosk Haakse slijper 125 mm</h1><p>Merk: Bosk</p>
<div class="prijs">€ 89,50</div><p>Op voorraad</p><table class="specs">
<tr><th>Artikelnummer</th><td>BG-125</td></tr><tr><th>Gewicht</th><td>2,1 kg</td></tr>
<tr><th>Vermogen</th><td>900 W</td></tr></table></div>"""
    items = parse_html(chrome(body, canonical="/p/bg-125"))
    (record,) = [i for i in items if isinstance(i, dict)]
    assert record == {
        "name": "Bosk Haakse slijper 125 mm",
        "brand": "Bosk",
        "sku": "BG-125",
        "Gewicht": "2,1 kg",
        "Vermogen": "900 W",
        "price": "89,50",
        "currency": "EUR",
        "in_stock": True,
        "url": f"{BASE}/p/bg-125",
    }


def test_microdata_cards_are_completed_by_what_the_cards_print() -> None:
    cards = "".join(
        f"""<div class="card" itemscope itemtype="https://schema.org/Product">
<p class="vendor">{p["brand"]}</p><h3 itemprop="name"><a itemprop="url" href="/products/{p["sku"].lower()}">{p["name"]}</a></h3>
<span>SKU: {p["sku"]}</span><div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
<span itemprop="price" content="{p["price"]}">${p["price"]}</span><meta itemprop="priceCurrency" content="USD"></div>
<span class="badge">{"In stock" if p["in_stock"] else "Sold out"}</span></div>"""
        for p in PRODUCTS
    )
    records = [i for i in parse_html(chrome(f"<h1>All</h1><div class='grid'>{cards}</div>")) if isinstance(i, dict)]  # fmt: skip
    assert [(r["sku"], r["brand"], r["in_stock"], r["price"]) for r in records] == [
        (p["sku"], p["brand"], p["in_stock"], p["price"]) for p in PRODUCTS
    ]
    assert records[0]["url"] == url_of(PRODUCTS[0])
