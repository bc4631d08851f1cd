"""Outages, lost answers and endless 429s over the real engine, through the fault layer: a create
whose answer is lost and then an outage (the job finds its table, or says it may exist, how to
find it, and a re-run attaches to it: never a second table); a server answering nothing but
429 (a job ends within its rate-limit budget naming its table, and says it is rate limited
meanwhile); requests other than polls under 429 end too; the table's ``status_note`` is shown.

Outages of 2, 5 and 20 s are played at a tenth of the time, with the retry delays scaled down
by the same factor: what is asserted is behaviour, not seconds."""

from __future__ import annotations

import html
import itertools
import json
import math
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_layer import FaultyTransport, Forward, Rule, consume, refuse
from shells import TestingShell

from lasso_notebook import Lasso
from lasso_notebook._reuse_index import INDEX_FILE
from lasso_notebook.client import RetryPolicy
from lasso_notebook.errors import RateLimitError, TableMayExistError
from lasso_notebook.jobs import TableJob, attach, submit

ROWS = 120
CSV = "name,sku,price\n" + "".join(f"Item {i},SKU{i:04d},{i}.5\n" for i in range(ROWS))
WAIT = 30.0
#: The client's default retry policy at a tenth of its delays (0.5 → 0.05 s, 8 → 0.8 s, the
#: Retry-After cap 60 → 6 s): outages are played at a tenth of their length too.
SCALE = 0.1
POLICY = RetryPolicy(max_retries=3, base_delay=0.5 * SCALE, max_delay=8 * SCALE)
TABLES = r"/tables"
TABLE = r"/tables/tbl_[0-9a-f]+"


# -- the outage --------------------------------------------------------------------------------
class Outage:
    """Once started, every request it covers is answered 503 (a proxy in front of a server
    that is restarting) for ``seconds`` (``inf``: until ``end()``)."""

    def __init__(
        self, seconds: float, *, listings_only: bool = False, retry_after: str | None = None
    ) -> None:
        self.seconds = seconds
        self.listings_only = listings_only
        self.retry_after = retry_after
        self.started: float | None = None
        self.ended: float | None = None
        self.refused: list[tuple[float, str]] = []  # (when, path?query) of each refusal

    def start(self) -> None:
        self.started = time.monotonic()
        self.ended = self.started + self.seconds

    def end(self) -> None:
        self.ended = time.monotonic()

    def covers(self, request: httpx.Request) -> bool:
        if self.started is None or self.ended is None or time.monotonic() >= self.ended:
            return False
        listing = request.method == "GET" and request.url.path.endswith("/tables")
        return listing or not self.listings_only

    def wait_over(self) -> None:
        assert self.ended is not None and math.isfinite(self.ended)
        time.sleep(max(0.0, self.ended - time.monotonic()))


class OutageTransport(FaultyTransport):
    """The fault layer's rules, behind an outage that answers first while it lasts."""

    def __init__(self, rules: list[Rule], outage: Outage | None) -> None:
        super().__init__(rules)
        self.outage = outage

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        outage = self.outage
        if outage is not None and outage.covers(request):
            self.seen.append((request.method, f"{request.url.path}?{request.url.query.decode()}"))
            outage.refused.append((time.monotonic(), f"{request.url.path}?{request.url.query}"))
            headers = {"Retry-After": outage.retry_after} if outage.retry_after else {}
            return httpx.Response(
                503,
                json={"status_code": 503, "error_type": "internal_error", "message": "outage"},
                headers=headers,
            )
        return await super().handle_async_request(request)


def lost_then(outage: Outage) -> Rule:
    """``POST /tables`` takes effect on the engine, its answer is dropped (the connection
    breaks), and the outage begins."""

    async def action(request: httpx.Request, forward: Forward) -> httpx.Response:
        await consume(forward)
        outage.start()
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )

    return Rule("POST", TABLES, action)


