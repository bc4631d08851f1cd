"""``create_schema`` from every accepted form (dict, specs, pydantic model, dataclass, example
DataFrame), checked before sending with errors naming the column, safe to re-run, and the
schema's columns typing a real table's DataFrame (number Float64, integer Int64)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pandas as pd
import pydantic
import pytest

import lasso_notebook as ln
from lasso_notebook import InvalidRequestError, Lasso
from lasso_notebook._schema_builder import normalize_columns, parse_spec


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lasso]:
    from lasso_notebook.server import serve

    engine = serve(port=0, data_dir=tmp_path_factory.mktemp("schema-engine"))
    with engine, Lasso(api_key=engine.api_key, base_url=engine.base_url) as c:
        yield c


# --------------------------------------------------------------------------- forms of columns


@pytest.mark.parametrize(
    ("spec", "column"),
    [
        ("name", {"label": "name", "type": "text"}),
        ("price:number", {"label": "price", "type": "number"}),
        ("sku:text!", {"label": "sku", "type": "text", "required": True}),
        ("release date:date", {"label": "release date", "type": "date"}),
        (
            "category:enum(Power Tools|Garden)",
            {"label": "category", "type": "enum", "enum_values": ["Power Tools", "Garden"]},
        ),
        ("size : enum( S | M )!", {"label": "size", "type": "enum", "enum_values": ["S", "M"], "required": True}),
    ],
)  # fmt: skip
def test_spec_strings(spec: str, column: dict[str, Any]) -> None:
    assert parse_spec(spec) == column


def test_every_form_gives_the_same_checked_columns() -> None:
    expected = [
        {"key": "sku", "label": "sku", "type": "text", "required": True},
        {"key": "price", "label": "price", "type": "number", "required": False},
        {"key": "qty", "label": "qty", "type": "number", "required": False, "format": "integer"},
        {"key": "release_date", "label": "Release date", "type": "date", "required": False},
    ]
    as_dict = {"sku": "text!", "price": "number", "qty": "integer", "Release date": "date"}
    as_strings = ["sku:text!", "price:number", "qty:int", "Release date:date"]
    as_dicts = [
        {"key": "sku", "type": "text", "required": True},
        {"key": "price", "type": "number"},
        {"key": "qty", "type": "number", "format": "integer"},
        {"key": "release_date", "label": "Release date", "type": "date"},
    ]
    for form in (as_dict, as_strings, as_dicts):
        assert normalize_columns(form) == expected, form
    typed = normalize_columns({"name": str, "price": float, "on_sale": bool, "tags": list[str]})
    assert [c["type"] for c in typed] == ["text", "number", "boolean", "tags"]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Product(pydantic.BaseModel):
    name: str = pydantic.Field(description="What the shop calls it")
    price: decimal.Decimal
    stock: int
    weight_kg: float | None = None
    in_stock: bool = True
    released: dt.date | None = None
    updated: dt.datetime | None = None
    tags: list[str] = []
    size: Literal["S", "M", "L"] = "M"
    colour: Colour | None = None
    url: pydantic.HttpUrl | None = None
    specs: dict[str, Any] = {}
    brand: str = pydantic.Field(default="", title="Brand name")


def test_a_pydantic_model_becomes_columns() -> None:
    columns = {c["key"]: c for c in normalize_columns(Product)}
    assert list(columns) == list(Product.model_fields)
    types = {k: (c["type"], c.get("format")) for k, c in columns.items()}
    assert types == {
        "name": ("text", None),
        "price": ("number", None),
        "stock": ("number", "integer"),
        "weight_kg": ("number", None),
        "in_stock": ("boolean", None),
        "released": ("date", None),
        "updated": ("date", None),
        "tags": ("tags", None),
        "size": ("enum", None),
        "colour": ("enum", None),
        "url": ("url", None),
        "specs": ("json", None),
        "brand": ("text", None),
    }
    # EmailStr needs email-validator to build a model; the type alone maps without it.
    assert normalize_columns({"contact": pydantic.EmailStr})[0]["type"] == "email"
    assert columns["size"]["enum_values"] == ["S", "M", "L"]
    assert columns["colour"]["enum_values"] == ["red", "blue"]
    assert [k for k, c in columns.items() if c["required"]] == ["name", "price", "stock"]
    assert columns["name"]["description"] == "What the shop calls it"
    assert columns["brand"]["label"] == "Brand name"


@dataclasses.dataclass
class Row:
    sku: str
    price: float
    note: str = ""


def test_a_dataclass_becomes_columns() -> None:
    columns = normalize_columns(Row)
    assert [(c["key"], c["type"], c["required"]) for c in columns] == [
        ("sku", "text", True),
        ("price", "number", True),
        ("note", "text", False),
    ]


def test_an_example_dataframe_gives_types_from_dtypes() -> None:
    example = pd.DataFrame(
        {
            "Product name": ["Drill", "Saw"],
            "price": [129.0, 89.5],
            "stock": [3, 0],
            "in stock": [True, False],
            "released": pd.to_datetime(["2025-01-02", "2025-02-03"]),
            "size": pd.Categorical(["S", "M"], categories=["S", "M", "L"]),
            "tags": [["a"], ["b", "c"]],
            "url": ["https://x.test/1", "http://x.test/2"],
            "contact": ["a@x.test", "b@x.test"],
            "specs": [{"w": 1}, {"w": 2}],
            "sku": pd.array(["D1", None], dtype="string"),
        }
    )
    columns = normalize_columns(example)
    got = [(c["key"], c["label"], c["type"], c.get("format")) for c in columns]
    assert got == [
        ("product_name", "Product name", "text", None),
        ("price", "price", "number", None),
        ("stock", "stock", "number", "integer"),
        ("in_stock", "in stock", "boolean", None),
        ("released", "released", "date", None),
        ("size", "size", "enum", None),
        ("tags", "tags", "tags", None),
        ("url", "url", "url", None),
        ("contact", "contact", "email", None),
        ("specs", "specs", "json", None),
        ("sku", "sku", "text", None),
    ]
    assert columns[5]["enum_values"] == ["S", "M", "L"]


@pytest.mark.parametrize(
    ("columns", "fragment"),
    [
        ({"price": "nubmer"}, "column 'price': unknown type 'nubmer'; did you mean 'number'"),
        (["sku:text", "SKU"], None),  # different keys: fine
        (["sku:text", {"key": "sku"}], "'sku' appear(s) more than once"),
        ([{"key": "_id"}], "column '_id': the key '_id' must start with a letter or digit"),
        ([{"key": "size", "type": "enum"}], "column 'size': an enum column needs its values"),
        ([{"key": "x", "enum_values": ["a"]}], "column 'x': enum_values only apply to enum"),
        ([{"key": "x", "colour": "red"}], "column #1: unknown field(s) colour"),
        ([{"key": "x", "required": "yes"}], "column 'x': required must be True or False"),
        ([{"key": "x", "type": "text", "format": "integer"}], "column 'x': format 'integer'"),
        ({"price": 3}, "column 'price': give its type as a string"),
        ({"when": dt.timedelta}, "column 'when': cannot tell the column type of 'timedelta'"),
        ([], "at least one column"),
        ("price:number", "columns: give a dict"),
        (["!!!:text"], "column '!!!': give it a key"),
    ],
)
def test_mistakes_name_the_column(columns: Any, fragment: str | None) -> None:
    if fragment is None:
        normalize_columns(columns)
        return
    with pytest.raises(InvalidRequestError) as info:
        normalize_columns(columns)
    assert fragment in str(info.value)


def test_nothing_is_sent_for_bad_columns() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500)

    offline = Lasso(
        api_key="k", base_url="http://lasso.invalid/api/v1", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(InvalidRequestError, match="column 'price'"):
        ln.create_schema("Prices", {"price": "nubmer"}, client=offline)
    with pytest.raises(InvalidRequestError, match="name"):
        ln.create_schema("  ", {"price": "number"}, client=offline)
    assert requests == []


# --------------------------------------------------------------------------- against the engine


def test_create_reuse_and_conflict(client: Lasso) -> None:
    schema = ln.create_schema(
        "Price list", ["sku:text!", "price:number", "qty:integer"], client=client, description="Q1"
    )
    assert [(c.key, c.type, c.required) for c in schema.columns] == [
        ("sku", "text", True),
        ("price", "number", False),
        ("qty", "number", False),
    ]
    assert schema.columns[2].get("format") == "integer" and schema.description == "Q1"
    # Re-running the cell: the same schema comes back, no duplicate.
    again = ln.create_schema(
        "price list", {"sku": "text!", "price": "number", "qty": "integer"}, client=client,
        description="Q1",
    )  # fmt: skip
    assert again.id == schema.id
    assert sum(s.name == "Price list" for s in client.schemas.list(limit=100)) == 1
    with pytest.raises(InvalidRequestError) as info:
        ln.create_schema("Price list", ["sku:text!", "price:text"], client=client)
    message = str(info.value)
    assert schema.id in message and "different: price" in message and "not in yours: qty" in message
    assert "schemas.update(" in message
    with pytest.raises(InvalidRequestError, match="exists already"):
        ln.create_schema(
            "Price list", ["sku:text!", "price:number", "qty:integer"], client=client,
            description="Q1", exist_ok=False,
        )  # fmt: skip


def test_schema_types_give_stable_dtypes(client: Lasso) -> None:
    """Two tables of one schema, whole prices in one and cents in the other, concatenate with
    the same dtypes; the integer column is Int64."""
    schema = ln.create_schema("Stock", ["sku:text!", "price:number", "qty:integer"], client=client)
    whole = ln.submit(schema, text="sku;price;qty\nA;10;1\nB;20;2", client=client, progress=False)
    cents = ln.submit(schema, text="sku;price;qty\nC;89.50;3", client=client, progress=False)
    frames = [whole.result(timeout=60), cents.result(timeout=60)]
    for df in frames:
        assert str(df["price"].dtype) == "Float64" and str(df["qty"].dtype) == "Int64"
    both = pd.concat(frames)
    assert str(both["price"].dtype) == "Float64" and list(both["price"]) == [10.0, 20.0, 89.5]
