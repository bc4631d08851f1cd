"""The export fast path through the real engine: a completed table's frame comes from one streamed
``export?format=json`` request, equal (dtypes and all) to the frame paging builds; every way the
export can go wrong (409, short count, error mid-stream, malformed or truncated body, wrong order,
gaps in row_index) falls back to paging with the same frame. Faults the engine cannot produce
come from a transport in front of it. Also: the engine's streamed layout, the incremental parser
fed in every split, download progress, and meta columns read on demand."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from lasso_notebook import Lasso, _runtime
from lasso_notebook._export_stream import FlatRowsParser
from lasso_notebook._frame_build import RowColumns
from lasso_notebook.errors import RuntimeThreadError
from lasso_notebook.frames import META_COLUMNS, fetch_frame
from lasso_notebook.jobs import TableJob, attach

WAIT = 30.0
# The table holds values of the wrong type on purpose; result() warns about them once per job.
pytestmark = pytest.mark.filterwarnings("ignore::lasso_notebook.errors.UnparsedValuesWarning")
ROWS = 250  # three pages of the rows listing: the check page is a short third page

#: Every column type, so each converter sees export values and listing values alike.
COLUMNS = [
    {"key": "name", "label": "Name", "type": "text"},
    {"key": "price", "label": "Price", "type": "number"},
    {"key": "qty", "label": "Quantity", "type": "number"},
    {"key": "in_stock", "label": "In stock", "type": "boolean"},
    {"key": "released", "label": "Released", "type": "date"},
    {"key": "size", "label": "Size", "type": "enum", "enum_values": ["S", "M", "L"]},
    {"key": "tags", "label": "Tags", "type": "tags"},
    {"key": "link", "label": "Link", "type": "url"},
    {"key": "mail", "label": "Mail", "type": "email"},
    {"key": "blurb", "label": "Blurb", "type": "richtext"},
    {"key": "photo", "label": "Photo", "type": "image"},
    {"key": "photos", "label": "Photos", "type": "images"},
    {"key": "specs", "label": "Specs", "type": "json"},
]


# -- the engine and a table with every kind of value -----------------------------------------
@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    handle = serve(port=0, data_dir=tmp_path_factory.mktemp("export"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def api(engine: Any) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {engine.api_key}"}, timeout=10
    ) as client:
        yield client


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def make_table(api: httpx.Client, name: str, rows: int = ROWS) -> str:
    """A completed table of ``rows`` extracted rows plus rows added and edited afterwards:
    values of the wrong type, rows missing keys (the engine re-encodes those), JSON values."""
    schema = _ok(api.post("/schemas", json={"name": f"all types {name}", "columns": COLUMNS}))
    lines = ["name,price,qty,in_stock,released,size,tags,link"]
    lines += [
        f"Item {i},{i}.25,{i % 7},{'yes' if i % 3 else 'no'},2024-02-{i % 28 + 1:02d},"
        f"{'SML'[i % 3]},a;b,https://shop.test/{i}"
        for i in range(rows - 3)
    ]
    table = _ok(
        api.post(
            "/tables",
            json={"schema_id": schema["id"], "name": name, "source_text": "\n".join(lines)},
        )
    )
    deadline = time.monotonic() + WAIT
    while _ok(api.get(f"/tables/{table['id']}"))["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    added = [
        {"name": "Late", "price": "cheap", "in_stock": "maybe", "specs": {"w": 1}},
        {"qty": 3.0, "released": "March 10, 2025", "size": "XXL", "tags": "solo"},
        {"name": 12345, "photos": ["https://x.test/1.png"], "specs": [1, 2], "mail": "a@x.test"},
    ]
    _ok(api.post(f"/tables/{table['id']}/rows", json={"rows": added}))
    first = _ok(api.get(f"/tables/{table['id']}/rows", params={"limit": 1}))["data"][0]
    _ok(
        api.put(
            f"/tables/{table['id']}/rows/{first['id']}",
            json={"data": {"price": "n/a", "blurb": "<b>bold</b>", "photo": "https://x.test/p"}},
        )
    )
    return table["id"]


@pytest.fixture(scope="module")
def table_id(api: httpx.Client) -> str:
    return make_table(api, "export cases")


@pytest.fixture(scope="module")
def paged(engine: Any, table_id: str) -> pd.DataFrame:
    """The frame as paging builds it (the rows listing, no export involved)."""
    client = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    try:
        table = client.tables.get(table_id)
        df, _, _ = _runtime.run_sync(fetch_frame(client.async_client, table))
    finally:
        client.close()
    return df


# -- a transport that can rewrite the export --------------------------------------------------
Rewrite = Callable[[httpx.Request, bytes], httpx.Response]


class Recorder(httpx.AsyncBaseTransport):
    """The real engine behind it; every request recorded; ``rewrite`` replaces the export."""

    def __init__(self, rewrite: Rewrite | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rewrite = rewrite
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/api/v1", 1)[-1]
        self.seen.append(f"{request.method} {path}?{request.url.query.decode()}")
        response = await self.inner.handle_async_request(request)
        if self.rewrite is None or not path.endswith("/export"):
            return response
        body = await response.aread()
        await response.aclose()
        return self.rewrite(request, body)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def count(self, fragment: str) -> int:
        return sum(1 for line in self.seen if fragment in line)

    def paged(self) -> bool:
        """Whether the rows listing was read page by page (page 1 is only read by paging)."""
        return any("/rows?" in line and "page=1&" in line for line in self.seen)


def job_frame(engine: Any, table_id: str, transport: Recorder, **options: Any) -> TableJob:
    client = Lasso(api_key=engine.api_key, base_url=engine.base_url, transport=transport)
    job = TableJob(client=client, table_id=table_id, progress=False, **options)
    job.wait(timeout=WAIT)
    return job


def assert_same_frame(df: pd.DataFrame, paged: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(df, paged, check_index_type=True)
    for key in ("columns", "unparsed", "rows", "total_rows", "table_id"):
        assert df.attrs["lasso"][key] == paged.attrs["lasso"][key], key


def rows_of(body: bytes) -> list[dict[str, Any]]:
    return json.loads(body)


def one_per_line(rows: list[dict[str, Any]]) -> bytes:
    return b"[\n" + b",\n".join(json.dumps(r).encode() for r in rows) + b"\n]\n"


def respond(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})


class _Broken(httpx.AsyncByteStream):
    def __init__(self, head: bytes, request: httpx.Request) -> None:
        self.head = head
        self.request = request

    async def __aiter__(self) -> Any:
        yield self.head
        raise httpx.RemoteProtocolError("peer closed connection mid-body", request=self.request)


def conflict(request: httpx.Request, body: bytes) -> httpx.Response:
    envelope = {"status_code": 409, "error_type": "conflict", "message": "busy", "request_id": "x"}
    return httpx.Response(409, json=envelope)


def short_count(request: httpx.Request, body: bytes) -> httpx.Response:
    return respond(one_per_line(rows_of(body)[:-1]))  # a valid array, one row short


def error_mid_stream(request: httpx.Request, body: bytes) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"Content-Type": "application/json"},
        stream=_Broken(body[: len(body) // 2], request),
    )


def malformed(request: httpx.Request, body: bytes) -> httpx.Response:
    lines = body.split(b"\n")
    lines[len(lines) // 2] = b'{"name": oops},'
    return respond(b"\n".join(lines))


def truncated(request: httpx.Request, body: bytes) -> httpx.Response:
    return respond(body[: len(body) * 2 // 3])  # ends cleanly, mid-array


def reordered(request: httpx.Request, body: bytes) -> httpx.Response:
    rows = rows_of(body)
    return respond(one_per_line(rows[1:] + rows[:1]))  # same rows, not in row_index order


def not_an_array(request: httpx.Request, body: bytes) -> httpx.Response:
    return respond(json.dumps({"data": rows_of(body)}).encode())


def compact(request: httpx.Request, body: bytes) -> httpx.Response:
    return respond(json.dumps(rows_of(body)).encode())  # one line: the generic parser


def pretty(request: httpx.Request, body: bytes) -> httpx.Response:
    return respond(json.dumps(rows_of(body), indent=2).encode())  # objects over many lines


# -- the fast path ------------------------------------------------------------------------------
def test_export_is_one_request_and_gives_the_paging_frame(
    engine: Any, table_id: str, paged: pd.DataFrame
) -> None:
    transport = Recorder()
    job = job_frame(engine, table_id, transport)
    assert_same_frame(job.result(), paged)
    assert transport.count("/export?format=json") == 1
    # Besides the export only the check read of the listing's last page: no paging.
    assert [line for line in transport.seen if "/rows?" in line] == [
        f"GET /tables/{table_id}/rows?page=3&limit=100"
    ]
    assert not transport.paged()
    assert isinstance(job.df.index, pd.RangeIndex) and job.df.index.name == "row_index"
    assert job.df.attrs["lasso"]["unparsed"]  # the wrong-type values were seen and reported


@pytest.mark.parametrize("rewrite", [compact, pretty], ids=["one-line", "indented"])
def test_other_layouts_are_parsed_incrementally_too(
    engine: Any, table_id: str, paged: pd.DataFrame, rewrite: Rewrite
) -> None:
    transport = Recorder(rewrite)
    job = job_frame(engine, table_id, transport)
    assert_same_frame(job.result(), paged)
    assert not transport.paged()


@pytest.mark.parametrize(
    "rewrite",
    [conflict, short_count, error_mid_stream, malformed, truncated, reordered, not_an_array],
    ids=lambda f: f.__name__,
)
def test_any_export_problem_falls_back_to_paging_with_the_same_frame(
    engine: Any, table_id: str, paged: pd.DataFrame, rewrite: Rewrite
) -> None:
    transport = Recorder(rewrite)
    job = job_frame(engine, table_id, transport)
    assert_same_frame(job.result(), paged)
    assert transport.count("/export?format=json") == 1
    assert transport.paged()


def test_an_export_served_elsewhere_is_followed(
    engine: Any, table_id: str, paged: pd.DataFrame
) -> None:
    """A server may answer the export with a redirect to where the file is stored."""

    class Redirecting(Recorder):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/export") and "stored" not in request.url.params:
                self.seen.append(f"redirected {request.url.path}")
                return httpx.Response(302, headers={"Location": f"{request.url}&stored=1"})
            return await super().handle_async_request(request)

    transport = Redirecting()
    assert_same_frame(job_frame(engine, table_id, transport).result(), paged)
    assert transport.count("redirected") == 1 and transport.count("stored=1") == 1
    assert not transport.paged()


def test_rows_deleted_from_the_middle_keep_their_row_index(engine: Any, api: httpx.Client) -> None:
    """row_index has a gap: the export cannot say which rows are gone, so the rows listing is
    read, and the frame's index is the real row_index."""
    table_id = make_table(api, "with a gap", rows=120)
    middle = _ok(api.get(f"/tables/{table_id}/rows", params={"page": 2, "limit": 10}))["data"]
    _ok(api.post(f"/tables/{table_id}/rows/bulk-delete", json={"row_ids": [middle[0]["id"]]}))
    transport = Recorder()
    df = job_frame(engine, table_id, transport).result()
    assert transport.paged()
    assert 10 not in df.index and len(df) == 119 and df.index.is_monotonic_increasing


