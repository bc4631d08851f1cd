"""Text tables and listings through the HTTP API of a real embedded engine: ruled plain-text
tables (reST grid, psql, PrettyTable rules; headers above a ``=`` rule or not, header cells
over several lines, a rule per row, two tables, a table inside an e-mail or after prose),
``Name: price`` product lines whatever the separator, and ``;`` exports with decimal commas
that must not be read as comma-separated."""

from __future__ import annotations

import httpx
import pytest

from tests.extract_api import data, table_of

PRICE_LIST = """Preisliste 2025
Alle Preise in € zzgl. MwSt.

+-------------+------------------------------+------------+--------------+
| Artikel-Nr. | Bez.                         | Stückpreis | Lagerbestand |
+=============+==============================+============+==============+
| 6969-47     | Basmatireis 5 kg             | 10,99      | 299          |
| 7982-58     | Balsamico-Essig 250 ml       | 5,18       | 0            |
+-------------+------------------------------+------------+--------------+
|             |                              | 16,17      |              |
+-------------+------------------------------+------------+--------------+
"""


@pytest.mark.parametrize("as_file", [False, True])
def test_a_ruled_table_with_a_heavy_header_rule_and_an_unlabeled_total(
    api: httpx.Client, as_file: bool
) -> None:
    if as_file:
        table, rows = table_of(api, file=("preisliste.txt", PRICE_LIST.encode()))
    else:
        table, rows = table_of(api, text=PRICE_LIST)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency", "in_stock") == [
        ("6969-47", "Basmatireis 5 kg", 10.99, "EUR", True),
        ("7982-58", "Balsamico-Essig 250 ml", 5.18, "EUR", False),
    ]
    assert table["extraction_report"]["skipped"] == {"total": 1}


MAIL = """Hello Anna,

as discussed, our current offer (all prices in USD):

+----------+---------------------+---------+---------+
| Item     | Description         | Unit    | Stock   |
| number   |                     | price   |         |
+----------+---------------------+---------+---------+
| GH-2001  | Garden Hose Pro     | 40.25   | 12      |
|          | 20 m, green         |         |         |
+----------+---------------------+---------+---------+
| SW-3310  | Socket Wrench Set   | 129.00  | 0       |
+----------+---------------------+---------+---------+
| HT-1100  | Claw Hammer         | 24.50   | 5       |
|          | 16 oz               |         |         |
+----------+---------------------+---------+---------+

Accessories:

+----------+---------------------+---------+
| SKU      | Name                | Price   |
+==========+=====================+=========+
| AC-10    | Spray Nozzle        | 9.90    |
| AC-11    | Hose Reel           | 79.00   |
| AC-12    | Hose Connector      | 3.40    |
+----------+---------------------+---------+
| Total                          | 92.30   |
+----------+---------------------+---------+

Kind regards,
Bob
"""


def test_two_ruled_tables_in_an_email_header_over_two_lines_and_a_rule_per_row(
    api: httpx.Client,
) -> None:
    table, rows = table_of(api, text=MAIL)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("GH-2001", "Garden Hose Pro 20 m, green", 40.25, "USD"),
        ("SW-3310", "Socket Wrench Set", 129.0, "USD"),
        ("HT-1100", "Claw Hammer 16 oz", 24.5, "USD"),
        ("AC-10", "Spray Nozzle", 9.9, "USD"),
        ("AC-11", "Hose Reel", 79.0, "USD"),
        ("AC-12", "Hose Connector", 3.4, "USD"),
    ]
    assert [r["data"]["in_stock"] for r in rows[:3]] == [True, False, True]
    assert table["extraction_report"]["skipped"] == {"total": 1}


