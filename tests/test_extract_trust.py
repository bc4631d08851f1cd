"""Rows you can trust, through the HTTP API of a real embedded engine: only products become
rows (totals, sections, repeated headers and notes are skipped and counted), table structure as
people draw it, mapping that agrees with the values, currency and magnitudes, line listings,
multi-file tables that keep what worked, and row provenance."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from tests.extract_api import ROWS, data, table_of


# -- 1. only products become rows ------------------------------------------------------------
def test_a_total_row_is_not_a_product_and_is_reported(api: httpx.Client) -> None:
    table, rows = table_of(api, text="name,sku,price\nDrill,AX1,10\nSaw,AX2,20\nTotal,,30\n")
    assert table["status"] == "completed" and table["total_rows"] == 2
    assert data(rows, "name", "sku", "price") == [("Drill", "AX1", 10), ("Saw", "AX2", 20)]
    report = table["extraction_report"]
    assert report["rows"] == 2 and report["skipped"] == {"total": 1}
    assert report["sources"][0]["skipped_samples"] == {"total": ["Total | | 30"]}


@pytest.mark.parametrize(
    ("text", "skipped"),
    [
        # Dutch total and VAT lines; a German sum with its label in a later column; French TTC.
        ("Naam;Art.nr.;Prijs\nBoor;B1;10,00\nZaag;Z2;20,00\nTotaal;;30,00\nBTW 21%;;6,30\n", 2),
        (
            "Artikel;Art.-Nr.;Menge;Preis\nBohrer;B1;1;10,00\nSäge;S2;2;20,00\n"
            ";;Summe;30,00\n;;zzgl. 19% MwSt.;5,70\n",
            2,
        ),
        ("Désignation;Réf.;Prix\nPerceuse;P1;10,00\nScie;S2;20,00\nTotal TTC;;36,00\n", 1),
        # An unlabeled sum under the price column: structure alone.
        ("name,sku,price\nDrill,AX1,10.50\nSaw,AX2,20.25\n,,30.75\n", 1),
    ],
    ids=["nl-totaal-btw", "de-summe-later-column", "fr-total-ttc", "unlabeled-sum"],
)
def test_totals_in_several_languages_and_shapes(api: httpx.Client, text: str, skipped: int) -> None:
    table, rows = table_of(api, text=text)
    assert len(rows) == 2, data(rows, "name", "price")
    assert [r["data"]["price"] for r in rows] in ([10, 20], [10.5, 20.25])
    assert table["extraction_report"]["skipped"] == {"total": skipped}


def _price_list_xlsx(margin: int = 0) -> bytes:
    """4 products under a two-row merged header ("Preis" over "netto | brutto"), a title,
    two section rows, a total and a note below: the issue's 8-rows-for-4-products sheet.
    ``margin`` blank columns left of everything, as sheets laid out for print often have."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    def cells(spec: str) -> str:  # "A3:A4" moved right by the margin
        return ":".join(
            get_column_letter(ord(ref[0]) - ord("A") + 1 + margin) + ref[1:]
            for ref in spec.split(":")
        )

    wb = Workbook()
    ws = wb.active
    ws.title = "Preise"
    for row in (
        ["Preisliste Frühjahr 2024"],
        [],
        ["Artikel", "Art.-Nr.", "Preis", None, "Lagerbestand"],
        [None, None, "netto", "brutto", None],
        ["Elektrowerkzeuge"],
        ["Akku-Bohrschrauber", "EW-100", 99.0, 117.81, 12],
        ["Winkelschleifer", "EW-200", 79.5, 94.61, 0],
        ["Handwerkzeuge"],
        ["Schraubendreher-Set", "HW-10", 24.9, 29.63, 40],
        ["Zange", "HW-20", 12.0, 14.28, 3],
        ["Summe", None, 215.4, 256.33, None],
        [],
        ["Alle Preise in EUR zzgl. MwSt."],
    ):
        ws.append([None] * margin + row if row else [])
    for spec in ("A3:A4", "B3:B4", "C3:D3", "E3:E4", "A5:E5"):
        ws.merge_cells(cells(spec))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# A blank margin column once made the title line read as a group title over the header.
