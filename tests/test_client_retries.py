"""Retry rules of the client, driven through httpx.MockTransport: these are the failures a real
server cannot produce on demand (lost responses, resets, precise Retry-After values)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import string
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from lasso_notebook import _create_lookup, _resources
from lasso_notebook import client as client_module
from lasso_notebook.client import AsyncLasso, Lasso, RetryPolicy
from lasso_notebook.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
)

KEY = "lasso_" + "5ec7e7" * 10 + "abcd"
BASE = "http://lasso.test/api/v1"
NOW = "2026-11-29T08:00:00.000Z"
#: The modules whose ``asyncio.sleep`` the retry rules and waits call (update when they move).
SLEEPING_MODULES = (client_module, _create_lookup, _resources)


class _RecordedSleep:
    """``asyncio`` as seen by one module, whose ``sleep`` is recorded instead of waited out."""

    def __init__(self, recorded: list[float]) -> None:
        self._recorded = recorded

    async def sleep(self, delay: float, result: Any = None) -> Any:
        self._recorded.append(delay)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the client's back-off sleeps instead of waiting them out. Only the client's own
    reference to ``asyncio`` is replaced: everything else on the runtime loop (a job's polling,
    httpx) still sleeps for real, so nothing can busy-loop into the fake."""
    recorded: list[float] = []
    for module in SLEEPING_MODULES:
        monkeypatch.setattr(module, "asyncio", _RecordedSleep(recorded))
    return recorded


def test_the_sleeps_fixture_leaves_every_other_sleeper_alone(sleeps: list[float]) -> None:
    # A job polling on the shared runtime loop sleeps through asyncio, not the client: with the
    # fixture active its sleeps still wait, and are not recorded as the client's.
    from lasso_notebook import _runtime

    started = time.monotonic()
    _runtime.run_sync(asyncio.sleep(0.05), timeout=5)
    assert time.monotonic() - started >= 0.05
    assert sleeps == []


def make_client(handler, **kwargs) -> Lasso:
    return Lasso(api_key=KEY, base_url=BASE, transport=httpx.MockTransport(handler), **kwargs)


def table_json(
    table_id: str = "tbl_1", name: str = "Q1", status: str = "queued", schema_id: str = "s"
) -> dict:
    return {
        "id": table_id,
        "name": name,
        "status": status,
        "progress": 0,
        "total_rows": 0,
        "schema_id": schema_id,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }


def envelope(status: int, error_type: str, message: str = "nope") -> dict:
    return {
        "status_code": status,
        "error_type": error_type,
        "message": message,
        "request_id": "r-1",
    }


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_get_retries_each_retryable_status(status: int, sleeps: list[float]) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(status, json=envelope(status, "x"))
        return httpx.Response(200, json=table_json())

    table = make_client(handler).tables.get("tbl_1")
    assert table.id == "tbl_1"
    assert len(calls) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422])
def test_client_errors_are_not_retried(status: int, sleeps: list[float]) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json=envelope(status, "x"))

    with pytest.raises(Exception) as info:
        make_client(handler).tables.get("tbl_1")
    assert info.value.status_code == status  # type: ignore[attr-defined]
    assert len(calls) == 1 and sleeps == []


def test_retries_stop_after_max_retries(sleeps: list[float]) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json=envelope(503, "service_unavailable"))

    with pytest.raises(InternalServerError):
        make_client(handler, max_retries=2).tables.get("t")
    assert len(calls) == 3


def test_connection_errors_are_retried_then_reported(sleeps: list[float]) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(APIConnectionError) as info:
        make_client(handler, max_retries=2).tables.get("t")
    assert len(calls) == 3
    assert str(info.value) == "GET /tables/t failed: connection refused"
    assert info.value.request_sent is False  # never reached the server