# -- fixtures and helpers ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    handle = serve(port=0, data_dir=tmp_path_factory.mktemp("outages"))
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each case is a fresh user of the shared engine: its own reuse index."""
    path = tmp_path / "lasso-data"
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(path))
    monkeypatch.delenv("LASSO_NOTEBOOK_REUSE", raising=False)
    return path


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


Start = Callable[..., tuple[TableJob, OutageTransport]]


@pytest.fixture
def client_for(engine: Any) -> Iterator[Callable[..., Lasso]]:
    clients: list[Lasso] = []

    def make(
        transport: httpx.AsyncBaseTransport | None = None, policy: RetryPolicy = POLICY
    ) -> Lasso:
        client = Lasso(
            api_key=engine.api_key,
            base_url=engine.base_url,
            transport=transport,
            timeout=10,
            retry_policy=policy,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def start(
    client_for: Callable[..., Lasso], schema_id: str, request: pytest.FixtureRequest
) -> Start:
    def run(
        rules: list[Rule],
        outage: Outage | None = None,
        *,
        policy: RetryPolicy = POLICY,
        text: str = CSV,
        **options: Any,
    ) -> tuple[TableJob, OutageTransport]:
        transport = OutageTransport(rules, outage)
        options.setdefault("progress", False)
        options.setdefault("poll_cap", 0.2)
        job = submit(
            schema_id,
            f"outage {request.node.name}",
            text=text,
            client=client_for(transport, policy),
            **options,
        )
        return job, transport

    return run


def tables_named(api: httpx.Client, name: str) -> list[dict[str, Any]]:
    listed = api.get("/tables", params={"search": name, "limit": 100}).json()["data"]
    return [t for t in listed if t["name"] == name]


def posts(transport: FaultyTransport) -> int:
    return sum(1 for m, p in transport.seen if m == "POST" and p.startswith("/api/v1/tables?"))


def assert_says_where_the_table_is(error: TableMayExistError, name: str) -> None:
    text = str(error)
    assert error.table_name == name and f"{name!r} may have been created" in text
    assert f'%lasso tables --search "{name}"' in text
    assert "lasso_notebook.attach('tbl_…')" in text and "created just now" in text


def assert_rerun_attaches(start: Start, api: httpx.Client, table_id: str, **options: Any) -> None:
    """The same submit once the API answers again: it attaches to the one table."""
    again, transport = start([], **options)
    df = again.result(timeout=WAIT)
    assert again.id == table_id and again.reused and len(df) == ROWS
    assert posts(transport) == 0
    assert [t["id"] for t in tables_named(api, again.name)] == [table_id]


# -- a lost create answer, then an outage ------------------------------------------------------
def test_the_issue_reproduction_completes_with_one_table(start: Start, api: httpx.Client) -> None:
    # The dropped answer, then 503 on GET /tables four times: the look-up's first request
    # and its three retries. The look-up is not over while the create has attempts left.
    outage = Outage(0)  # nothing of its own: the four 503s below are the outage
    rules = [lost_then(outage), Rule("GET", TABLES, refuse(503), times=4)]
    job, transport = start(rules)
    df = job.result(timeout=WAIT)
    assert len(df) == ROWS and rules[1].fired == 4
    assert posts(transport) == 1
    assert [t["id"] for t in tables_named(api, job.name)] == [job.id]


@pytest.mark.parametrize("listings_only", [False, True], ids=["every request", "listings"])
@pytest.mark.parametrize("seconds", [2, 5, 20], ids=["2s", "5s", "20s"])
def test_a_lost_create_then_an_outage_never_makes_a_second_table(
    start: Start, api: httpx.Client, seconds: int, listings_only: bool
) -> None:
    outage = Outage(seconds * SCALE, listings_only=listings_only)
    job, transport = start([lost_then(outage)], outage)
    try:
        df = job.result(timeout=WAIT)
    except TableMayExistError as exc:
        # Only an outage longer than the create's whole retry budget ends this way.
        assert seconds == 20, exc
        assert_says_where_the_table_is(exc, job.name)
        assert exc.recorded and job.id is None
    else:
        assert len(df) == ROWS
    assert outage.refused, "the outage never answered"
    assert posts(transport) == 1
    (made,) = tables_named(api, job.name)  # one table, whichever way the job ended
    assert job.id in (None, made["id"])
    outage.wait_over()
    assert_rerun_attaches(start, api, made["id"])


@pytest.mark.parametrize(
    "options", [{}, {"reuse": False}, {"refresh": True}], ids=["reuse", "no reuse", "refresh"]
)
def test_an_outage_outlasting_the_budget_names_the_table_and_a_rerun_attaches(
    start: Start, api: httpx.Client, data_dir: Path, options: dict[str, Any]
) -> None:
    outage = Outage(math.inf, listings_only=True)
    job, _ = start([lost_then(outage)], outage, **options)
    started = time.monotonic()
    with pytest.raises(TableMayExistError) as info:
        job.result(timeout=WAIT)
    assert time.monotonic() - started < 10  # the create's budget (~2 s here), not forever
    assert_says_where_the_table_is(info.value, job.name)
    assert info.value.recorded and "Run the same cell or submit() again" in str(info.value)
    # Four look-ups (the first try and the create's three retries), each with the client's
    # own three retries: the budget the create itself would have had, spent looking.
    searches = [p for _, p in outage.refused if "search=" in p]
    assert len(searches) == 16
    (made,) = tables_named(api, job.name)
    outage.end()
    assert_rerun_attaches(start, api, made["id"], **options)
    with sqlite3.connect(data_dir / INDEX_FILE) as db:
        states = dict(db.execute("SELECT fingerprint, state FROM entries").fetchall())
    if options.get("reuse") is False:
        assert states == {}  # nothing left once the table was found: reuse stays off
    else:
        assert list(states.values()) == ["done"]


def test_a_rerun_during_the_outage_keeps_what_the_next_run_looks_for(
    client_for: Callable[..., Lasso], api: httpx.Client, data_dir: Path
) -> None:
    # Run 1 (named "first") loses its create's answer; run 2 of the same content under another
    # name comes while the outage goes on, so its look-up gets no answer either. It must say
    # that "first" may exist, and leave the index entry as run 1 left it (name and time of the
    # create that may have made the table), so run 3 still finds that table.
    outage = Outage(math.inf, listings_only=True)
    client = client_for(OutageTransport([lost_then(outage)], outage))

    def run(name: str) -> TableJob:
        return submit("Products", name, text=CSV, client=client, progress=False, poll_cap=0.2)

    with pytest.raises(TableMayExistError):
        run("first").result(timeout=WAIT)
    with sqlite3.connect(data_dir / INDEX_FILE) as db:
        before = db.execute("SELECT state, name, claimed_at FROM entries").fetchall()
    assert [(state, name) for state, name, _ in before] == [("lost", "first")]
    with pytest.raises(TableMayExistError) as info:
        run("second").result(timeout=WAIT)
    assert info.value.table_name == "first" and info.value.recorded
    with sqlite3.connect(data_dir / INDEX_FILE) as db:
        assert db.execute("SELECT state, name, claimed_at FROM entries").fetchall() == before
    outage.end()
    third = run("third")
    assert len(third.result(timeout=WAIT)) == ROWS
    (made,) = tables_named(api, "first")
    assert third.id == made["id"]
    assert tables_named(api, "second") == [] and tables_named(api, "third") == []
    assert "created by an earlier run that got no answer" in repr(third)


def test_a_lookup_refused_with_retry_after_waits_that_long(start: Start, api: httpx.Client) -> None:
    outage = Outage(math.inf, listings_only=True, retry_after="0.25")
    policy = RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.02)
    job, _ = start([lost_then(outage)], outage, policy=policy)
    with pytest.raises(TableMayExistError):
        job.result(timeout=WAIT)
    times = [at for at, p in outage.refused if "search=" in p]
    assert len(times) == 4  # two look-ups of two requests each
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.24 for gap in gaps), gaps  # never the 10-20 ms backoff
    outage.end()


def test_the_magic_says_in_two_lines_what_to_do_and_a_rerun_of_the_cell_attaches(
    client_for: Callable[..., Lasso], api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    from lasso_notebook.magics import LassoMagics

    shell = TestingShell.make()
    outage = Outage(math.inf, listings_only=True)
    client = client_for(OutageTransport([lost_then(outage)], outage))
    shell.register_magics(LassoMagics(shell=shell, client=client, widget=False))
    name = "outage magic"
    cell = f"%%lasso_table df --schema Products --name '{name}'\n{CSV}"

    result = shell.run_cell(cell)
    lines = result.error_in_exec._render_traceback_()  # type: ignore[union-attr]
    assert lines == [
        f"%lasso_table: the Lasso API stopped answering while creating table {name!r}; it "
        "may exist on the server.",
        "Run the cell again once the API answers: it attaches to that table instead of making "
        "another.",
    ]
    (made,) = tables_named(api, name)
    outage.end()
    capsys.readouterr()
    assert shell.run_cell(cell).success
    assert len(shell.user_ns["df"]) == ROWS
    assert [t["id"] for t in tables_named(api, name)] == [made["id"]]


def test_without_the_index_the_magic_says_how_to_find_the_table(
    client_for: Callable[..., Lasso], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lasso_notebook._magic_errors import user_message

    monkeypatch.setenv("LASSO_NOTEBOOK_REUSE", "0")  # no index: nothing remembers the create
    outage = Outage(math.inf, listings_only=True)
    client = client_for(OutageTransport([lost_then(outage)], outage))
    job = submit("Products", 'say "when"', text=CSV, client=client, progress=False)
    with pytest.raises(TableMayExistError) as info:
        job.result(timeout=WAIT)
    outage.end()
    assert not info.value.recorded and "Run the same cell" not in str(info.value)
    assert user_message(info.value)[1] == (
        "Find it with %lasso tables --search 'say \"when\"', then df = %lasso_table --attach "
        "tbl_… (the one created just now)."
    )


def test_the_form_says_submit_again_and_a_resubmit_of_the_same_file_attaches(
    client_for: Callable[..., Lasso], api: httpx.Client
) -> None:
    from test_form import Browser, wait_done, wait_for

    from lasso_notebook.widgets.form import SubmitForm

    outage = Outage(math.inf, listings_only=True)
    form = SubmitForm(
        schema="Products", client=client_for(OutageTransport([lost_then(outage)], outage))
    )
    try:
        browser = Browser(form)
        browser.send({"type": "refresh"})
        wait_for(lambda: form.schemas_status == "ready")
        browser.upload("catalog.csv", CSV.encode())
        browser.submit(name="form outage", source="files", files=["f1"])
        wait_for(lambda: form.errors, timeout=WAIT)
        assert form.phase == "idle" and form.errors["form"].startswith(
            "Lasso stopped answering while creating 'form outage'; the table may exist. "
            "Submit again once Lasso answers"
        )
        (made,) = tables_named(api, "form outage")
        outage.end()
        browser.submit(name="form outage", source="files", files=["f1"])  # the kept file
        wait_done(form, timeout=WAIT)
        assert form.phase == "completed", form.errors or form.job_state
        assert form.job is not None and form.job.id == made["id"] and len(form.df) == ROWS
        assert [t["id"] for t in tables_named(api, "form outage")] == [made["id"]]
    finally:
        form.close()


# -- rate limits -------------------------------------------------------------------------------
def _everything_429(retry_after: str | None = None) -> list[Rule]:
    """Once the table exists, every read is refused with 429 (polls, listings, rows)."""
    return [Rule("GET", r"/tables.*", refuse(429, retry_after), times=10**6)]


@pytest.mark.parametrize("retry_after", [None, "0.1"], ids=["backoff", "Retry-After"])
def test_a_server_answering_only_429_ends_the_job_within_its_budget(
    start: Start, api: httpx.Client, monkeypatch: pytest.MonkeyPatch, retry_after: str | None
) -> None:
    import comm
    from test_progress_widget import RecordingComm, merged

    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    budget = 1.0
    job, transport = start(
        _everything_429(retry_after), progress="widget", rate_limit_budget=budget
    )
    lines: list[str] = []
    job.add_update_callback(lambda j: lines.append(repr(j)))
    with pytest.raises(RateLimitError) as info:
        job.result(timeout=WAIT)
    assert job.elapsed < budget + 1.5  # the create, then at most the budget of 429s
    error = info.value
    assert error.table_id == job.id and job.id is not None
    text = str(error)
    assert job.id in text and repr(job.name) in text and "rate_limit_budget" in text
    assert "goes on on the server" in text and f"lasso_notebook.attach({job.id!r})" in text
    # Meanwhile the text line and the widget said so, counting down.
    assert any(" · rate limited, retrying in " in line for line in lines), lines
    updates = job.widget.comm.updates()  # type: ignore[union-attr]
    assert any((u.get("retry_in") or 0) > 0 for u in updates)
    assert merged(updates)["retry_in"] is None  # not once it ended
    # Polls wait out each 429 (no retries inside the client): a handful, not hundreds.
    polls = [p for m, p in transport.seen if m == "GET" and "/tables/tbl_" in p]
    assert 2 <= len(polls) <= budget / (0.1 if retry_after else 0.2) + 2
    assert [t["id"] for t in tables_named(api, job.name)] == [job.id]  # it goes on


def test_the_magic_budget_is_set_with_config_and_its_error_says_how_to_attach(
    client_for: Callable[..., Lasso], api: httpx.Client
) -> None:
    from lasso_notebook.magics import LassoMagics

    shell = TestingShell.make()
    client = client_for(FaultyTransport(_everything_429()))
    magics = LassoMagics(shell=shell, client=client, widget=False, poll_cap=0.2)
    shell.register_magics(magics)
    shell.run_cell("%config LassoMagics.rate_limit_budget = 0")  # refused where it is set
    assert magics.rate_limit_budget == 600
    shell.run_cell("%config LassoMagics.rate_limit_budget = 0.8")
    assert "poll_cap        0.2 s; rate_limit_budget 1 s (of nothing but 429s)" in (
        magics.config_text()
    )

    started = time.monotonic()
    result = shell.run_cell(f"%%lasso_table df --schema Products --name 'limited'\n{CSV}")
    assert time.monotonic() - started < 0.8 + 2.0
    (made,) = tables_named(api, "limited")
    assert result.error_in_exec._render_traceback_() == [  # type: ignore[union-attr]
        "%lasso_table: rate limited (429) for longer than the job's budget: gave up following "
        f"table {made['id']}, which goes on on the server.",
        f"Later: df = %lasso_table --attach {made['id']} (%config "
        "LassoMagics.rate_limit_budget sets how long a job waits).",
    ]


def test_a_budget_that_is_not_a_positive_number_is_refused(
    client_for: Callable[..., Lasso],
) -> None:
    from lasso_notebook.errors import InvalidRequestError

    for bad in (0, -1, float("nan"), True):
        with pytest.raises(InvalidRequestError, match="rate_limit_budget must be a positive"):
            submit("Products", text=CSV, client=client_for(), rate_limit_budget=bad)
        with pytest.raises(InvalidRequestError, match="rate_limit_budget must be a positive"):
            attach("tbl_x", client=client_for(), rate_limit_budget=bad)


def test_any_other_answer_starts_the_budget_again(
    engine_factory: Callable[..., Any], client_for: Callable[..., Lasso]
) -> None:
    paced = engine_factory(pace=0.15)

    last_pass = [time.monotonic()]

    async def throttle(request: httpx.Request, forward: Forward) -> httpx.Response:
        # 429 for everything but one poll every 0.35 s: rate limited far longer than the
        # budget in all, but never 0.5 s in a row.
        if time.monotonic() - last_pass[0] >= 0.35:
            last_pass[0] = time.monotonic()
            return await forward()
        return await refuse(429)(request, forward)

    rule = Rule("GET", TABLE, throttle, times=10**6)
    client = Lasso(
        api_key=paced.api_key,
        base_url=paced.base_url,
        transport=FaultyTransport([rule]),
        retry_policy=POLICY,
    )
    try:
        job = submit(
            "Products",
            "throttled",
            text=CSV,
            client=client,
            progress=False,
            poll_cap=0.1,
            rate_limit_budget=0.5,
        )
        df = job.result(timeout=WAIT)
    finally:
        client.close()
    assert len(df) == ROWS
    assert job.elapsed > 1.5  # three budgets' worth of mostly-429 polling, never given up
    assert rule.fired > 10


def test_many_jobs_polled_together_each_end_within_the_budget(
    engine_factory: Callable[..., Any],
) -> None:
    paced = engine_factory(pace=0.15)
    blocked = {"on": False}

    async def limit(request: httpx.Request, forward: Forward) -> httpx.Response:
        if blocked["on"]:
            return await refuse(429)(request, forward)
        return await forward()

    client = Lasso(
        api_key=paced.api_key,
        base_url=paced.base_url,
        transport=FaultyTransport([Rule("GET", r"/tables.*", limit, times=10**6)]),
        retry_policy=POLICY,
    )
    try:
        jobs = [
            submit(
                "Products",
                f"group {i}",
                text=CSV.replace("Item", f"Group{i}"),
                client=client,
                progress=False,
                poll_cap=0.2,
                rate_limit_budget=1.0,
            )
            for i in range(6)  # enough to be covered by one listing per cycle
        ]
        while any(job.id is None for job in jobs):
            time.sleep(0.01)
        blocked["on"] = True
        since = time.monotonic()
        for job in jobs:
            with pytest.raises(RateLimitError) as info:
                job.result(timeout=WAIT)
            assert info.value.table_id == job.id and job.id in str(info.value)
        assert time.monotonic() - since < 1.0 + 1.5  # the budget, and one more pause at most
    finally:
        client.close()


def test_requests_other_than_polls_under_429_end_too(
    start: Start, api: httpx.Client, data_dir: Path
) -> None:
    # Row pages: the client's retries, then the page's own, each waiting Retry-After.
    rows = Rule("GET", TABLE + "/rows", refuse(429, "0.02"), times=10**6)
    first, _ = start([rows], meta=True)
    with pytest.raises(RateLimitError) as info:
        first.result(timeout=WAIT)
    assert first.id is not None
    assert first.id in str(info.value) and "attach" in str(info.value)
    assert rows.fired <= 16  # 4 page attempts × (1 + 3 client retries), then it stops

    # The create: refused four times (the first try and three retries), then a clear error,
    # no table, and nothing left in the index to look for.
    create = Rule("POST", TABLES, refuse(429, "0.02"), times=10**6)
    job, _ = start([create], text=CSV + "Extra,EX,1\n")
    with pytest.raises(RateLimitError):
        job.result(timeout=WAIT)
    assert create.fired == 4 and job.id is None
    assert [t["id"] for t in tables_named(api, job.name)] == [first.id]  # the first job's
    with sqlite3.connect(data_dir / INDEX_FILE) as db:
        assert db.execute("SELECT state FROM entries").fetchall() == [("done",)]  # the first


# -- the engine's status_note -------------------------------------------------------------------
def test_the_status_note_is_shown_in_the_widget_and_the_text_line(
    engine: Any,
    api: httpx.Client,
    client_for: Callable[..., Lasso],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import comm
    from test_progress_widget import RecordingComm, merged

    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    made = api.post(
        "/tables",
        json={
            "name": "resumed",
            "schema_id": next(
                s["id"] for s in api.get("/schemas").json()["data"] if s["name"] == "Products"
            ),
            "source_text": CSV,
        },
    ).json()
    deadline = time.monotonic() + WAIT
    while api.get(f"/tables/{made['id']}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    note = (
        "Extraction resumed at row 60 after an interruption: 'b.csv' changed since, so its "
        "rows were extracted again."
    )
    # What the engine writes after a restart (see test_engine_restart), set directly.
    with sqlite3.connect(Path(engine.data_dir) / "engine.sqlite3") as db:
        db.execute("UPDATE tables SET status_note = ? WHERE id = ?", (note, made["id"]))
    assert api.get(f"/tables/{made['id']}").json()["status_note"] == note

    job = attach(made["id"], client=client_for(), progress="widget")
    job.result(timeout=WAIT)
    assert note in repr(job).splitlines()[0]
    state = merged(job.widget.comm.updates())  # type: ignore[union-attr]
    assert state["status_note"] == note
    widget = job.widget
    assert widget is not None and note in widget.text()
    assert html.escape(note) in widget.fallback_html()  # saved outputs show it too

    plain = attach(made["id"], client=client_for(), progress=False, meta=True)
    plain.result(timeout=WAIT)
    assert note in repr(plain)


PROGRESS_JS = (Path(__file__).parent.parent / "js" / "progress.js").as_uri()
#: Just enough DOM for progress.js's ``render`` under node: elements that keep their text.
DOM_SHIM = """
class El {
  constructor(tag) { this.tag = tag; this.children = []; this.dataset = {}; this.style = {};
    this.hidden = false; this.textContent = ""; this.className = "";
    this.classList = { toggle() {} }; }
  append(...nodes) { this.children.push(...nodes); }
  setAttribute() {}
  addEventListener() {}
}
globalThis.document = { createElement: (tag) => new El(tag) };
const find = (node, cls) => node.className.split(" ").includes(cls) ? node
  : node.children.map((c) => find(c, cls)).find(Boolean);
