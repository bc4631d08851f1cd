"""TableJob over real loopback HTTP (the embedded engine): submit, result, failures, timeouts,
detach/attach, callbacks, await, interrupts, delete; the newer status vocabulary, polling cadence
and Retry-After through a scripted mock transport."""

from __future__ import annotations

import _thread
import asyncio
import gc
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import pandas as pd
import pytest

import lasso_notebook
from lasso_notebook import Lasso
from lasso_notebook._polling import FIRST_POLL, PollSchedule
from lasso_notebook.client import RetryPolicy
from lasso_notebook.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    TableFailedError,
    WaitTimeoutError,
)
from lasso_notebook.jobs import (
    JobDetachedError,
    JobInterrupted,
    TableJob,
    attach,
    jobs,
    resolve_schema,
    submit,
)
from lasso_notebook.models import Phase

HEADER = "name,sku,brand,price,currency,in_stock,release_date,tags,url"


def catalog(n: int) -> str:
    lines = [HEADER]
    lines += [
        f"Widget {i},SKU{i},Acme,{i}.5,USD,{'yes' if i % 2 else 'no'},2024-01-{i % 28 + 1:02d},"
        f"a;b,https://shop.test/{i}"
        for i in range(n)
    ]
    return "\n".join(lines)


@pytest.fixture
def paced(engine_factory: Callable[..., Any]) -> Any:
    """An engine whose tables take ~16 × 0.15 s: long enough to watch, short enough for CI."""
    return engine_factory(pace=0.15)


def client_for(engine: Any) -> Lasso:
    return Lasso(api_key=engine.api_key, base_url=engine.base_url)


# --------------------------------------------------------------------------------------------
# Real engine


def test_submit_text_to_typed_frame(engine: Any) -> None:
    client = client_for(engine)
    job = submit("products", "Q1 catalog", text=catalog(40), client=client, progress=False)
    assert job in jobs() and job in lasso_notebook.jobs()
    df = job.result(timeout=30)

    assert isinstance(df, pd.DataFrame) and len(df) == 40
    assert job.df is df and job.error is None
    assert job.status == "completed" and job.phase is Phase.COMPLETED and job.done()
    assert job.progress == 100 and job.total_rows == 40
    assert job.id and job.id.startswith("tbl_") and job.name == "Q1 catalog"
    assert job.table is not None and job.table.id == job.id
    assert str(df["price"].dtype) == "Float64" and str(df["in_stock"].dtype) == "boolean"
    assert df.attrs["lasso"]["table_id"] == job.id
    text = repr(job)
    assert text.startswith(job.id[:6] + "…") and '"Q1 catalog"' in text
    assert "completed" in text and "40 rows" in text
    frozen = job.elapsed
    time.sleep(0.05)
    assert job.elapsed == frozen > 0  # frozen once finished


def test_files_are_uploaded_first(engine: Any, tmp_path: Any) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(catalog(5))
    client = client_for(engine)
    from_path = submit("Products", "from file", files=[path], client=client, progress=False)
    from_bytes = submit(
        "Products",
        "from bytes",
        files=[("c.csv", catalog(7).encode())],
        client=client,
        progress=False,
    )
    assert len(from_path.result(timeout=30)) == 5
    assert len(from_bytes.result(timeout=30)) == 7
    assert from_path.table is not None and from_path.table.source_type == "files"


def test_frame_options_per_job_and_per_call(engine: Any) -> None:
    job = submit(
        "Products",
        "opts",
        text=catalog(3),
        client=client_for(engine),
        progress=False,
        labels=True,
        meta=True,
    )
    df = job.result(timeout=30)
    assert "_row_id" in df.columns and "sku" not in df.columns  # labels, not keys
    plain = job.result(labels=False, meta=False)
    assert "sku" in plain.columns and "_row_id" not in plain.columns
    assert job.result() is df


