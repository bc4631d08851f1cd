"""The engine's queue and worker lifecycle, in process and without HTTP: ``Queue`` on a fresh
SQLite store (claim order, leases, progress, finishing, giving tables back, the stale-lease
sweep) and ``WorkerPool`` threads on it (start and stop, the heartbeat's sweeps, progress that
says 100 only once completed, a stopping pool that gives its table back at once). Fast enough
to be the mutation check's tests for ``server/_queue.py`` and ``server/worker.py``."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lasso_notebook.server import worker
from lasso_notebook.server._liveness import EngineLock
from lasso_notebook.server.extract import Source
from lasso_notebook.server.store import PRODUCTS_COLUMNS, Store
from lasso_notebook.server.worker import STALE_AFTER, WorkerPool, _Run

ME, OTHER = "eng_0a", "eng_0b"
CSV = "name,sku,price\nA,S1,1\nB,S2,2\nC,S3,3\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "engine.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def owner(store: Store) -> str:
    found = store.owner_for_key(store.create_key())
    assert found is not None
    return found


def queue_table(store: Store, owner: str, text: str = CSV, **fields: Any) -> str:
    """A queued table of the demo schema's columns from ``text``; returns its id."""
    fields = {
        "name": "t",
        "schema_id": "sch_demo",
        "columns": PRODUCTS_COLUMNS,
        "source_type": "text",
        "source_text": text,
        **fields,
    }
    return str(store.create_table(owner, **fields)["id"])


def raw(store: Store, table_id: str) -> dict[str, Any]:
    """The table's database row, lease fields included."""
    row = store._one("SELECT * FROM tables WHERE id = ?", (table_id,))
    assert row is not None
    return dict(row)


def set_fields(store: Store, table_id: str, **values: Any) -> None:
    assignments = ", ".join(f"{name} = ?" for name in values)
    with store.tx() as c:
        c.execute(f"UPDATE tables SET {assignments} WHERE id = ?", (*values.values(), table_id))


def rows_of(store: Store, table_id: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in store._conn().execute(
            "SELECT * FROM rows WHERE table_id = ? ORDER BY row_index", (table_id,)
        )
    ]


def extracted(*names: str) -> list[dict[str, Any]]:
    return [{"data": {"name": n}, "validation_status": "valid"} for n in names]


def claimed(store: Store, owner: str, text: str = CSV) -> str:
    """A table queued and claimed by ``ME``."""
    table_id = queue_table(store, owner, text)
    job = store.claim_next_table(ME)
    assert job is not None and job["id"] == table_id
    return table_id


# -- claiming ---------------------------------------------------------------------------------


def test_an_empty_queue_gives_nothing(store: Store, owner: str) -> None:
    assert store.claim_next_table(ME) is None
    table_id = claimed(store, owner)
    assert store.claim_next_table(ME) is None  # the only table is processing already
    store.finish_table(table_id, ME, "completed")
    assert store.claim_next_table(ME) is None


def test_tables_are_claimed_oldest_first_each_once(store: Store, owner: str) -> None:
    first, second, third = (queue_table(store, owner, name=n) for n in "abc")
    claims = [store.claim_next_table(engine) for engine in (ME, OTHER, ME, OTHER)]
    assert [job and job["id"] for job in claims] == [first, second, third, None]
    assert raw(store, second)["lease_owner"] == OTHER


def test_a_claim_leases_the_table_and_hands_over_what_the_run_needs(
    store: Store, owner: str
) -> None:
    table_id = queue_table(
        store,
        owner,
        additional_context="prices in EUR",
        webhook_url="http://hook.test/x",
        webhook_headers={"X-A": "1"},
    )
    set_fields(store, table_id, error_message="old", extraction_report='{"rows": 1}')
    before = time.time()
    job = store.claim_next_table(ME)
    assert job is not None
    assert job["id"] == table_id and job["status"] == "processing"
    assert job["owner"] == owner and job["columns"] == PRODUCTS_COLUMNS
    assert job["source_text"] == CSV and job["source_refs"] == []
    assert job["additional_context"] == "prices in EUR"
    assert job["webhook_url"] == "http://hook.test/x" and job["webhook_headers"] == {"X-A": "1"}
    assert job["resume_rows"] == 0 and job["source_digests"] == {}
    assert job["error_message"] is None and "extraction_report" not in job
    row = raw(store, table_id)
    assert row["status"] == "processing" and row["lease_owner"] == ME
    assert before <= row["heartbeat"] <= time.time()
    assert row["total_rows"] == 0 and row["error_message"] is None
    assert row["extraction_report"] is None and row["status_note"] is None


def test_a_table_with_no_webhook_or_sources_claims_with_empty_ones(
    store: Store, owner: str
) -> None:
    table_id = queue_table(store, owner)
    set_fields(store, table_id, source_refs=None, webhook_headers=None)
    job = store.claim_next_table(ME)
    assert job is not None
    assert job["source_refs"] == [] and job["webhook_headers"] == {} and job["webhook_url"] is None


def test_a_requeued_table_resumes_with_its_rows_progress_and_digests(
    store: Store, owner: str
) -> None:
    table_id = claimed(store, owner)
    assert store.note_source(table_id, ME, 0, "d0")
    assert store.write_progress(table_id, ME, extracted("A", "B"), 40)
    set_fields(store, table_id, status_note="kept")
    store.requeue(table_id, ME)
    job = store.claim_next_table(OTHER)
    assert job is not None
    assert job["resume_rows"] == 2 and job["total_rows"] == 2 and job["progress"] == 40
    assert job["source_digests"] == {"0": "d0"} and job["status_note"] == "kept"
    assert [r["data"] for r in rows_of(store, table_id)] == ['{"name":"A"}', '{"name":"B"}']


