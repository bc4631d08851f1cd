"""Rows → typed DataFrame: dtypes for every column type, the empty table, labels/meta, and
exactly-once concurrent paging (injected failures via a mock transport; real engine too)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import math
import re
import time
from typing import Any

import httpx
import pandas as pd
import pytest

from lasso_notebook import Lasso, _runtime
from lasso_notebook.client import RetryPolicy
from lasso_notebook.errors import APIConnectionError, BadRequestError
from lasso_notebook.frames import (
    IncompleteRowsError,
    RowColumns,
    TableFrames,
    build_frame,
    dtype_for,
    fetch_frame,
    fetch_parts,
    fetch_rows,
    frame_from_columns,
    unparsed_summary,
)
from lasso_notebook.models import Column, Table

ALL_COLUMNS = [
    {"key": "title", "label": "Title", "type": "text"},
    {"key": "price", "label": "Price", "type": "number"},
    {"key": "qty", "label": "Quantity", "type": "number", "format": "integer"},
    {"key": "link", "label": "Link", "type": "url"},
    {"key": "mail", "label": "Mail", "type": "email"},
    {"key": "released", "label": "Released", "type": "date"},
    {"key": "active", "label": "Active", "type": "boolean"},
    {"key": "blurb", "label": "Blurb", "type": "richtext"},
    {"key": "size", "label": "Size", "type": "enum", "enum_values": ["S", "M", "L"]},
    {"key": "tags", "label": "Tags", "type": "tags"},
    {"key": "photo", "label": "Photo", "type": "image"},
    {"key": "photos", "label": "Photos", "type": "images"},
    {"key": "specs", "label": "Specs", "type": "json"},
]

ROWS = [
    {
        "id": "row_a",
        "row_index": 0,
        "validation_status": "valid",
        "validation_errors": [],
        # Keys deliberately out of schema order: the frame must follow the schema.
        "data": {
            "specs": {"w": 1},
            "title": "Anvil",
            "price": 49.9,
            "qty": 2,
            "link": "https://x.test/a",
            "mail": "a@x.test",
            "released": "2025-03-10",
            "active": True,
            "blurb": "<b>heavy</b>",
            "size": "M",
            "tags": ["tools", "iron"],
            "photo": "https://x.test/a.png",
            "photos": ["https://x.test/a1.png"],
        },
    },
    {
        "id": "row_b",
        "row_index": 1,
        "validation_status": "warning",
        "validation_errors": [{"column_key": "released", "message": "bad date"}],
        "data": {
            "title": 12345,
            "price": "12",
            "qty": 3.0,
            "released": "not a date",
            "active": "no",
            "size": "XXL",
            "tags": "solo",
            "specs": [1, 2],
            "released_extra": "kept",
        },
    },
    {
        "id": "row_c",
        "row_index": 2,
        "validation_status": None,
        "validation_errors": None,
        "data": {
            "price": "cheap",
            "qty": None,
            "released": "2025-03-10T14:30:00.000Z",
            "active": "maybe",
        },
    },
]


def test_every_column_type_gets_its_dtype() -> None:
    df = build_frame(ROWS, ALL_COLUMNS)

    schema_keys = [c["key"] for c in ALL_COLUMNS]
    assert list(df.columns[: len(schema_keys)]) == schema_keys
    assert list(df.columns[len(schema_keys) :]) == ["released_extra"]  # unknown key appended
    assert list(df.index) == [0, 1, 2] and df.index.name == "row_index"
    dtypes = {k: str(v) for k, v in df.dtypes.items()}
    assert dtypes["price"] == "Float64"  # a number column
    assert dtypes["qty"] == "Int64"  # the schema says integer
    for key in ("title", "link", "mail", "blurb", "photo"):
        assert dtypes[key] == "string", key
    assert dtypes["active"] == "boolean"
    assert pd.api.types.is_datetime64_any_dtype(df["released"])
    assert isinstance(df["size"].dtype, pd.CategoricalDtype)
    assert list(df["size"].cat.categories) == ["S", "M", "L"]
    for key in ("tags", "photos", "specs"):
        assert dtypes[key] == "object", key

    assert df.loc[1, "title"] == "12345"
    assert df.loc[1, "price"] == 12.0 and pd.isna(df.loc[2, "price"])
    assert df.loc[0, "qty"] == 2 and pd.isna(df.loc[2, "qty"])
    assert df.loc[0, "active"] is True or df.loc[0, "active"] == True  # noqa: E712
    assert df.loc[1, "active"] == False  # noqa: E712  ("no" is a boolean spelling)
    assert df.loc[0, "released"] == pd.Timestamp("2025-03-10")
    assert df.loc[2, "released"] == pd.Timestamp("2025-03-10 14:30")
    assert pd.isna(df.loc[1, "released"])
    assert df.loc[0, "tags"] == ["tools", "iron"] and df.loc[1, "tags"] == ["solo"]
    assert df.loc[2, "tags"] is None
    assert df.loc[0, "specs"] == {"w": 1} and df.loc[1, "specs"] == [1, 2]
    assert df.loc[0, "size"] == "M" and pd.isna(df.loc[1, "size"])

    unparsed = df.attrs["lasso"]["unparsed"]
    assert unparsed["released"]["rows"] == [1]
    assert unparsed["released"]["examples"] == ["not a date"]
    assert unparsed["price"]["rows"] == [2]
    assert unparsed["active"]["rows"] == [2]
    assert unparsed["size"]["examples"] == ["XXL"]
    assert "title" not in unparsed
    assert unparsed_summary(df) == (
        "4 values did not fit their column type and are NA: "
        "price (1), released (1), active (1), size (1)"
    )
    assert unparsed_summary(build_frame([], ALL_COLUMNS)) == ""
    one = build_frame([{"row_index": 0, "data": {"price": "free"}}], ALL_COLUMNS)
    assert unparsed_summary(one) == "1 value did not fit its column type and is NA: price (1)"


#: (as a server may spell a date, the day it means). Non-ISO spellings are what a server that
#: does not normalise dates sends; the column's type, not the spelling, makes them dates.
DATE_SPELLINGS = [
    ("2025-03-10", "2025-03-10"),
    ("2025-03-10T14:30:00.000Z", "2025-03-10 14:30"),
    ("2025-03-10T16:30:00+02:00", "2025-03-10 14:30"),  # an offset: stored as UTC
    ("10.03.2025", "2025-03-10"),  # d.m.Y is day first
    ("31.12.2024", "2024-12-31"),
    ("5.1.2025", "2025-01-05"),
    ("03/10/2025", "2025-03-10"),  # m/d/Y: a/b/y with no part above 12 is month first
    ("12/31/2024", "2024-12-31"),
    ("31/12/2024", "2024-12-31"),  # d/m/Y: a part above 12 decides
    ("13/01/2025", "2025-01-13"),
    ("March 10, 2025", "2025-03-10"),
    ("10 March 2025", "2025-03-10"),
    ("2999-12-31", "2999-12-31"),  # "valid until" sentinels, beyond what nanoseconds can hold
    ("1500-01-01", "1500-01-01"),
    ("31.12.2999", "2999-12-31"),
]


# pandas warns that 31/12/2024 was read day first: that is the point here, not news.
@pytest.mark.filterwarnings("ignore:Parsing dates in:UserWarning")
def test_dates_are_typed_from_the_schema_whatever_their_spelling() -> None:
    rows = [{"row_index": i, "data": {"d": text}} for i, (text, _) in enumerate(DATE_SPELLINGS)]
    rows.append({"row_index": len(rows), "data": {"d": "31.31.2024"}})  # no such day
    df = build_frame(rows, [{"key": "d", "type": "date"}])
    assert str(df["d"].dtype) == "datetime64[us]"  # microseconds: years 1 to 9999 fit
    got = {text: df.loc[i, "d"] for i, (text, _) in enumerate(DATE_SPELLINGS)}
    assert got == {text: pd.Timestamp(day) for text, day in DATE_SPELLINGS}
    assert pd.isna(df["d"].iloc[-1])
    assert df.attrs["lasso"]["unparsed"]["d"]["examples"] == ["31.31.2024"]
    # Each value is read for itself: a first value in d.m.Y sets no format for the others.
    rows = [{"row_index": i, "data": {"d": t}} for i, t in enumerate(["10.03.2025", "2025-03-11"])]
    df = build_frame(rows, [{"key": "d", "type": "date"}])
    assert df["d"].tolist() == [pd.Timestamp("2025-03-10"), pd.Timestamp("2025-03-11")]


def test_dtype_for_names_the_dtype_each_column_type_gets() -> None:
    # The documented mapping (dtype_for) is the one build_frame applies, type by type.
    df = build_frame(ROWS, ALL_COLUMNS)
    for column in ALL_COLUMNS:
        named = dtype_for(Column.model_validate(column))
        assert str(df[column["key"]].dtype) in named.split("|"), (column, named)
    assert dtype_for(Column(key="x", type="a-type-of-a-later-api")) == "object"


def test_missing_values_are_na_and_not_reported_in_any_column_type() -> None:
    # None, "" and NaN mean "no value": NA in every typed column, never "did not fit".
    columns = [
        {"key": "n", "type": "number"},
        {"key": "b", "type": "boolean"},
        {"key": "d", "type": "date"},
        {"key": "e", "type": "enum", "enum_values": ["S", "M"]},
    ]
    rows = [
        {"row_index": i, "data": dict.fromkeys(("n", "b", "d", "e"), value)}
        for i, value in enumerate([None, "", math.nan])
    ]
    rows.append({"row_index": 3, "data": {"n": 1, "b": "yes", "d": "2025-03-10", "e": "S"}})
    df = build_frame(rows, columns)
    assert df.attrs["lasso"]["unparsed"] == {}
    for key in ("n", "b", "d", "e"):
        assert df[key].isna().tolist() == [True, True, True, False], key
    # A column with no value at all keeps its schema's dtype (the frames of two tables of one
    # schema concatenate).
    empty = build_frame(rows[:3], columns)
    assert [str(t) for t in empty.dtypes] == ["Float64", "boolean", "datetime64[us]", "category"]


def test_numbers_are_int64_only_when_the_schema_says_integer() -> None:
    def frame(column: dict[str, Any], *values: Any) -> pd.DataFrame:
        rows = [{"row_index": i, "data": {"n": v}} for i, v in enumerate(values)]
        return build_frame(rows, [{"key": "n", **column}])

    number, integer = {"type": "number"}, {"type": "number", "format": "integer"}
    # Whatever the values, a number column is Float64: two tables of one schema concatenate.
    assert str(frame(number, 1, 1000, "2000000", None)["n"].dtype) == "Float64"
    assert str(frame(integer, 1, 1000, "2000000", None)["n"].dtype) == "Int64"
    assert str(frame({"type": "integer"}, 3)["n"].dtype) == "Int64"
    for spelled in ("int", "Int", "INTEGER"):  # as other API revisions spell the format
        assert str(frame({"type": "number", "format": spelled}, 3)["n"].dtype) == "Int64"
    assert frame(integer, 2**53 - 1)["n"].iloc[0] == 2**53 - 1
    # An integer column holds whole numbers a float holds exactly: 2.5 and 2**53 do not fit.
    df = frame(integer, 1, 2.5, 2**53)
    assert df["n"].isna().tolist() == [False, True, True]
    assert df.attrs["lasso"]["unparsed"]["n"]["rows"] == [1, 2]
    rows = [{"row_index": 0, "data": {"n": True}}, {"row_index": 1, "data": {"n": "7"}}]
    df = build_frame(rows, [{"key": "n", "type": "number"}])
    assert pd.isna(df.loc[0, "n"]) and df.loc[1, "n"] == 7  # a boolean is not a number
    assert df.attrs["lasso"]["unparsed"]["n"]["rows"] == [0]


def test_values_of_another_json_type_do_not_pass_as_dates_and_booleans_are_read_loosely() -> None:
    rows = [
        {"row_index": 0, "data": {"d": 20250310, "b": " YES "}},
        {"row_index": 1, "data": {"d": True, "b": "F"}},
        {"row_index": 2, "data": {"d": "2025-03-10", "b": 1}},
    ]
    df = build_frame(rows, [{"key": "d", "type": "date"}, {"key": "b", "type": "boolean"}])
    # A number or a boolean is no date (20250310 would otherwise be 1970 plus nanoseconds).
    assert df["d"].isna().tolist() == [True, True, False]
    assert df.attrs["lasso"]["unparsed"]["d"]["rows"] == [0, 1]
    assert df["b"].tolist() == [True, False, True]  # case and spaces do not matter
    assert "b" not in df.attrs["lasso"]["unparsed"]


def test_the_frame_says_where_it_comes_from() -> None:
    table = Table.model_validate(
        {
            "id": "tbl_1",
            "name": "Q1",
            "schema_id": "sch_1",
            "status": "completed",
            "total_rows": 4,
            "created_at": "2025-03-10T08:00:00.000Z",
            "updated_at": "2025-03-10T08:01:00.000Z",
        }
    )
    lasso = build_frame(ROWS, ALL_COLUMNS, table=table).attrs["lasso"]
    fetched = lasso.pop("fetched_at")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", fetched), fetched
    columns = lasso.pop("columns")
    assert columns[:2] == [
        {"key": "title", "label": "Title", "type": "text"},
        {"key": "price", "label": "Price", "type": "number"},
    ]
    # A key no column describes is kept, as a json column.
    assert columns[-1] == {"key": "released_extra", "label": "released_extra", "type": "json"}
    lasso.pop("unparsed")
    # The rows' validation fields are summed up (the table carries no summary of its own).
    assert lasso.pop("validation")["rows"] == 3 and lasso.pop("extraction_report") is None
    assert lasso == {
        "table_id": "tbl_1",
        "name": "Q1",
        "schema_id": "sch_1",
        "status": "completed",
        "total_rows": 4,  # what the table says
        "rows": 3,  # what was read
        "created_at": "2025-03-10T08:00:00Z",
        "updated_at": "2025-03-10T08:01:00Z",
    }
    df = build_frame(ROWS, [Column.model_validate(c) for c in ALL_COLUMNS])  # models work too
    assert str(df.index.dtype) == "int64" and df.attrs["lasso"]["total_rows"] == 3


def test_lists_and_enums_without_declared_values() -> None:
    rows = [
        {"row_index": i, "data": {"t": t, "e": e}}
        for i, (t, e) in enumerate(
            [
                ('["a", "b"]', "M"),
                ("[oops", "S"),
                ("solo", None),
                (None, "M"),
                (["x"], "L"),
                (7, "L"),
            ]
        )
    ]
    df = build_frame(rows, [{"key": "t", "type": "tags"}, {"key": "e", "type": "enum"}])
    # A JSON list in a string is the list; anything else is a list of that one value.
    assert df["t"].tolist() == [["a", "b"], ["[oops"], ["solo"], None, ["x"], [7]]
    # An enum without enum_values takes its categories from the values, sorted.
    assert list(df["e"].cat.categories) == ["L", "M", "S"]
    assert df["e"].tolist()[:2] == ["M", "S"] and pd.isna(df["e"].iloc[2])
    assert df.attrs["lasso"]["unparsed"] == {}


def test_empty_table_has_columns_and_dtypes() -> None:
    df = build_frame([], ALL_COLUMNS)
    assert len(df) == 0
    assert list(df.columns) == [c["key"] for c in ALL_COLUMNS]
    assert str(df["title"].dtype) == "string"
    assert str(df["active"].dtype) == "boolean"
    assert str(df["qty"].dtype) == "Int64" and str(df["price"].dtype) == "Float64"
    assert pd.api.types.is_datetime64_any_dtype(df["released"])
    assert isinstance(df["size"].dtype, pd.CategoricalDtype)
    assert df.index.name == "row_index"
    assert df.attrs["lasso"]["rows"] == 0


def test_labels_and_meta_columns() -> None:
    columns = [*ALL_COLUMNS[:2], {"key": "title2", "label": "Title", "type": "text"}]
    df = build_frame(ROWS, columns, labels=True, meta=True)
    assert list(df.columns[:3]) == ["Title", "Price", "Title (title2)"]
    assert list(df["_row_id"]) == ["row_a", "row_b", "row_c"]
    assert df.loc[1, "_validation_status"] == "warning"
    assert df.loc[1, "_validation_errors"] == [{"column_key": "released", "message": "bad date"}]
    plain = build_frame(ROWS, columns)
    assert "_row_id" not in plain.columns and "title" in plain.columns


def test_numbers_are_float64_unless_the_schema_says_integer() -> None:
    """Dtypes come from the schema, never from the values: two tables of one schema (one with
    whole prices, one with cents) concatenate without a dtype change."""
    columns = [Column(key="n", type="number")]
    whole = build_frame(
        [{"row_index": i, "data": {"n": v}} for i, v in enumerate([1, 2.0, "3"])], columns
    )
    assert str(whole["n"].dtype) == "Float64" and list(whole["n"]) == [1.0, 2.0, 3.0]
    cents = build_frame([{"row_index": 0, "data": {"n": 89.5}}], columns)
    assert str(pd.concat([whole, cents])["n"].dtype) == "Float64"
    flags = build_frame([{"row_index": 0, "data": {"n": True}}], columns)
    assert pd.isna(flags.loc[0, "n"])  # a boolean is not a number
    assert flags.attrs["lasso"]["unparsed"]["n"]["count"] == 1

    for integer in (
        Column(key="n", type="number", format="integer"),
        Column(key="n", type="integer"),
    ):
        ints = build_frame(
            [{"row_index": i, "data": {"n": v}} for i, v in enumerate([1, 2.0, "3", 2.5, 2**60])],
            [integer],
        )
        assert str(ints["n"].dtype) == "Int64"
        assert list(ints["n"][:3]) == [1, 2, 3]
        # 2.5 is not whole, 2**60 is past exact float range: NA and reported, never rounded.
        assert ints["n"][3:].isna().all()
        assert ints.attrs["lasso"]["unparsed"]["n"]["rows"] == [3, 4]


SHAPES = list(itertools.product([False, True], repeat=2))  # (labels, meta)


@pytest.mark.parametrize(("labels", "meta"), SHAPES)
def test_every_frame_shape_comes_from_the_frame_without_the_rows(labels: bool, meta: bool) -> None:
    columns = [*ALL_COLUMNS, {"key": "title2", "label": "Title", "type": "text"}]
    frames = TableFrames.build(ROWS, columns, labels=labels, meta=meta)
    assert frames.get(labels, meta) is frames.df
    # What is kept besides the frame: names, and the meta columns alone when the frame lacks them.
    kept = [v for k, v in vars(frames).items() if k != "df"]
    assert not any(isinstance(v, list) and v and isinstance(v[0], dict) for v in kept)
    for other_labels, other_meta in SHAPES:
        got = frames.get(other_labels, other_meta)
        want = build_frame(ROWS, columns, labels=other_labels, meta=other_meta)
        pd.testing.assert_frame_equal(got, want)
        for key in ("columns", "unparsed", "rows", "table_id"):
            assert got.attrs["lasso"][key] == want.attrs["lasso"][key]
    frames.get(not labels, not meta).attrs["lasso"]["columns"].clear()
    assert frames.df.attrs["lasso"]["columns"]  # another shape shares nothing mutable


# --------------------------------------------------------------------------------------------
# Concurrent paging against a fake rows endpoint with injected failures


class FakeRows:
    """``GET /tables/t/rows`` over ``n`` rows with scripted misbehaviour per page."""

    def __init__(
        self,
        n: int,
        *,
        fail: dict[int, int] | None = None,
        shift_once: set[int] | None = None,
        drop: set[int] | None = None,
    ) -> None:
        self.n = n
        self.fail = dict(fail or {})  # page -> number of 500s still to send
        self.shift_once = set(shift_once or ())  # pages answered once with a shifted window
        self.drop = set(drop or ())  # row indexes never listed (a broken server)
        self.calls: dict[int, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/columns"):
            return httpx.Response(200, json={"data": [{"key": "v", "type": "number"}]})
        page = int(request.url.params["page"])
        limit = int(request.url.params["limit"])
        self.calls[page] = self.calls.get(page, 0) + 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            if self.fail.get(page, 0) > 0:
                self.fail[page] -= 1
                return httpx.Response(
                    500,
                    json={
                        "status_code": 500,
                        "error_type": "internal_error",
                        "message": "injected",
                        "request_id": "x",
                    },
                )
            start = (page - 1) * limit
            if page in self.shift_once:
                self.shift_once.discard(page)
                start -= limit // 2  # half a page of repeats, half a page missing
            indexes = [i for i in range(start, min(self.n, start + limit)) if i not in self.drop]
            rows = [{"id": f"row_{i}", "row_index": i, "data": {"v": i}} for i in indexes]
            total = self.n - len(self.drop)
            return httpx.Response(
                200,
                json={"data": rows, "pagination": {"page": page, "limit": limit, "total": total}},
            )
        finally:
            self.in_flight -= 1


def _client(handler: Any) -> Lasso:
    # No client-level retries: the page-level retry in frames.py is what is under test.
    return Lasso(
        api_key="lasso_test",
        base_url="http://fake.test/api/v1",
        transport=httpx.MockTransport(handler),
        retry_policy=RetryPolicy(max_retries=0, base_delay=0.01, max_delay=0.02),
    )


def test_rows_arrive_exactly_once_despite_failures_and_shifts() -> None:
    fake = FakeRows(1050, fail={3: 2}, shift_once={5, 9})
    client = _client(fake)
    rows = _runtime.run_sync(fetch_rows(client.async_client, "t", concurrency=4))

    assert [r["row_index"] for r in rows] == list(range(1050))
    assert len({r["id"] for r in rows}) == 1050
    # Two injected 500s, then success (a later refetch of a neighbour page may add one more).
    assert fake.fail[3] == 0 and fake.calls[3] >= 3
    assert fake.calls[5] >= 2 and fake.calls[9] >= 2  # the shifted pages were read again
    assert 1 < fake.max_in_flight <= 4  # concurrent, and bounded


def test_missing_rows_are_an_error_not_a_short_frame() -> None:
    fake = FakeRows(250)

    async def lying(request: httpx.Request) -> httpx.Response:
        response = await fake(request)
        body = response.json()
        body["pagination"]["total"] = 251  # one row the listing never returns
        return httpx.Response(200, json=body)

    with pytest.raises(IncompleteRowsError, match="250 distinct rows of 251"):
        _runtime.run_sync(fetch_rows(_client(lying).async_client, "t"))
    # The short last page and its neighbour first, then two full passes: REFETCH_ROUNDS more.
    assert fake.calls == {1: 3, 2: 4, 3: 4}


def test_a_listing_short_of_total_rows_is_read_again_then_believed_with_a_warning(
    caplog: Any,
) -> None:
    fake = FakeRows(150)
    rows = _runtime.run_sync(fetch_rows(_client(fake).async_client, "t", expected=200))
    assert [r["row_index"] for r in rows] == list(range(150))
    assert fake.calls == {1: 2, 2: 2}  # one more full pass, no more
    assert caplog.messages[-1] == (
        "lasso_notebook: table t reports total_rows=200 but its rows listing has 150; "
        "the DataFrame holds the 150 listed"
    )
    fake = FakeRows(50)  # one page: read once more, and no page beyond it
    _runtime.run_sync(fetch_rows(_client(fake).async_client, "t", expected=60))
    assert fake.calls == {1: 2}


def test_an_empty_table_is_one_request_and_no_rows() -> None:
    fake = FakeRows(0)
    seen: list[tuple[int, int]] = []
    client = _client(fake).async_client
    rows = _runtime.run_sync(fetch_rows(client, "t", on_progress=lambda *a: seen.append(a)))
    assert rows == [] and fake.calls == {1: 1} and seen == [(0, 0)]


def test_a_table_that_grows_while_read_is_read_in_full() -> None:
    fake = FakeRows(200)
    first = [True]

    async def growing(request: httpx.Request) -> httpx.Response:
        response = await fake(request)
        if first:
            first.clear()
            fake.n = 250  # rows appended after the first page was read
        return response

    rows = _runtime.run_sync(fetch_rows(_client(growing).async_client, "t", concurrency=1))
    assert [r["row_index"] for r in rows] == list(range(250))


def test_a_listing_that_lags_total_rows_is_read_again_until_complete(caplog: Any) -> None:
    fake = FakeRows(200)
    first_pass = {1, 2}

    async def lagging(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page in first_pass:  # the first time round, the listing has not caught up
            first_pass.discard(page)
            fake.n = 150
        response = await fake(request)
        fake.n = 200
        return response

    rows = _runtime.run_sync(fetch_rows(_client(lagging).async_client, "t", expected=200))
    assert [r["row_index"] for r in rows] == list(range(200))
    assert "but its rows listing" not in caplog.text


def test_page_failure_beyond_retries_raises() -> None:
    fake = FakeRows(300, fail={2: 99})
    with pytest.raises(Exception, match="injected"):
        _runtime.run_sync(fetch_rows(_client(fake).async_client, "t"))
    assert fake.calls[2] == 4  # PAGE_ATTEMPTS reads of the failing page, no more
    fake = FakeRows(300, fail={2: 3})  # three failures: the fourth read succeeds
    rows = _runtime.run_sync(fetch_rows(_client(fake).async_client, "t"))
    assert len(rows) == 300 and fake.calls[2] == 4


@pytest.mark.parametrize("shifted", [2, 5, 10])
def test_a_shifted_page_is_read_again_with_its_neighbours_only_and_progress_is_told(
    shifted: int,
) -> None:
    fake = FakeRows(1050, shift_once={shifted})  # repeats half the page before, skips 50 rows
    seen: list[tuple[int, int]] = []
    rows = _runtime.run_sync(
        fetch_rows(
            _client(fake).async_client,
            "t",
            expected=1050,
            concurrency=1,
            on_progress=lambda got, total: seen.append((got, total)),
        )
    )
    assert [r["row_index"] for r in rows] == list(range(1050))
    again = {shifted - 1, shifted, shifted + 1}
    assert fake.calls == {p: 2 if p in again else 1 for p in range(1, 12)}
    assert fake.max_in_flight == 1
    assert seen[0] == (100, 1050) and seen[-1] == (1050, 1050)
    assert [got for got, _ in seen] == sorted(got for got, _ in seen)  # never backwards


def test_a_rate_limited_or_garbled_page_is_read_again_as_the_server_asks() -> None:
    fake = FakeRows(250)
    answers = {2: "429", 3: "garbled"}

    async def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "0"))
        kind = answers.pop(page, None)
        if kind == "429":
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow"})
        if kind == "garbled":
            return httpx.Response(200, json={"data": "oops", "pagination": {}})
        return await fake(request)

    class Recording(RetryPolicy):
        def delay(self, attempt: int, response: httpx.Response | None) -> float:
            delays.append((attempt, response.status_code if response is not None else None))
            return super().delay(attempt, response)

    delays: list[tuple[int, int | None]] = []
    client = Lasso(
        api_key="lasso_test",
        base_url="http://fake.test/api/v1",
        transport=httpx.MockTransport(handler),
        retry_policy=Recording(max_retries=0, base_delay=0.01, max_delay=0.02),
    )
    rows = _runtime.run_sync(fetch_rows(client.async_client, "t"))
    assert len(rows) == 250
    assert sorted(delays, key=str) == [(0, 429), (0, None)]  # Retry-After read from the 429


def test_a_table_id_is_one_path_segment_in_row_reads() -> None:
    paths: list[str] = []
    fake = FakeRows(5)

    async def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode().partition("?")[0])
        return await fake(request)

    _runtime.run_sync(fetch_rows(_client(handler).async_client, "a/b?c"))
    assert paths == ["/api/v1/tables/a%2Fb%3Fc/rows"]


# --------------------------------------------------------------------------------------------
# The real engine


def test_engine_table_to_frame(engine: Any) -> None:
    client = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    schema = client.schemas.list().data[0]
    lines = ["name,sku,price,in_stock,release_date,tags"]
    lines += [
        f"Item {i},S{i},{i}.25,{'yes' if i % 2 else 'no'},2024-02-{i % 28 + 1:02d},a;b"
        for i in range(230)
    ]
    table = client.tables.create(schema_id=schema.id, name="frames", source_text="\n".join(lines))
    table = client.tables.wait_for_completion(table.id, interval_s=0.1, timeout_s=30)
    assert table.status == "completed"

    df, columns, rows = _runtime.run_sync(fetch_frame(client.async_client, table))

    assert len(df) == table.total_rows == 230
    assert list(df.index) == list(range(230))  # every row once, in order
    assert list(df.columns) == [c.key for c in columns]
    assert str(df["price"].dtype) == "Float64" and df.loc[3, "price"] == 3.25
    assert str(df["in_stock"].dtype) == "boolean" and df.loc[1, "in_stock"] == True  # noqa: E712
    assert df.loc[0, "release_date"] == pd.Timestamp("2024-02-01")
    assert str(df["name"].dtype) == "string"
    meta = df.attrs["lasso"]
    assert meta["table_id"] == table.id and meta["schema_id"] == schema.id
    assert meta["name"] == "frames" and meta["created_at"].endswith("Z")
    assert math.isclose(len(rows), 230)


def test_a_failed_page_stops_the_reads_in_flight(caplog: Any) -> None:
    """One page fails for good while others are in flight or queued: they are cancelled, nothing
    more is sent once ``fetch_rows`` raised, and no task is left with an unretrieved error."""
    sent: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        sent.append(page)
        if page == 1:
            rows = [{"id": f"r{i}", "row_index": i, "data": {"v": i}} for i in range(100)]
            return httpx.Response(
                200, json={"data": rows, "pagination": {"page": 1, "limit": 100, "total": 3000}}
            )
        if page == 2:
            await asyncio.sleep(0.05)
            status, kind = 400, "invalid_request"
        else:
            await asyncio.sleep(0.3)  # slow pages, failing too: in the old code, never retrieved
            status, kind = 404, "not_found"
        return httpx.Response(
            status,
            json={
                "status_code": status,
                "error_type": kind,
                "message": f"page {page}",
                "request_id": "x",
            },
        )

    with caplog.at_level(logging.DEBUG):
        with pytest.raises(BadRequestError, match="page 2"):
            _runtime.run_sync(fetch_rows(_client(handler).async_client, "t", concurrency=4))
        ended = len(sent)
        assert ended <= 1 + 4 + 1  # the first page, a batch of 4, maybe one let in by the failure
        time.sleep(0.6)  # the slow reads would have answered and the queued ones started
        gc.collect()
        time.sleep(0.05)
    assert len(sent) == ended
    assert "never retrieved" not in caplog.text


# --------------------------------------------------------------------------------------------
# Rows gathered column by column


def test_row_columns_combine_tables_with_a_source_column() -> None:
    """A batch builds one frame from several tables: keys are united (NA where a table lacks
    one), rows are numbered by position, and ``_source`` names each row's source in every
    shape of the frame."""
    first = RowColumns()
    first.add_flat([{"title": "Anvil", "price": 2}, {"title": "Rope"}])
    second = RowColumns.from_rows(ROWS[1:])
    combined = RowColumns()
    combined.extend(first, source="a.csv")
    combined.extend(second, source="b.pdf")
    assert first.count == second.count == 0 and not first.values  # given up, not copied
    frames = TableFrames.from_columns(combined, ALL_COLUMNS, labels=True)
    df = frames.df
    assert list(df["_source"]) == ["a.csv", "a.csv", "b.pdf", "b.pdf"]
    assert str(df["_source"].dtype) == "string" and list(df.index) == [0, 1, 2, 3]
    assert list(df["Title"])[:2] == ["Anvil", "Rope"] and pd.isna(df["Price"].iloc[1])
    assert df.columns[-1] == "_source"
    keys = frames.get(labels=False, meta=False)
    assert list(keys.columns[-1:]) == ["_source"] and "title" in keys.columns
    assert frames.lacks(meta=True)  # flat rows have no row ids: meta needs the listing


def test_rows_listing_sources_become_source_and_location_per_row() -> None:
    # Rows of one page share their source objects' words; a server that gives no source for
    # the first rows (or none at all) leaves those rows without one.
    def row(i: int, source: Any) -> dict[str, Any]:
        return {"row_index": i, "data": {"title": f"t{i}"}, "source": source}

    data = RowColumns()
    data.add_rows([row(0, None), row(1, None)])
    assert data.source is None and data.location is None  # no provenance: nothing kept
    data.add_rows(
        [
            row(2, {"file": "prices.xlsx", "sheet": "Tools", "line": 4}),
            row(3, {"file": "prices.xlsx", "sheet": "Tools", "line": 4}),
            row(4, {"file": "scan.pdf", "page": 2}),
            row(5, {"file": "", "line": 7}),
            row(6, "not an object"),
        ]
    )
    assert data.source == [None, None, "prices.xlsx", "prices.xlsx", "scan.pdf", None, None]
    places = ["sheet Tools, row 4", "sheet Tools, row 4", "page 2", "line 7", None]
    assert data.location == [None, None, *places]
    assert data.count == 7 and data.row_index == list(range(7))


@pytest.mark.parametrize("numbers", [[0, 2, 3], [1, 2, 3]], ids=["gap", "from-1"])
def test_rows_not_numbered_0_to_n_keep_their_row_index(numbers: list[int]) -> None:
    # A table whose rows were deleted or failed part-way: the index is each row's row_index
    # (so df.loc[i] is row i), and an unparsed value is reported at its row_index.
    rows = [{"row_index": i, "data": {"n": i}} for i in numbers]
    rows[-1]["data"]["n"] = "free"
    df = build_frame(rows, [{"key": "n", "type": "number"}])
    assert list(df.index) == numbers and not isinstance(df.index, pd.RangeIndex)
    assert str(df.index.dtype) == "int64" and df.index.name == "row_index"
    assert df.attrs["lasso"]["unparsed"]["n"]["rows"] == [numbers[-1]]
    empty = build_frame([], [{"key": "n", "type": "number"}])
    assert isinstance(empty.index, pd.RangeIndex) and empty.index.name == "row_index"
    whole = build_frame([{"row_index": i, "data": {"n": i}} for i in range(3)], [{"key": "n"}])
    assert isinstance(whole.index, pd.RangeIndex) and list(whole.index) == [0, 1, 2]


def test_frame_from_columns_defaults_keys_and_leaves_the_rows_alone() -> None:
    # Without labels the columns are keys; without consume the gathered rows stay readable.
    data = RowColumns()
    data.add_flat([{"title": "Anvil", "tags": ["a"]}, {"title": 7, "tags": None}])
    columns = [
        {"key": "title", "label": "Title", "type": "text"},
        {"key": "tags", "label": "Tags", "type": "tags"},
    ]
    df = frame_from_columns(data, columns)
    assert list(df.columns) == ["title", "tags"]
    assert data.values == {"title": ["Anvil", 7], "tags": [["a"], None]}
    # Text is the string dtype whatever the values; lists stay lists.
    assert str(df["title"].dtype) == "string" and df["title"].tolist() == ["Anvil", "7"]
    assert df["tags"].tolist() == [["a"], None]


def test_a_single_source_table_names_its_source_for_rows_that_do_not() -> None:
    # Flat rows (the export) say nothing of their source: with provenance asked for, a table
    # made from one file names that file on every row.
    data = RowColumns()
    data.add_flat([{"title": "Anvil"}, {"title": "Rope"}])
    table = Table(id="tbl_1", source_type="files", files=[{"name": "catalog.csv"}])
    df = frame_from_columns(data, [{"key": "title", "type": "text"}], table=table, provenance=True)
    assert df["_source"].tolist() == ["catalog.csv", "catalog.csv"]


def test_row_objects_after_flat_rows_are_refused() -> None:
    # Flat rows are numbered by position, row objects by their row_index: one gathering of
    # both would number rows wrongly, so it fails and says why, leaving the rows as they were.
    data = RowColumns()
    data.add_flat([{"title": "Anvil"}])
    with pytest.raises(ValueError, match=r"^row objects cannot follow flat rows$"):
        data.add_rows(ROWS[:1])
    with pytest.raises(ValueError, match=r"^a row is not a JSON object$"):
        data.add_flat([{"title": "Rope"}, ["Rope"]])
    assert data.count == 1 and data.row_index is None and data.values == {"title": ["Anvil"]}


def test_flat_rows_with_missing_and_late_keys() -> None:
    data = RowColumns()
    data.add_flat([{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    data.add_flat([{"b": 5, "c": [1]}, {"a": 6}])
    assert data.values == {"a": [1, 3, None, 6], "b": [2, 4, 5, None], "c": [None, None, [1], None]}
    with pytest.raises(ValueError):
        data.add_flat([{"a": 1}, [1, 2]])
    data.add_flat([{"a": 7, "b": 8}])  # every row alike, but without a key seen before
    assert data.row(4) == {"a": 7, "b": 8, "c": None} and data.count == 5
    df = frame_from_columns(data, [{"key": "a", "type": "number"}, {"key": "b", "type": "text"}])
    # A number column is Float64 unless the schema says integer, whatever the values.
    assert list(df.columns) == ["a", "b", "c"] and str(df["a"].dtype) == "Float64"
    assert isinstance(df.index, pd.RangeIndex) and df.index.name == "row_index"


def test_a_page_that_stays_malformed_says_which_page() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": "oops", "pagination": {}})

    with pytest.raises(APIConnectionError, match=r"^GET /tables/t/rows: malformed page 1$"):
        _runtime.run_sync(fetch_rows(_client(handler).async_client, "t"))


def test_a_failed_row_read_is_what_fetch_parts_raises_while_the_columns_are_read() -> None:
    """The columns read still in flight is cancelled: the caller gets the rows' error, not the
    cancellation."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/columns"):
            await asyncio.sleep(5)
            return httpx.Response(200, json={"data": []})
        body = {"status_code": 400, "error_type": "invalid_request", "message": "bad page"}
        return httpx.Response(400, json={**body, "request_id": "x"})

    started = time.monotonic()
    with pytest.raises(BadRequestError, match="bad page"):
        _runtime.run_sync(fetch_parts(_client(handler).async_client, Table(id="t")))
    assert time.monotonic() - started < 2  # the columns read was not waited for


