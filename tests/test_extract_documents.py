"""Documents as businesses send them, through the HTTP API of a real embedded engine: a Word
offer letter with a contacts table and an order total, workbooks whose section rows span the
table or whose summary sheet repeats the sums, dates with month names, printed page numbers,
a second table with its columns in another order. Each yields exactly its products."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest

from tests.extract_api import ROWS, data, table_of


def _docx(paragraphs_before: list[str], tables: list[list[list[str]]], after: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs_before:
        document.add_paragraph(text)
    for rows in tables:
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
        document.add_paragraph("")
    for text in after:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_an_offer_letter_gives_its_products_not_its_contacts_total_or_prose(
    api: httpx.Client,
) -> None:
    offer = [
        ["Item", "Code", "Unit", "Price (GBP)", "Stock"],
        ["Shirts", "", "", "", ""],
        ["Linen Shirt White M", "KE-5970", "pc", "56.99", "12"],
        ["Oxford Shirt Blue L", "KE-5971", "pc", "49.00", "0"],
        ["Belts", "", "", "", ""],
        ["Leather Belt Brown 95 cm", "BX-3369", "pc", "32.50", "4"],
        ["Order total", "", "", "151.49", ""],
    ]
    contacts = [
        ["Name", "Phone", "E-mail"],
        ["Anna Berger", "+44 20 7946 0101", "anna@shop.example"],
        ["Mark Ellis", "+44 20 7946 0102", "mark@shop.example"],
    ]
    letter = _docx(
        ["Dear Ms Smith,", "thank you for your enquiry, here is our offer:"],
        [offer, contacts],
        ["Minimum order 50.00", "Kind regards,", "John Turner"],
    )
    table, rows = table_of(api, files=[("offer.docx", letter)])
    assert table["status"] == "completed"
    assert data(rows, *ROWS) == [
        ("Linen Shirt White M", "KE-5970", 56.99, "GBP", True),
        ("Oxford Shirt Blue L", "KE-5971", 49, "GBP", False),
        ("Leather Belt Brown 95 cm", "BX-3369", 32.5, "GBP", True),
    ]
    report = table["extraction_report"]
    assert report["skipped"] == {"section": 2, "total": 1, "other table": 2}
    [source] = report["sources"]
    assert source["skipped_samples"]["other table"] == [
        "Anna Berger | +44 20 7946 0101 | anna@shop.example",
        "Mark Ellis | +44 20 7946 0102 | mark@shop.example",
    ]
    assert "Order total | | | 151.49" in source["skipped_samples"]["total"][0]


@pytest.mark.parametrize(
    "label", ["Order total", "Invoice total:", "Total due", "Bestellsumme", "Rechnungsbetrag"]
)
def test_total_labels_with_a_qualifying_word_are_totals(api: httpx.Client, label: str) -> None:
    text = f"name,sku,price\nDrill,AX1,10\nSaw,AX2,20\n{label},,35\n"  # 35: no sum to match
    table, rows = table_of(api, text=text)
    assert data(rows, "name") == [("Drill",), ("Saw",)]
    assert table["extraction_report"]["skipped"] == {"total": 1}


def _workbook(sheets: dict[str, list[list[Any]]], merges: dict[str, list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for spec in merges.get(title, []):
            ws.merge_cells(spec)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_merged_section_rows_do_not_hide_an_unlabelled_grand_total(api: httpx.Client) -> None:
    # Sections merged across the table fill every column with their label: the price column
    # must still be seen as numbers, so that the last row (the sum, without a label) is a total.
    rows = [
        ["Order no.", "Product", "Unit", "Price (EUR)", "Available"],
        ["Storage"],
        ["661747", "External SSD 2TB", "pc", 85.5, "yes"],
        ["Audio"],
        ["957749", "Bluetooth Speaker 40 W", "pc", 195.99, "yes"],
        ["Smart Home"],
        ["734890", "Smart Plug 4-pack", "pc", 56.0, "no"],
        ["309205", "Smart Plug 2-pack", "pc", 13.3, "yes"],
        [None, None, None, 350.79, None],
    ]
    book = _workbook({"Prices": rows}, {"Prices": ["A2:E2", "A4:E4", "A6:E6"]})
    table, got = table_of(api, files=[("prices.xlsx", book)])
    assert data(got, "sku", "price", "currency") == [
        ("661747", 85.5, "EUR"),
        ("957749", 195.99, "EUR"),
        ("734890", 56, "EUR"),
        ("309205", 13.3, "EUR"),
    ]
    assert table["extraction_report"]["skipped"] == {"section": 3, "total": 1}


def test_a_summary_sheet_without_column_titles_is_not_products(api: httpx.Client) -> None:
    book = _workbook(
        {
            "Range": [
                ["Product", "Item code", "Unit price", "In stock"],
                ["Canvas Sneakers White 42", "PR-4777", 82.95, "yes"],
                ["Slim Chino Sand 32/32", "GK-2996", 65.5, "no"],
            ],
            "Summary": [
                ["Sneakers and chinos", 148.45],
                ["Belts and scarves", 0],
                ["Grand total", 148.45],
            ],
        },
        {},
    )
    table, rows = table_of(api, files=[("catalogue.xlsx", book)], context="prices in EUR")
    assert data(rows, *ROWS) == [
        ("Canvas Sneakers White 42", "PR-4777", 82.95, "EUR", True),
        ("Slim Chino Sand 32/32", "GK-2996", 65.5, "EUR", False),
    ]
    assert table["extraction_report"]["skipped"] == {"other table": 3}


def test_a_second_table_with_its_columns_in_another_order(api: httpx.Client) -> None:
    book = _workbook(
        {
            "Range": [
                ["Main range"],
                ["Product", "Item code", "Brand", "Unit price", "In stock"],
                ["Canvas Sneakers White 42", "PR-4777", "Lune", 82.95, "yes"],
                ["Slim Chino Sand 32/32", "GK-2996", "Lune", 65.5, "yes"],
                [],
                ["Accessories"],
                ["Item code", "Product", "Brand", "Unit price", "In stock"],
                ["SY-2623", "Leather Belt Brown 95 cm", "Blauw", 49.0, "no"],
                ["SC-8126", "Wool Scarf Camel", "Blauw", 59.5, "yes"],
            ]
        },
        {},
    )
    _, rows = table_of(api, files=[("range.xlsx", book)])
    assert data(rows, "name", "sku", "price") == [
        ("Canvas Sneakers White 42", "PR-4777", 82.95),
        ("Slim Chino Sand 32/32", "GK-2996", 65.5),
        ("Leather Belt Brown 95 cm", "SY-2623", 49),
        ("Wool Scarf Camel", "SC-8126", 59.5),
    ]


@pytest.mark.parametrize(
    ("header", "dates"),
    [
        ("Markteinführung", ["21. Juli 2022", "3. März 2024"]),
        ("Lancement", ["1er mars 2024", "8 février 2023"]),
        ("Lanzamiento", ["8 de febrero de 2024", "12 de diciembre de 2021"]),
        ("Releasedatum", ["15 mei 2023", "2 oktober 2020"]),
    ],
)
def test_dates_with_month_names_in_the_documents_language(
    api: httpx.Client, header: str, dates: list[str]
) -> None:
    text = f"Name;SKU;{header}\nDrill;AX1;{dates[0]}\nSaw;AX2;{dates[1]}\n"
    _, rows = table_of(api, text=text)
    assert [r["data"]["release_date"] for r in rows] == [_iso(d) for d in dates]
    assert all(r["validation_status"] == "valid" for r in rows)


def _iso(text: str) -> str:
    expected = {
        "21. Juli 2022": "2022-07-21",
        "3. März 2024": "2024-03-03",
        "1er mars 2024": "2024-03-01",
        "8 février 2023": "2023-02-08",
        "8 de febrero de 2024": "2024-02-08",
        "12 de diciembre de 2021": "2021-12-12",
        "15 mei 2023": "2023-05-15",
        "2 oktober 2020": "2020-10-02",
    }
    return expected[text]


def test_printed_page_numbers_are_not_sections(api: httpx.Client) -> None:
    text = (
        "Part No.,Description,Unit Price,Category\n"
        "Knitwear,,,\n"
        "VC-101,Merino Sweater Navy L,$98.50,\n"
        "Page 2,,,\n"
        "VC-102,Merino Sweater Grey M,$92.00,\n"
    )
    table, rows = table_of(api, text=text)
    assert data(rows, "sku", "price", "currency") == [
        ("VC-101", 98.5, "USD"),
        ("VC-102", 92, "USD"),
    ]
    assert table["extraction_report"]["skipped"] == {"section": 1, "note": 1}


@pytest.mark.parametrize("price", ["EP", "Einzelpr."])
def test_trade_abbreviations_of_the_unit_price_and_a_product_page_column(
    api: httpx.Client, price: str
) -> None:
    text = (
        f"Best.-Nr.\tProdukt\t{price}\tProduktseite\n"
        "TH-53\tpH-Meter Benchtop\t350,00 €\thttps://shop.example/ph-meter\n"
        "DV-44\tMikropipette 10 µL\t58,30 €\thttps://shop.example/pipette\n"
    )
    _, rows = table_of(api, text=text)
    assert data(rows, "sku", "price", "currency", "url") == [
        ("TH-53", 350, "EUR", "https://shop.example/ph-meter"),
        ("DV-44", 58.3, "EUR", "https://shop.example/pipette"),
    ]


def test_a_cover_letter_beside_the_price_list_gives_no_row_and_is_reported(
    api: httpx.Client,
) -> None:
    letter = _docx(
        ["Hallo Herr Brandt,", "Mindestbestellwert 50,00", "Das Angebot gilt 14 Tage."],
        [],
        ["Beste Grüße", "Joost de Vries", "Tel. +49 30 1234 5678"],
    )
    prices = "Artikel;Best.-Nr.;Stückpreis\nNass-Trockensauger 20 L;NX.2952;152,95 €\nMaßband 5 m;ZB.5747;6,00 €\n"  # fmt: skip
    table, rows = table_of(
        api, files=[("cover_letter.docx", letter), ("preisliste.csv", prices.encode())]
    )
    assert table["status"] == "completed"
    assert data(rows, "name", "sku", "price", "currency") == [
        ("Nass-Trockensauger 20 L", "NX.2952", 152.95, "EUR"),
        ("Maßband 5 m", "ZB.5747", 6, "EUR"),
    ]
    [failed] = table["extraction_report"]["failed_files"]
    assert failed["file"] == "cover_letter.docx"
    assert "no table" in failed["reason"]


def test_was_and_now_columns_give_the_price_people_pay(api: httpx.Client) -> None:
    page = (
        "<table><tr><th>Product</th><th>SKU</th><th>Was</th><th>Now</th></tr>"
        "<tr><td>Rain Jacket</td><td>RJ-1</td><td>£80.00</td><td>£59.00</td></tr>"
        "<tr><td>Wool Scarf</td><td>WS-2</td><td>£30.00</td><td>£24.00</td></tr></table>"
    )
    table, rows = table_of(api, files=[("sale.html", page.encode())])
    assert data(rows, "sku", "price", "currency") == [("RJ-1", 59, "GBP"), ("WS-2", 24, "GBP")]
    [source] = table["extraction_report"]["sources"]
    assert source["mapping"]["Now"]["column"] == "price"
    assert "Was" in source["unmapped_source_columns"]


def test_a_quotes_ordered_quantity_is_not_stock(api: httpx.Client) -> None:
    quote = (
        "Pos.,Description,Item no.,Qty,Unit price,Amount\n"
        "1,Cordless Drill 18V,CD-18,2,$129.00,$258.00\n"
        "2,Angle Grinder 125,AG-125,1,$89.50,$89.50\n"
        "3,Tape Measure 5 m,TM-5,10,$6.00,$60.00\n"
        ",,,,Total,$407.50\n"
    )
    table, rows = table_of(api, text=quote)
    assert data(rows, *ROWS) == [
        ("Cordless Drill 18V", "CD-18", 129, "USD", None),
        ("Angle Grinder 125", "AG-125", 89.5, "USD", None),
        ("Tape Measure 5 m", "TM-5", 6, "USD", None),
    ]
    [source] = table["extraction_report"]["sources"]
    assert source["unmapped_reasons"]["Qty"] == (
        "an ordered quantity ('Qty' x 'Unit price' = 'Amount'), not stock"
    )
    # Without a line amount to prove it, a quantity is stock, as documented.
    _, stock = table_of(api, text="Item no.,Description,Qty,Unit price\nCD-18,Drill,0,$129.00\n")
    assert data(stock, "sku", "in_stock") == [("CD-18", False)]


def test_codes_under_a_name_header_are_the_sku_when_names_stand_beside_them(
    api: httpx.Client,
) -> None:
    text = (
        "Artikel;Bezeichnung;Preis;Bestand\n"
        ";Gartengeräte;;\n"
        "G-10;Rasenmäher 42 cm;299,00 €;4\n"
        "G-11;Heckenschere 60 cm;129,00 €;0\n"
        ";Zwischensumme;428,00 €;\n"
        ";zzgl. 19 % MwSt.;81,32 €;\n"
        ";Gesamtsumme;509,32 €;\n"
    )
    table, rows = table_of(api, text=text)
    assert data(rows, *ROWS) == [
        ("Rasenmäher 42 cm", "G-10", 299, "EUR", True),
        ("Heckenschere 60 cm", "G-11", 129, "EUR", False),
    ]
    report = table["extraction_report"]
    assert report["skipped"] == {"section": 1, "total": 3}
    mapping = report["sources"][0]["mapping"]
    assert mapping["Artikel"] == {"column": "sku", "by": "article codes"}
    assert mapping["Bezeichnung"] == {"column": "name", "by": "names beside codes"}


def test_a_tab_separated_list_with_tax_lines_and_a_page_footer(api: httpx.Client) -> None:
    text = (
        "Ref\tDésignation\tPrix HT\tDispo\n"
        "R-1\tPerceuse sans fil\t99,00\toui\n"
        "R-2\tMeuleuse 125 mm\t79,50\tnon\n"
        "R-3\tScie sauteuse\t65,00\toui\n"
        "Total HT\t\t243,50\t\n"
        "TVA 20 %\t\t48,70\t\n"
        "Total TTC\t\t292,20\t\n"
        "Page 1/1\n"
    )
    table, rows = table_of(api, text=text)
    assert data(rows, "name", "sku", "price", "in_stock") == [
        ("Perceuse sans fil", "R-1", 99, True),
        ("Meuleuse 125 mm", "R-2", 79.5, False),
        ("Scie sauteuse", "R-3", 65, True),
    ]
    assert table["extraction_report"]["skipped"] == {"total": 3, "note": 1}


def _unruled_pdf(header: list[str], rows: list[list[str]], *, footer_pages: int) -> bytes:
    """A price list set without ruling lines: titles flush left, numbers flush right (so a
    title and the values under it do not overlap); then pages holding only a page number, as
    a report's footers can spill over."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=9)
    pdf.add_page()
    pdf.cell(0, 8, "Wholesale list - December", new_x="LMARGIN", new_y="NEXT")
    widths = [30, 70, 25, 25]
    for width, title in zip(widths, header, strict=True):
        pdf.cell(width, 7, title)
    pdf.ln()
    for row in rows:
        for k, (width, text) in enumerate(zip(widths, row, strict=True)):
            pdf.cell(width, 6, text, align="R" if k >= 2 else "L")
        pdf.ln()
    pdf.cell(0, 6, "Questions? Call 555-0100.", new_x="LMARGIN", new_y="NEXT")
    for page in range(2, footer_pages + 2):
        pdf.add_page()
        pdf.cell(0, 6, f"Page {page} of {footer_pages + 1}", align="C")
    return bytes(pdf.output())


