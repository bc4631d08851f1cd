"""General extraction rules found with the wide dev corpus (tests/fixtures/wide/), through the
HTTP API of a real embedded engine: printed reports whose column header sits between full-width
rules under a page header, section labels split over report columns, product lines led by a code
or cut by spaced slashes, sizes after a typed field, ``Art. CODE``, units after a header name,
and consistently delimited text whatever the delimiter."""

from __future__ import annotations

import httpx
import pytest

from tests.extract_api import data, table_of

RULE = "-" * 72


def test_report_header_between_full_rules_under_a_page_header(api: httpx.Client) -> None:
    def page(number: int, lines: list[str]) -> list[str]:
        return [
            f"STOCK VALUATION                RUN DATE 04/02/2025      PAGE {number:>3}",
            "WAREHOUSE: NORTH      CURRENCY: USD",
            RULE,
            f"{'ITEM NO':<12}{'DESCRIPTION':<30}{'VENDOR':<10}{'UNIT COST':>11}{'ON HAND':>9}",
            RULE,
            *lines,
        ]

    def line(sku: str, name: str, vendor: str, cost: str, qty: int) -> str:
        return f"{sku:<12}{name:<30}{vendor:<10}{cost:>11}{qty:>9}"

    text = "\n".join(
        page(
            1,
            [
                "GRP 10  HOSES & FITTINGS",
                line("HX-101", "Garden Hose 20 m", "Norvik", "40.25", 12),
                line("HX-102", "Hose Reel Pro", "Norvik", "1,479.40", 0),
                line("HX-103", "Spray Nozzle", "Vantis", "9.90", 7),
                "CONTINUED",
            ],
        )
        + page(
            2,
            [
                "GRP 20  HAND TOOLS",
                line("HT-201", "Claw Hammer 16 oz", "Helgro", "24.50", 3),
                line("HT-202", "Spirit Level 60 cm", "Pimax", "31.00", 5),
                f"{'':<12}{'** GROUP TOTAL':<30}{'':<10}{'55.50':>11}{8:>9}",
                "*** END OF REPORT ***",
            ],
        )
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "brand", "price", "currency", "in_stock") == [
        ("HX-101", "Garden Hose 20 m", "Norvik", 40.25, "USD", True),
        ("HX-102", "Hose Reel Pro", "Norvik", 1479.4, "USD", False),
        ("HX-103", "Spray Nozzle", "Vantis", 9.9, "USD", True),
        ("HT-201", "Claw Hammer 16 oz", "Helgro", 24.5, "USD", True),
        ("HT-202", "Spirit Level 60 cm", "Pimax", 31.0, "USD", True),
    ]
    skipped = table["extraction_report"]["skipped"]
    assert skipped["section"] == 2 and skipped["total"] == 1


def test_product_lines_led_by_a_code_or_cut_by_slashes_keep_fields_apart(
    api: httpx.Client,
) -> None:
    text = (
        "Hi team,\n\nthis is what we can ship:\n\n"
        '1. BN-4100: Socket Wrench 1/2" - 71 x 88 cm - USD 513.12 - in stock\n'
        "2. Spirit Level 60 cm (BN-4107), 16 x 20 cm, $17.14, backorder\n"
        '* Clé à douille 1/2" / réf. RR002K / 2 402,50 € / en stock\n'
        "- Heckenschere 55 cm, Art.-Nr. AD-4100, 3,9 kg, 3.626,76 EUR, nicht lieferbar\n"
        "\nCheers,\nDana\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "in_stock") == [
        ("BN-4100", 'Socket Wrench 1/2"', 513.12, True),
        ("BN-4107", "Spirit Level 60 cm", 17.14, False),
        ("RR002K", 'Clé à douille 1/2"', 2402.5, True),
        ("AD-4100", "Heckenschere 55 cm", 3626.76, False),
    ]


def test_art_abbreviation_before_a_code_is_the_sku(api: httpx.Client) -> None:
    tiles = "".join(
        f'<li class="tile"><h3 class="tile-title">{name}</h3>'
        f'<span class="code">Art. {sku}</span><div class="tile-price">€ {price}</div></li>'
        for name, sku, price in (
            ("Tuinslang 20 m", "NF-4100", "42,50"),
            ("Werklamp 30 W", "NF-4107", "19,95"),
            ("Waterpas 60 cm", "NF-4114", "12,00"),
        )
    )
    page = f"<html><body><nav><a href='/'>Home</a></nav><ul>{tiles}</ul></body></html>"
    table, rows = table_of(api, file=("tegels.html", page.encode()))
    assert table["status"] == "completed", table
    assert data(rows, "name", "sku", "price") == [
        ("Tuinslang 20 m", "NF-4100", 42.5),
        ("Werklamp 30 W", "NF-4107", 19.95),
        ("Waterpas 60 cm", "NF-4114", 12.0),
    ]