def test_a_refused_connection_is_sent_again_even_for_a_post(sleeps: list[float]) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("", request=request)  # some errors carry no text
        return httpx.Response(201, json={"id": "file_1", "filename": "x.csv", "size": 3})

    assert make_client(handler).files.upload(b"a;b", filename="x.csv").id == "file_1"
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(APIConnectionError) as info:
        make_client(handler, max_retries=0).files.upload(b"a;b", filename="x.csv")
    assert str(info.value) == "POST /files failed: ConnectError"  # the error's name, if no text


def test_retry_after_seconds_is_honoured(sleeps: list[float]) -> None:
    responses = iter(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=table_json())]
    )
    make_client(lambda request: next(responses)).tables.get("t")
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured(sleeps: list[float]) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    responses = iter(
        [
            httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200, json=table_json()),
        ]
    )
    make_client(lambda request: next(responses)).tables.get("t")
    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("0", 0.0, 0.0),  # now: no wait at all
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, 0.0),  # a date already past
        ("in-zone", 17.0, 20.0),  # "-0000": a date without a zone, read as UTC
    ],
)
def test_retry_after_now_past_or_without_zone(
    value: str, low: float, high: float, sleeps: list[float]
) -> None:
    if value == "in-zone":
        when = datetime.now(timezone.utc) + timedelta(seconds=20)
        value = when.strftime("%a, %d %b %Y %H:%M:%S -0000")
    responses = iter(
        [
            httpx.Response(503, headers={"Retry-After": value}),
            httpx.Response(200, json=table_json()),
        ]
    )
    make_client(lambda request: next(responses)).tables.get("t")
    assert len(sleeps) == 1 and low <= sleeps[0] <= high, sleeps


def test_retry_after_is_capped(sleeps: list[float]) -> None:
    responses = iter(
        [
            httpx.Response(429, headers={"Retry-After": "86400"}),
            httpx.Response(200, json=table_json()),
        ]
    )
    make_client(
        lambda request: next(responses), retry_policy=RetryPolicy(max_retry_after=30)
    ).tables.get("t")
    assert sleeps == [30]


def test_backoff_is_exponential_capped_and_jittered_within_bounds() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.backoff(attempt) for _ in range(300)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jitter actually spreads the delays


def test_invalid_retry_after_falls_back_to_backoff(sleeps: list[float]) -> None:
    responses = iter(
        [
            httpx.Response(429, headers={"Retry-After": "soon"}),
            httpx.Response(200, json=table_json()),
        ]
    )
    make_client(
        lambda request: next(responses), retry_policy=RetryPolicy(base_delay=0.5)
    ).tables.get("t")
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


class FakeTablesServer:
    """Just enough of POST/GET /tables to prove create-table never duplicates."""

    def __init__(self, fail: str) -> None:
        self.fail = fail  # how the first POST goes wrong
        self.created: list[dict] = []
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/tables"):
            self.posts += 1
            body = json.loads(request.content)
            if self.posts == 1 and self.fail == "refused":
                return httpx.Response(429, json=envelope(429, "rate_limited"))
            if self.posts == 1 and self.fail == "connect":
                raise httpx.ConnectError("refused", request=request)
            table = {
                **table_json(
                    f"tbl_{len(self.created) + 1}", body["name"], schema_id=body["schema_id"]
                ),
                "source_type": "text" if "source_text" in body else "files",
            }
            if not (self.posts == 1 and self.fail == "lost-before-processing"):
                self.created.append(table)
            if self.posts == 1 and self.fail in ("lost-after-processing", "lost-before-processing"):
                raise httpx.ReadTimeout("timed out", request=request)
            if self.posts == 1 and self.fail.endswith("-after-processing"):
                status = int(self.fail.partition("-")[0])
                return httpx.Response(status, json=envelope(status, "internal_error"))
            return httpx.Response(201, json=table)
        if request.method == "GET" and request.url.path.endswith("/tables"):
            search = request.url.params.get("search", "")
            data = [t for t in self.created if search.lower() in t["name"].lower()]
            return httpx.Response(
                200,
                json={"data": data, "pagination": {"page": 1, "limit": 100, "total": len(data)}},
            )
        if request.method == "GET" and "/tables/" in request.url.path:
            table_id = request.url.path.rsplit("/", 1)[1]
            return httpx.Response(200, json=next(t for t in self.created if t["id"] == table_id))
        return httpx.Response(404, json=envelope(404, "not_found"))


