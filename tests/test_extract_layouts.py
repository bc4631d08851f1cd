"""Module tests of the layout readers: printed fixed-width reports (ruler or aligned columns,
page furniture, wrapped descriptions) and PDFs laid out in columns without ruling lines
(pdfplumber word boxes of a generated PDF), both giving grids with line and page numbers."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
from beyond_docs import PRODUCTS, columns_pdf, erp_report

from lasso_notebook.server.extract.fixedwidth import looks_like_report, read_report
from lasso_notebook.server.extract.pdfcolumns import ColumnReader


def test_report_under_a_dashed_ruler_drops_page_furniture_and_joins_wrapped_names() -> None:
    text = erp_report()
    assert looks_like_report(text.splitlines())
    grid = read_report(text)
    assert grid is not None
    assert grid.header == ["ITEM NUMBER", "DESCRIPTION", "BRAND", "ON HAND", "UNIT PRICE"]
    products = [r for r in grid.rows if r.cells[0] != ""]
    assert [r.cells[0] for r in products] == [p["sku"] for p in PRODUCTS]
    assert [r.cells[1] for r in products] == [p["name"] for p in PRODUCTS]  # wrapped: joined
    assert products[0].cells[2:] == ["Echo", "12", "1,099.00"]
    assert [r.page for r in products] == [1, 1, 1, 1, 2, 2]
    assert products[4].line is not None and products[4].line > products[3].line
    # Page headers, rulers, CONTINUED and the end line are furniture; the totals line is a row
    # for the grid stage to classify.
    flat = " ".join(" ".join(r.cells) for r in grid.rows)
    for furniture in ("PAGE", "RUN DATE", "CONTINUED", "END OF REPORT", "ITEM NUMBER", "---"):
        assert furniture not in flat
    assert grid.rows[-1].cells[1].startswith("TOTAL ITEMS LISTED")
    assert any("CURRENCY: USD" in note for note in grid.notes)


def test_report_with_columns_aligned_by_whitespace_only() -> None:
    text = """Lagerliste Werkzeuge                                   Seite 1 von 1
Druckdatum 15.03.2024

Art.-Nr.   Bezeichnung                         Bestand      Preis
AX100      Acme X100 Akku-Bohrschrauber 18V         12     129,00
BG125      Bosk Winkelschleifer 125                  0      89,50
MK190      Makito Handkreissäge 190 mm               4   1.219,99

Summe                                                    1.437,99
Alle Preise in EUR zzgl. MwSt.
"""
    grid = read_report(text)
    assert grid is not None
    assert grid.header == ["Art.-Nr.", "Bezeichnung", "Bestand", "Preis"]
    assert [r.cells for r in grid.rows[:3]] == [
        ["AX100", "Acme X100 Akku-Bohrschrauber 18V", "12", "129,00"],
        ["BG125", "Bosk Winkelschleifer 125", "0", "89,50"],
        ["MK190", "Makito Handkreissäge 190 mm", "4", "1.219,99"],
    ]
    assert grid.rows[3].cells == ["Summe", "", "", "1.437,99"]
    assert "Alle Preise in EUR zzgl. MwSt." in grid.notes  # prose across the columns


def test_prose_is_not_a_report() -> None:
    text = "Dear customer,\n\nthank you for your order.\nWe ship tomorrow.\n"
    assert not looks_like_report(text.splitlines())
    assert read_report(text) is None
    tsv = "Name\tSKU\tPrice\tStock\nDrill\tD-1\t10,00\tyes\nSaw\tS-2\t20,00\tno\nFile\tF-3\t3,00\tno\n"
    assert not looks_like_report(tsv.splitlines())  # tab-separated values are not a report


def test_pdf_columns_without_ruling_lines(tmp_path: Path) -> None:
    path = columns_pdf(tmp_path / "list.pdf")
    reader = ColumnReader()
    grids = []
    with pdfplumber.open(path) as pdf:
        assert not pdf.pages[0].extract_tables()  # nothing a ruled-table reader could use
        for number, page in enumerate(pdf.pages, 1):
            grid = reader.page(page.extract_words(extra_attrs=["fontname", "size"]), number)
            assert grid is not None
            grids.append(grid)
    assert grids[0].header == ["Item #", "Product", "Brand", "Stock", "Price"]
    rows = [r for g in grids for r in g.rows]
    assert [r.cells[0] for r in rows] == [p["sku"] for p in PRODUCTS]
    assert [r.cells[1] for r in rows] == [p["name"] for p in PRODUCTS]  # wrapped names joined
    assert rows[0].cells[2:] == ["Echo", "yes", "$1,099.00"]  # right-aligned price
    assert [r.page for r in rows] == [1, 1, 1, 1, 2, 2]
    assert "All prices in USD, excluding sales tax." in grids[0].notes
    assert not any("Page" in " ".join(r.cells) for r in rows)
