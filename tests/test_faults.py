"""Fault injection between the client and the real embedded engine: an httpx transport wrapper
refuses, breaks or garbles chosen requests, and every case drives a real job to its end: every
row exactly once and never a duplicate table, or a clear error naming the table to attach to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fault_layer import (
    Action,
    FaultyTransport,
    Forward,
    Rule,
    after,
    consume,
    malformed,
    refuse,
    reset,
    timeout_after,
    truncated,
)

from lasso_notebook import Lasso
from lasso_notebook.client import RetryPolicy
from lasso_notebook.errors import APIConnectionError, InternalServerError, TableMayExistError
from lasso_notebook.jobs import TableJob, attach, submit

ROWS = 250  # three pages of 100 rows: page faults hit a middle and a short last page
CSV = "name,sku,price\n" + "".join(f"Item {i},SKU{i:04d},{i}.5\n" for i in range(ROWS))
#: Every wait in this module is bounded by this (a hang fails the test instead of CI).
WAIT = 30.0


# -- fixtures and helpers ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    # One engine for the module (tables are told apart by name): starting one per case is
    # most of the cost of these tests.
    handle = serve(port=0, data_dir=tmp_path_factory.mktemp("faults"))
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def own_reuse_index(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases share one engine and one catalog; each is a fresh user of it (its own reuse
    index), so every case really creates its table under its faults, through the reuse
    index's claim like any submit."""
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "lasso-data"))


@pytest.fixture(scope="module")
def api(engine: Any) -> Iterator[httpx.Client]:
    """A fault-free view of the engine, to check what really exists there."""
    with httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {engine.api_key}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture(scope="module")
def schema_id(api: httpx.Client) -> str:
    return next(s["id"] for s in api.get("/schemas").json()["data"] if s["name"] == "Products")


@pytest.fixture
def run_job(
    engine: Any, schema_id: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., tuple[TableJob, FaultyTransport]]]:
    clients: list[Lasso] = []

    def start(
        rules: list[Rule], *, text: str = CSV, meta: bool = True
    ) -> tuple[TableJob, FaultyTransport]:
        transport = FaultyTransport(rules)
        client = Lasso(
            api_key=engine.api_key,
            base_url=engine.base_url,
            transport=transport,
            timeout=10,
            retry_policy=RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05),
        )
        clients.append(client)
        name = f"faults {request.node.name}"
        # meta=True: these cases are about the rows listing, which a frame with row metadata
        # always reads (without it, the json export is read first: see test_export.py).
        job = submit(
            schema_id, name, text=text, client=client, progress=False, poll_cap=0.2, meta=meta
        )
        return job, transport

    yield start
    for client in clients:
        client.close()


def tables_named(api: httpx.Client, name: str) -> list[dict[str, Any]]:
    listed = api.get("/tables", params={"search": name, "limit": 100}).json()["data"]
    return [t for t in listed if t["name"] == name]


def assert_every_row_once(job: TableJob, api: httpx.Client) -> None:
    df = job.result(timeout=WAIT)
    assert list(df.index) == list(range(ROWS))  # assembled by row_index: none lost, none twice
    assert list(df["sku"]) == [f"SKU{i:04d}" for i in range(ROWS)]
    same_name = tables_named(api, job.name)
    assert [t["id"] for t in same_name] == [job.id]  # exactly one table on the server


def assert_fired(rules: list[Rule]) -> None:
    # A fault that never fired proves nothing: the request shapes must still match.
    for rule in rules:
        assert rule.fired == rule.times, (rule.method, rule.path, rule.fired)


TABLES = r"/tables"
TABLE = r"/tables/tbl_[0-9a-f]+"
ROWS_PATH = r"/tables/tbl_[0-9a-f]+/rows"


# -- rate limits and server errors --------------------------------------------------------------
@pytest.mark.parametrize("retry_after", ["0.05", None])
def test_429_on_create_poll_and_rows(
    run_job: Any, api: httpx.Client, retry_after: str | None
) -> None:
    rules = [
        Rule("POST", TABLES, refuse(429, retry_after), times=2),
        Rule("GET", TABLE, refuse(429, retry_after), times=2),
        Rule("GET", ROWS_PATH, refuse(429, retry_after), times=2, query={"page": "2"}),
    ]
    job, transport = run_job(rules)
    assert_every_row_once(job, api)
    assert_fired(rules)
    # Refused creates were resent (the server had done nothing), and only they.
    assert sum(1 for m, p in transport.seen if m == "POST" and p.endswith("/tables?")) == 3


