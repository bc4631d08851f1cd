"""The look-up after a lost ``POST /tables``, against the real engine: the client takes the table
its own call made (the newest eligible namesake, in whatever order the server lists them), and
never a namesake made before the clock slack, nor one made from another number of files.

The other tables are made by a second client ("another kernel" with the same key). A namesake
made minutes or hours ago is made by rewriting its ``created_at`` in the engine's SQLite store:
the engine stamps tables itself, and the listing reads nothing else to say when one was made."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from lasso_notebook import Lasso, _create_lookup
from lasso_notebook.client import RetryPolicy
from lasso_notebook.errors import TableMayExistError

CSV = "name;sku\nWidget;W1\n"


class LoseCreate(httpx.AsyncBaseTransport):
    """A real transport to the engine that loses the first ``POST /tables``: its answer after
    the engine made the table (``processed``), or the request itself (a reset before the engine
    read it). With ``oldest_first`` the tables listing comes oldest first: the API does not
    document its list order, so the look-up must not depend on it."""

    def __init__(
        self,
        *,
        processed: bool,
        oldest_first: bool = False,
        answer: int | None = None,
        listings: list[int | str] | None = None,
        gone: set[str] | None = None,
        retry_after: str = "0.3",
    ) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.processed = processed
        self.oldest_first = oldest_first
        #: The lost answer is this status (a server failing after it made the table) instead
        #: of a read timeout.
        self.answer = answer
        #: How the look-up's listings (``GET /tables?search=``) fail before they are answered:
        #: a status, or "reset" for a connection reset; one entry per request.
        self.listings = list(listings or [])
        #: Tables deleted since they were listed: reading one answers 404.
        self.gone = gone or set()
        #: The ``Retry-After`` of a failing listing's 503.
        self.retry_after = retry_after
        self.posts = 0
        self.searches: list[float] = []  # when each listing was asked for

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/tables"):
            self.posts += 1
            if self.posts == 1:
                if not self.processed:
                    raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
                response = await self.inner.handle_async_request(request)
                await response.aread()
                await response.aclose()
                if self.answer is not None:
                    return httpx.Response(self.answer, json={"message": "upstream failed"})
                raise httpx.ReadTimeout("timed out", request=request)
        if request.method == "GET" and "search" in request.url.params:
            self.searches.append(time.monotonic())
            if self.listings:
                failure = self.listings.pop(0)
                if failure == "reset":
                    raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
                headers = {"Retry-After": self.retry_after} if failure == 503 else {}
                return httpx.Response(failure, json={"message": "down"}, headers=headers)
        if request.method == "GET" and path.rsplit("/", 1)[-1] in self.gone:
            return httpx.Response(404, json={"message": "table not found"})
        response = await self.inner.handle_async_request(request)
        if self.oldest_first and request.method == "GET" and path.endswith("/tables"):
            body = json.loads(await response.aread())
            await response.aclose()
            body["data"].reverse()  # one page holds every namesake of these tests
            return httpx.Response(response.status_code, json=body)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    # One engine for the module: every test uses names of its own.
    with serve(port=0, data_dir=tmp_path_factory.mktemp("lookup")) as handle:
        yield handle


@pytest.fixture(scope="module")
def other(engine: Any) -> Iterator[Lasso]:
    """Another kernel with the same key: its tables are namesakes, never the lost one."""
    with Lasso(api_key=engine.api_key, base_url=engine.base_url) as client:
        yield client


@pytest.fixture(scope="module")
def schema_id(other: Lasso) -> str:
    return next(s.id for s in other.schemas.list() if s.name == "Products")


@pytest.fixture
def name() -> str:
    return f"Q1 {uuid.uuid4().hex[:8]}"


def losing_client(engine: Any, transport: LoseCreate, max_retries: int = 3) -> Lasso:
    return Lasso(
        api_key=engine.api_key,
        base_url=engine.base_url,
        transport=transport,
        retry_policy=RetryPolicy(max_retries=max_retries, base_delay=0.01, max_delay=0.05),
    )


def made_earlier(engine: Any, table_id: str, seconds: float) -> None:
    """Make ``table_id`` look created ``seconds`` ago (the engine's own stamp format)."""
    when = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    with engine.store.tx() as conn:
        conn.execute("UPDATE tables SET created_at = ? WHERE id = ?", (stamp, table_id))


def namesakes(other: Lasso, name: str) -> set[str]:
    return {t.id for t in other.tables.list(search=name, limit=100) if t.name == name}


@pytest.mark.parametrize("oldest_first", [False, True], ids=["newest-first", "oldest-first"])
@pytest.mark.parametrize("earlier", [1, 2], ids=["two-candidates", "three-candidates"])
def test_a_lost_create_takes_its_own_table_not_another_kernels_of_the_same_minute(
    engine: Any, other: Lasso, schema_id: str, name: str, earlier: int, oldest_first: bool
) -> None:
    # Another kernel made the same table (name, schema, text) seconds before this call: every
    # one of them is eligible for the look-up, and only the newest is what this call made.
    theirs = []
    for age in (40, 20)[-earlier:]:
        table = other.tables.create(schema_id=schema_id, name=name, source_text=CSV)
        made_earlier(engine, table.id, age)
        theirs.append(table.id)
    transport = LoseCreate(processed=True, oldest_first=oldest_first)
    with losing_client(engine, transport) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    assert transport.posts == 1  # found, not sent again
    assert table.id not in theirs
    assert namesakes(other, name) == {*theirs, table.id}  # and no extra table


def test_a_namesake_made_before_the_clock_slack_is_never_taken(
    engine: Any, other: Lasso, schema_id: str, name: str
) -> None:
    # The lost request made nothing. Namesakes made just over the minute of slack, minutes and
    # hours earlier match in every other way, yet none of them is what this call made.
    old = []
    for age in (60.5, 300, 5 * 3600):
        table = other.tables.create(schema_id=schema_id, name=name, source_text=CSV)
        made_earlier(engine, table.id, age)
        old.append(table.id)
    transport = LoseCreate(processed=False, oldest_first=True)
    with losing_client(engine, transport) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    assert transport.posts == 2  # nothing found: sent again
    assert table.id not in old
    assert namesakes(other, name) == {*old, table.id}


@pytest.mark.parametrize("theirs_files", [1, 3])
def test_a_namesake_from_another_number_of_files_is_never_taken(
    engine: Any, other: Lasso, schema_id: str, name: str, theirs_files: int
) -> None:
    uploads = [other.files.upload(CSV.encode(), filename=f"part{i}.csv") for i in range(3)]
    ids = [f.id for f in uploads]
    theirs = other.tables.create(schema_id=schema_id, name=name, file_ids=ids[:theirs_files])
    made_earlier(engine, theirs.id, 10)
    transport = LoseCreate(processed=False)
    with losing_client(engine, transport) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, file_ids=ids[:2])
    assert transport.posts == 2 and table.id != theirs.id
    assert len(table.files or []) == 2
    assert namesakes(other, name) == {theirs.id, table.id}