def test_psql_output_after_prose_and_a_box_table_without_header_rule(api: httpx.Client) -> None:
    text = (
        "Here is the query result you asked for, prices in GBP.\n\n"
        " sku    | name                  | price  | stock\n"
        "--------+-----------------------+--------+-------\n"
        " KB-100 | Keyboard Compact      | 49.90  |    12\n"
        " MS-200 | Mouse Wireless        | 19.50  |     0\n"
        ' MN-270 | Monitor 27"           | 239.00 |     4\n'
        "(3 rows)\n\n"
        "+---------+----------------+---------+\n"
        "| Code    | Product        | Price   |\n"
        "+---------+----------------+---------+\n"
        "| KB-101  | Keyboard XL    | 59.90   |\n"
        "| MS-201  | Mouse Pro      | 29.50   |\n"
        "+---------+----------------+---------+\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("KB-100", "Keyboard Compact", 49.9, "GBP"),
        ("MS-200", "Mouse Wireless", 19.5, "GBP"),
        ("MN-270", 'Monitor 27"', 239.0, "GBP"),
        ("KB-101", "Keyboard XL", 59.9, "GBP"),
        ("MS-201", "Mouse Pro", 29.5, "GBP"),
    ]
    assert table["extraction_report"]["skipped"] == {}


def test_a_ruled_table_with_a_hyphenated_header_and_a_section_row(api: httpx.Client) -> None:
    text = (
        "Tarif 2025 — prix en EUR\n"
        "+---------+---------------------+----------+\n"
        "| Réf.    | Désignation         | Prix     |\n"
        "|         |                     | unitaire |\n"
        "+=========+=====================+==========+\n"
        "| Outillage                                |\n"
        "+---------+---------------------+----------+\n"
        "| FR-001  | Marteau             | 12,50    |\n"
        "+---------+---------------------+----------+\n"
        "| FR-002  | Tournevis           | 6,90     |\n"
        "+---------+---------------------+----------+\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("FR-001", "Marteau", 12.5, "EUR"),
        ("FR-002", "Tournevis", 6.9, "EUR"),
    ]
    assert table["extraction_report"]["skipped"] == {"section": 1}


LISTING = """Hi Sam, here are the prices you asked for:
Canvas Sneakers White 42: USD 57.95 (out of stock)
Down Vest Black L: USD 169.50 (in stock)
Linen Shirt Blue M: USD 64.00 (in stock)
Best, Kim
"""


def test_name_colon_price_lines_keep_name_and_price_apart(api: httpx.Client) -> None:
    table, rows = table_of(api, text=LISTING)
    assert table["status"] == "completed", table
    assert data(rows, "name", "sku", "price", "currency", "in_stock") == [
        ("Canvas Sneakers White 42", None, 57.95, "USD", False),
        ("Down Vest Black L", None, 169.5, "USD", True),
        ("Linen Shirt Blue M", None, 64.0, "USD", True),
    ]


@pytest.mark.parametrize("closing", ["Kind regards,\nJan", "Best,\nJan"])
def test_product_lines_with_every_separator_in_a_message(api: httpx.Client, closing: str) -> None:
    text = (
        "Hello Maria,\n\nas requested, today's prices:\n\n"
        "- Garden Hose Pro 20 m — € 40,25 — in stock\n"
        "- Socket Wrench Set – 129,00 € – out of stock\n"
        "- Claw Hammer 16 oz - EUR 24,50 - in stock\n"
        "- Spirit Level 60 cm | 31,00 € | in stock\n"
        "- Tile Saw (TS-180)\t€ 189,00\tin stock\n"
        "• Heat Gun 2000 W: €79,90 (in stock)\n"
        "- Drill Set (DS-12): 59,00 €\n"
        "- Anvil (12 kg): 49,00 €\n\n"
        "Versand: 5,90 €\n\n" + closing + "\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "name", "sku", "price", "currency") == [
        ("Garden Hose Pro 20 m", None, 40.25, "EUR"),
        ("Socket Wrench Set", None, 129.0, "EUR"),
        ("Claw Hammer 16 oz", None, 24.5, "EUR"),
        ("Spirit Level 60 cm", None, 31.0, "EUR"),
        ("Tile Saw", "TS-180", 189.0, "EUR"),
        ("Heat Gun 2000 W", None, 79.9, "EUR"),
        ("Drill Set", "DS-12", 59.0, "EUR"),
        ("Anvil (12 kg)", None, 49.0, "EUR"),
    ]