def test_a_unit_after_a_header_name_does_not_hide_the_name(api: httpx.Client) -> None:
    text = 'Mfr.,Item #,Description,Net ($),Avail.\nNorvik,SD-1,"Hose, set of 2",21.81,3\nPimax,SD-2,Level,"1,498.32",0\n'  # fmt: skip
    table, rows = table_of(api, text=text)
    assert data(rows, "sku", "name", "brand", "price", "currency", "in_stock") == [
        ("SD-1", "Hose, set of 2", "Norvik", 21.81, "USD", True),
        ("SD-2", "Level", "Pimax", 1498.32, "USD", False),
    ]
    mapping = table["extraction_report"]["sources"][0]["mapping"]
    assert mapping["Net ($)"] == {"column": "price", "by": "synonym"}


def test_a_pipe_delimited_text_under_labels_is_a_table(api: httpx.Client) -> None:
    text = "SKU|Product|Price (EUR)|Avail.\nMW-1|Hedge Trimmer|1.2k|yes\nMW-2|Work Lamp|3.5M|no\nMW-3|Tile Saw|950|yes\n"  # fmt: skip
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency", "in_stock") == [
        ("MW-1", "Hedge Trimmer", 1200, "EUR", True),
        ("MW-2", "Work Lamp", 3500000, "EUR", False),
        ("MW-3", "Tile Saw", 950, "EUR", True),
    ]


def test_tables_side_by_side_in_one_sheet_each_read_with_its_own_header(
    api: httpx.Client,
) -> None:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.cell(1, 1, "Outdoor")
    ws.cell(1, 6, "Indoor")
    for c, h in enumerate(["SKU", "Product", "Price", "Stock"], 1):
        ws.cell(2, c, h)
    for c, h in enumerate(["Description", "Item code", "Unit price", "Qty"], 6):
        ws.cell(2, c, h)
    for r, row in enumerate([("OD-1", "Hose", 20.5, 3), ("OD-2", "Rake", 12.0, 0)], 3):
        for c, v in enumerate(row, 1):
            ws.cell(r, c, v)
    for r, row in enumerate([("Lamp", "IN-1", 30.0, 0), ("Level", "IN-2", 9.5, 8), ("Saw", "IN-3", 99.0, 1)], 3):  # fmt: skip
        for c, v in enumerate(row, 6):
            ws.cell(r, c, v)
    ws.cell(7, 1, "All prices in USD.")
    buf = io.BytesIO()
    wb.save(buf)
    table, rows = table_of(api, file=("ranges.xlsx", buf.getvalue()))
    assert table["status"] == "completed", table
    assert sorted(data(rows, "sku", "name", "price", "currency", "in_stock")) == [
        ("IN-1", "Lamp", 30.0, "USD", False),
        ("IN-2", "Level", 9.5, "USD", True),
        ("IN-3", "Saw", 99.0, "USD", True),
        ("OD-1", "Hose", 20.5, "USD", True),
        ("OD-2", "Rake", 12.0, "USD", False),
    ]


def test_a_blank_spacer_column_does_not_split_one_table(api: httpx.Client) -> None:
    text = "Name,SKU,,Price,Stock\nHose,OD-1,,20.50,3\nRake,OD-2,,12.00,0\n"
    _table, rows = table_of(api, text=text)
    assert data(rows, "name", "sku", "price", "in_stock") == [
        ("Hose", "OD-1", 20.5, True),
        ("Rake", "OD-2", 12.0, False),
    ]