@pytest.mark.parametrize("margin", [0, 1], ids=["from-column-A", "blank-margin-column"])
def test_xlsx_merged_two_row_header_sections_total_and_note(api: httpx.Client, margin: int) -> None:
    table, rows = table_of(api, files=[("preise.xlsx", _price_list_xlsx(margin))])
    assert table["status"] == "completed"
    assert data(rows, *ROWS) == [
        ("Akku-Bohrschrauber", "EW-100", 99, "EUR", True),
        ("Winkelschleifer", "EW-200", 79.5, "EUR", False),
        ("Schraubendreher-Set", "HW-10", 24.9, "EUR", True),
        ("Zange", "HW-20", 12, "EUR", True),
    ]  # the net price (netto) over the gross, stock quantity > 0, currency from the note
    report = table["extraction_report"]
    assert report["skipped"] == {"note": 2, "section": 2, "total": 1}
    [source] = report["sources"]
    assert source["mapping"]["Preis netto"]["column"] == "price"
    assert "Preis brutto" in source["unmapped_source_columns"]
    assert "net price" in source["unmapped_reasons"]["Preis brutto"]
    assert "in_stock from 'Lagerbestand' (quantity > 0)" in source["notes"]
    assert source["skipped_samples"]["section"] == ["Elektrowerkzeuge", "Handwerkzeuge"]
    # Provenance: the file, the sheet and the row within it.
    assert rows[0]["source"] == {"file": "preise.xlsx", "sheet": "Preise", "line": 6}
    one = api.get(f"/tables/{table['id']}/rows/{rows[3]['id']}").json()
    assert one["source"] == {"file": "preise.xlsx", "sheet": "Preise", "line": 10}


def test_html_tfoot_colspan_rowspan_and_sections(api: httpx.Client) -> None:
    page = """<html><body><h1>Bestseller</h1><table>
<thead><tr><th>Product</th><th>Brand</th><th>Item #</th><th>Price</th></tr></thead>
<tbody>
<tr><td colspan="4">Power tools</td></tr>
<tr><td>Cordless Drill</td><td rowspan="2">Acme</td><td>AX-1</td><td>£129.00</td></tr>
<tr><td>Hammer Drill</td><td>AX-2</td><td>£399.99</td></tr>
<tr><th colspan="4">Garden</th></tr>
<tr><td>Hose Reel</td><td>Gardenia</td><td>GH-30</td><td>£59.50</td></tr>
<tr><td>Shears</td><td>Gardenia</td><td>GP-01</td><td>£399.00</td></tr>
</tbody>
<tfoot><tr><td colspan="3">Total items: 4</td><td>£987.49</td></tr></tfoot>
</table></body></html>"""
    table, rows = table_of(api, files=[("bestseller.html", page.encode())])
    assert data(rows, "name", "brand", "sku", "price", "currency") == [
        ("Cordless Drill", "Acme", "AX-1", 129, "GBP"),
        ("Hammer Drill", "Acme", "AX-2", 399.99, "GBP"),  # the rowspan brand covers it
        ("Hose Reel", "Gardenia", "GH-30", 59.5, "GBP"),
        ("Shears", "Gardenia", "GP-01", 399, "GBP"),
    ]
    assert table["extraction_report"]["skipped"] == {"section": 2, "total": 1}


def test_repeated_header_and_notes_around_a_csv_table(api: httpx.Client) -> None:
    text = (
        "ACME Preisliste 2024\nStand: 01.03.2024\n\nName;SKU;Preis\nBohrer;B1;10,00\n"
        "Säge;S2;20,00\nName;SKU;Preis\nHobel;H3;30,00\n\nAlle Preise in EUR inkl. MwSt.\n"
    )
    table, rows = table_of(api, text=text)
    assert data(rows, "name", "price", "currency") == [
        ("Bohrer", 10, "EUR"), ("Säge", 20, "EUR"), ("Hobel", 30, "EUR"),
    ]  # fmt: skip
    assert table["extraction_report"]["skipped"] == {"note": 3, "header": 1}