def test_input_mistakes_are_refused_before_any_request(tmp_path: Any) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    client = Lasso(
        api_key="lasso_x",
        base_url="http://fake.test/api/v1",
        transport=httpx.MockTransport(handler),
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "exactly one source"),
        ({"text": "a", "urls": ["https://x.test"]}, "got text and urls"),
        ({"text": "   "}, "text must not be blank"),
        ({"urls": ["ftp://x.test/a"]}, "http"),
        ({"files": [tmp_path / "missing.pdf"]}, "no such file"),
        # A folder or a pattern is named as such, with what to pass instead.
        ({"files": tmp_path}, r"is a folder; pass its files, e\.g\. files=sorted\(Path"),
        ({"files": str(tmp_path / "*.pdf")}, r"patterns are not expanded here.*glob\.glob"),
        ({"files": []}, "empty"),
        ({"text": "a", "webhook": "not a url"}, "webhook"),
        ({"text": "a", "poll_cap": 0}, "poll_cap"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidRequestError, match=message):
            submit("Products", "x", client=client, progress=False, **kwargs)
    with pytest.raises(InvalidRequestError, match="name"):
        submit("Products", "  ", text="a", client=client, progress=False)
    with pytest.raises(InvalidRequestError):
        attach("  ", client=client)
    assert sent == []


def test_resolve_schema_by_id_name_and_with_candidates(engine: Any) -> None:
    client = client_for(engine)
    products = resolve_schema(client, "PRODUCTS ")
    assert products.name == "Products" and products.columns  # full schema, with columns
    assert resolve_schema(client, products.id).id == products.id
    with pytest.raises(InvalidRequestError, match=r"did you mean 'Products'"):
        resolve_schema(client, "Prodcts")
    columns = [{"key": "a", "label": "A", "type": "text"}]
    one = client.schemas.create(name="Dup", columns=columns)
    two = client.schemas.create(name="dup", columns=columns)
    with pytest.raises(InvalidRequestError, match="ambiguous") as info:
        resolve_schema(client, "DUP")
    assert one.id in str(info.value) and two.id in str(info.value)


def test_failed_table_raises_with_server_message(engine: Any) -> None:
    job = submit(
        "Products",
        "nothing",
        text="??? no table here ???",
        client=client_for(engine),
        progress=False,
    )
    with pytest.raises(TableFailedError) as info:
        job.result(timeout=30)
    assert info.value.table_id == job.id
    assert "Could not find a table" in info.value.error_message
    assert job.error is info.value and job.df is None
    assert job.phase is Phase.FAILED and job.status == "failed"
    assert "Could not find a table" in repr(job)


def test_unknown_schema_raises_at_submit_or_lands_in_a_runtime_thread_job(engine: Any) -> None:
    client = client_for(engine)
    with pytest.raises(InvalidRequestError, match="unknown schema"):
        submit("No Such Schema", "x", text="a,b\n1,2", client=client, progress=False)

    # On the runtime thread (a done-callback) a blocking look-up would deadlock: the job
    # resolves the name itself, and the error lands in it.
    async def from_the_runtime_thread() -> Any:
        return submit("No Such Schema", "x", text="a,b\n1,2", client=client, progress=False)

    job = lasso_notebook._runtime.run_sync(from_the_runtime_thread())
    with pytest.raises(InvalidRequestError, match="unknown schema"):
        job.result(timeout=30)
    assert isinstance(job.error, InvalidRequestError) and job.id is None


def test_wait_timeout_leaves_the_job_running(paced: Any) -> None:
    job = submit("Products", "slow", text=catalog(64), client=client_for(paced), progress=False)
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError, match="still") as info:
        job.result(timeout=0.4)
    assert time.monotonic() - started < 1.0
    assert "attach(" in str(info.value) or "job.result()" in str(info.value)
    assert not job.done()
    assert len(job.result(timeout=30)) == 64  # it went on


