"""The first extractor (no HTTP): format detection, header matching, type coercion, row
validation, progress steps and the human failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lasso_notebook.server.extract import STEPS, ExtractionError, Source, extract, register_reader
from lasso_notebook.server.extract.coerce import coerce
from lasso_notebook.server.store import PRODUCTS_COLUMNS


def rows(
    text: str | None = None, columns: list[dict[str, Any]] = PRODUCTS_COLUMNS, **source: Any
) -> list[dict[str, Any]]:
    return list(extract(Source(text=text, **source), columns, None, lambda _f: None))


def names(result: list[dict[str, Any]]) -> list[Any]:
    return [r["data"]["name"] for r in result]


@pytest.mark.parametrize(
    "text",
    [
        "name,price\nA,1\nB,2\n",
        "name;price\nA;1\nB;2\n",
        "name\tprice\nA\t1\nB\t2\n",
        "Name | Price\nA | 1\nB | 2\n",
        "| Name | Price |\n|:---|---:|\n| A | 1 |\n| B | 2 |\n",
        '[{"name": "A", "price": 1}, {"name": "B", "price": 2}]',
        '{"products": [{"name": "A", "price": 1}, {"name": "B", "price": 2}]}',
        '{"catalog": {"items": [{"name": "A", "price": 1}, {"name": "B", "price": 2}]}}',
        '{"name": "A", "price": 1}\n{"name": "B", "price": 2}\n',
        "Name: A\nPrice: 1\n\nName: B\nPrice: 2\n",
        "Name: A\nPrice: 1\nName: B\nPrice: 2\n",  # a repeated key starts a new record
        "- Name: A\n- Price: 1\n\n- Name: B\n- Price: 2\n",
    ],
    ids=[
        "csv",
        "semicolon",
        "tsv",
        "pipe",
        "markdown",
        "json",
        "json-products",
        "json-nested",
        "jsonl",
        "kv",
        "kv-repeat",
        "kv-bullets",
    ],
)
def test_formats_are_detected(text: str) -> None:
    result = rows(text)
    assert names(result) == ["A", "B"]
    assert [r["data"]["price"] for r in result] == [1, 2]
    assert all(r["validation_status"] == "valid" for r in result)


def test_headers_match_key_or_label_ignoring_case_spaces_punctuation() -> None:
    result = rows(
        "NAME,In-Stock,release DATE,S.K.U.,Product URL\nA,yes,2024-01-02,X1,https://x.test\n"
    )
    assert result[0]["data"] | {} == {
        "name": "A",
        "sku": "X1",
        "brand": None,
        "price": None,
        "currency": None,
        "in_stock": True,
        "release_date": "2024-01-02",
        "tags": None,
        "url": "https://x.test",
    }


def test_kv_title_line_fills_the_name_and_nested_json_values() -> None:
    result = rows("Acme Drill\nPrice: 99 EUR\nBrand: Acme\n\nSaw\nPrice: 5\n")
    assert names(result) == ["Acme Drill", "Saw"] and result[0]["data"]["price"] == 99
    nested = rows(
        json.dumps({"items": [{"title": "X", "price": {"amount": "9,99", "currency": "EUR"}}]})
    )
    assert nested[0]["data"]["name"] == "X" and nested[0]["data"]["price"] == 9.99
    assert nested[0]["data"]["currency"] == "EUR"


@pytest.mark.parametrize(
    ("value", "column", "expected", "severity"),
    [
        ("$1,299.00", {"type": "number"}, 1299.0, None),
        ("1.299,50 €", {"type": "number"}, 1299.5, None),
        ("9,99", {"type": "number"}, 9.99, None),
        ("12 kg", {"type": "number"}, 12, "warning"),
        ("abc", {"type": "number"}, None, "error"),
        (True, {"type": "number"}, None, "error"),
        ("Yes", {"type": "boolean"}, True, None),
        ("out of stock", {"type": "boolean"}, False, None),
        ("maybe", {"type": "boolean"}, None, "error"),
        ("2025-03-10", {"type": "date"}, "2025-03-10", None),
        ("10.03.2025", {"type": "date"}, "2025-03-10", None),
        ("March 10, 2025", {"type": "date"}, "2025-03-10", None),
        ("25/12/2024", {"type": "date"}, "2024-12-25", None),
        ("03/10/2025", {"type": "date"}, "2025-03-10", "warning"),
        ("someday", {"type": "date"}, None, "error"),
        ("a, b;c | d", {"type": "tags"}, ["a", "b", "c", "d"], None),
        (["x", "y"], {"type": "tags"}, ["x", "y"], None),
        ("https://a.test/1.png|ftp://b", {"type": "images"}, ["https://a.test/1.png"], "error"),
        ("https://a.test/x", {"type": "url"}, "https://a.test/x", None),
        ("example.com/p", {"type": "url"}, "https://example.com/p", "warning"),
        ("javascript:alert(1)", {"type": "url"}, None, "error"),
        ("mailto:a@b.co", {"type": "email"}, "a@b.co", None),
        ("not-an-email", {"type": "email"}, None, "error"),
        ("red", {"type": "enum", "enum_values": ["Red", "Blue"]}, "Red", None),
        ("green", {"type": "enum", "enum_values": ["Red", "Blue"]}, None, "error"),
        ('{"a": 1}', {"type": "json"}, {"a": 1}, None),
        ("{oops", {"type": "json"}, None, "error"),
        (42, {"type": "text"}, "42", None),
        ("   ", {"type": "number"}, None, None),
        ("kept", {"type": "runnable"}, "kept", None),
    ],
)
def test_coercion(value: Any, column: dict[str, Any], expected: Any, severity: str | None) -> None:
    result, issue = coerce(value, column)
    assert result == expected
    assert (issue[0] if issue else None) == severity


def test_validation_status_and_errors() -> None:
    result = rows("name,price,url\nA,abc,x.test\n,5,https://ok.test\nC,1,example.com\n")
    assert [r["validation_status"] for r in result] == ["error", "error", "warning"]
    assert result[0]["validation_errors"] == [
        {"column_key": "price", "message": "'abc' is not a number", "severity": "error"},
        {"column_key": "url", "message": "added https:// to 'x.test'", "severity": "warning"},
    ]
    assert result[1]["validation_errors"] == [
        {"column_key": "name", "message": "required value is missing", "severity": "error"}
    ]
    assert result[0]["data"]["price"] is None  # unusable values become null, reason kept


def test_empty_records_are_skipped_and_all_empty_fails() -> None:
    assert names(rows("name,price\nA,1\n,\nB,2\n")) == ["A", "B"]
    with pytest.raises(ExtractionError, match="every record was empty"):
        rows("name,price,colour\n,,red\n,,blue\n")


def test_progress_moves_in_steps_and_rows_come_first() -> None:
    events: list[Any] = []
    text = "name\n" + "".join(f"N{i}\n" for i in range(100))
    for row in extract(Source(text=text), PRODUCTS_COLUMNS, "ctx", lambda f: events.append(f)):
        events.append(row["data"]["name"])
    fractions = [e for e in events if isinstance(e, float)]
    assert fractions == sorted(fractions) and fractions[0] < 0.1 and fractions[-1] == 1.0
    assert STEPS - 1 <= len(fractions) <= STEPS + 1
    assert events[-2] == "N99"  # every row of a chunk is yielded before its progress call


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("hello world, this is prose\n", "Could not find a table"),
        ("colour,size\nred,XL\n", "None of the fields"),
        ("[1, 2, 3]", "no objects"),
        ('{"name": "A"}\n{broken\n', "not JSON"),
    ],
)
def test_failures_are_human(text: str, message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        rows(text)


def test_files_by_extension_and_content_type(tmp_path: Path) -> None:
    tsv = tmp_path / "stored1"
    tsv.write_text("name\tprice\nA\t1\n")
    assert names(rows(path=tsv, filename="x.tsv")) == ["A"]
    latin = tmp_path / "stored2"
    latin.write_bytes("name;brand\nCafé;Señor\n".encode("cp1252"))
    assert rows(path=latin, filename="x.csv")[0]["data"]["brand"] == "Señor"
    jsonl = tmp_path / "stored3"
    jsonl.write_text('{"name": "A"}\n')
    assert names(rows(path=jsonl, filename="dump", content_type="application/x-ndjson")) == ["A"]
    with pytest.raises(ExtractionError, match="could not be read as an Excel"):
        rows(path=tsv, filename="x.xlsx")  # the name promises a workbook: say what went wrong
    with pytest.raises(ExtractionError, match="missing"):
        rows(path=tmp_path / "gone", filename="gone.csv")


def test_register_reader_plugs_in_a_format(tmp_path: Path) -> None:
    path = tmp_path / "stored"
    path.write_text("ignored")
    register_reader((".fake",), (), lambda source: [{"name": "From plugin"}])
    assert names(rows(path=path, filename="a.fake")) == ["From plugin"]


def test_a_column_remembers_coerced_strings_without_sharing_lists_or_links() -> None:
    from lasso_notebook.server.extract.coerce import coercer
    from lasso_notebook.server.extract.source import Linked

    tags = coercer({"key": "tags", "type": "tags"})
    first, _ = tags("tools; garden")
    first.append("edited later")  # a row's list edited after it was written
    assert tags("tools; garden") == (["tools", "garden"], None)
    price = coercer({"key": "price", "type": "number"})
    assert price("$1,234.50") == price("$1,234.50") == (1234.5, None)
    assert price("free")[0] is None and price("free")[1] is not None  # the reason, every time
    # A link's text is not its address: two links with one text keep their own urls.
    url = coercer({"key": "url", "type": "url"})
    assert url(Linked("link", ["https://a.example/1"]))[0] == "https://a.example/1"
    assert url(Linked("link", ["https://a.example/2"]))[0] == "https://a.example/2"