def test_a_lost_create_from_files_finds_its_table_among_namesakes(
    engine: Any, other: Lasso, schema_id: str, name: str
) -> None:
    # The other side of the file check: the table made from the same number of files (and the
    # newest) is the lost one, next to a namesake made from a text.
    ids = [other.files.upload(CSV.encode(), filename=f"part{i}.csv").id for i in range(2)]
    text_twin = other.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    made_earlier(engine, text_twin.id, 10)
    transport = LoseCreate(processed=True, oldest_first=True)
    with losing_client(engine, transport) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, file_ids=ids)
    assert transport.posts == 1 and table.id != text_twin.id
    assert table.source_type == "files" and len(table.files or []) == 2
    assert namesakes(other, name) == {text_twin.id, table.id}


@pytest.mark.parametrize("processed", [True, False], ids=["made", "not-made"])
def test_a_lost_create_from_urls_is_told_apart_by_its_number_of_urls(
    engine: Any, other: Lasso, schema_id: str, name: str, processed: bool
) -> None:
    # Namesakes seconds old: one from a single URL, one from a text. Neither is what a call
    # with two URLs made; when the lost request made its table, that one is found.
    urls = ["http://127.0.0.1:9/a.csv", "http://127.0.0.1:9/b.csv"]  # never fetched here
    single = other.tables.create(schema_id=schema_id, name=name, file_urls=urls[:1])
    text = other.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    for table in (single, text):
        made_earlier(engine, table.id, 10)
    transport = LoseCreate(processed=processed, oldest_first=True)
    with losing_client(engine, transport) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, file_urls=urls)
    assert transport.posts == (1 if processed else 2)
    assert table.id not in (single.id, text.id) and len(table.files or []) == 2
    assert namesakes(other, name) == {single.id, text.id, table.id}


