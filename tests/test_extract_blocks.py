"""Module tests of product blocks (Word headings + lines, blank-line blocks), product lines
between prose, e-mail bodies (quotes and signatures left out, ``.eml`` parts) and the value
recognizers they share, in the engine's five languages."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from beyond_docs import PRODUCTS, blocks_docx, email_text, eml_bytes

from lasso_notebook.server.extract.blocks import Paragraph, product_line, read_blocks, read_lines
from lasso_notebook.server.extract.mail import looks_like_mail, new_message, read_eml
from lasso_notebook.server.extract.textlayouts import mail_items
from lasso_notebook.server.extract.values import find_price, split_label, stock_of


def _paragraphs(path: Path) -> list[Paragraph]:
    out = []
    for p in docx.Document(str(path)).paragraphs:
        style = p.style.name if p.style is not None else ""
        level = int(style.split()[-1]) if style.startswith("Heading") else 0
        out.append(Paragraph(p.text, heading=level))
    return out


def test_word_product_blocks_under_repeated_headings(tmp_path: Path) -> None:
    records, notes = read_blocks(_paragraphs(blocks_docx(tmp_path / "b.docx")))
    assert [r["name"] for r in records] == [p["name"] for p in PRODUCTS]
    assert [r["sku"] for r in records] == [p["sku"] for p in PRODUCTS]  # "Name (CODE)"
    assert [r["brand"] for r in records] == [p["brand"] for p in PRODUCTS]
    assert records[0]["price"] == "1.099,00" and records[0]["currency"] == "EUR"
    assert [r["in_stock"] for r in records] == [p["in_stock"] for p in PRODUCTS]
    assert "Spring tool selection" in notes and "Contact" in notes  # title, closing section
    assert any("All prices in EUR" in n for n in notes)


def test_blank_line_blocks_without_styles() -> None:
    text = "Acme Drill\nSKU: A1\n$10.00\n\nBosk Saw\nSKU: B2\nSold out\n$20.00\n\nCall us."
    records, _ = read_blocks([Paragraph(line) for line in text.split("\n")])
    assert records == [
        {
            "name": "Acme Drill",
            "sku": "A1",
            "price": "10.00",
            "currency": "USD",
            "_line": None,
            "_page": None,
        },
        {
            "name": "Bosk Saw",
            "sku": "B2",
            "in_stock": False,
            "price": "20.00",
            "currency": "USD",
            "_line": None,
            "_page": None,
        },
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "- Acme Drill 18V (AX-100): $129.00, in stock",
            {
                "name": "Acme Drill 18V",
                "sku": "AX-100",
                "price": "129.00",
                "currency": "USD",
                "in_stock": True,
            },
        ),
        (
            "* Bosk Schleifer — Art.-Nr. BG125 — 89,50 € — ausverkauft",
            {
                "name": "Bosk Schleifer",
                "sku": "BG125",
                "price": "89,50",
                "currency": "EUR",
                "in_stock": False,
            },
        ),
        (
            "Scie circulaire, Réf.: MK190, Prix: 219,99 EUR, en stock",
            {
                "name": "Scie circulaire",
                "sku": "MK190",
                "price": "219,99",
                "currency": "EUR",
                "in_stock": True,
            },
        ),
        (
            "Martillo | ST16H | 24,50 € | agotado",
            {
                "name": "Martillo",
                "sku": "ST16H",
                "price": "24,50",
                "currency": "EUR",
                "in_stock": False,
            },
        ),
    ],
)
def test_product_lines(line: str, expected: dict[str, object]) -> None:
    assert product_line(line) == expected


def test_labels_without_colon_and_commas_inside_names() -> None:
    assert product_line("Acme Drill, Item no. AX-100, $129.00") == {
        "sku": "AX-100",
        "name": "Acme Drill",
        "price": "129.00",
        "currency": "USD",
    }
    assert product_line("AX-100    Acme Drill 18V    $129.00")["name"] == "Acme Drill 18V"  # type: ignore[index]
    assert product_line("Acme anvil, 12 kg, $49.90")["name"] == "Acme anvil, 12 kg"  # type: ignore[index]
    assert split_label("Artikelnummer 4711-02") == ("sku", "Artikelnummer", "4711-02")
    assert split_label("Item 5") is None  # not a code


def test_email_with_a_small_aligned_table_between_paragraphs() -> None:
    text = """Hi Anna,