@pytest.mark.parametrize(
    "fail",
    [
        "lost-after-processing",
        "500-after-processing",
        "502-after-processing",
        "504-after-processing",
        "lost-before-processing",
        "refused",
        "connect",
    ],
)
def test_create_table_never_creates_two(fail: str, sleeps: list[float]) -> None:
    server = FakeTablesServer(fail)
    # A namesake made long ago must not be mistaken for the lost table.
    server.created.append({**table_json("tbl_old", "Q1"), "created_at": "2020-01-01T00:00:00.000Z"})
    table = make_client(server).tables.create(schema_id="s", name="Q1", source_text="a,b")
    new_tables = [t for t in server.created if t["id"] != "tbl_old"]
    assert len(new_tables) == 1
    assert table.id == new_tables[0]["id"]


def test_lost_create_is_not_confused_with_a_fresh_namesake(sleeps: list[float]) -> None:
    # Seconds-old namesakes: another schema's, one from file sources, and one this client made
    # itself (a cell re-run under the same name). None of them is the lost table.
    server = FakeTablesServer("lost-before-processing")
    server.created.append({**table_json("tbl_other_schema", "Q1", schema_id="s2")})
    server.created.append({**table_json("tbl_from_files", "Q1"), "source_type": "files"})
    client = make_client(server)
    server.fail, server.posts = "none", 0
    earlier = client.tables.create(schema_id="s", name="Q1", source_text="a,b")
    server.fail, server.posts = "lost-after-processing", 0
    table = client.tables.create(schema_id="s", name="Q1", source_text="a,b")
    mine = [t["id"] for t in server.created if t["id"].startswith("tbl_") and t["id"][4:].isdigit()]
    assert len(mine) == 2, server.created  # the re-run's table and the lost one, no third
    assert table.id == mine[1] != earlier.id


@pytest.mark.parametrize(
    ("source", "kind", "taken"),
    [
        ("file_ids", "files", True),
        ("file_ids", "file", True),
        ("file_ids", "urls", False),
        ("file_ids", "text", False),
        ("file_urls", "urls", True),
        ("file_urls", "url", True),
        ("file_urls", "files", True),  # the API documents no own word for URL sources
        ("file_urls", "file", True),
        ("file_urls", "text", False),
        ("source_text", "text", True),
        ("source_text", "files", False),
        ("source_text", "urls", False),
    ],
)
def test_the_look_up_takes_a_table_only_from_the_kind_of_source_sent(
    source: str, kind: str, taken: bool, sleeps: list[float]
) -> None:
    # A server may name a kind of source in either API revision's word: the look-up after a
    # lost response takes a table whose kind can be what was sent, and no other.
    server = FakeTablesServer("lost-before-processing")
    server.created.append({**table_json("tbl_namesake", "Q1"), "source_type": kind})
    value = {"file_ids": ["file_1"], "file_urls": ["https://a.test/x.pdf"], "source_text": "a"}
    table = make_client(server).tables.create(schema_id="s", name="Q1", **{source: value[source]})
    assert (table.id == "tbl_namesake") is taken
    assert server.posts == (1 if taken else 2)


def test_a_lost_create_that_made_nothing_is_sent_again_despite_fresh_namesakes(
    sleeps: list[float],
) -> None:
    # Newer than the attempt, same name, but none of them is what this call sent: the look-up
    # must find nothing, and the call must create its table.
    server = FakeTablesServer("none")
    client = make_client(server)
    own = client.tables.create(schema_id="s", name="Q1", source_text="a,b")
    server.created.append({**table_json("tbl_other_schema", "Q1", schema_id="s2")})
    server.created.append({**table_json("tbl_from_files", "Q1"), "source_type": "files"})
    server.fail, server.posts = "lost-before-processing", 0
    table = client.tables.create(schema_id="s", name="Q1", source_text="a,b")
    assert server.posts == 2
    assert table.id not in (own.id, "tbl_other_schema", "tbl_from_files")
    assert table.id == server.created[-1]["id"]