SEMICOLON = """Preisliste Frühjahr 2025, alle Preise in EUR
Art.-Nr.;Bezeichnung;Gewicht;Preis
A-100;Gartenschlauch 20 m;0,8 kg;76,50
A-101;Schlauchtrommel;4,2 kg;129,00
A-102;Sprühdüse;0,1 kg;9,90
A-103;Kupplung;0,05 kg;3,40
"""


@pytest.mark.parametrize("as_file", [False, True])
def test_a_semicolon_export_with_decimal_commas_under_a_title_line(
    api: httpx.Client, as_file: bool
) -> None:
    if as_file:
        table, rows = table_of(api, file=("preise.csv", SEMICOLON.encode()))
    else:
        table, rows = table_of(api, text=SEMICOLON)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("A-100", "Gartenschlauch 20 m", 76.5, "EUR"),
        ("A-101", "Schlauchtrommel", 129.0, "EUR"),
        ("A-102", "Sprühdüse", 9.9, "EUR"),
        ("A-103", "Kupplung", 3.4, "EUR"),
    ]


def test_spaces_after_decimal_commas_do_not_make_a_comma_csv(api: httpx.Client) -> None:
    text = (
        "Prijslijst, prijzen in EUR\n"
        "Artikelnummer;Gewicht;Omschrijving;Prijs\n"
        "NL-1;0, 8 kg;Tuinslang 20 m;76, 50\n"
        "NL-2;4, 2 kg;Slanghaspel;129, 00\n"
        "NL-3;0, 1 kg;Sproeier;9, 90\n"
    )
    table, rows = table_of(api, file=("prijzen.csv", text.encode()))
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("NL-1", "Tuinslang 20 m", 76.5, "EUR"),
        ("NL-2", "Slanghaspel", 129.0, "EUR"),
        ("NL-3", "Sproeier", 9.9, "EUR"),
    ]


DRAWN = {
    "fancy_grid": (
        "╒══════════╤══════════════════╤═════════╕\n"
        "│ SKU      │ Product          │ Price   │\n"
        "╞══════════╪══════════════════╪═════════╡\n"
        "│ U-1      │ Garden Hose      │ 12.50   │\n"
        "├──────────┼──────────────────┼─────────┤\n"
        "│ U-2      │ Hose Reel        │ 79.00   │\n"
        "╘══════════╧══════════════════╧═════════╛\n"
    ),
    "psql_unicode": (
        " sku │ name           │ price\n"
        "─────┼────────────────┼───────\n"
        " U-1 │ Garden Hose    │ 12.50\n"
        " U-2 │ Hose Reel      │ 79.00\n"
        "(2 rows)\n"
    ),
    "org": (
        "| sku | name        | price |\n"
        "|-----+-------------+-------|\n"
        "| U-1 | Garden Hose | 12.50 |\n"
        "| U-2 | Hose Reel   | 79.00 |\n"
    ),
    "heavy_head": (
        "┏━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━┓\n"
        "┃ SKU  ┃ Name        ┃ Price ┃\n"
        "┡━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━┩\n"
        "│ U-1  │ Garden Hose │ 12.50 │\n"
        "│ U-2  │ Hose Reel   │ 79.00 │\n"
        "└──────┴─────────────┴───────┘\n"
    ),
}