def test_flat_rows_carry_the_tables_validation_summary_and_extraction_report() -> None:
    # Rows read through the export have no validation fields: the table's own summary and
    # report stand in for them.
    data = RowColumns()
    data.add_flat([{"title": "Anvil"}, {"title": "Rope"}])
    summary = {"rows": 2, "valid": 1, "warning": 1, "error": 0, "reasons": []}
    report = {"rows": 2, "skipped": {"total": 1}}
    table = Table(id="tbl_1", validation_summary=summary, extraction_report=report)
    df = frame_from_columns(data, [{"key": "title", "type": "text"}], table=table)
    assert df.attrs["lasso"]["validation"] == summary
    assert df.attrs["lasso"]["extraction_report"] == report


def test_a_blank_date_is_missing_and_a_placeholder_is_a_value_that_did_not_fit() -> None:
    data = RowColumns()
    data.add_flat([{"d": "2025-01-02"}, {"d": ""}, {"d": None}, {"d": "XXXX"}])
    df = frame_from_columns(data, [{"key": "d", "type": "date"}])
    assert df["d"].tolist()[0] == pd.Timestamp("2025-01-02")
    assert df["d"].isna().tolist() == [False, True, True, True]
    unparsed = df.attrs["lasso"]["unparsed"]
    assert list(unparsed) == ["d"] and unparsed["d"]["examples"] == ["XXXX"]
    assert unparsed["d"]["rows"] == [3]