# -- 3. mapping that agrees with the values ----------------------------------------------------
def test_available_from_date_is_not_stock_and_the_stock_quantity_is(api: httpx.Client) -> None:
    text = (
        "Bezeichnung;Artikelnummer;Preis;Lieferbar ab;Lagerbestand\n"
        "Bohrer;B1;10,00 €;01.04.2024;5\nSäge;S2;20,00 €;15.04.2024;0\n"
        "Hobel;H3;30,00 €;02.05.2024;17\n"
    )
    table, rows = table_of(api, text=text)
    assert data(rows, "sku", "in_stock", "currency") == [
        ("B1", True, "EUR"), ("S2", False, "EUR"), ("H3", True, "EUR"),
    ]  # fmt: skip
    assert all(r["data"]["release_date"] is None for r in rows)
    assert all(r["validation_status"] == "valid" for r in rows)  # a documented rule, no warning
    [source] = table["extraction_report"]["sources"]
    assert source["mapping"]["Lagerbestand"]["column"] == "in_stock"
    assert "Lieferbar ab" in source["unmapped_source_columns"]
    assert "neither stock nor a release date" in source["unmapped_reasons"]["Lieferbar ab"]
    assert "in_stock from 'Lagerbestand' (quantity > 0)" in source["notes"]


def test_dates_never_fill_a_yes_no_column_by_a_fuzzy_name(api: httpx.Client) -> None:
    table, rows = table_of(
        api, text="name,price,Availability date\nDrill,10,2024-05-01\nSaw,20,2024-06-01\n"
    )
    assert [r["data"]["in_stock"] for r in rows] == [None, None]
    reasons = table["extraction_report"]["sources"][0]["unmapped_reasons"]
    assert reasons == {"Availability date": "dates do not fit in_stock (boolean)"}


def test_competing_prices_of_one_rank_stay_unmapped_and_say_so(api: httpx.Client) -> None:
    table, rows = table_of(api, text="name,Price,Preis\nDrill,10,11\nSaw,20,21\n")
    assert [r["data"]["price"] for r in rows] == [None, None]
    reasons = table["extraction_report"]["sources"][0]["unmapped_reasons"]
    assert "competes with 'Preis'" in reasons["Price"]


def test_trade_abbreviations_description_as_name_and_booleans(api: httpx.Client) -> None:
    text = "Description\tRéf.\tMarque\tPrix HT\tPrix TTC\tDispo\nPerceuse\tP-1\tAcme\t10,00\t12,00\toui\nScie\tS-2\tBosk\t20,00\t24,00\tnon\n"  # fmt: skip
    _table, rows = table_of(api, text=text)
    assert data(rows, "name", "sku", "brand", "price", "in_stock") == [
        ("Perceuse", "P-1", "Acme", 10, True),
        ("Scie", "S-2", "Bosk", 20, False),
    ]


def test_a_pin_in_additional_context_still_wins(api: httpx.Client) -> None:
    _table, rows = table_of(
        api, text="Bezeichnung;Code intern;Preis\nBohrer;X-1;10\n", context="sku: Code intern"
    )
    assert data(rows, "name", "sku") == [("Bohrer", "X-1")]


# -- 4. currency and magnitudes ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "context", "currency"),
    [
        ("name,price\nDrill,$129.00\nSaw,$45.50\n", None, "USD"),  # the cell's own sign
        ("name,Unit Price (USD)\nDrill,129.00\nSaw,45.50\n", None, "USD"),  # the header
        ("name,price,curr\nDrill,129.00,CHF\nSaw,45.50,CHF\n", None, "CHF"),  # a column
        ("Prices in USD\n\nname,price\nDrill,129.00\nSaw,45.50\n", None, "USD"),  # a note
        ("name;Preis\nBohrer;129,00\nSäge;45,50\n\nAlle Preise in EUR\n", None, "EUR"),
        ("name,price\nDrill,129.00\nSaw,45.50\n", "prices are in EUR", "EUR"),  # context
        ("name,price\nDrill,€129.00\nSaw,€45.50\n", "prices are in USD", "EUR"),  # cell first
    ],
    ids=["cell", "header", "column", "note-above", "note-below", "context", "cell-wins"],
)
def test_currency_in_order(
    api: httpx.Client, text: str, context: str | None, currency: str
) -> None:
    _table, rows = table_of(api, text=text, context=context)
    assert data(rows, "price", "currency") == [(129, currency), (45.5, currency)]