@pytest.mark.parametrize("style", sorted(DRAWN))
def test_tables_drawn_with_box_characters_or_org_rules(api: httpx.Client, style: str) -> None:
    table, rows = table_of(api, text="Prices in EUR\n\n" + DRAWN[style] + "\nThanks!\n")
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("U-1", "Garden Hose", 12.5, "EUR"),
        ("U-2", "Hose Reel", 79.0, "EUR"),
    ]
    assert table["extraction_report"]["skipped"] == {}


NAME_PRICE_MESSAGES = {
    "fr": (
        "Bonjour Claire,\n\nvoici nos prix actuels :\n\n"
        "Marteau de charpentier (MC-100) : 24,90 € (en stock)\n"
        "Tournevis cruciforme (TC-220) : 6,50 € (rupture de stock)\n"
        "Frais de port : 7,50 €\n\nCordialement,\nLuc\n"
    ),
    "es": (
        "Hola Pedro:\n\nTe paso los precios que pediste:\n\n"
        "Martillo de carpintero (MC-100): 24,90 € (disponible)\n"
        "Destornillador plano (TC-220): 6,50 € (agotado)\n"
        "Pedido mínimo: 50,00 €\n\nSaludos,\nAna\n"
    ),
    "nl": (
        "Hoi Pieter,\n\nHierbij de prijzen:\n\n"
        "- Hamer (MC-100): € 24,90 (op voorraad)\n"
        "- Schroevendraaier (TC-220): € 6,50 (niet op voorraad)\n"
        "- Verzendkosten: € 6,95\n\nGroeten,\nSanne\n"
    ),
    "de": (
        "Mindestbestellwert: 50,00 €\n"
        "Akku-Bohrschrauber 18 V (MC-100): 24,90 € (lieferbar)\n"
        "Winkelschleifer 125 mm (TC-220): 6,50 € (nicht lieferbar)\n"
        "Bearbeitungsgebühr: 5,00 €\n"
        "Zwischensumme: 31,40 €\n"
    ),
    "en": (
        "Hi Sam,\n\n"
        "Wool Scarf Grey (MC-100): USD 24.90 (in stock)\n"
        "Leather Belt 95 cm (TC-220): USD 6.50 (sold out)\n"
        "Minimum order: USD 50.00\nHandling fee: USD 5.00\nShipping: USD 9.00\n"
        "Total: USD 40.40\n\nBest,\nKim\n"
    ),
}


@pytest.mark.parametrize("lang", sorted(NAME_PRICE_MESSAGES))
def test_name_price_lines_in_five_languages_without_charges_or_totals(
    api: httpx.Client, lang: str
) -> None:
    table, rows = table_of(api, text=NAME_PRICE_MESSAGES[lang])
    assert table["status"] == "completed", table
    got = data(rows, "sku", "price", "in_stock")
    assert got == [("MC-100", 24.9, True), ("TC-220", 6.5, False)]
    assert {r["data"]["currency"] for r in rows} == {"USD" if lang == "en" else "EUR"}
    names = [r["data"]["name"] for r in rows]
    assert all(name and ":" not in name and "(" not in name for name in names), names


def test_dot_leaders_separate_name_and_price_but_an_ellipsis_in_prose_does_not(
    api: httpx.Client,
) -> None:
    text = (
        "PRICE LIST 2025\n\n"
        "Garden Hose 20 m .................. $40.25\n"
        "Hose Reel Pro.....................$129.00\n"
        "Spray Nozzle ... $9.90\n"
        "Hose Connector…………………… $3.40\n"
        "Coming soon... more hoses\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "name", "price", "currency") == [
        ("Garden Hose 20 m", 40.25, "USD"),
        ("Hose Reel Pro", 129.0, "USD"),
        ("Spray Nozzle", 9.9, "USD"),
        ("Hose Connector", 3.4, "USD"),
    ]