"""


def test_the_widget_view_counts_down_and_shows_the_status_note() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    state = {
        "table_id": "tbl_1", "name": "Q1", "status": "processing", "phase": "running",
        "progress": 45, "total_rows": 12, "elapsed": 8.0, "eta": None, "error_message": "",
        "note": "", "detached": False, "can_stop": False, "validation": "", "report": "",
        "download": "", "retry_in": 12.2,
        "status_note": "Extraction resumed at row 20,000 after an interruption.",
    }  # fmt: skip
    script = (
        DOM_SHIM
        + f"const {{ default: view }} = await import({json.dumps(PROGRESS_JS)});\n"
        + f"const state = {json.dumps(state)};\n"
        + "const model = { get: (k) => state[k], on() {}, off() {}, send() {} };\n"
        + "const el = new El('div');\n"
        + "const stop = view.render({ model, el });\n"
        + "const status = find(el, 'lasso-progress__status');\n"
        + "const note = find(el, 'lasso-progress__status-note');\n"
        + "const out = { status: status.textContent, limited: status.dataset.limited,\n"
        + "  note: note.textContent, noteHidden: note.hidden };\n"
        + "state.retry_in = null; state.status_note = '';\n"
        + "const stopAgain = view.render({ model, el });  // a second view, after the pause\n"
        + "out.after = find(el.children[1], 'lasso-progress__status').textContent;\n"
        + "out.noteAfter = find(el.children[1], 'lasso-progress__status-note').hidden;\n"
        + "stop(); stopAgain(); console.log(JSON.stringify(out));\n"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "processing 45% · rate limited, retrying in 13 s"
    assert out["limited"] == "true"
    assert out["note"] == state["status_note"] and out["noteHidden"] is False
    assert out["after"] == "processing 45%" and out["noteAfter"] is True