def test_magnitudes_scale_and_unreadable_values_say_why(api: httpx.Client) -> None:
    text = 'name,price\nA,$1.2k\nB,"1,2 Tsd. €"\nC,3.5M\nD,call us\n'
    _table, rows = table_of(api, text=text)
    assert [r["data"]["price"] for r in rows] == [1200, 1200, 3_500_000, None]
    assert rows[3]["validation_errors"] == [
        {"column_key": "price", "message": "'call us' is not a number", "severity": "error"}
    ]


# -- 5. line listings --------------------------------------------------------------------------
def test_the_help_example_keeps_its_fields_apart(api: httpx.Client) -> None:
    _table, rows = table_of(api, text="Acme anvil, 12 kg, $49.90")
    assert data(rows, "name", "sku", "price", "currency") == [("Acme anvil", None, 49.9, "USD")]


def test_listing_in_an_email_with_every_separator(api: httpx.Client) -> None:
    text = (
        "Hi Tom,\n\nthanks for your request. Here is what we can offer this week:\n\n"
        "- Acme Drill (AX-100) – $129.00\n"
        "• Bosk Saw 250FT | BS-2 | $45.50\n"
        'Makito Sander 10"\tMK-7\t$89.00\n'
        "3. Wera Wrench — WR-3 — $1.2k\n\n"
        "Best regards,\nHans Müller\nAcme Sales\n"
    )
    _table, rows = table_of(api, text=text)
    assert data(rows, "name", "sku", "price") == [
        ("Acme Drill", "AX-100", 129),
        ("Bosk Saw 250FT", "BS-2", 45.5),
        ('Makito Sander 10"', "MK-7", 89),
        ("Wera Wrench", "WR-3", 1200),
    ]
    assert [r["source"]["line"] for r in rows] == [5, 6, 7, 8]


# -- 6. multi-file tables and provenance -------------------------------------------------------
def _pdf(rows: list[list[str]]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=9)
    for page_rows in (rows[:2], rows[2:]):
        pdf.add_page()
        with pdf.table() as table:
            table.row(["Product", "SKU", "Price"])  # the header again on every page
            for row in page_rows:
                table.row(row)
    return bytes(pdf.output())


def test_a_bad_file_does_not_fail_the_good_ones(api: httpx.Client) -> None:
    good_pdf = _pdf([["Drill", "D1", "$5.00"], ["Saw", "S1", "$7.00"], ["Plane", "P1", "$9.00"]])
    table, rows = table_of(
        api,
        files=[
            ("a.csv", b"name,sku,price\nHammer,H1,12.00\n"),
            ("broken.pdf", b"%PDF-1.4\n%garbage without objects\n"),
            ("b.pdf", good_pdf),
        ],
    )
    assert table["status"] == "completed" and table["total_rows"] == 4
    assert [(r["data"]["sku"], r["source"]) for r in rows] == [
        ("H1", {"file": "a.csv", "line": 2}),
        ("D1", {"file": "b.pdf", "page": 1}),
        ("S1", {"file": "b.pdf", "page": 1}),
        ("P1", {"file": "b.pdf", "page": 2}),
    ]
    report = table["extraction_report"]
    [failed] = report["failed_files"]
    assert failed["source"] == "broken.pdf" and "could not be read as a PDF" in failed["reason"]
    assert [(s["source"], s["status"]) for s in report["sources"]] == [
        ("a.csv", "ok"), ("broken.pdf", "failed"), ("b.pdf", "ok"),
    ]  # fmt: skip
    assert report["skipped"] == {"header": 1}  # the header repeated on page 2


def test_a_table_where_nothing_could_be_read_names_every_file(api: httpx.Client) -> None:
    table, rows = table_of(api, files=[("empty.csv", b"\n\n"), ("broken.xlsx", b"not a workbook")])
    assert table["status"] == "failed" and rows == []
    message = table["error_message"]
    assert "empty.csv" in message and "broken.xlsx" in message
    assert "could not be read as an Excel" in message
    assert {f["source"] for f in table["extraction_report"]["failed_files"]} == {
        "empty.csv", "broken.xlsx",
    }  # fmt: skip


def test_provenance_is_not_in_the_export(api: httpx.Client, tmp_path: Path) -> None:
    table, rows = table_of(api, text="name,price\nDrill,1\n")
    assert rows[0]["source"] == {"file": "text", "line": 2}
    exported = api.get(f"/tables/{table['id']}/export", params={"format": "json"}).json()
    assert "source" not in exported[0] and exported[0]["name"] == "Drill"