def test_concurrent_creates_of_one_name_are_sent_one_after_the_other(
    sleeps: list[float],
) -> None:
    from lasso_notebook import _runtime

    in_flight = {"now": 0, "max": 0}
    server = FakeTablesServer("none")

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
            await asyncio.sleep(0.05)  # a real pause: only the client's sleeps are recorded
            in_flight["now"] -= 1
        return server(request)

    aclient = make_client(handler).async_client

    async def both() -> list[Any]:
        return await asyncio.gather(
            *(aclient.tables.create(schema_id="s", name="Q1", source_text="a") for _ in range(2))
        )

    tables = _runtime.run_sync(both(), timeout=10)
    assert in_flight["max"] == 1 and len({t.id for t in tables}) == 2


def test_a_create_lost_every_time_is_tried_max_retries_plus_one_times(
    sleeps: list[float],
) -> None:
    posts = []
    listings: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            raise httpx.ReadTimeout("timed out", request=request)  # made nothing, answer lost
        listings.append(dict(request.url.params))
        return httpx.Response(
            200, json={"data": [], "pagination": {"page": 1, "limit": 100, "total": 0}}
        )

    with pytest.raises(APITimeoutError):
        make_client(handler, max_retries=2).tables.create(schema_id="s", name="Q1", source_text="a")
    assert len(posts) == 3  # the first attempt and max_retries more, each looked up after
    # The look-up asks the server for the name: only namesakes are walked.
    assert listings == [{"search": "Q1", "limit": "100", "page": "1"}] * 3


def test_the_look_up_walks_about_a_thousand_namesakes_then_stops(sleeps: list[float]) -> None:
    # A name many tables contain: the lost table is listed first, then thousands of other
    # schemas' namesakes. The look-up still takes the lost table, and reads ~1000 of them.
    pages: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("timed out", request=request)
        if request.url.path.endswith("/tables/tbl_lost"):
            return httpx.Response(200, json={**table_json("tbl_lost"), "source_type": "text"})
        page = int(request.url.params["page"])
        pages.append(page)
        data = [table_json(f"tbl_{page}_{i}", schema_id="other") for i in range(100)]
        if page == 1:
            data[0] = table_json("tbl_lost")
        return httpx.Response(
            200, json={"data": data, "pagination": {"page": page, "limit": 100, "total": 50_000}}
        )

    table = make_client(handler).tables.create(schema_id="s", name="Q1", source_text="a")
    assert table.id == "tbl_lost"
    assert pages == list(range(1, len(pages) + 1)) and len(pages) in (10, 11)


def test_lost_response_on_the_last_attempt_still_finds_the_table(sleeps: list[float]) -> None:
    server = FakeTablesServer("lost-after-processing")
    table = make_client(server, max_retries=0).tables.create(
        schema_id="s", name="Q1", source_text="a,b"
    )
    assert server.posts == 1 and [t["id"] for t in server.created] == [table.id]


def test_lost_response_with_no_table_found_raises_the_original_error(sleeps: list[float]) -> None:
    server = FakeTablesServer("lost-before-processing")
    with pytest.raises(APITimeoutError):
        make_client(server, max_retries=0).tables.create(schema_id="s", name="Q1", source_text="x")
    assert server.posts == 1 and server.created == []


def test_pages_are_counted_from_the_request_not_the_server_echo(sleeps: list[float]) -> None:
    # A server that ignores ?page= and always answers "page 1": iteration still ends.
    requested: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.params.get("page"))
        data = [table_json(f"tbl_{len(requested)}_{i}") for i in range(2)]
        return httpx.Response(
            200, json={"data": data, "pagination": {"page": 1, "limit": 2, "total": 5}}
        )

    ids = [t.id for t in make_client(handler).tables.list(limit=2)]
    assert requested == ["1", "2", "3"]
    assert len(ids) == 6