MARKDOWN = {
    "in_a_message": (
        "Hi Tom,\n\nhere is the updated list (prices in USD):\n\n"
        "| SKU    | Product            | Price   | Stock |\n"
        "|--------|--------------------|---------|-------|\n"
        "| GH-201 | Garden Hose 20 m   | 40.25   | 12    |\n"
        "| HR-110 | Hose Reel Pro      | 129.00  | 0     |\n\n"
        "Kind regards,\nMia\n"
    ),
    "without_outer_bars": (
        "Prices in USD:\n\n"
        "SKU | Product | Price | Stock\n"
        "--- | --- | ---: | ---:\n"
        "GH-201 | Garden Hose 20 m | 40.25 | 12\n"
        "HR-110 | Hose Reel Pro | 129.00 | 0\n"
    ),
}


@pytest.mark.parametrize("layout", sorted(MARKDOWN))
def test_markdown_tables_in_a_message_or_without_outer_bars(api: httpx.Client, layout: str) -> None:
    table, rows = table_of(api, text=MARKDOWN[layout])
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency", "in_stock") == [
        ("GH-201", "Garden Hose 20 m", 40.25, "USD", True),
        ("HR-110", "Hose Reel Pro", 129.0, "USD", False),
    ]


def test_a_pasted_tab_table_under_title_lines_with_a_sum_row(api: httpx.Client) -> None:
    text = (
        "Lagerliste KW 12\n"
        "Stand: 18.03.2025\n\n"
        "Art.-Nr.\tBezeichnung\tPreis\tBestand\n"
        "A-100\tGartenschlauch 20 m\t76,50 €\t4\n"
        "A-101\tSchlauchtrommel\t129,00 €\t0\n"
        "A-102\tSprühdüse\t9,90 €\t12\n"
        "Summe\t\t215,40 €\t16\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency", "in_stock") == [
        ("A-100", "Gartenschlauch 20 m", 76.5, "EUR", True),
        ("A-101", "Schlauchtrommel", 129.0, "EUR", False),
        ("A-102", "Sprühdüse", 9.9, "EUR", True),
    ]
    assert table["extraction_report"]["skipped"]["total"] == 1


def test_a_title_boxed_over_a_ruled_table_and_totals_under_it(api: httpx.Client) -> None:
    text = (
        "Hi,\n\n"
        "+------------------------------------+\n"
        "| Price list spring 2025 (EUR)       |\n"
        "+--------+-------------+-------------+\n"
        "| SKU    | Name        | Price       |\n"
        "+========+=============+=============+\n"
        "| A-1    | Hammer      | 12.50       |\n"
        "| A-2    | Pliers      |  8.90       |\n"
        "+--------+-------------+-------------+\n"
        "| Subtotal             | 21.40       |\n"
        "| VAT 19%              |  4.07       |\n"
        "+--------+-------------+-------------+\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("A-1", "Hammer", 12.5, "EUR"),
        ("A-2", "Pliers", 8.9, "EUR"),
    ]
    assert table["extraction_report"]["skipped"]["total"] == 2


def test_a_header_cell_alone_on_its_first_line_is_no_title(api: httpx.Client) -> None:
    text = (
        "Preise in EUR\n"
        "+----------+-------------+--------+\n"
        "| Artikel- |             |        |\n"
        "| Nr.      | Bezeichnung | Preis  |\n"
        "+==========+=============+========+\n"
        "| A-1      | Hammer      | 12,50  |\n"
        "| A-2      | Zange       | 8,90   |\n"
        "+----------+-------------+--------+\n"
        "Order 4711: 21,40 €\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("A-1", "Hammer", 12.5, "EUR"),
        ("A-2", "Zange", 8.9, "EUR"),
    ]