here are the prices you asked for. All prices in EUR.

Item no.    Description                  Price    Stock
AX-100      Acme Drill 18V               129,00   12
BG-125      Bosk Grinder 125 mm           89,50    0

Let me know if you need anything else.

Best regards,
Tom
"""
    items = mail_items(text)
    records = [i for i in items if isinstance(i, dict)]
    assert records == [
        {"Item no.": "AX-100", "Description": "Acme Drill 18V", "Price": "129,00", "Stock": "12"},
        {
            "Item no.": "BG-125",
            "Description": "Bosk Grinder 125 mm",
            "Price": "89,50",
            "Stock": "0",
        },
    ]
    assert any("All prices in EUR" in getattr(i, "text", "") for i in items)


def test_prose_and_greetings_are_not_product_lines() -> None:
    records, notes = read_lines(
        [
            "Hi Anna,",
            "thanks for your call, here is what we can deliver.",
            "Acme Drill (AD1): $9.00",
        ]
    )
    assert records == [{"name": "Acme Drill", "sku": "AD1", "price": "9.00", "currency": "USD"}]
    assert notes[0] == "Hi Anna,"


def test_email_text_without_quoted_message_and_signature() -> None:
    text = email_text()
    assert looks_like_mail(text)
    lines = new_message(text)
    assert lines[0].startswith("thanks for your call")  # the greeting is gone
    assert not any(line.startswith(">") or "Tom Miller" in line for line in lines)
    records, notes = read_lines(lines)
    assert [r["sku"] for r in records] == [p["sku"] for p in PRODUCTS]  # not the quoted AX-100
    assert records[1]["price"] == "129.00"
    assert any("Prices are in USD" in n for n in notes)


def test_eml_prefers_the_plain_text_part() -> None:
    mail = read_eml(eml_bytes())
    assert mail.subject == "Re: prices for next week"
    assert mail.text is not None and "Acme X100 Cordless Drill 18V (AX-100)" in mail.text
    assert mail.html is None
    html_only = read_eml(
        b"From: a@example.test\nSubject: list\nContent-Type: text/html\n\n<ul><li>Drill (D1): $5.00</li></ul>\n"
    )
    assert html_only.text is None and html_only.html is not None and "D1" in html_only.html


@pytest.mark.parametrize(
    ("text", "number", "currency"),
    [
        ("$1,099.00", "1,099.00", "USD"),
        ("1.299,00 €", "1.299,00", "EUR"),
        ("CHF 1'299.00", "1'299.00", "CHF"),
        ("Preis: 12,50 EUR", "12,50", "EUR"),
        ("£12.5k", "12.5 k", "GBP"),
        ("Now $15.00", "15.00", "USD"),
    ],
)
def test_prices(text: str, number: str, currency: str) -> None:
    price = find_price(text)
    assert price is not None and (price.text, price.currency) == (number, currency)


def test_not_prices_and_stock_phrases() -> None:
    assert find_price("Free shipping on orders over $50") is None
    assert find_price("2024") is None and find_price("16 oz") is None
    assert [
        stock_of(t)
        for t in (
            "In stock",
            "Only 3 left",
            "auf Lager",
            "épuisé",
            "op voorraad",
            "agotado",
            "Sold out",
        )
    ] == [True, True, True, False, True, False, False]
    assert stock_of("Available from 12.05.2024") is None  # a date, neither stock nor release
    assert stock_of("yes") is None and stock_of("yes", short_words=True) is True
    assert stock_of("https://schema.org/OutOfStock") is False
    assert split_label("Art.-Nr.: 4711") == ("sku", "Art.-Nr.", "4711")
    assert split_label("by Acme") == ("brand", "by", "Acme")