@pytest.mark.parametrize(
    ("status", "processed"), [(500, True), (502, True), (503, False), (504, True)]
)
def test_5xx_everywhere_still_one_table_and_every_row(
    run_job: Any, api: httpx.Client, status: int, processed: bool
) -> None:
    # 500/502/504 after the engine created the table: the client must find it, not create
    # another. 503 means "refused" by contract, so the engine never saw that attempt.
    create = after(status) if processed else refuse(status)
    rules = [
        Rule("POST", TABLES, create),
        Rule("GET", TABLE, after(status), times=2),
        Rule("GET", ROWS_PATH, after(status), query={"page": "3"}),
        Rule("GET", TABLE + "/columns", after(status)),
    ]
    job, transport = run_job(rules)
    assert_every_row_once(job, api)
    assert_fired(rules)
    posts = sum(1 for m, p in transport.seen if m == "POST" and p.endswith("/tables?"))
    assert posts == (1 if processed else 2)  # found by name after an ambiguous failure


# -- broken connections and bodies ---------------------------------------------------------------
@pytest.mark.parametrize("processed", [False, True])
def test_connection_reset_on_create_rows_and_poll(
    run_job: Any, api: httpx.Client, processed: bool
) -> None:
    rules = [
        Rule("POST", TABLES, reset(processed)),
        Rule("GET", TABLE, reset(False)),
        Rule("GET", ROWS_PATH, reset(True), query={"page": "1"}),
    ]
    job, _ = run_job(rules)
    assert_every_row_once(job, api)
    assert_fired(rules)


def test_read_timeout_after_the_engine_created_the_table(run_job: Any, api: httpx.Client) -> None:
    rules = [Rule("POST", TABLES, timeout_after), Rule("GET", ROWS_PATH, timeout_after)]
    job, transport = run_job(rules)
    assert_every_row_once(job, api)
    assert_fired(rules)
    # Never resent: the look-up by name found the table the lost answer described.
    assert sum(1 for m, p in transport.seen if m == "POST" and p.endswith("/tables?")) == 1
    assert any(m == "GET" and "search=" in p for m, p in transport.seen)


@pytest.mark.parametrize("garble", [malformed, truncated], ids=["malformed", "truncated"])
def test_garbled_bodies_on_create_poll_columns_and_rows(
    run_job: Any, api: httpx.Client, garble: Action
) -> None:
    rules = [
        Rule("POST", TABLES, garble),
        Rule("GET", TABLE, garble, times=2),
        Rule("GET", TABLE + "/columns", garble),
        Rule("GET", ROWS_PATH, garble, query={"page": "2"}),
        Rule("GET", ROWS_PATH, garble, query={"page": "3"}),
    ]
    job, _ = run_job(rules)
    assert_every_row_once(job, api)
    assert_fired(rules)


# -- the rows listing ----------------------------------------------------------------------------
@pytest.mark.parametrize("failures", [2, 6])
def test_one_rows_page_failing_repeatedly(run_job: Any, api: httpx.Client, failures: int) -> None:
    # 2: absorbed by the client's retries; 6: more than the client's 3 retries, so the
    # page-level retry of frames.py has to take over.
    rule = Rule("GET", ROWS_PATH, after(502), times=failures, query={"page": "2"})
    job, transport = run_job([rule])
    assert_every_row_once(job, api)
    assert_fired([rule])
    page_2 = [p for m, p in transport.seen if "/rows?" in p and "page=2" in p]
    assert len(page_2) == failures + 1