def test_an_unruled_pdf_with_numbers_set_flush_right_under_titles_set_flush_left(
    api: httpx.Client,
) -> None:
    rows = [[f"SKU{i:03}", f"Desk organiser type {i}", f"${12 + i}.50", str(i * 2)] for i in range(6)]  # fmt: skip
    rows.append(["", "TOTAL", "$100.00", ""])
    pdf = _unruled_pdf(["Item #", "Description", "Price", "On hand"], rows, footer_pages=2)
    table, got = table_of(api, files=[("wholesale.pdf", pdf)])
    assert data(got, *ROWS) == [
        (f"Desk organiser type {i}", f"SKU{i:03}", 12.5 + i, "USD", i > 0) for i in range(6)
    ]
    report = table["extraction_report"]
    assert report["skipped"] == {"total": 1, "note": 1}
    [source] = report["sources"]
    assert source["mapping"]["Price"]["column"] == "price"
    assert source["unmapped_source_columns"] == []


def test_a_model_column_of_words_is_the_name_and_brand_subtotals_are_totals(
    api: httpx.Client,
) -> None:
    book = _workbook(
        {
            "Brands": [
                ["Brand", "Model", "Ref", "Price", "Cur."],
                ["Kyvo", "Smart plug", "K-1", 19.99, "EUR"],
                ["Kyvo", "Smart bulb", "K-2", 12.5, "EUR"],
                [None, None, "Subtotal", 32.49, "EUR"],
                ["Lumio", "USB hub", "L-7", 22.95, "EUR"],
                [None, None, "Subtotal", 22.95, "EUR"],
                [None, None, "Total", 55.44, "EUR"],
            ]
        },
        {},
    )
    table, rows = table_of(api, files=[("brands.xlsx", book)])
    assert data(rows, "name", "sku", "brand", "price", "currency") == [
        ("Smart plug", "K-1", "Kyvo", 19.99, "EUR"),
        ("Smart bulb", "K-2", "Kyvo", 12.5, "EUR"),
        ("USB hub", "L-7", "Lumio", 22.95, "EUR"),
    ]
    assert table["extraction_report"]["skipped"] == {"total": 3}
    mapping = table["extraction_report"]["sources"][0]["mapping"]
    assert mapping["Model"] == {"column": "name", "by": "model names"}