def test_a_requeued_table_whose_columns_changed_starts_over_and_says_why(
    store: Store, owner: str
) -> None:
    table_id = claimed(store, owner)
    assert store.write_progress(table_id, ME, extracted("A", "B"), 40)
    store.requeue(table_id, ME)
    set_fields(store, table_id, additional_context="changed while it waited")
    job = store.claim_next_table(ME)
    assert job is not None
    assert job["resume_rows"] == 0 and job["total_rows"] == 0 and rows_of(store, table_id) == []
    assert job["status_note"] == (
        "Extraction restarted from the first row after an interruption: the 2 rows written "
        "before were dropped because the table's schema changed since they were extracted."
    )


def test_rows_of_another_engine_version_are_dropped_and_said_so(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    rows = extracted(*(f"P{i}" for i in range(1200)))
    assert store.write_progress(table_id, ME, rows, 40)
    store.requeue(table_id, ME)
    set_fields(store, table_id, resume_state='{"basis": {"engine": "0.0.1", "inputs": "x"}}')
    job = store.claim_next_table(ME)
    assert job is not None and job["resume_rows"] == 0 and rows_of(store, table_id) == []
    assert job["status_note"].endswith(
        "the 1,200 rows written before were dropped because they were extracted by another "
        "version of the engine."
    )


def test_rows_without_a_recorded_basis_are_dropped_too(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    assert store.write_progress(table_id, ME, extracted("A"), 40)
    store.requeue(table_id, ME)
    set_fields(store, table_id, resume_state=None)
    job = store.claim_next_table(ME)
    assert job is not None and job["resume_rows"] == 0 and rows_of(store, table_id) == []
    assert "another version of the engine" in job["status_note"]


# -- progress and rows ------------------------------------------------------------------------


def test_rows_are_written_in_order_after_the_ones_already_there(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    source = {"file": "a.csv", "line": 2}
    first = [
        {"data": {"name": "A"}, "validation_status": "valid", "source": source},
        {
            "data": {"name": "B", "price": None},
            "validation_status": "error",
            "validation_errors": [{"column_key": "price", "message": "not a number"}],
        },
    ]
    assert store.write_progress(table_id, ME, first, 10)
    assert store.write_progress(table_id, ME, extracted("C"), 20)
    rows = rows_of(store, table_id)
    assert [r["row_index"] for r in rows] == [0, 1, 2]
    assert [r["data"] for r in rows] == [
        '{"name":"A"}',
        '{"name":"B","price":null}',
        '{"name":"C"}',
    ]
    assert [r["validation_status"] for r in rows] == ["valid", "error", "valid"]
    assert rows[0]["validation_errors"] == "[]" and rows[2]["validation_errors"] == "[]"
    assert "not a number" in rows[1]["validation_errors"]
    assert rows[0]["source"] == '{"file":"a.csv","line":2}' and rows[1]["source"] is None
    assert len({r["id"] for r in rows}) == 3
    assert raw(store, table_id)["total_rows"] == 3


def test_progress_never_goes_down_and_files_are_kept_unless_given(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    files = [{"name": "a.csv", "size": 3}]
    assert store.write_progress(table_id, ME, [], 50, files)
    assert store.write_progress(table_id, ME, [], 30)
    row = raw(store, table_id)
    assert row["progress"] == 50 and row["total_rows"] == 0
    assert row["files"] == '[{"name":"a.csv","size":3}]'
    assert store.write_progress(table_id, ME, [], 70)
    assert raw(store, table_id)["progress"] == 70


def test_writing_progress_refreshes_the_lease(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    set_fields(store, table_id, heartbeat=0)
    assert store.write_progress(table_id, ME, [], 5)
    assert raw(store, table_id)["heartbeat"] > time.time() - 5


def test_only_the_lease_holder_writes_to_a_processing_table(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    assert not store.write_progress(table_id, OTHER, extracted("X"), 60)
    queued = queue_table(store, owner)
    assert not store.write_progress(queued, ME, extracted("Y"), 60)  # not claimed
    assert not store.write_progress("tbl_gone", ME, extracted("Z"), 60)
    assert rows_of(store, table_id) == [] and rows_of(store, queued) == []
    assert raw(store, table_id)["progress"] == 0 and raw(store, queued)["progress"] == 0


def test_missing_values_are_filled_from_a_row_on_only_where_null(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    rows = [
        {"data": {"name": "A", "currency": None}},
        {"data": {"name": "B", "currency": None}},
        {"data": {"name": "C", "currency": "USD"}},
        {"data": {"name": "D"}},
    ]
    assert store.write_progress(table_id, ME, rows, 10)
    store.fill_missing(table_id, OTHER, 0, {"currency": "GBP"})  # not its table: nothing
    store.fill_missing(table_id, ME, 1, {"currency": "EUR", "brand": "Acme"})
    assert [r["data"] for r in rows_of(store, table_id)] == [
        '{"name":"A","currency":null}',
        '{"name":"B","currency":"EUR","brand":"Acme"}',
        '{"name":"C","currency":"USD","brand":"Acme"}',
        '{"name":"D","currency":"EUR","brand":"Acme"}',
    ]


# -- finishing --------------------------------------------------------------------------------


def test_a_completed_table_is_at_100_with_its_report_and_no_lease(store: Store, owner: str) -> None:
    table_id = queue_table(
        store, owner, webhook_url="http://hook.test/", webhook_headers={"A": "b"}
    )
    assert store.claim_next_table(ME) is not None
    assert store.write_progress(table_id, ME, extracted("A"), 99)
    finished = store.finish_table(table_id, ME, "completed", None, {"rows": 1})
    assert finished is not None
    assert finished["id"] == table_id and finished["status"] == "completed"
    assert finished["progress"] == 100 and finished["error_message"] is None
    assert finished["extraction_report"] == {"rows": 1}
    assert finished["webhook_url"] == "http://hook.test/" and finished["webhook_headers"] == {
        "A": "b"
    }
    row = raw(store, table_id)
    assert row["status"] == "completed" and row["progress"] == 100
    assert row["lease_owner"] is None and row["heartbeat"] is None and row["resume_state"] is None


def test_a_failed_table_keeps_its_progress_and_says_why(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    assert store.write_progress(table_id, ME, [], 30)
    finished = store.finish_table(table_id, ME, "failed", "cannot read it")
    assert finished is not None
    assert finished["status"] == "failed" and finished["progress"] == 30
    assert finished["error_message"] == "cannot read it" and "extraction_report" not in finished
    assert finished["webhook_headers"] == {}
    assert raw(store, table_id)["lease_owner"] is None


def test_only_the_lease_holder_finishes_a_processing_table(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    assert store.finish_table(table_id, OTHER, "completed") is None
    assert raw(store, table_id)["status"] == "processing"
    queued = queue_table(store, owner)
    assert store.finish_table(queued, ME, "completed") is None
    assert raw(store, queued)["status"] == "queued"
    assert store.finish_table(table_id, ME, "completed") is not None
    assert store.finish_table(table_id, ME, "failed", "again") is None  # finished once only
    assert raw(store, table_id)["status"] == "completed"


def test_the_validation_summary_is_recorded_by_the_lease_holder_only(
    store: Store, owner: str
) -> None:
    table_id = claimed(store, owner)
    store.record_validation(table_id, OTHER, {"rows": 9})
    assert raw(store, table_id)["validation_summary"] is None
    store.record_validation(table_id, ME, {"rows": 2})
    assert raw(store, table_id)["validation_summary"] == '{"rows":2}'


# -- resume bookkeeping -----------------------------------------------------------------------


def test_source_digests_are_noted_per_source_by_the_lease_holder(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    assert store.note_source(table_id, ME, 0, "d0")
    assert store.note_source(table_id, ME, 1, "d1")
    assert not store.note_source(table_id, OTHER, 1, "x")
    store.requeue(table_id, ME)
    assert not store.note_source(table_id, ME, 2, "d2")  # given back: no longer leased
    job = store.claim_next_table(ME)
    assert job is not None and job["source_digests"] == {"0": "d0", "1": "d1"}


def test_rows_from_a_changed_source_on_are_dropped_with_a_note(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    assert store.write_progress(table_id, ME, extracted("A", "B", "C"), 50)
    assert not store.restart_rows_at(table_id, OTHER, 0, "not mine")
    assert len(rows_of(store, table_id)) == 3
    assert store.restart_rows_at(table_id, ME, 1, "source changed")
    assert [r["row_index"] for r in rows_of(store, table_id)] == [0]
    row = raw(store, table_id)
    assert row["total_rows"] == 1 and row["status_note"] == "source changed"
    assert store.write_progress(table_id, ME, extracted("B2"), 60)
    assert [r["row_index"] for r in rows_of(store, table_id)] == [0, 1]


# -- giving tables back -----------------------------------------------------------------------


def test_a_table_given_back_is_queued_with_its_rows_and_progress(store: Store, owner: str) -> None:
    table_id = claimed(store, owner)
    assert store.write_progress(table_id, ME, extracted("A"), 30)
    store.requeue(table_id, OTHER)  # not its table
    assert raw(store, table_id)["status"] == "processing"
    store.requeue(table_id, ME)
    row = raw(store, table_id)
    assert row["status"] == "queued" and row["lease_owner"] is None and row["heartbeat"] is None
    assert row["progress"] == 30 and row["total_rows"] == 1 and len(rows_of(store, table_id)) == 1


def test_a_heartbeat_refreshes_only_the_engines_own_leases(store: Store, owner: str) -> None:
    mine, theirs = claimed(store, owner), queue_table(store, owner)
    assert store.claim_next_table(OTHER) is not None
    set_fields(store, mine, heartbeat=0)
    set_fields(store, theirs, heartbeat=0)
    store.heartbeat(ME)
    assert raw(store, mine)["heartbeat"] > time.time() - 5
    assert raw(store, theirs)["heartbeat"] == 0


def test_leased_count_counts_the_engines_processing_tables(store: Store, owner: str) -> None:
    assert store.leased_count(ME) == 0
    first, _ = claimed(store, owner), claimed(store, owner)
    queue_table(store, owner)
    assert store.leased_count(ME) == 2 and store.leased_count(OTHER) == 0
    store.finish_table(first, ME, "completed")
    assert store.leased_count(ME) == 1


def test_tables_of_engines_that_ended_are_requeued_at_once(store: Store, owner: str) -> None:
    tables = {engine: queue_table(store, owner) for engine in (ME, OTHER, "eng_0c", "eng_0d")}
    for engine in tables:
        assert store.claim_next_table(engine) is not None
    asked: list[str] = []

    def gone(engine: str) -> bool:
        asked.append(engine)
        return engine in (OTHER, "eng_0c")

    assert sorted(store.requeue_gone(ME, gone)) == [OTHER, "eng_0c"]
    assert sorted(asked) == [OTHER, "eng_0c", "eng_0d"]  # never itself
    statuses = {engine: raw(store, t)["status"] for engine, t in tables.items()}
    assert statuses == {
        ME: "processing",
        OTHER: "queued",
        "eng_0c": "queued",
        "eng_0d": "processing",
    }
    assert raw(store, tables[OTHER])["lease_owner"] is None
    assert raw(store, tables[OTHER])["heartbeat"] is None
    assert store.requeue_gone(ME, gone) == []  # nothing of theirs left


def test_stale_leases_of_other_engines_are_requeued_and_counted(store: Store, owner: str) -> None:
    now = time.time()
    leases = {
        "own, stale": (ME, now - 100),
        "stale": (OTHER, now - 20),
        "no heartbeat": (OTHER, None),
        "no owner": (None, now),
        "fresh": (OTHER, now - 10),
    }
    tables = {}
    for name, (engine, beat) in leases.items():
        tables[name] = queue_table(store, owner, name=name)
        set_fields(store, tables[name], status="processing", lease_owner=engine, heartbeat=beat)
    done = queue_table(store, owner)
    set_fields(store, done, status="completed", lease_owner=OTHER, heartbeat=0)
    assert store.requeue_stale(ME, 15.0) == 3
    statuses = {name: raw(store, t)["status"] for name, t in tables.items()}
    assert statuses == {
        "own, stale": "processing",
        "stale": "queued",
        "no heartbeat": "queued",
        "no owner": "queued",
        "fresh": "processing",
    }
    assert raw(store, tables["stale"])["lease_owner"] is None
    assert raw(store, tables["stale"])["heartbeat"] is None
    assert raw(store, done)["status"] == "completed"
    assert store.requeue_stale(ME, 15.0) == 0
    assert store.requeue_stale(ME, 5.0) == 1  # "fresh" is stale by a shorter measure


# -- the worker pool --------------------------------------------------------------------------


def make_pool(
    store: Store, tmp_path: Path, *, workers: int = 1, pace: float = 0.0
) -> tuple[WorkerPool, list[dict[str, Any]]]:
    finished: list[dict[str, Any]] = []
    pool = WorkerPool(
        store,
        tmp_path,
        ME,
        workers=workers,
        pace=pace,
        max_download_bytes=1 << 20,
        on_finished=finished.append,
    )
    return pool, finished


@pytest.fixture
def pools(store: Store, tmp_path: Path) -> Iterator[Callable[..., tuple[WorkerPool, list[Any]]]]:
    """Make worker pools on ``store``; all are stopped after the test."""
    made: list[WorkerPool] = []

    def make(**options: Any) -> tuple[WorkerPool, list[Any]]:
        pool, finished = make_pool(store, tmp_path, **options)
        made.append(pool)
        return pool, finished

    yield make
    for pool in made:
        pool.stop(timeout=5)


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """The engine's error log lines, each with the exception it carries."""
    return [
        (r.getMessage(), str(r.exc_info[1]) if r.exc_info else "")
        for r in caplog.records
        if r.name == "lasso_notebook.server" and r.levelno >= logging.ERROR
    ]


def wait_for(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)
    return result


def test_a_pool_extracts_a_queued_table_and_reports_it_finished(
    store: Store, owner: str, pools: Callable[..., Any]
) -> None:
    table_id = queue_table(store, owner)
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert [t["id"] for t in finished] == [table_id]
    assert finished[0]["status"] == "completed" and finished[0]["progress"] == 100
    row = raw(store, table_id)
    assert row["status"] == "completed" and row["total_rows"] == 3
    assert '"rows":3' in row["validation_summary"]
    report = finished[0]["extraction_report"]
    assert report["rows"] == 3 and report["failed_files"] == []
    assert [(e["source"], e["status"], e["error"]) for e in report["sources"]] == [
        ("text", "ok", None)
    ]
    assert [json.loads(r["data"])["sku"] for r in rows_of(store, table_id)] == ["S1", "S2", "S3"]


def test_a_source_without_rows_fails_the_table_with_a_reason(
    store: Store, owner: str, pools: Callable[..., Any]
) -> None:
    table_id = queue_table(store, owner, text="")
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert finished[0]["id"] == table_id and finished[0]["status"] == "failed"
    assert (
        finished[0]["error_message"]
        == "The source is empty: there is no text to extract rows from."
    )
    assert raw(store, table_id)["lease_owner"] is None


def test_a_pool_starts_its_workers_and_heartbeat_and_stops_them_at_once(
    store: Store, pools: Callable[..., Any]
) -> None:
    pool, _ = pools(workers=3)
    pool.start()
    threads = list(pool._threads)
    assert len(threads) == 4 and all(t.is_alive() and t.daemon for t in threads)
    # Named, for thread dumps of a stuck engine.
    assert [t.name for t in threads] == [
        "lasso-engine-worker-0",
        "lasso-engine-worker-1",
        "lasso-engine-worker-2",
        "lasso-engine-heartbeat",
    ]
    started = time.monotonic()
    pool.stop()
    # Idle workers wait up to 1 s for work, the heartbeat 2 s: stopping wakes them all.
    assert time.monotonic() - started < 0.5
    assert not any(t.is_alive() for t in threads)


def test_a_pool_has_at_least_one_worker_and_no_negative_pace(store: Store, tmp_path: Path) -> None:
    pool, _ = make_pool(store, tmp_path, workers=0, pace=-1)
    assert pool.workers == 1 and pool.pace == 0.0
    assert pool.files_dir == tmp_path / "files" and pool.downloads_dir == tmp_path / "downloads"


def test_stop_waits_for_a_busy_worker_only_as_long_as_asked(
    store: Store, owner: str, pools: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    table_id = queue_table(store, owner)
    release, writing = threading.Event(), threading.Event()
    write_progress = store.write_progress

    def held(*args: Any) -> bool:
        writing.set()
        release.wait(10)
        return write_progress(*args)

    monkeypatch.setattr(store, "write_progress", held)
    pool, _ = pools()
    pool.start()
    assert writing.wait(5)
    started = time.monotonic()
    pool.stop(timeout=0.3)
    assert 0.25 < time.monotonic() - started < 0.8
    release.set()
    wait_for(lambda: raw(store, table_id)["status"] == "queued")  # given back on its way out


def test_starting_takes_back_tables_of_ended_and_stale_engines_first(
    store: Store, owner: str, pools: Callable[..., Any], tmp_path: Path
) -> None:
    ended, stale = queue_table(store, owner), queue_table(store, owner)
    live = queue_table(store, owner)
    set_fields(store, ended, status="processing", lease_owner=OTHER, heartbeat=time.time())
    set_fields(store, stale, status="processing", lease_owner="eng_0c", heartbeat=0)
    set_fields(store, live, status="processing", lease_owner="eng_0d", heartbeat=time.time())
    lock = EngineLock(tmp_path, OTHER)
    lock.acquire()
    lock.release(remove=False)  # ended without giving its table back
    sweeps: list[tuple[Any, ...]] = []
    requeue_stale = store.requeue_stale

    def spy(*args: Any) -> int:
        sweeps.append(args)
        return requeue_stale(*args)

    store.requeue_stale = spy  # type: ignore[method-assign]
    pool, finished = pools()
    pool.start()
    assert sweeps[0] == (ME, STALE_AFTER)
    wait_for(lambda: len(finished) == 2)
    assert {t["id"] for t in finished} == {ended, stale}
    assert raw(store, live)["status"] == "processing"
    assert not lock.path.exists()  # the ended engine is forgotten


def test_the_heartbeat_keeps_leases_and_wakes_every_worker_for_requeued_tables(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "HEARTBEAT_EVERY", 0.001)
    pool, _ = make_pool(store, tmp_path, workers=3)
    # Each beat: (engines found gone, stale tables) -> wake-ups expected.
    beats = iter([(0, 0), (1, 0), (0, 2), (2, 3), (1, 1)])
    calls: list[tuple[str, tuple[Any, ...]]] = []
    woken: list[int] = []
    current: list[tuple[int, int]] = []

    def heartbeat(*args: Any) -> None:
        calls.append(("heartbeat", args))
        beat = next(beats, None)
        if beat is None:
            pool.stopping.set()
            beat = (0, 0)
        current[:] = [beat]
        woken.append(0)

    def orphans() -> int:
        return current[0][0]

    def stale(*args: Any) -> int:
        calls.append(("requeue_stale", args))
        return current[0][1]

    def notify() -> None:
        woken[-1] += 1

    monkeypatch.setattr(store, "heartbeat", heartbeat)
    monkeypatch.setattr(store, "requeue_stale", stale)
    monkeypatch.setattr(pool, "requeue_orphans", orphans)
    monkeypatch.setattr(pool, "notify", notify)
    pool._heartbeat()
    assert woken == [0, 3, 3, 3, 3, 0]
    assert calls[:2] == [("heartbeat", (ME,)), ("requeue_stale", (ME, STALE_AFTER))]


def test_a_failing_heartbeat_does_not_end_the_heartbeat(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(worker, "HEARTBEAT_EVERY", 0.001)
    pool, _ = make_pool(store, tmp_path)
    beats: list[int] = []

    def heartbeat(engine_id: str) -> None:
        beats.append(1)
        if len(beats) == 3:
            pool.stopping.set()
        raise RuntimeError("database is locked")

    monkeypatch.setattr(store, "heartbeat", heartbeat)
    pool._heartbeat()
    assert len(beats) == 3
    assert logged(caplog) == [("engine heartbeat failed", "database is locked")] * 3


def test_the_heartbeat_refreshes_the_pools_leases(
    store: Store, owner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "HEARTBEAT_EVERY", 0.001)
    table_id = claimed(store, owner)
    set_fields(store, table_id, heartbeat=0)
    pool, _ = make_pool(store, tmp_path)
    thread = threading.Thread(target=pool._heartbeat)
    thread.start()
    try:
        wait_for(lambda: raw(store, table_id)["heartbeat"] > 0)
    finally:
        pool.stopping.set()
        thread.join(5)
    assert raw(store, table_id)["lease_owner"] == ME


def test_a_stopping_pool_gives_its_table_back_at_once(
    store: Store, owner: str, pools: Callable[..., Any]
) -> None:
    text = "name,sku,price\n" + "".join(f"P{i},S{i},{i}\n" for i in range(3000))
    table_id = queue_table(store, owner, text=text)
    pool, finished = pools(pace=30)  # a long pause after the first step
    pool.start()
    wait_for(lambda: raw(store, table_id)["total_rows"] > 0)
    started = time.monotonic()
    pool.stop()
    assert time.monotonic() - started < 1
    row = raw(store, table_id)
    assert row["status"] == "queued" and row["lease_owner"] is None
    assert row["total_rows"] == len(rows_of(store, table_id)) > 0
    assert row["progress"] < 100 and finished == []


def test_a_resumed_run_skips_the_rows_written_and_counts_them_all(
    store: Store, owner: str, pools: Callable[..., Any]
) -> None:
    text = "name,sku,price\nA,S1,1\nB,S2,x\nC,S3,3\nD,S4,4\n"
    table_id = queue_table(store, owner, text=text)
    assert store.claim_next_table(ME) is not None
    assert store.write_progress(table_id, ME, extracted("A", "B"), 40)
    store.requeue(table_id, ME)
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert finished[0]["status"] == "completed" and finished[0]["total_rows"] == 4
    rows = rows_of(store, table_id)
    assert [r["row_index"] for r in rows] == [0, 1, 2, 3]
    assert [r["data"] for r in rows[:2]] == ['{"name":"A"}', '{"name":"B"}']  # not written again
    summary = finished[0]["validation_summary"]
    assert summary["rows"] == 4 and summary["error"] + summary["warning"] >= 1


def test_progress_says_100_only_once_the_table_is_completed(
    store: Store, owner: str, pools: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "name,sku,price\n" + "".join(f"P{i},S{i},{i}\n" for i in range(2500))
    table_id = queue_table(store, owner, text=text)
    seen: list[int] = []
    write_progress = store.write_progress

    def spy(table: str, engine: str, rows: list[Any], progress: int, *rest: Any) -> bool:
        seen.append(progress)
        return write_progress(table, engine, rows, progress, *rest)

    monkeypatch.setattr(store, "write_progress", spy)
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert seen and max(seen) == 99 and seen == sorted(seen)
    assert finished[0]["progress"] == 100 and raw(store, table_id)["total_rows"] == 2500


class _Pool:
    """What ``_Run`` reads of its pool, with a store that records what it is given."""

    def __init__(self, pace: float = 0.0, *, leased: bool = True) -> None:
        self.engine_id = ME
        self.pace = pace
        self.stopping = threading.Event()
        self.writes: list[tuple[int, int]] = []
        self.files: list[Any] = []
        self.leased = leased
        self.store = self

    def write_progress(
        self, table_id: str, engine_id: str, rows: list[Any], progress: int, files: Any
    ) -> bool:
        assert (table_id, engine_id) == ("tbl_1", ME)
        self.writes.append((len(rows), progress))
        self.files.append(files)
        return self.leased


def test_a_run_steps_progress_up_to_99_never_down() -> None:
    pool = _Pool()
    run = _Run(pool, {"id": "tbl_1", "progress": 20})  # type: ignore[arg-type]
    assert run.skip == 0 and run.total == 0  # a run from the first row
    for fraction in (0.1, 0.456, 0.3, 0.999, 1.0, 2.0):
        run.step(fraction)
    # Whole percent read, rounded down; 100 is said only by finishing the table.
    assert [p for _, p in pool.writes] == [20, 45, 45, 99, 99, 99]
    assert pool.files == [None] * 6  # no file sizes to change


def test_a_run_writes_the_fetched_files_once_with_the_next_step() -> None:
    pool = _Pool()
    run = _Run(pool, {"id": "tbl_1"})  # type: ignore[arg-type]
    files = [{"name": "cat.csv", "size": 19}]
    run.files = files
    run.step(0.5)
    run.step(0.6)
    assert pool.files == [files, None]


def test_a_run_writes_rows_in_batches_and_skips_those_written_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "WRITE_BATCH", 3)
    pool = _Pool()
    run = _Run(pool, {"id": "tbl_1", "resume_rows": 2})  # type: ignore[arg-type]
    assert run.total == 2 and run.progress == 0
    errors = [{"column_key": "price", "message": "not a number"}]
    for name in "ABCDEFG":
        bad = name == "A"  # written by the earlier run: skipped, but counted with its errors
        run.add(
            {
                "data": {"name": name},
                "validation_status": "error" if bad else "valid",
                "validation_errors": errors if bad else [],
            }
        )
    assert pool.writes == [(3, 0)] and [r["data"]["name"] for r in run.buffer] == ["F", "G"]
    run.write()
    assert pool.writes == [(3, 0), (2, 0)] and run.total == 7 and run.buffer == []
    summary = run.validation.summary()
    assert summary["rows"] == 7 and summary["error"] == 1 and summary["valid"] == 6
    assert [(r["column"], r["count"]) for r in summary["reasons"]] == [("price", 1)]


def test_a_run_stops_when_its_table_is_no_longer_leased_or_the_pool_stops() -> None:
    lost = _Run(_Pool(leased=False), {"id": "tbl_1"})  # type: ignore[arg-type]
    with pytest.raises(worker._Abort):
        lost.step(0.5)
    pool = _Pool()
    stopped = _Run(pool, {"id": "tbl_1"})  # type: ignore[arg-type]
    pool.stopping.set()
    with pytest.raises(worker._Abort):
        stopped.step(0.5)
    assert pool.writes == []


def test_a_run_keeps_its_pace_between_steps_unless_catching_up() -> None:
    pool = _Pool(pace=0.2)
    run = _Run(pool, {"id": "tbl_1", "resume_rows": 1})  # type: ignore[arg-type]
    started = time.monotonic()
    run.step(0.1)  # catching up: no wait
    assert time.monotonic() - started < 0.15
    run.add({"data": {}})
    run.step(0.2)
    run.step(0.3)
    assert time.monotonic() - started >= 0.2 * 2 - 0.05
    threading.Timer(0.05, pool.stopping.set).start()
    with pytest.raises(worker._Abort):
        run.step(0.4)  # stopping during the wait ends the run at once
    assert time.monotonic() - started < 0.2 * 3


def files_table(store: Store, owner: str, *names: str) -> str:
    """A queued table of uploaded files that were deleted before extraction."""
    refs = [{"file_id": f"fil_{n}", "filename": name} for n, name in enumerate(names)]
    return queue_table(store, owner, source_type="files", source_text=None, source_refs=refs)


def test_a_table_whose_only_source_fails_says_that_sources_reason(
    store: Store, owner: str, pools: Callable[..., Any]
) -> None:
    table_id = files_table(store, owner, "a.csv")
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert finished[0]["id"] == table_id and finished[0]["status"] == "failed"
    assert finished[0]["error_message"] == (
        "The uploaded file 'a.csv' (fil_0) was deleted before extraction; upload it again and "
        "create a new table."
    )
    report = finished[0]["extraction_report"]
    assert report["rows"] == 0 and [f["file"] for f in report["failed_files"]] == ["a.csv"]


def test_a_table_whose_sources_all_fail_gives_each_ones_reason(
    store: Store, owner: str, pools: Callable[..., Any]
) -> None:
    files_table(store, owner, "a.csv", "b.csv")
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert finished[0]["status"] == "failed"
    assert finished[0]["error_message"] == (
        "No rows could be extracted from any of the 2 sources: "
        "a.csv: The uploaded file 'a.csv' (fil_0) was deleted before extraction; upload it "
        "again and create a new table.; "
        "b.csv: The uploaded file 'b.csv' (fil_1) was deleted before extraction; upload it "
        "again and create a new table."
    )


def test_a_source_read_without_a_row_fails_the_table(
    store: Store, owner: str, pools: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "extract", lambda *args, **kwargs: iter(()))
    table_id = queue_table(store, owner)
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert finished[0]["id"] == table_id and finished[0]["status"] == "failed"
    assert finished[0]["error_message"] == "No rows could be extracted from the source."
    assert finished[0]["extraction_report"]["sources"] == [
        {"source": "text", "status": "ok", "error": None}
    ]


def test_a_crash_in_a_run_fails_the_table_and_the_worker_goes_on(
    store: Store,
    owner: str,
    pools: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    crashed, fine = queue_table(store, owner), queue_table(store, owner)
    record_validation = store.record_validation

    def once(table_id: str, *args: Any) -> None:
        if table_id == crashed:
            raise RuntimeError("disk on fire")
        record_validation(table_id, *args)

    monkeypatch.setattr(store, "record_validation", once)
    pool, finished = pools()
    pool.start()
    wait_for(lambda: len(finished) == 2)
    assert [(t["id"], t["status"]) for t in finished] == [(crashed, "failed"), (fine, "completed")]
    assert finished[0]["error_message"] == "Extraction failed unexpectedly; see the engine log."
    assert raw(store, crashed)["lease_owner"] is None
    assert logged(caplog) == [(f"extraction of {crashed} crashed", "disk on fire")]


def test_a_source_list_that_cannot_be_read_fails_the_table_with_its_reason(
    store: Store, owner: str, pools: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    table_id = queue_table(store, owner)
    pool, finished = pools()

    def unreadable(*args: Any) -> Any:
        raise worker.ExtractionError("the source list is unreadable")

    monkeypatch.setattr(pool, "_sources", unreadable)
    pool.start()
    wait_for(lambda: finished)
    assert finished[0]["id"] == table_id and finished[0]["status"] == "failed"
    assert finished[0]["error_message"] == "the source list is unreadable"


def test_a_failing_finished_callback_does_not_stop_the_worker(
    store: Store, owner: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = queue_table(store, owner), queue_table(store, owner)
    told: list[str] = []

    def on_finished(table: dict[str, Any]) -> None:
        told.append(table["id"])
        raise RuntimeError("webhook queue is full")

    pool = WorkerPool(
        store, tmp_path, ME, workers=1, pace=0, max_download_bytes=1, on_finished=on_finished
    )
    pool.start()
    try:
        wait_for(lambda: len(told) == 2)
    finally:
        pool.stop(timeout=5)
    assert told == [first, second]
    assert logged(caplog) == [
        (f"could not queue the webhook for {table}", "webhook queue is full")
        for table in (first, second)
    ]


def test_a_table_deleted_during_its_run_is_left_alone(
    store: Store, owner: str, pools: Callable[..., Any], tmp_path: Path
) -> None:
    text = "name,sku,price\n" + "".join(f"P{i},S{i},{i}\n" for i in range(3000))
    table_id = queue_table(store, owner, text=text)
    later = queue_table(store, owner)
    (tmp_path / "downloads" / table_id).mkdir(parents=True)
    pool, finished = pools(pace=0.1)
    pool.start()
    wait_for(lambda: raw(store, table_id)["total_rows"] > 0)
    assert store.delete_table(owner, table_id)
    wait_for(lambda: finished)
    assert [t["id"] for t in finished] == [later]  # the deleted table is never reported
    assert not (tmp_path / "downloads" / table_id).exists()


def test_a_worker_goes_on_after_a_claim_fails(
    store: Store,
    owner: str,
    pools: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    table_id = queue_table(store, owner)
    claim = store.claim_next_table
    failures = [RuntimeError("database is locked")]

    def flaky(engine_id: str) -> Any:
        if failures:
            pool.notify()  # poll again at once rather than in a second
            raise failures.pop()
        return claim(engine_id)

    monkeypatch.setattr(store, "claim_next_table", flaky)
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished, timeout=5)
    assert finished[0]["id"] == table_id and failures == []
    assert logged(caplog) == [("could not claim a table", "database is locked")]


def test_a_worker_whose_claim_fails_while_stopping_ends(
    store: Store, pools: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, _ = pools()

    def closed(engine_id: str) -> Any:
        pool.stopping.set()
        raise RuntimeError("the engine's store is closed")

    monkeypatch.setattr(store, "claim_next_table", closed)
    loop = threading.Thread(target=pool._loop)
    started = time.monotonic()
    loop.start()
    loop.join(5)
    assert not loop.is_alive() and time.monotonic() - started < 0.5


def url_run(store: Store, owner: str, tmp_path: Path, written: int) -> tuple[_Run, str]:
    """A resumed run of a URL table with ``written`` rows from before, digest "old" noted
    for its source 0."""
    refs = [{"url": "http://example.test/a.csv"}]
    table_id = queue_table(store, owner, source_type="urls", source_text=None, source_refs=refs)
    assert store.claim_next_table(ME) is not None
    assert store.note_source(table_id, ME, 0, "old")
    assert store.write_progress(table_id, ME, extracted(*(f"P{i}" for i in range(written))), 30)
    store.requeue(table_id, ME)
    job = store.claim_next_table(ME)
    assert job is not None and job["resume_rows"] == written
    pool = SimpleNamespace(store=store, engine_id=ME, pace=0.0, stopping=threading.Event())
    return _Run(pool, job), table_id  # type: ignore[arg-type]


def fetched(tmp_path: Path, content: str) -> Source:
    path = tmp_path / "fetched.csv"
    path.write_text(content)
    return Source(path=path, filename="a.csv")


def digests(store: Store, table_id: str) -> dict[str, str]:
    return dict(json.loads(raw(store, table_id)["resume_state"]).get("sources", {}))


def test_an_unchanged_url_source_keeps_its_rows(store: Store, owner: str, tmp_path: Path) -> None:
    run, table_id = url_run(store, owner, tmp_path, written=2)
    source = fetched(tmp_path, CSV)
    digest = hashlib.sha256(CSV.encode()).hexdigest()
    run.job["source_digests"] = {"0": digest}
    run.begin_source(0, source)
    assert run.label == "'a.csv'" and run.skip == 2 and run.total == 2
    assert len(rows_of(store, table_id)) == 2 and digests(store, table_id) == {"0": "old"}


def test_a_url_source_that_changed_drops_its_rows_and_says_so(
    store: Store, owner: str, tmp_path: Path
) -> None:
    run, table_id = url_run(store, owner, tmp_path, written=3)
    run.skip = 2  # source 0 gave the first row; this source, source 1, the next two
    run.begin_source(1, fetched(tmp_path, CSV))
    assert run.skip == 0 and run.total == 1
    assert [r["row_index"] for r in rows_of(store, table_id)] == [0]
    assert raw(store, table_id)["status_note"] == (
        "Extraction resumed at row 1 after an interruption: 'a.csv' changed since, so its rows "
        "were extracted again."
    )
    assert digests(store, table_id) == {"0": "old", "1": hashlib.sha256(CSV.encode()).hexdigest()}


def test_a_url_source_read_for_the_first_time_notes_its_digest(
    store: Store, owner: str, tmp_path: Path
) -> None:
    run, table_id = url_run(store, owner, tmp_path, written=0)
    run.begin_source(1, fetched(tmp_path, "x"))
    assert digests(store, table_id) == {"0": "old", "1": hashlib.sha256(b"x").hexdigest()}
    assert raw(store, table_id)["status_note"] is None


def test_a_url_source_of_a_table_no_longer_leased_stops_the_run(
    store: Store, owner: str, tmp_path: Path
) -> None:
    for written in (0, 2):
        run, table_id = url_run(store, owner, tmp_path, written=written)
        store.requeue(table_id, ME)
        with pytest.raises(worker._Abort):
            run.begin_source(0, fetched(tmp_path, "new"))
        assert len(rows_of(store, table_id)) == written
        assert store.delete_table(owner, table_id)


def test_text_and_uploaded_sources_are_never_digested(
    store: Store, owner: str, tmp_path: Path
) -> None:
    for source_type in ("text", "files"):
        table_id = queue_table(store, owner, source_type=source_type)
        job = store.claim_next_table(ME)
        assert job is not None
        pool = SimpleNamespace(store=store, engine_id=ME, pace=0.0, stopping=threading.Event())
        run = _Run(pool, job)  # type: ignore[arg-type]
        run.begin_source(0, fetched(tmp_path, "x"))
        assert run.label == "'a.csv'" and digests(store, table_id) == {}


def test_a_url_source_is_fetched_into_the_tables_downloads_and_named_in_its_files(
    store: Store,
    owner: str,
    pools: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "http://example.test/cat"
    fetches: list[tuple[str, Path, int]] = []

    def fetch_url(asked: str, dest: Path, max_bytes: int) -> Source:
        fetches.append((asked, dest, max_bytes))
        dest.write_text(CSV)
        return Source(path=dest, filename="cat.csv", content_type="text/csv")

    monkeypatch.setattr(worker, "fetch_url", fetch_url)
    table_id = queue_table(
        store,
        owner,
        source_type="urls",
        source_text=None,
        source_refs=[{"url": url}],
        files=[{"name": url, "path": url, "size": 0}],
    )
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert fetches == [(url, tmp_path / "downloads" / table_id / "0", 1 << 20)]
    assert finished[0]["status"] == "completed" and finished[0]["total_rows"] == 3
    assert finished[0]["files"] == [{"name": "cat.csv", "path": url, "size": len(CSV)}]
    assert all(json.loads(r["source"])["file"] == url for r in rows_of(store, table_id))
    assert not (tmp_path / "downloads" / table_id).exists()  # cleaned up after the run


def test_a_source_that_breaks_before_it_is_opened_is_named_generically(
    store: Store, owner: str, pools: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fetch_url(*args: Any) -> Source:
        raise EOFError  # a damaged download, before the source has a name

    monkeypatch.setattr(worker, "fetch_url", fetch_url)
    refs = [{"url": "http://example.test/cat"}]
    queue_table(store, owner, source_type="urls", source_text=None, source_refs=refs)
    pool, finished = pools()
    pool.start()
    wait_for(lambda: finished)
    assert finished[0]["error_message"] == (
        "the source is damaged (its compressed content cannot be unpacked)."
    )


def test_an_idle_worker_polls_for_tables_queued_without_telling_it(
    store: Store, owner: str, pools: Callable[..., Any]
) -> None:
    pool, finished = pools()
    pool.start()  # idle: waits for a wake-up, or polls
    started = time.monotonic()
    table_id = queue_table(store, owner)  # as another engine on the data dir queues it
    wait_for(lambda: finished, timeout=5)
    assert finished[0]["id"] == table_id
    assert time.monotonic() - started < 1.6  # polled within a second