def test_ctrl_c_ends_the_wait_and_the_job_goes_on(
    paced: Any, capsys: Any, python_sigint: None
) -> None:
    job = submit(
        "Products", "interrupted", text=catalog(64), client=client_for(paced), progress=False
    )
    interrupted: list[float] = []

    def interrupt_once_running(job: TableJob) -> None:
        # Ctrl-C while the table is being extracted (sent from its progress, not a timer).
        if job.progress > 0 and not interrupted:
            interrupted.append(time.monotonic())
            _thread.interrupt_main()

    job.add_update_callback(interrupt_once_running)
    with pytest.raises(JobInterrupted) as info:
        job.result()
    assert interrupted and time.monotonic() - interrupted[0] < 0.5  # the wait ended promptly
    assert isinstance(info.value, KeyboardInterrupt) and info.value.job is job
    assert "goes on" in str(info.value)
    assert "goes on" in capsys.readouterr().err  # told how to get it back
    assert len(job.result(timeout=30)) == 64


def test_detach_then_attach(paced: Any) -> None:
    client = client_for(paced)
    job = submit("Products", "detached", text=catalog(48), client=client, progress=False)
    while job.id is None or job.phase is not Phase.RUNNING:
        time.sleep(0.05)
    job.detach()
    with pytest.raises(JobDetachedError, match="attach"):
        job.result(timeout=5)
    assert job.detached and job.status == "detached"
    polls = job.requests
    time.sleep(0.6)
    assert job.requests == polls  # really stopped polling

    again = attach(job.id, client=client, progress=False)
    assert again is not job
    df = again.result(timeout=30)  # the server table went on regardless
    assert len(df) == 48 and again.name == "detached"
    assert attach(job.id, client=client, progress=False) is again  # reused while healthy


def test_attach_to_a_finished_table(engine: Any) -> None:
    client = client_for(engine)
    table = client.tables.create(
        schema_id=resolve_schema(client, "Products").id,
        name="made elsewhere",
        source_text=catalog(12),
    )
    client.tables.wait_for_completion(table.id, interval_s=0.1, timeout_s=30)
    job = lasso_notebook.attach(table.id, client=client, progress=False)
    assert len(job.result(timeout=30)) == 12
    assert job.requests == 0  # already complete: no status polling needed
    missing = attach("tbl_does_not_exist", client=client, progress=False)
    with pytest.raises(NotFoundError):
        missing.result(timeout=30)


def test_done_callbacks_run_on_the_runtime_thread(engine: Any, caplog: Any) -> None:
    seen: list[tuple[str, str | None, bool]] = []

    def record(job: TableJob) -> None:
        seen.append((threading.current_thread().name, job.id, job.df is not None))

    def broken(job: TableJob) -> None:
        raise RuntimeError("callback bug")

    job = submit("Products", "cb", text=catalog(2), client=client_for(engine), progress=False)
    job.add_done_callback(broken)
    job.add_done_callback(record)
    with caplog.at_level(logging.ERROR, logger="lasso_notebook"):
        job.result(timeout=30)
        assert seen == [("lasso-runtime", job.id, True)]  # ran before result() returned
        job.add_done_callback(record)  # already done: still called, on the runtime thread
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert seen[1] == ("lasso-runtime", job.id, True)
    assert "callback bug" in caplog.text  # logged, not lost


def test_await_from_another_event_loop(engine: Any) -> None:
    client = client_for(engine)

    async def cell() -> tuple[pd.DataFrame, bool]:
        job = submit("Products", "awaited", text=catalog(4), client=client, progress=False)
        # A cancelled awaiter must not cancel the job.
        waiter = asyncio.ensure_future(job._await())
        await asyncio.sleep(0.05)
        waiter.cancel()
        df = await job
        return df, job.done()

    df, done = asyncio.run(cell())
    assert len(df) == 4 and done


def test_delete_removes_the_server_table(engine: Any) -> None:
    client = client_for(engine)
    job = submit("Products", "to delete", text=catalog(3), client=client, progress=False)
    job.result(timeout=30)
    job.delete()
    with pytest.raises(NotFoundError):
        client.tables.get(job.id)
    assert job.status == "deleted"


