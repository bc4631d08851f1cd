"""Many jobs on one client through the real engine, polled together (``_poller``): each finished
table is noticed, with far fewer requests than one poll per job and cycle; a listing without
progress (the hosted API's shape), one the server refuses, a 429 on it, stale answers, detached,
deleted and unreadable tables keep every polling guarantee. Faults come from a transport in front
of the engine."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lasso_notebook import Lasso
from lasso_notebook._poller import LIST_EVERY, poller_for
from lasso_notebook._polling import MAX_POLL_FAILURES
from lasso_notebook.client import RetryPolicy
from lasso_notebook.errors import InternalServerError, NotFoundError
from lasso_notebook.jobs import JobDetachedError, TableJob, resolve_schema, submit
from lasso_notebook.models import Phase

WAIT = 60.0
LISTING = "/tables?"

Fault = Callable[[httpx.Request], "httpx.Response | None"]
Edit = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Recorder(httpx.AsyncBaseTransport):
    """The real engine behind it; ``fault`` may answer instead, ``edit`` may rewrite answers."""

    def __init__(self, fault: Fault | None = None, edit: Edit | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.fault = fault
        self.edit = edit
        self.seen: list[tuple[float, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/api/v1", 1)[-1]
        self.seen.append(
            (time.monotonic(), f"{request.method} {path}?{request.url.query.decode()}")
        )
        if self.fault is not None:
            answer = self.fault(request)
            if answer is not None:
                return answer
        response = await self.inner.handle_async_request(request)
        if self.edit is None:
            return response
        await response.aread()
        await response.aclose()
        return self.edit(request, response)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def status_reads(self, table_id: str | None = None) -> list[float]:
        """When ``GET /tables/{id}`` was sent (for one table, or any)."""
        return [
            at
            for at, line in self.seen
            if line.startswith("GET /tables/tbl_")
            and line.count("/") == 2
            and (table_id is None or f"/{table_id}?" in line)
        ]

    def listings(self) -> list[float]:
        return [at for at, line in self.seen if line.startswith("GET " + LISTING + "status=")]


def envelope(status: int, kind: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {
        "status_code": status,
        "error_type": kind,
        "message": f"injected {status}",
        "request_id": "x",
    }
    return httpx.Response(status, json=body, headers=headers or {})


def is_listing(request: httpx.Request) -> bool:
    return request.url.path.endswith("/tables") and "status" in request.url.params


@pytest.fixture
def paced(engine_factory: Callable[..., Any]) -> Any:
    """Tables of ~16 × 0.05 s, 4 at a time: most jobs wait queued, some run, all overlap."""
    return engine_factory(pace=0.05, workers=4)


def start_jobs(
    engine: Any, transport: Recorder, count: int, *, retries: int = 2, **options: Any
) -> tuple[Lasso, list[TableJob]]:
    client = Lasso(
        api_key=engine.api_key,
        base_url=engine.base_url,
        transport=transport,
        retry_policy=RetryPolicy(max_retries=retries, base_delay=0.01, max_delay=0.05),
    )
    schema = resolve_schema(client, "Products")
    jobs = [
        submit(
            schema,
            f"group {i}",
            text="name,sku,price\n" + "\n".join(f"I{k},S{k},{k}.5" for k in range(i % 5 + 1)),
            client=client,
            progress=False,
            reuse=False,  # 50 tables of 5 sources: each is extracted, not reused
            **options,
        )
        for i in range(count)
    ]
    return client, jobs


def finish(jobs: list[TableJob]) -> None:
    for job in jobs:
        job.wait(timeout=WAIT)


def test_many_jobs_are_each_noticed_with_few_requests(paced: Any) -> None:
    transport = Recorder()
    client, jobs = start_jobs(paced, transport, 50)
    started = time.monotonic()
    progress: dict[int, list[int]] = {}
    for job in jobs:
        job.add_update_callback(
            lambda j: (
                progress.setdefault(id(j), []).append(j.progress)
                if j.phase is Phase.RUNNING
                else None
            )
        )
    finish(jobs)
    elapsed = time.monotonic() - started
    for i, job in enumerate(jobs):
        assert job.phase is Phase.COMPLETED and job.terminal_seen_at is not None
        assert len(job.result()) == i % 5 + 1
    assert all(seen == sorted(seen) for seen in progress.values())  # never backwards
    reads, listings = len(transport.status_reads()), len(transport.listings())
    # Polled one by one, each table would be read at least once per cycle it is followed;
    # together, the listing covers them: a few reads each (the first poll, status changes,
    # the end), plus two or three listing pages per cycle.
    assert reads <= 50 * 6
    # At most a listing or two per cycle for all 50 (the active tables fit on one page;
    # "queued" and "processing" are listed apart), never one read per job per cycle.
    cycles = elapsed / LIST_EVERY
    assert listings <= 2 * cycles + 2
    assert listings > 0 and poller_for(client.async_client).following == 0
    client.close()


def test_a_listing_without_progress_still_shows_progress_never_backwards(
    engine_factory: Callable[..., Any],
) -> None:
    """The hosted API's listing has no progress: running tables are read on their own. Some
    answers come back stale (lower progress): the jobs never show progress going back."""
    slow = engine_factory(pace=0.15, workers=6)  # ~2.4 s per table: several reads while running
    served: dict[str, list[int]] = {}  # per table: the progress each read was answered
    stale = {"n": 0}

    def edit(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        body = response.json()
        if is_listing(request):
            for item in body["data"]:
                item.pop("progress", None)
        elif request.url.path.count("/") == 4 and body.get("status") == "processing":
            history = served.setdefault(body["id"], [])
            if history and history[-1] > 0 and len(history) % 2:
                body["progress"] = 0  # an answer from before the others: stale
                stale["n"] += 1
            history.append(body["progress"])
        return httpx.Response(response.status_code, json=body)

    transport = Recorder(edit=edit)
    client, jobs = start_jobs(slow, transport, 12)
    shown: dict[int, list[int]] = {}
    for job in jobs:
        job.add_update_callback(
            lambda j: (
                shown.setdefault(id(j), []).append(j.progress) if j.phase is Phase.RUNNING else None
            )
        )
    finish(jobs)
    assert all(job.phase is Phase.COMPLETED for job in jobs)
    assert stale["n"] >= 2  # lower progress was served after higher
    assert all(seen == sorted(seen) for seen in shown.values())
    assert sum(len(seen) > 1 for seen in shown.values()) >= 3  # running tables showed progress
    client.close()


def _refused(request: httpx.Request) -> httpx.Response | None:
    return envelope(422, "validation_error") if is_listing(request) else None


def _unfiltered(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """A server that ignores ``status=``: its listing holds tables in any status."""
    body = response.json()
    if is_listing(request):
        body["data"].append({"id": "tbl_0ther", "status": "completed", "total_rows": 1})
    return httpx.Response(response.status_code, json=body)


@pytest.mark.parametrize(
    "server", [{"fault": _refused}, {"edit": _unfiltered}], ids=["refused", "unfiltered"]
)
def test_an_unusable_listing_falls_back_to_polling_each_table(
    paced: Any, server: dict[str, Any]
) -> None:
    transport = Recorder(**server)
    client, jobs = start_jobs(paced, transport, 8)
    finish(jobs)
    assert all(job.phase is Phase.COMPLETED for job in jobs)
    listings = transport.listings()
    assert 1 <= len(listings) <= 2 and max(listings) - min(listings) < LIST_EVERY  # one cycle
    # Each table polled on its own from then on, until it finished.
    assert all(job.requests >= 1 for job in jobs)
    assert len([at for at in transport.status_reads() if at > max(listings)]) >= len(jobs)
    client.close()


def test_a_rate_limited_listing_pauses_every_poll(paced: Any) -> None:
    limited: list[float] = []

    def throttle(request: httpx.Request) -> httpx.Response | None:
        if is_listing(request) and not limited:
            limited.append(time.monotonic())
            return envelope(429, "rate_limited", {"Retry-After": "0.5"})
        return None

    transport = Recorder(fault=throttle)
    client, jobs = start_jobs(paced, transport, 8, retries=0)
    finish(jobs)
    assert limited and all(job.phase is Phase.COMPLETED for job in jobs)
    # The cycle's other listing page went out with the refused one; then nothing until
    # Retry-After has passed.
    sent = transport.status_reads() + transport.listings()
    later = [at for at in sent if at > limited[0] + 0.05]
    assert later and min(later) - limited[0] >= 0.45
    assert all(job.error is None for job in jobs)  # a 429 fails nothing
    client.close()


def test_detached_deleted_and_unreadable_tables_in_a_group(paced: Any) -> None:
    broken: set[str] = set()

    def fail_reads(request: httpx.Request) -> httpx.Response | None:
        table_id = request.url.path.rsplit("/", 1)[-1]
        if request.method == "GET" and table_id in broken:
            return envelope(502, "internal_error")
        return None

    def break_when_created(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        # "group 6"'s table answers 502 from its creation on: however fast the machine, its
        # reads fail before it could be seen completed.
        created = request.method == "POST" and request.url.path.endswith("/tables")
        if created and response.is_success and json.loads(request.content)["name"] == "group 6":
            broken.add(response.json()["id"])
        return response

    transport = Recorder(fault=fail_reads, edit=break_when_created)
    client, jobs = start_jobs(paced, transport, 10, retries=0)
    while any(job.id is None for job in jobs):
        time.sleep(0.01)
    # The last submitted wait queued longest (4 workers): still unfinished when acted on.
    detached, deleted, unreadable, rest = jobs[-2:], jobs[-3], jobs[-4], jobs[:-4]
    assert unreadable.name == "group 6" and broken == {unreadable.id}
    assert not any(job.done() for job in jobs[-3:])
    for job in detached:
        job.detach()
    at_detach = time.monotonic()
    client.tables.delete(deleted.id)
    finish(jobs)
    for job in detached:
        assert isinstance(job.error, JobDetachedError)
        assert not [at for at in transport.status_reads(job.id) if at > at_detach + 0.5]
    assert isinstance(deleted.error, NotFoundError)
    assert isinstance(unreadable.error, InternalServerError)
    assert unreadable.id in str(unreadable.error) and "attach" in str(unreadable.error)
    assert len(transport.status_reads(unreadable.id)) >= MAX_POLL_FAILURES
    assert all(job.phase is Phase.COMPLETED for job in rest)
    client.close()
