"""Catalogs that are not tables, through the HTTP API of a real embedded engine: a card grid
inside site chrome, sibling spans for SKU and price, a PDF in columns without ruling lines, a
printed ERP report, product pages with JSON-LD, microdata or no structured data, e-mails
listing products between prose (pasted and ``.eml``), Word product blocks, and the error that
says what a page without products looked like."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from beyond_docs import (
    PRODUCTS,
    blocks_docx,
    card_page,
    chrome,
    columns_pdf,
    email_text,
    eml_bytes,
    erp_report,
    product_page,
    url_of,
)

from lasso_notebook import Lasso
from lasso_notebook.server.extract import Source, extract
from lasso_notebook.server.store import PRODUCTS_COLUMNS


@pytest.fixture
def client(engine: Any) -> Iterator[Lasso]:
    with Lasso(api_key=engine.api_key, base_url=engine.base_url, max_retries=0) as lasso:
        yield lasso


def _table(client: Lasso, *, path: Path | None = None, text: str | None = None) -> Any:
    schema = client.schemas.list().data[0].id
    if path is not None:
        file_id = client.files.upload(path).id
        table = client.tables.create(schema_id=schema, name=path.name, file_ids=[file_id])
    else:
        table = client.tables.create(schema_id=schema, name="text", source_text=text)
    return client.tables.wait_for_completion(table.id, interval_s=0.02, timeout_s=60)


def _rows(client: Lasso, **source: Any) -> list[dict[str, Any]]:
    table = _table(client, **source)
    assert table.phase == "completed", table.error_message
    return [dict(row.data) for row in client.tables.iter_rows(table.id)]


def _check(rows: list[dict[str, Any]], fields: list[str], currency: str = "USD") -> None:
    assert len(rows) == len(PRODUCTS), [r["name"] for r in rows]
    for row, p in zip(rows, PRODUCTS, strict=True):
        want = dict(p, currency=currency, url=url_of(p))
        assert {f: row[f] for f in fields} == {f: want[f] for f in fields}


def test_card_grid_inside_site_header_nav_and_footer(client: Lasso, tmp_path: Path) -> None:
    path = tmp_path / "collection.html"
    path.write_text(card_page("bem"))
    rows = _rows(client, path=path)
    _check(rows, ["name", "sku", "brand", "price", "currency", "in_stock", "tags", "url"])


def test_sku_and_price_in_sibling_spans(client: Lasso) -> None:
    cards = "".join(
        f"<li><h3>Widget {n}</h3><span>SKU: AX{n}</span><span>$1{n}.00</span></li>"
        for n in range(1, 4)
    )
    rows = _rows(client, text=f"<ul>{cards}</ul>")
    assert [(r["name"], r["sku"], r["price"]) for r in rows] == [
        ("Widget 1", "AX1", 11.0),
        ("Widget 2", "AX2", 12.0),
        ("Widget 3", "AX3", 13.0),
    ]


def test_pdf_in_text_columns_without_ruling_lines(client: Lasso, tmp_path: Path) -> None:
    rows = _rows(client, path=columns_pdf(tmp_path / "prices.pdf"))
    _check(rows, ["name", "sku", "brand", "price", "currency", "in_stock"])


def test_printed_erp_report(client: Lasso, tmp_path: Path) -> None:
    path = tmp_path / "ITEMLIST.TXT"
    path.write_text(erp_report())
    table = _table(client, path=path)
    assert table.phase == "completed", table.error_message
    rows = [dict(row.data) for row in client.tables.iter_rows(table.id)]
    _check(rows, ["name", "sku", "brand", "price", "currency", "in_stock"])
    report = table.get("extraction_report")
    assert report["sources"][0]["skipped"].get("total") == 1  # TOTAL ITEMS LISTED


@pytest.mark.parametrize("kind", ["jsonld", "microdata", "none"])
def test_product_page_gives_its_product_not_the_teasers(
    client: Lasso, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"product-{kind}.html"
    path.write_text(product_page(kind))
    (row,) = _rows(client, path=path)
    p = PRODUCTS[0]
    fields = ["name", "sku", "brand", "price", "currency", "in_stock", "url"]
    assert {f: row[f] for f in fields} == {f: dict(p, currency="USD", url=url_of(p))[f] for f in fields}  # fmt: skip
    if kind != "microdata":
        assert row["tags"] == p["tags"]


def test_email_listing_products_between_prose(client: Lasso, tmp_path: Path) -> None:
    rows = _rows(client, text=email_text())
    _check(rows, ["name", "sku", "price", "currency", "in_stock"])
    path = tmp_path / "offer.eml"
    path.write_bytes(eml_bytes())
    rows = _rows(client, path=path)
    _check(rows, ["name", "sku", "price", "currency", "in_stock"])


def test_word_product_blocks(client: Lasso, tmp_path: Path) -> None:
    rows = _rows(client, path=blocks_docx(tmp_path / "selection.docx"))
    _check(rows, ["name", "sku", "brand", "price", "currency", "in_stock"], currency="EUR")


def test_page_without_products_says_what_was_tried_and_what_it_held(
    client: Lasso, tmp_path: Path
) -> None:
    path = tmp_path / "about.html"
    path.write_text(chrome("<h1>About us</h1><p>Since 1990.</p><p>Family owned.</p><p>Hi.</p>"))
    table = _table(client, path=path)
    assert table.phase == "failed"
    assert table.error_message == (
        "Found no products in 'about.html': no product data (JSON-LD, microdata, RDFa), no "
        "product table, no repeated product blocks and no product of its own; the page's text "
        "starts with a heading 'About us' and holds 3 paragraphs."
    )


def test_progress_rises_while_a_large_card_page_is_read(tmp_path: Path) -> None:
    products = [dict(PRODUCTS[n % 6], sku=f"SK-{n:04d}", name=f"Product {n}") for n in range(600)]  # fmt: skip
    path = tmp_path / "big.html"
    path.write_text(card_page("bem", products))
    seen: list[tuple[float, int]] = []
    rows: list[Any] = []

    def progress(fraction: float) -> None:
        seen.append((fraction, len(rows)))

    source = Source(path=path, filename="big.html", content_type="text/html")
    for row in extract(source, PRODUCTS_COLUMNS, None, progress):
        rows.append(row)
    assert len(rows) == 600 and rows[-1]["data"]["sku"] == "SK-0599"
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and len(set(fractions)) >= 4
    assert seen[0][1] == 0  # reported while the page was parsed, before any row
    assert any(0 < n < 600 for _, n in seen)  # and while the rows came