@pytest.mark.parametrize("delimiter", ["|", "\t"])
def test_a_pipe_or_tab_export_with_decimal_commas_under_a_title_line(
    api: httpx.Client, delimiter: str
) -> None:
    lines = [
        "Preisliste, Stand März, alle Preise in EUR",
        ["SKU", "Name", "Preis", "Gewicht"],
        ["A-1", "Hammer", "12,50", "0,5 kg"],
        ["A-2", "Zange", "8,90", "0,3 kg"],
        ["A-3", "Säge", "19,99", "1,1 kg"],
    ]
    text = "\n".join(x if isinstance(x, str) else delimiter.join(x) for x in lines) + "\n"
    table, rows = table_of(api, file=("preise.csv", text.encode()))
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("A-1", "Hammer", 12.5, "EUR"),
        ("A-2", "Zange", 8.9, "EUR"),
        ("A-3", "Säge", 19.99, "EUR"),
    ]


def test_a_comma_csv_with_semicolons_inside_fields_stays_a_comma_csv(api: httpx.Client) -> None:
    text = (
        "sku,name,price,tags\n"
        'A-1,"Hammer; steel","1,299.00",red;blue\n'
        'A-2,"Pliers; red",8.90,red;blue\n'
        'A-3,"Saw; fine",19.99,red;blue\n'
    )
    table, rows = table_of(api, file=("tools.csv", text.encode()))
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price") == [
        ("A-1", "Hammer; steel", 1299.0),
        ("A-2", "Pliers; red", 8.9),
        ("A-3", "Saw; fine", 19.99),
    ]


QUALIFIED = {
    "de": (
        "12,50 €/Stk.",
        "8,90 € pro Stück",
        "EUR 19,99 zzgl. MwSt.",
        "lieferbar",
        "nicht lieferbar",
    ),
    "fr": ("12,50 €/pièce", "8,90 € l'unité", "19,99 € HT", "en stock", "épuisé"),
    "nl": ("€ 12,50 per stuk", "€ 8,90/st.", "€ 19,99 excl. btw", "op voorraad", "uitverkocht"),
    "es": ("12,50 €/ud.", "8,90 € por unidad", "19,99 € + IVA", "disponible", "agotado"),
    "en": ("EUR 12.50/ea", "EUR 8.90 per unit", "EUR 19.99 net", "in stock", "sold out"),
}


@pytest.mark.parametrize("in_mail", [False, True])
@pytest.mark.parametrize("lang", sorted(QUALIFIED))
def test_prices_with_a_unit_or_tax_qualifier_in_listing_lines(
    api: httpx.Client, lang: str, in_mail: bool
) -> None:
    first, second, third, yes, no = QUALIFIED[lang]
    lines = [f"Hammer – {first} – {yes}", f"Pliers – {second} – {yes}", f"Saw – {third} – {no}"]
    text = "\n".join(lines)
    if in_mail:
        text = "Hello Pat,\n\nthe prices:\n\n" + text + "\n\nKind regards,\nSam"
    table, rows = table_of(api, text=text + "\n")
    assert table["status"] == "completed", table
    assert data(rows, "name", "price", "currency", "in_stock") == [
        ("Hammer", 12.5, "EUR", True),
        ("Pliers", 8.9, "EUR", True),
        ("Saw", 19.99, "EUR", False),
    ]


def test_a_simple_table_with_rules_over_and_under_its_header(api: httpx.Client) -> None:
    text = (
        "Preisliste, Preise in EUR\n\n"
        "========  ==================  =======  =======\n"
        "Art.-Nr.  Bez.                VK       Bestand\n"
        "========  ==================  =======  =======\n"
        "A-1       Hammer 500 g        12,50    3\n"
        "A-2       Zange               8,90     0\n"
        "========  ==================  =======  =======\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency", "in_stock") == [
        ("A-1", "Hammer 500 g", 12.5, "EUR", True),
        ("A-2", "Zange", 8.9, "EUR", False),
    ]
    # The rule above the header is no header row: the columns keep their own names.
    [source] = table["extraction_report"]["sources"]
    assert set(source["mapping"]) == {"Art.-Nr.", "Bez.", "VK", "Bestand"}