def test_the_api_key_never_shows(engine: Any) -> None:
    key = engine.api_key
    good = submit("Products", "k", text=catalog(2), client=client_for(engine), progress="widget")
    good.result(timeout=30)
    bad_client = Lasso(api_key="lasso_" + "f" * 64, base_url=engine.base_url)
    with pytest.raises(AuthenticationError) as at_submit:  # the schema look-up is refused
        submit("Products", "k2", text="a", client=bad_client, progress="widget")
    assert "f" * 64 not in str(at_submit.value)
    # Given a resolved schema, the job itself meets the 401 (on create).
    products = lasso_notebook.resolve_schema(client_for(engine), "Products")
    bad = submit(products, "k2", text="a", client=bad_client, progress="widget")
    with pytest.raises(Exception) as info:
        bad.result(timeout=30)
    for job, secret in ((good, key), (bad, "f" * 64)):
        assert job.widget is not None
        shown = [repr(job), str(job.widget.get_state()), str(job._repr_mimebundle_())]
        shown.append(str(job.error))
        assert all(secret not in text for text in shown)
    assert "401" in str(info.value)


# --------------------------------------------------------------------------------------------
# Scripted server: newer vocabulary, polling cadence, Retry-After


class Script:
    """A fake API whose table walks through ``statuses`` (one per status poll)."""

    _serial = itertools.count()

    COLUMNS: ClassVar[list[dict[str, str]]] = [
        {"key": "name", "label": "Name", "type": "text"},
        {"key": "price", "label": "Price", "type": "number"},
    ]

    def __init__(
        self,
        statuses: list[tuple[str, int]],
        *,
        rows: int = 3,
        error_message: str | None = None,
        throttle_poll: int | None = None,
    ) -> None:
        self.statuses = statuses
        self.rows = rows
        self.error_message = error_message
        self.throttle_poll = throttle_poll
        self.polls: list[float] = []
        self.created_at: float | None = None
        # Every script is a server of its own (its table is always "t-1"): a job must never
        # take one script's table for another's through the reuse index.
        self.base_url = f"http://fake-{next(Script._serial)}.test/api/v1"

    def table(self, status: str, progress: int) -> dict[str, Any]:
        done = status == "completed"
        return {
            "id": "t-1",
            "name": "scripted",
            "schema_id": "s-1",
            "status": status,
            "progress": progress,
            "total_rows": self.rows if done else 0,
            "error_message": self.error_message if status in ("error", "cancelled") else None,
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if path == "/schemas/s-1":
            return httpx.Response(200, json={"id": "s-1", "name": "S", "columns": self.COLUMNS})
        if path == "/tables" and request.method == "POST":
            self.created_at = time.monotonic()
            return httpx.Response(201, json=self.table("queued_for_processing", 0))
        if path == "/tables/t-1":
            self.polls.append(time.monotonic())
            if self.throttle_poll is not None and len(self.polls) == self.throttle_poll:
                return httpx.Response(
                    429,
                    headers={"Retry-After": "1"},
                    json={
                        "status_code": 429,
                        "error_type": "rate_limited",
                        "message": "slow down",
                        "request_id": "r",
                    },
                )
            step = min(len(self.polls) - 1, len(self.statuses) - 1)
            return httpx.Response(200, json=self.table(*self.statuses[step]))
        if path == "/tables/t-1/columns":
            return httpx.Response(200, json={"data": self.COLUMNS})
        if path == "/tables/t-1/rows":
            data = [
                {"id": f"r{i}", "row_index": i, "data": {"name": f"n{i}", "price": i}}
                for i in range(self.rows)
            ]
            return httpx.Response(
                200,
                json={"data": data, "pagination": {"page": 1, "limit": 100, "total": self.rows}},
            )
        return httpx.Response(
            404,
            json={
                "status_code": 404,
                "error_type": "not_found",
                "message": f"no route {path}",
                "request_id": "r",
            },
        )


def scripted_client(script: Script) -> Lasso:
    return Lasso(
        api_key="lasso_x",
        base_url=script.base_url,
        transport=httpx.MockTransport(script),
        retry_policy=RetryPolicy(max_retries=2, base_delay=0.05, max_delay=0.1),
    )


def test_newer_status_vocabulary_completes() -> None:
    script = Script(
        [("queued_for_processing", 0), ("processing_by_worker", 50), ("completed", 100)]
    )
    job = submit("s-1", "scripted", text="x", client=scripted_client(script), progress=False)
    df = job.result(timeout=10)
    assert list(df["name"]) == ["n0", "n1", "n2"]
    assert job.phase is Phase.COMPLETED and job.status == "completed"


@pytest.mark.parametrize(
    ("final", "phase"), [("error", Phase.FAILED), ("cancelled", Phase.CANCELLED)]
)
def test_newer_terminal_statuses_fail(final: str, phase: Phase) -> None:
    script = Script([("processing_by_worker", 10), (final, 10)], error_message="worker died")
    job = submit("s-1", "scripted", text="x", client=scripted_client(script), progress=False)
    with pytest.raises(TableFailedError, match="worker died"):
        job.result(timeout=10)
    assert job.phase is phase and job.status == final


class _ScaledSchedule(PollSchedule):
    """A job's polling schedule whose pauses are recorded as asked, then waited a thousandth
    of: a polling cadence of seconds plays out in milliseconds, and only for this job."""

    pauses: ClassVar[list[float]] = []  # of every instance: the test makes one job

    def next_pause(self, now: float) -> float:
        pause = super().next_pause(now)
        self.pauses.append(pause)
        return pause / 1000


def test_polling_starts_fast_and_backs_off_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # The job polls when its schedule says: only jobs.py's schedule class is replaced, so
    # nothing else on the runtime loop is sped up or recorded.
    from lasso_notebook import jobs as jobs_module

    monkeypatch.setattr(_ScaledSchedule, "pauses", [])
    monkeypatch.setattr(jobs_module, "PollSchedule", _ScaledSchedule)
    script = Script([("processing", 10)])  # never changes after the first poll
    job = submit(
        "s-1", "idle", text="x", client=scripted_client(script), progress=False, poll_cap=0.8
    )
    deadline = time.monotonic() + 10
    while len(script.polls) < 8:
        assert time.monotonic() < deadline, script.polls
        time.sleep(0.01)
    job.detach()
    # First poll soon; the first answer moved (queued → processing): x1.25; then nothing
    # moves: x1.6 per poll, up to the cap and never beyond it.
    expected = [FIRST_POLL, FIRST_POLL * 1.25, FIRST_POLL * 1.25 * 1.6, 0.8, 0.8, 0.8, 0.8]
    assert _ScaledSchedule.pauses[:7] == pytest.approx(expected)
    assert max(_ScaledSchedule.pauses) == pytest.approx(0.8)


def test_rate_limited_poll_waits_for_retry_after() -> None:
    script = Script([("processing", 10), ("processing", 60), ("completed", 100)], throttle_poll=2)
    # No client retries, so the job's own Retry-After handling is what is exercised.
    client = Lasso(
        api_key="lasso_x",
        base_url=script.base_url,
        transport=httpx.MockTransport(script),
        retry_policy=RetryPolicy(max_retries=0),
    )
    job = submit("s-1", "throttled", text="x", client=client, progress=False)
    assert len(job.result(timeout=10)) == 3  # a 429 does not fail the job
    assert script.polls[2] - script.polls[1] >= 0.95  # Retry-After: 1 honoured


def test_completion_is_noticed_soon_when_progress_predicts_it() -> None:
    now = 1000.0  # only the scheduling arithmetic: no network, no sleeping
    schedule = PollSchedule()
    schedule.observe(20, now - 2.0)
    schedule.observe(60, now - 1.0)  # 40 %/s: 100 % in ~1 s
    assert schedule.eta_at is not None and abs(schedule.eta_at - now) < 0.01
    schedule.delay = 5.0
    assert schedule.next_pause(now) <= 0.25  # due now: a quick poll, not the 5 s backoff
    schedule = PollSchedule()
    schedule.observe(20, now - 10.0)
    schedule.observe(29, now - 1.0)  # 1 %/s: far from done
    schedule.delay = 2.0
    assert schedule.next_pause(now) == 2.0


def test_poll_schedule_backs_off_to_the_cap_and_past_a_missed_prediction() -> None:
    schedule = PollSchedule(cap=1.0)
    assert schedule.next_pause(0.0) == FIRST_POLL and schedule.eta_at is None
    schedule.answered(changed=False)
    idle = schedule.delay
    schedule.answered(changed=True)
    assert idle == FIRST_POLL * 1.6 and schedule.delay == idle * 1.25  # slower growth on change
    schedule.failed()
    schedule.failed()
    assert schedule.delay == 1.0  # capped
    schedule.observe(0, 0.0)
    assert schedule.predict_end() is None  # one sample is no rate
    schedule.observe(50, 1.0)  # 50 %/s: 100 % at t = 2
    assert schedule.next_pause(1.5) == pytest.approx(0.55)  # just after the predicted end
    # Overdue: quick polls at first, doubling each time, never beyond the backoff delay.
    assert [schedule.next_pause(2.5) for _ in range(4)] == [0.2, 0.4, 0.8, 1.0]
    schedule.stop()
    assert schedule.eta_at is None and schedule.next_pause(3.0) == 1.0


class SlowRowsScript(Script):
    """A completed table of ``rows`` rows whose pages each take ``page_delay`` seconds."""

    def __init__(self, rows: int, page_delay: float) -> None:
        super().__init__([("completed", 100)], rows=rows)
        self.page_delay = page_delay
        self.row_requests: list[float] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:  # type: ignore[override]
        if not request.url.path.endswith("/rows"):
            return super().__call__(request)
        self.row_requests.append(time.monotonic())
        await asyncio.sleep(self.page_delay)
        page, limit = int(request.url.params["page"]), int(request.url.params["limit"])
        indexes = range((page - 1) * limit, min(self.rows, page * limit))
        data = [
            {"id": f"r{i}", "row_index": i, "data": {"name": f"n{i}", "price": i}} for i in indexes
        ]
        return httpx.Response(
            200,
            json={"data": data, "pagination": {"page": page, "limit": limit, "total": self.rows}},
        )


def test_detach_while_reading_rows_stops_every_read(caplog: Any) -> None:
    script = SlowRowsScript(rows=3000, page_delay=0.2)
    job = submit("s-1", "many rows", text="x", client=scripted_client(script), progress=False)
    deadline = time.monotonic() + 10
    while len(script.row_requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # the first page answered, concurrent reads in flight
    assert job.status == "fetching rows"
    with caplog.at_level(logging.DEBUG):
        job.detach()
        with pytest.raises(JobDetachedError):
            job.result(timeout=5)
        sent = len(script.row_requests)
        time.sleep(0.6)  # in-flight pages would have answered and queued ones started
        gc.collect()
        time.sleep(0.05)
    assert len(script.row_requests) == sent < 30
    assert "never retrieved" not in caplog.text


def test_the_frame_is_built_off_the_runtime_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    from lasso_notebook import frames

    threads: list[str] = []
    real = frames.frame_from_columns

    def recording(*args: Any, **kwargs: Any) -> pd.DataFrame:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(frames, "frame_from_columns", recording)
    job = submit(
        "s-1",
        "threaded",
        text="x",
        client=scripted_client(Script([("completed", 100)])),
        progress=False,
        meta=False,
    )
    df = job.result(timeout=10)
    assert len(df) == 3 and threads and "lasso-runtime" not in threads
    # The raw rows are not kept; the other shapes still work from the frame.
    assert not hasattr(job, "_rows")
    full = job.result(labels=True, meta=True)
    assert list(full.columns) == [
        "Name",
        "Price",
        "_source",
        "_source_location",
        "_row_id",
        "_validation_status",
        "_validation_errors",
    ]
    assert list(full["_row_id"]) == ["r0", "r1", "r2"] and job.result() is df