def test_put_and_delete_are_retried_patch_is_not(sleeps: list[float]) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if calls.count(request.method) == 1:
            return httpx.Response(502, json=envelope(502, "bad_gateway"))
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json=table_json())

    client = make_client(handler)
    client.schemas.update("sch_1", name="x")  # PUT: idempotent, sent again
    client.tables.delete("tbl_1")  # DELETE: idempotent, sent again
    with pytest.raises(InternalServerError):
        client.tables.update("tbl_1", name="x")  # PATCH: may have acted, not resent
    assert calls == ["PUT", "PUT", "DELETE", "DELETE", "PATCH"]


def test_an_empty_success_body_is_none_not_malformed(sleeps: list[float]) -> None:
    client = make_client(lambda request: httpx.Response(200, content=b""))
    assert client.tables.delete("tbl_1") is None


def test_non_idempotent_post_is_not_resent_after_a_lost_response(sleeps: list[float]) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(APITimeoutError) as info:
        make_client(handler).files.upload(b"a;b\n1;2\n", filename="x.csv")
    assert len(calls) == 1
    assert str(info.value) == "POST /files timed out (ReadTimeout)"
    assert info.value.request_sent is True  # it may have been acted on


def test_without_rate_limit_retries_a_429_ends_the_call_at_once(sleeps: list[float]) -> None:
    # retry_rate_limited=False (the poller keeps its own 429 budget): the first 429 raises,
    # while a 503 is still retried as usual.
    answers = [503, 429, 503]
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        status = answers.pop(0) if answers else 200
        if status == 200:
            return httpx.Response(200, json=table_json())
        return httpx.Response(status, json=envelope(status, "unavailable"))

    async def get() -> Any:
        client = AsyncLasso(api_key=KEY, base_url=BASE, transport=httpx.MockTransport(handler))
        async with client:
            return await client.request("GET", "/tables/tbl_1", retry_rate_limited=False)

    with pytest.raises(RateLimitError):
        asyncio.run(get())
    assert len(calls) == 2 and len(sleeps) == 1  # the 503 waited once, the 429 not at all
    assert asyncio.run(get())["id"] == "tbl_1"  # the last 503, retried, then the table
    assert len(calls) == 4


@pytest.mark.parametrize("key", [KEY, None], ids=["key-sent", "no-key"])
def test_a_401_says_whether_a_key_was_sent(key: str | None, sleeps: list[float]) -> None:
    # A refused key and a missing one need different fixes: the message says which.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json=envelope(401, "unauthenticated", "invalid API key"))

    client = Lasso(api_key=key, base_url=BASE, transport=httpx.MockTransport(handler))
    with client, pytest.raises(AuthenticationError) as info:
        client.tables.get("t")
    assert info.value.key_sent is (key is not None)
    hint = "check LASSO_API_KEY" if key else "no API key was sent"
    assert hint in str(info.value)


def test_a_post_whose_connection_timed_out_is_sent_again(sleeps: list[float]) -> None:
    # A connect timeout never reached the server, unlike a read timeout: a POST is resent.
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectTimeout("timed out", request=request)
        return httpx.Response(201, json={"id": "file_1", "filename": "x.csv", "size": 3})

    assert make_client(handler).files.upload(b"a;b", filename="x.csv").id == "file_1"
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(APITimeoutError) as info:
        make_client(handler, max_retries=0).files.upload(b"a;b", filename="x.csv")
    assert info.value.request_sent is False


def test_upload_retry_resends_every_byte(sleeps: list[float], tmp_path) -> None:
    payload = bytes(range(256)) * 4000
    path = tmp_path / "catalog.csv"
    path.write_bytes(payload)
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if len(bodies) == 1:
            return httpx.Response(503, json=envelope(503, "service_unavailable"))
        return httpx.Response(
            201, json={"id": "file_1", "filename": "catalog.csv", "size": len(payload)}
        )

    uploaded = make_client(handler).files.upload(path)
    assert uploaded.id == "file_1"
    assert len(bodies) == 2 and all(payload in body for body in bodies)
    assert b'filename="catalog.csv"' in bodies[1]