def test_stock_counts_with_a_unit_are_quantities_and_dates_never_booleans(
    api: httpx.Client,
) -> None:
    text = (
        "Artikel;Art.-Nr.;Ihr Preis;Verfügbar;Lagerbestand\n"
        "Schlauch;SL-1;12,50 €;01.04.2025;12 Stk.\n"
        "Rechen;RE-2;8,00 €;02.05.2025;0 Stk.\n"
    )
    table, rows = table_of(api, text=text)
    assert data(rows, "name", "sku", "price", "currency", "in_stock") == [
        ("Schlauch", "SL-1", 12.5, "EUR", True),
        ("Rechen", "RE-2", 8.0, "EUR", False),
    ]
    report = table["extraction_report"]["sources"][0]
    assert report["mapping"]["Lagerbestand"]["column"] == "in_stock"
    assert "Verfügbar" in report["unmapped_source_columns"]


def test_a_total_label_spanning_columns_is_a_total_and_a_heading_names_the_currency(
    api: httpx.Client,
) -> None:
    page = """<html><body><h1>Prijslijst (EUR)</h1><table>
<tr><th>Product</th><th>Artikelnummer</th><th>Merk</th><th>Prijs</th><th>Voorraad</th></tr>
<tr><td>Tuinslang</td><td>TS-1</td><td>Norvik</td><td>12,50</td><td>4</td></tr>
<tr><td>Werklamp</td><td>WL-2</td><td>Pimax</td><td>30,00</td><td>0</td></tr>
<tr><td colspan="3">Samen</td><td>42,50</td><td>4</td></tr></table></body></html>"""
    table, rows = table_of(api, file=("prijzen.html", page.encode()))
    assert data(rows, "name", "sku", "price", "currency", "in_stock") == [
        ("Tuinslang", "TS-1", 12.5, "EUR", True),
        ("Werklamp", "WL-2", 30.0, "EUR", False),
    ]
    assert table["extraction_report"]["skipped"] == {"total": 1}


def test_code_led_tab_lines_under_a_title_are_products_with_the_title_currency(
    api: httpx.Client,
) -> None:
    text = (
        "Stock update - prices in GBP\n\n"
        "TV-4100\tTile Saw 180 mm\t1,073.29\tin stock\n"
        "TV-4107\tSpirit Level 60 cm\t507.58\tout of stock\n"
        "TV-4114\tPipe Cutter 42 mm\t145.63\tin stock\n"
        "\nThanks,\nOps\n"
    )
    _table, rows = table_of(api, text=text)
    assert data(rows, "sku", "name", "price", "currency", "in_stock") == [
        ("TV-4100", "Tile Saw 180 mm", 1073.29, "GBP", True),
        ("TV-4107", "Spirit Level 60 cm", 507.58, "GBP", False),
        ("TV-4114", "Pipe Cutter 42 mm", 145.63, "GBP", True),
    ]


def test_ruler_less_pdf_keeps_the_last_wrapped_name_and_the_page_header_currency(
    api: httpx.Client,
) -> None:
    from fpdf import FPDF

    xs = (12, 42, 120, 152)
    pdf = FPDF()
    pdf.set_font("helvetica", size=9)
    pdf.add_page()
    pdf.set_xy(12, 10)
    pdf.cell(text="Werkzeughandel - Preisliste (EUR)")
    pdf.set_xy(170, 10)
    pdf.cell(text="Seite 1/1")
    y = 22.0
    for x, h in zip(xs, ["Art.-Nr.", "Bezeichnung", "Marke", "Preis"], strict=True):
        pdf.set_xy(x, y)
        pdf.cell(text=h)
    for sku, name, brand, price, wrap in (("WS-1", "Wasserwaage 60 cm", "Pimax", "31,00", False), ("LB-2", "Lötbrenner", "Vantis", "1.249,50", False), ("NS-3", "Nasssauger 20 l", "Helgro", "89,90", True)):  # fmt: skip
        y += 8
        for x, v in zip(xs, [sku, name, brand, price], strict=True):
            pdf.set_xy(x, y)
            pdf.cell(text=v.encode("latin-1").decode("latin-1"))
        if wrap:
            y += 5
            pdf.set_xy(42, y)
            pdf.cell(text="inkl. Koffer")
    pdf.set_xy(12, 285)
    pdf.cell(text="Druckdatum 01.03.2025")
    table, rows = table_of(api, file=("liste.pdf", bytes(pdf.output())))
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("WS-1", "Wasserwaage 60 cm", 31.0, "EUR"),
        ("LB-2", "Lötbrenner", 1249.5, "EUR"),
        ("NS-3", "Nasssauger 20 l inkl. Koffer", 89.9, "EUR"),
    ]