def _engine_call(api: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = api.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response


def test_rows_added_between_pages_are_read_once(run_job: Any, api: httpx.Client) -> None:
    """The table grows while the client reads it: later pages report a larger total."""
    added = 30

    async def grow(request: httpx.Request, forward: Forward) -> httpx.Response:
        response = await forward()
        table_id = request.url.path.split("/")[-2]
        rows = [{"name": f"Late {i}", "sku": f"LATE{i}"} for i in range(added)]
        await asyncio.to_thread(
            _engine_call, api, "POST", f"/tables/{table_id}/rows", json={"rows": rows}
        )
        return response

    rule = Rule("GET", ROWS_PATH, grow, query={"page": "1"})
    job, _ = run_job([rule])
    df = job.result(timeout=WAIT)
    assert_fired([rule])
    assert df.index.is_unique and len(df) == ROWS + added
    on_server = api.get(f"/tables/{job.id}").json()["total_rows"]
    assert on_server == ROWS + added
    assert set(df["sku"]) == {f"SKU{i:04d}" for i in range(ROWS)} | {
        f"LATE{i}" for i in range(added)
    }


def test_rows_deleted_between_pages_are_not_waited_for(run_job: Any, api: httpx.Client) -> None:
    """The table shrinks while the client reads it: rows not yet read vanish. The job ends
    with the rows that still exist, each once (not with an error about the old total)."""

    async def shrink(request: httpx.Request, forward: Forward) -> httpx.Response:
        response = await forward()
        table_id = request.url.path.split("/")[-2]

        def delete_tail() -> None:
            tail = api.get(f"/tables/{table_id}/rows", params={"page": 3, "limit": 100}).json()
            ids = [r["id"] for r in tail["data"][:20]]
            _engine_call(api, "POST", f"/tables/{table_id}/rows/bulk-delete", json={"row_ids": ids})

        await asyncio.to_thread(delete_tail)
        return response

    rule = Rule("GET", ROWS_PATH, shrink, query={"page": "1"})
    job, _ = run_job([rule])
    df = job.result(timeout=WAIT)
    assert_fired([rule])
    assert list(df.index) == [*range(200), *range(220, ROWS)]


def test_total_rows_reported_differently_by_one_page(run_job: Any, api: httpx.Client) -> None:
    """One page's pagination claims more rows than exist (a listing that moved and moved
    back): the job re-reads, and settles on what the listing really holds."""

    async def inflate(request: httpx.Request, forward: Forward) -> httpx.Response:
        real = await consume(forward)
        body = real.json()
        body["pagination"]["total"] += 100
        return httpx.Response(200, json=body)

    rule = Rule("GET", ROWS_PATH, inflate, query={"page": "2"})
    job, _ = run_job([rule])
    assert_every_row_once(job, api)
    assert_fired([rule])


# -- failures that do not heal: clear errors, no hang --------------------------------------------
def test_create_failing_for_good_leaves_no_table(run_job: Any, api: httpx.Client) -> None:
    rule = Rule("POST", TABLES, refuse(503), times=99)
    job, _ = run_job([rule])
    with pytest.raises(InternalServerError, match="injected 503"):
        job.result(timeout=WAIT)
    assert job.id is None and tables_named(api, job.name) == []
    assert rule.fired == 4  # the first try and 3 retries, then a clear error


def test_a_create_whose_answer_is_lost_for_good_is_found_by_the_next_run(
    run_job: Any, api: httpx.Client
) -> None:
    # The engine makes the table, but the answer to POST /tables is a 502 and the client's
    # look-up (GET /tables?search=) fails for as long as the create would be retried: the
    # job can only say that the table may exist, and how to find it. The reuse index keeps
    # the create as "lost", so the next run finds that table instead of extracting a second.
    rules = [
        Rule("POST", TABLES, after(502), times=1),
        Rule("GET", TABLES, refuse(500), times=99),
    ]
    job, _ = run_job(rules)
    with pytest.raises(TableMayExistError, match="injected 502") as info:
        job.result(timeout=WAIT)
    assert info.value.recorded and info.value.table_name == job.name
    assert rules[1].fired == 16  # four look-ups (the create's budget), each retried 3 times
    (made,) = tables_named(api, job.name)  # it does exist on the server

    again, transport = run_job([])
    assert_every_row_once(again, api)
    assert again.reused and again.id == made["id"]
    assert not any(m == "POST" and p.endswith("/tables?") for m, p in transport.seen)


@pytest.mark.parametrize(
    ("path", "query"), [(TABLE, {}), (ROWS_PATH, {"page": "2"})], ids=["poll", "rows"]
)
def test_errors_after_creation_name_the_table_to_attach(
    run_job: Any, api: httpx.Client, path: str, query: dict[str, str]
) -> None:
    rule = Rule("GET", path, reset(False), times=10_000, query=query)
    job, _ = run_job([rule])
    with pytest.raises(APIConnectionError) as info:
        job.result(timeout=WAIT)
    assert job.id is not None
    message = str(info.value)
    assert job.id in message and "attach" in message
    assert [t["id"] for t in tables_named(api, job.name)] == [job.id]
    # The table itself is fine: attaching with a healthy client gets every row.

    healthy = Lasso(api_key=api.headers["authorization"].split()[1], base_url=str(api.base_url))
    try:
        df = attach(job.id, client=healthy, progress=False).result(timeout=WAIT)
    finally:
        healthy.close()
    assert list(df.index) == list(range(ROWS))