# -- the look-up's own limits and failures ----------------------------------------------------
@pytest.mark.parametrize("scan, found", [(2, True), (1, False)], ids=["within", "beyond"])
def test_the_look_up_reads_at_most_lookup_scan_listed_tables(
    engine: Any,
    other: Lasso,
    schema_id: str,
    name: str,
    scan: int,
    found: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Listed oldest first, the lost table comes second, after an hours-old namesake: a scan of
    # two tables finds it; a scan of one stops before it and sends the create again.
    monkeypatch.setattr(_create_lookup, "LOOKUP_SCAN", scan)
    old = other.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    made_earlier(engine, old.id, 3600)
    transport = LoseCreate(processed=True, oldest_first=True)
    with losing_client(engine, transport) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    assert transport.posts == (1 if found else 2)
    assert table.id != old.id
    assert len(namesakes(other, name)) == (2 if found else 3)


def test_a_namesake_deleted_since_it_was_listed_is_skipped(
    engine: Any, other: Lasso, schema_id: str, name: str
) -> None:
    # A namesake stamped a few seconds ahead comes first, newest first, and is gone when the
    # look-up reads it: the look-up goes on to the next candidate, the lost table.
    theirs = other.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    made_earlier(engine, theirs.id, -5)
    transport = LoseCreate(processed=True, gone={theirs.id})
    with losing_client(engine, transport) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    assert transport.posts == 1 and table.id != theirs.id
    assert namesakes(other, name) == {theirs.id, table.id}


def test_a_look_up_failing_for_a_while_still_finds_the_table(
    engine: Any, other: Lasso, schema_id: str, name: str
) -> None:
    # The look-up meets an outage. Its first listing call fails on a connection reset after the
    # client's own two retries, its second on a 503: each time the look-up tries again, the
    # second time after the 0.3 s the 503 asked for, and then finds the table.
    transport = LoseCreate(processed=True, listings=[503, "reset", "reset", 503, "reset", 503])
    with losing_client(engine, transport, max_retries=2) as mine:
        table = mine.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    assert transport.posts == 1 and not transport.listings
    assert len(transport.searches) == 7
    assert namesakes(other, name) == {table.id}
    assert transport.searches[6] - transport.searches[5] >= 0.29  # not the 10-50 ms backoff


@pytest.mark.parametrize("retries", [1, 2])
@pytest.mark.parametrize("lost", ["timeout", 502], ids=["no-answer", "502"])
def test_a_look_up_failing_past_the_budget_says_the_table_may_exist(
    engine: Any, other: Lasso, schema_id: str, name: str, lost: str | int, retries: int
) -> None:
    # Every listing fails (503): the look-up spends the create's own budget (1 + retries
    # tries of 1 + retries requests each), then says the table may exist and why, sending
    # no second POST.
    answer = None if lost == "timeout" else int(lost)
    # A short Retry-After: the budget counts tries, not seconds.
    transport = LoseCreate(processed=True, answer=answer, listings=[503] * 20, retry_after="0.02")
    mine = losing_client(engine, transport, max_retries=retries)
    with mine, pytest.raises(TableMayExistError) as info:
        mine.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    assert transport.posts == 1 and len(transport.searches) == (1 + retries) ** 2
    assert info.value.table_name == name
    why = "POST /tables answered 502" if answer else "POST /tables timed out"
    assert info.value.reason.startswith(why) and "; looking for it: " in info.value.reason
    assert len(namesakes(other, name)) == 1  # the table the lost create made


def test_a_look_up_refused_for_good_says_so_at_once(
    engine: Any, other: Lasso, schema_id: str, name: str
) -> None:
    # A 403 on the listing is no outage: no retry cures it, so the first one ends the look-up.
    transport = LoseCreate(processed=True, listings=[403] * 10)
    with losing_client(engine, transport) as mine, pytest.raises(TableMayExistError) as info:
        mine.tables.create(schema_id=schema_id, name=name, source_text=CSV)
    assert transport.posts == 1 and len(transport.searches) == 1
    assert "looking for it:" in info.value.reason