def test_meta_frames_page_and_meta_columns_come_on_demand(
    engine: Any, table_id: str, paged: pd.DataFrame
) -> None:
    transport = Recorder()
    with_meta = job_frame(engine, table_id, transport, meta=True)
    assert transport.count("/export") == 0 and transport.paged()  # only the listing has meta

    exported = job_frame(engine, table_id, Recorder())
    called: list[BaseException] = []

    def in_callback(job: TableJob) -> None:
        try:
            job.frame(meta=True)
        except RuntimeThreadError as exc:
            called.append(exc)

    exported.add_done_callback(in_callback)
    deadline = time.monotonic() + WAIT
    while not called and time.monotonic() < deadline:
        time.sleep(0.01)
    assert called and "meta=True" in str(called[0])  # no blocking read on the runtime thread
    # From the caller's thread the meta columns are read once, then kept.
    full = exported.result(meta=True)
    pd.testing.assert_frame_equal(full, with_meta.result())
    assert list(full.columns[-3:]) == list(META_COLUMNS)
    assert exported.result(meta=True)["_row_id"].equals(full["_row_id"])
    # attach(meta=True) does not reuse a job whose frame has no meta columns.
    client = exported._aclient
    assert attach(table_id, client=client, progress=False) is exported
    again = attach(table_id, client=client, progress=False, meta=True)
    assert again is not exported
    pd.testing.assert_frame_equal(again.result(timeout=WAIT), full)