def test_psql_expanded_display(api: httpx.Client) -> None:
    text = (
        "Prices in EUR\n"
        "-[ RECORD 1 ]-+-------------\n"
        "sku           | A-1\n"
        "name          | Hammer 500 g\n"
        "price         | 12.50\n"
        "-[ RECORD 2 ]-+-------------\n"
        "sku           | A-2\n"
        "name          | Pliers\n"
        "price         | 8.90\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("A-1", "Hammer 500 g", 12.5, "EUR"),
        ("A-2", "Pliers", 8.9, "EUR"),
    ]


CODED = {
    "leading_code": "GH-201 Garden Hose 20 m: $40.25\nHR-110 Hose Reel Pro: $129.00\n",
    "labelled_in_parens": (
        "* Garden Hose 20 m (Art.-Nr. GH-201): $40.25\n* Hose Reel Pro (SKU: HR-110): $129.00\n"
    ),
}


@pytest.mark.parametrize("in_mail", [False, True])
@pytest.mark.parametrize("layout", sorted(CODED))
def test_codes_leading_every_name_or_labelled_in_parentheses(
    api: httpx.Client, layout: str, in_mail: bool
) -> None:
    text = "Prices:\n\n" + CODED[layout]
    if in_mail:
        text = "Hi Jo,\n\n" + CODED[layout] + "\nCheers,\nAl\n"
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("GH-201", "Garden Hose 20 m", 40.25, "USD"),
        ("HR-110", "Hose Reel Pro", 129.0, "USD"),
    ]


def test_a_quantity_or_a_model_leading_some_names_is_no_sku(api: httpx.Client) -> None:
    text = (
        "Prices:\n\n100 Screws M4: $5.00\n250 Washers M4: $3.50\n"
        "RTX-4090 Graphics Card: $1,599.00\nGaming Mouse: $49.00\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price") == [
        (None, "100 Screws M4", 5.0),
        (None, "250 Washers M4", 3.5),
        (None, "RTX-4090 Graphics Card", 1599.0),
        (None, "Gaming Mouse", 49.0),
    ]


def test_a_bar_inside_a_cell_of_an_aligned_ruled_table(api: httpx.Client) -> None:
    text = (
        "Prices in GBP\n"
        "+------+----------------+--------+\n"
        "| SKU  | Name           | Price  |\n"
        "+======+================+========+\n"
        "| A-1  | Hose | 20 m    | 12.50  |\n"
        "| A-2  | Reel           | 8.90   |\n"
        "+------+----------------+--------+\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("A-1", "Hose | 20 m", 12.5, "GBP"),
        ("A-2", "Reel", 8.9, "GBP"),
    ]


EARLIER = {
    "forwarded": (
        "Hi Sam,\n\nsee the prices below from our supplier.\n\nBest regards,\nKim\n\n"
        "---------- Forwarded message ---------\n"
        "From: Supplier <sales@example.com>\nDate: Mon, 1 Dec 2025\nSubject: Prices\n\n"
        "Garden Hose 20 m – GH-201 – $40.25\nHose Reel Pro – HR-110 – $129.00\n"
    ),
    "quoted": (
        "Hi Sam,\n\nsee the prices below.\n\n"
        "On Mon, 1 Dec 2025 at 10:00, Supplier <sales@example.com> wrote:\n"
        "> Garden Hose 20 m – GH-201 – $40.25\n> Hose Reel Pro – HR-110 – $129.00\n"
    ),
}


@pytest.mark.parametrize("layout", sorted(EARLIER))
def test_products_only_in_a_forwarded_or_quoted_message(api: httpx.Client, layout: str) -> None:
    table, rows = table_of(api, text=EARLIER[layout])
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency") == [
        ("GH-201", "Garden Hose 20 m", 40.25, "USD"),
        ("HR-110", "Hose Reel Pro", 129.0, "USD"),
    ]