def test_a_table_that_fills_no_required_column_beside_the_products_is_another_table(
    api: httpx.Client,
) -> None:
    page = """<html><body><table><tr><th>Produkt</th><th>Art.-Nr.</th><th>Preis</th></tr>
<tr><td>Schlauch</td><td>SL-1</td><td>12,50 €</td></tr><tr><td>Rechen</td><td>RE-2</td><td>8,00 €</td></tr></table>
<h2>Versandkosten</h2><table><tr><th>Zielland</th><th>Lieferzeit</th><th>Preis</th></tr>
<tr><td>Deutschland</td><td>1-2 Tage</td><td>4,90 €</td></tr><tr><td>Schweiz</td><td>3-5 Tage</td><td>14,90 €</td></tr></table>
</body></html>"""
    table, rows = table_of(api, file=("angebote.html", page.encode()))
    assert data(rows, "name", "sku", "price") == [("Schlauch", "SL-1", 12.5), ("Rechen", "RE-2", 8.0)]  # fmt: skip
    report = table["extraction_report"]
    assert report["skipped"] == {"other table": 2}
    assert report["sources"][0]["skipped_samples"]["other table"][0] == "Deutschland | 1-2 Tage | 4,90 €"  # fmt: skip


def test_a_model_column_is_the_code_only_when_no_other_code_column_is(api: httpx.Client) -> None:
    _table, rows = table_of(api, text="Item,Model,Price\nDrill,DR-18,99.00\nSaw,CS-7,149.00\n")
    assert data(rows, "name", "sku") == [("Drill", "DR-18"), ("Saw", "CS-7")]
    table, rows = table_of(api, text="Product,SKU,Model,Price\nDrill,A-1,DR-18,99.00\n")
    assert data(rows, "name", "sku") == [("Drill", "A-1")]
    assert "Model" in table["extraction_report"]["sources"][0]["unmapped_source_columns"]


def test_a_product_named_like_a_total_keeps_its_row_when_it_has_an_article_code(
    api: httpx.Client,
) -> None:
    text = (
        "Product,SKU,Brand,Price,Stock\n"
        "Claw Hammer,ME-4100,Helgro,24.50,3\n"
        "Spirit Level,ME-4107,Pimax,31.00,0\n"
        "Total Station Laser Level 360,ME-4114,,55.25,1\n"
        "Hose Reel,ME-4121,Norvik,89.00,2\n"
        "Page 2,,,,\n"
        "Discount 5%,,,-9.99,\n"
        "Shipping,,,9.95,\n"
    )
    table, rows = table_of(api, text=text, context="All prices in USD.")
    assert [r[0] for r in data(rows, "sku")] == ["ME-4100", "ME-4107", "ME-4114", "ME-4121"]
    assert data(rows, "name", "price", "currency")[2] == ("Total Station Laser Level 360", 55.25, "USD")  # fmt: skip
    skipped = table["extraction_report"]["skipped"]
    assert skipped["total"] == 2 and sum(skipped.values()) == 3


@pytest.mark.parametrize(
    ("header", "line"),
    [
        ("Art.;Bez.;Hst.;VK;Lagerbest.", "AB-11;Schlauch;Norvik;12,50;3"),
        ("Réf. art.;Désig.;Fourn.;P.U. HT;Qté dispo", "AB-11;Schlauch;Norvik;12,50;3"),
        ("Art.nr.;Omschr.;Leverancier;Prijs/st.;Vrd.", "AB-11;Schlauch;Norvik;12,50;3"),
        ("Part #;Desc.;Mfg.;Sell;Qty O/H", "AB-11;Schlauch;Norvik;12.50;3"),
    ],
)
def test_trade_abbreviations_in_headers(api: httpx.Client, header: str, line: str) -> None:
    title = "Preisliste 2025;gültig bis 31.05.2025;Seite 1;;\n"
    _table, rows = table_of(api, text=title + header + "\n" + line + "\n")
    assert data(rows, "sku", "name", "brand", "price", "in_stock") == [
        ("AB-11", "Schlauch", "Norvik", 12.5, True)
    ]


def test_an_art_column_of_words_is_no_article_code(api: httpx.Client) -> None:
    table, rows = table_of(api, text="Bezeichnung;Art;Preis\nBohrer;Akku;99,00\nSäge;Netz;49,00\n")
    assert data(rows, "name", "sku") == [("Bohrer", None), ("Säge", None)]
    assert "Art" in table["extraction_report"]["sources"][0]["unmapped_source_columns"]