# -- download progress ---------------------------------------------------------------------------
class _Slow(httpx.AsyncByteStream):
    def __init__(self, body: bytes, pieces: int, pause: float) -> None:
        self.body, self.pieces, self.pause = body, pieces, pause

    async def __aiter__(self) -> Any:
        import asyncio

        size = len(self.body) // self.pieces + 1
        for start in range(0, len(self.body), size):
            await asyncio.sleep(self.pause)
            yield self.body[start : start + size]


def test_download_progress_shows_rows_and_rate(engine: Any, table_id: str) -> None:
    def slowly(request: httpx.Request, body: bytes) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Type": "application/json"}, stream=_Slow(body, 12, 0.1)
        )

    client = Lasso(api_key=engine.api_key, base_url=engine.base_url, transport=Recorder(slowly))
    job = TableJob(client=client, table_id=table_id, progress="widget")
    assert job.widget is not None
    lines: list[str] = []
    states: list[str] = []
    job.add_update_callback(lambda j: lines.append(repr(j)))
    job.widget.observe(lambda change: states.append(change["new"]), names="download")
    job.wait(timeout=WAIT)
    fetching = [line for line in lines if re.search(r"fetching rows [\d,]+/", line)]
    counts = [int(re.findall(r"fetching rows ([\d,]+)/", line)[0]) for line in fetching]
    assert len(set(counts)) >= 2 and counts == sorted(counts) and 0 < counts[-1] <= ROWS
    assert all(f"/{ROWS}" in line for line in fetching)
    assert any("B/s" in line for line in fetching)  # the rate, once it means something
    assert any(state.startswith(f"{counts[-1]}/{ROWS}") for state in states)
    assert job.widget.download == "" and "fetching" not in repr(job)  # gone once done