def test_invalid_create_request_is_refused_before_any_call() -> None:
    calls = []
    client = make_client(lambda request: calls.append(request) or httpx.Response(500))
    with pytest.raises(InvalidRequestError) as info:
        client.tables.create(schema_id="s", name="n", source_text="x", file_urls=["https://a"])
    assert "exactly one source" in str(info.value)
    with pytest.raises(InvalidRequestError, match="no such file"):
        client.files.upload("/nonexistent/catalog.pdf")
    assert calls == []


def test_malformed_json_body_is_a_clear_error(sleeps: list[float]) -> None:
    client = make_client(lambda request: httpx.Response(200, content=b'{"id": "tbl_1", "na'))
    with pytest.raises(APIConnectionError, match="malformed JSON"):
        client.tables.get("tbl_1")


def test_a_garbled_answer_to_a_read_is_read_again_not_to_a_post(sleeps: list[float]) -> None:
    calls: list[str] = []

    def garbled(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(200, content=b'{"id": "tbl_1", "na')

    with pytest.raises(APIConnectionError, match="malformed JSON"):
        make_client(garbled, max_retries=2).tables.get("tbl_1")
    assert calls == ["GET"] * 3  # a broken transfer: read again, max_retries times
    calls.clear()
    with pytest.raises(APIConnectionError, match="malformed JSON"):
        make_client(garbled, max_retries=2).files.upload(b"a;b", filename="x.csv")
    assert calls == ["POST"]  # it may have acted: the caller decides


def test_key_never_appears_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture, sleeps) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert request.headers["user-agent"].startswith("lasso-notebook/")
        if request.url.path.endswith("/missing"):
            return httpx.Response(404, json=envelope(404, "not_found"))
        if request.url.path.endswith("/unauth"):
            return httpx.Response(401, text="bad key ")
        raise httpx.ConnectError("refused", request=request)

    client = make_client(handler)
    texts = [repr(client), repr(client.async_client), str(client.tables)]
    for table_id, exc_type in [
        ("missing", NotFoundError),
        ("unauth", Exception),
        ("x", APIConnectionError),
    ]:
        with pytest.raises(exc_type) as info:
            client.tables.get(table_id)
        texts += [str(info.value), repr(info.value)]
    texts += [record.getMessage() for record in caplog.records]
    assert "lasso_…abcd" in texts[0]
    for text in texts:
        assert KEY not in text and KEY[6:30] not in text


def test_rate_limit_error_surfaces_after_retries(sleeps: list[float]) -> None:
    client = make_client(
        lambda r: httpx.Response(429, json=envelope(429, "rate_limited", "slow down")),
        max_retries=1,
    )
    with pytest.raises(RateLimitError, match="slow down"):
        client.tables.get("t")


def test_wait_for_completion_understands_the_newer_vocabulary(sleeps: list[float]) -> None:
    statuses = iter(["queued_for_processing", "processing_by_worker", "error"])
    client = make_client(
        lambda r: httpx.Response(200, json={**table_json(), "status": next(statuses)})
    )
    table = client.tables.wait_for_completion("tbl_1", interval_s=3, timeout_s=300)
    assert table.status == "error" and table.phase.value == "failed"
    assert sleeps == [3, 3]


def test_wait_for_completion_times_out_with_the_last_table_seen() -> None:
    from lasso_notebook.errors import WaitTimeoutError

    client = make_client(
        lambda r: httpx.Response(200, json={**table_json(), "status": "processing", "progress": 40})
    )
    with pytest.raises(WaitTimeoutError) as info:
        client.tables.wait_for_completion("tbl_1", interval_s=0.05, timeout_s=0.2)
    assert isinstance(info.value, TimeoutError)
    assert info.value.table is not None and info.value.table.progress == 40
    assert "tbl_1" in str(info.value)