def test_a_shipping_table_under_the_products_is_another_table(api: httpx.Client) -> None:
    page = """<html><body><h1>Our monitors</h1>
    <table><tr><th>Model</th><th>Part no.</th><th>Price</th></tr>
    <tr><td>View 24 IPS</td><td>MV-24</td><td>$179.00</td></tr>
    <tr><td>View 27 4K</td><td>MV-27</td><td>$329.00</td></tr></table>
    <h2>Shipping</h2>
    <table><tr><th>Destination</th><th>Price</th><th>Days</th></tr>
    <tr><td>Mainland</td><td>$9.90</td><td>2-3</td></tr>
    <tr><td>Islands</td><td>$19.90</td><td>5-7</td></tr></table></body></html>"""
    table, rows = table_of(api, files=[("monitors.html", page.encode())])
    assert data(rows, "name", "sku", "price", "currency") == [
        ("View 24 IPS", "MV-24", 179, "USD"),
        ("View 27 4K", "MV-27", 329, "USD"),
    ]
    report = table["extraction_report"]
    assert report["skipped"] == {"other table": 2}
    assert report["sources"][0]["skipped_samples"]["other table"] == [
        "Mainland | $9.90 | 2-3",
        "Islands | $19.90 | 5-7",
    ]


def test_a_name_wrapped_inside_its_cell_is_one_line(api: httpx.Client) -> None:
    text = (
        'Artikelnummer;Bezeichnung;Preis\n"A-1";"Werkbank\nmit Schublade";"1.299,00 €"\n'
        '"A-2";"Schraubstock 125 mm";"€ 89,-"\n'
    )
    _, rows = table_of(api, text=text)
    assert data(rows, "name", "sku", "price", "currency") == [
        ("Werkbank mit Schublade", "A-1", 1299, "EUR"),
        ("Schraubstock 125 mm", "A-2", 89, "EUR"),
    ]