# -- the engine's layout ----------------------------------------------------------------------
def test_engine_streams_one_object_per_line_in_row_index_order(
    api: httpx.Client, table_id: str
) -> None:
    response = api.get(f"/tables/{table_id}/export", params={"format": "json"})
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    lines = response.content.split(b"\n")
    assert lines[0] == b"[" and lines[-2:] == [b"]", b""]
    assert all(line.startswith(b"{") and line.rstrip(b",").endswith(b"}") for line in lines[1:-2])
    exported = json.loads(response.content)
    listed = []
    for page in (1, 2, 3):
        body = _ok(api.get(f"/tables/{table_id}/rows", params={"page": page, "limit": 100}))
        listed += body["data"]
    keys = [c["key"] for c in COLUMNS]
    assert [list(row) for row in exported] == [keys] * ROWS  # every column, in order
    assert exported == [{k: row["data"].get(k) for k in keys} for row in listed]
    empty = make_table(api, "no rows", rows=6)
    ids = [r["id"] for r in _ok(api.get(f"/tables/{empty}/rows"))["data"]]
    _ok(api.post(f"/tables/{empty}/rows/bulk-delete", json={"row_ids": ids}))
    assert api.get(f"/tables/{empty}/export", params={"format": "json"}).content == b"[\n]\n"


# -- the parser ----------------------------------------------------------------------------------
SAMPLE = [
    {"a": 1, "b": "x\ny"},
    {"a": None, "b": "ü ☃ \\u2028", "c": [1, {"d": 2}]},
    {"b": "], {"},
]


def _parse(body: bytes, split: int | None) -> RowColumns:
    sink = RowColumns()
    parser = FlatRowsParser(sink)
    if split is None:
        parser.feed(body)
    else:
        for start in range(0, len(body), split):
            parser.feed(body[start : start + split])
    parser.close()
    return sink


@pytest.mark.parametrize(
    ("layout", "mode"),
    [
        (one_per_line(SAMPLE), "lines"),
        (json.dumps(SAMPLE).encode(), "generic"),
        (json.dumps(SAMPLE, indent=2).encode(), "generic"),
        (b"[\n]\n", "lines"),
        (b" [ ] ", "generic"),
    ],
)
def test_parser_gives_the_same_columns_however_the_body_is_split(layout: bytes, mode: str) -> None:
    rows = json.loads(layout)
    for split in [None, 1, 2, 3, 7, 64]:
        sink = _parse(layout, split)
        assert sink.count == len(rows)
        assert [sink.row(i) for i in range(sink.count)] == [
            {k: row.get(k) for k in sink.values} for row in rows
        ]
    parser = FlatRowsParser(RowColumns())
    parser.feed(layout)
    parser.close()
    assert parser.mode == mode


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b'[\n{"a": 1}\n{"a": 2}\n]\n',  # no comma between rows
        b'[\n{"a": 1},\n]\n',  # trailing comma
        b'[\n{"a": 1}\n]\n{"a": 2}\n',  # data after the end
        b'[\n{"a": 1},\n{"a": 2}',  # truncated
        b'[{"a": 1}, {"a": 2}',  # truncated, generic
        b'[\n{"a": 1},\n7\n]\n',  # not an object
        b"[1, 2]",  # not objects, generic
        b'[{"a": 1}] x',  # trailing garbage, generic
    ],
)
def test_parser_refuses_malformed_bodies(body: bytes) -> None:
    for split in [None, 1, 5]:
        with pytest.raises(ValueError):
            _parse(body, split)