def test_rows_pasted_from_a_spreadsheet_into_a_message_keep_every_column(
    api: httpx.Client,
) -> None:
    text = (
        "Hi Sam,\n\nhere is the list from Excel:\n\n"
        "SKU\tName\tPrice\tStock\n"
        "GH-201\tGarden Hose 20 m\t$40.25\t12\n"
        "HR-110\tHose Reel Pro\t$129.00\t0\n\n"
        "We ship today; prices valid until Friday; call me if needed.\n"
        "Kind regards,\nKim\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "price", "currency", "in_stock") == [
        ("GH-201", "Garden Hose 20 m", 40.25, "USD", True),
        ("HR-110", "Hose Reel Pro", 129.0, "USD", False),
    ]


@pytest.mark.parametrize(
    ("prices", "currency"),
    [
        (("12,50 euros", "8,90 Euro"), "EUR"),
        (("Fr. 12.50", "SFr. 8.90"), "CHF"),
        (("12.50 dollars", "US$ 8.90"), "USD"),
    ],
)
def test_currency_words_after_or_before_a_listing_price(
    api: httpx.Client, prices: tuple[str, str], currency: str
) -> None:
    text = f"Offer:\n\nHammer – {prices[0]} – in stock\nPliers – {prices[1]} – sold out\n"
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "name", "price", "currency", "in_stock") == [
        ("Hammer", 12.5, currency, True),
        ("Pliers", 8.9, currency, False),
    ]


@pytest.mark.parametrize(
    "prefixes",
    [("à partir de", "dès"), ("vanaf", "nu"), ("desde", "ahora"), ("ab", "nur"), ("from", "now")],
)
def test_a_from_or_now_word_before_a_listing_price(
    api: httpx.Client, prefixes: tuple[str, str]
) -> None:
    text = f"Offer:\n\nHammer – {prefixes[0]} 12,50 € – in stock\nPliers – {prefixes[1]} 8,90 €\n"
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "name", "price", "currency") == [
        ("Hammer", 12.5, "EUR"),
        ("Pliers", 8.9, "EUR"),
    ]


def test_a_ruled_row_with_a_blank_first_cell_is_a_row_a_wrapped_name_is_not(
    api: httpx.Client,
) -> None:
    text = (
        "Prices in EUR\n"
        "+--------+------+-------------+-------+\n"
        "| Brand  | SKU  | Name        | Price |\n"
        "+========+======+=============+=======+\n"
        "| Acme   | A-1  | Hammer      | 12.50 |\n"
        "|        | A-2  | Pliers      |  8.90 |\n"
        "|        | A-3  | Saw         |       |\n"
        "| Acme   | A-4  | Garden Hose | 40.25 |\n"
        "|        |      | 20 m, green |       |\n"
        "+--------+------+-------------+-------+\n"
    )
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "sku", "name", "brand", "price") == [
        ("A-1", "Hammer", "Acme", 12.5),
        ("A-2", "Pliers", None, 8.9),
        ("A-3", "Saw", None, None),
        ("A-4", "Garden Hose 20 m, green", "Acme", 40.25),
    ]


@pytest.mark.parametrize("in_mail", [False, True])
def test_totals_and_charges_closing_a_listing_are_skipped_as_totals(
    api: httpx.Client, in_mail: bool
) -> None:
    lines = (
        "Total Station TS-1 – $1,999.00\nHammer = $12.50\nPliers @ $8.90 each\n"
        "Shipping – $5.00\nTotal → $2,025.40\n"
    )
    text = ("Hi Jo,\n\n" + lines + "\nCheers,\nAl\n") if in_mail else ("Offer:\n\n" + lines)
    table, rows = table_of(api, text=text)
    assert table["status"] == "completed", table
    assert data(rows, "name", "price", "currency") == [
        ("Total Station TS-1", 1999.0, "USD"),
        ("Hammer", 12.5, "USD"),
        ("Pliers", 8.9, "USD"),
    ]
    assert table["extraction_report"]["skipped"] == {"total": 2}