def test_a_key_of_any_length_is_shown_masked() -> None:
    # A key of 16 characters or fewer is shown as "****" (its first six and last four would be
    # most or all of it); a longer one as its first six and last four, never its middle.
    alphabet = string.ascii_letters + string.digits + "_-"
    for length in range(1, 41):
        key = "".join(alphabet[(7 * i + length) % len(alphabet)] for i in range(length))
        # Nothing is sent: a mock transport spares building 40 TLS contexts.
        unused = httpx.MockTransport(lambda request: pytest.fail("nothing is sent"))
        client = AsyncLasso(api_key=key, base_url=BASE, transport=unused)
        shown, text = client.masked_key, repr(client)
        expected = "****" if length <= 16 else f"{key[:6]}…{key[-4:]}"
        assert shown == expected, (length, shown)
        assert f"api_key={expected!r}" in text, (length, text)
        if length > 16:
            assert key[6:-4] not in text, (length, text)


def test_key_with_a_trailing_newline_is_cleaned_and_never_echoed() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json=table_json())

    client = Lasso(api_key=KEY + "\r\n", base_url=BASE, transport=httpx.MockTransport(handler))
    client.tables.get("tbl_1")
    assert seen == [f"Bearer {KEY}"]
    assert KEY not in repr(client)


def test_without_a_key_nothing_is_sent_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LASSO_API_KEY", raising=False)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json=table_json())

    for key in (None, "", "  \n"):
        client = Lasso(api_key=key, base_url=BASE, transport=httpx.MockTransport(handler))
        client.tables.get("tbl_1")
        assert client.masked_key == "(not set)"
    assert seen == [None, None, None]


@pytest.mark.parametrize("bad", ["lasso_ab cd", "lasso_äbc", "lasso_ab\x00cd"])
def test_a_key_with_a_space_or_unsendable_characters_is_refused(bad: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        Lasso(api_key=bad, base_url=BASE)
    assert str(info.value) == (
        "the API key contains spaces, control or non-ASCII characters; copy it again into "
        "LASSO_API_KEY (it starts with lasso_)"
    )


def test_a_key_that_cannot_be_sent_is_refused_without_echoing_it() -> None:
    bad = KEY[:20] + "\n" + KEY[20:]
    with pytest.raises(InvalidRequestError) as info:
        Lasso(api_key=bad, base_url=BASE)
    assert "LASSO_API_KEY" in str(info.value)
    assert KEY[:20] not in str(info.value) and KEY[20:] not in str(info.value)


def test_transport_errors_quoting_headers_are_scrubbed(sleeps: list[float]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # What httpx raises for an illegal header value: the header, key included, in the text.
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY}'")

    with pytest.raises(APIConnectionError) as info:
        make_client(handler).tables.get("tbl_1")
    assert KEY not in str(info.value) and "lasso_…abcd" in str(info.value)


def test_non_seekable_upload_is_resent_whole_on_retry(sleeps: list[float]) -> None:
    class Pipe(io.RawIOBase):
        """A stream that can be read once, like a socket or a pipe."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    payload = b"name;sku\n" + b"Widget;W1\n" * 5000
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if len(bodies) == 1:
            return httpx.Response(429, json=envelope(429, "rate_limited"))
        return httpx.Response(201, json={"id": "file_1", "filename": "pipe.csv", "size": 1})

    make_client(handler).files.upload(io.BufferedReader(Pipe(payload)), filename="pipe.csv")
    assert len(bodies) == 2 and all(payload in body for body in bodies)


def test_breaking_out_of_iter_rows_closes_the_generator(sleeps: list[float]) -> None:
    pages = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        pages.append(page)
        rows = [
            {"id": f"r{page}-{i}", "row_index": (page - 1) * 2 + i, "data": {}} for i in range(2)
        ]
        return httpx.Response(
            200, json={"data": rows, "pagination": {"page": page, "limit": 2, "total": 100}}
        )

    iterator = make_client(handler).tables.iter_rows("tbl_1", limit=2)
    assert next(iterator).id == "r1-0"
    iterator.close()  # what `break` in a for loop does
    assert pages == [1]
