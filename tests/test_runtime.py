"""The background runtime thread: one loop, usable from scripts, cells and running loops;
interruptible waits; no deadlock when called from itself."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import signal
import threading
import time
from collections.abc import Coroutine
from typing import Any

import httpx
import pytest

from lasso_notebook import _runtime
from lasso_notebook.client import Lasso
from lasso_notebook.errors import RuntimeThreadError


def test_one_daemon_thread_runs_every_coroutine() -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert _runtime.run_sync(where()) == "lasso-runtime"
    assert _runtime.get_loop() is _runtime.get_loop()
    assert _runtime._thread is not None and _runtime._thread.daemon


def test_exceptions_reach_the_caller() -> None:
    async def boom() -> None:
        raise ValueError("kaput")

    with pytest.raises(ValueError, match="kaput"):
        _runtime.run_sync(boom())
    future = _runtime.spawn(boom())
    with pytest.raises(ValueError, match="kaput"):
        _runtime.wait_future(future, timeout=5)


def test_a_dropped_spawned_failure_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    go = threading.Event()

    async def boom() -> None:
        while not go.is_set():
            await asyncio.sleep(0.01)
        raise ValueError("nobody asked")

    future = _runtime.spawn(boom())
    with pytest.raises(concurrent.futures.TimeoutError):
        future.result(timeout=0.05)  # a wait that gave up saw no outcome: still unasked
    go.set()
    concurrent.futures.wait([future], timeout=5)
    del future
    deadline = time.monotonic() + 5
    # The loop thread may still hold the future for a moment: collect until it is gone.
    while not any(
        "nobody asked" in r.getMessage() for r in caplog.records if r.levelname == "ERROR"
    ):
        assert time.monotonic() < deadline, "the dropped failure was never logged"
        gc.collect()
        time.sleep(0.01)


def test_a_retrieved_spawned_failure_is_not_logged_again(caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise ValueError("handled")

    future = _runtime.spawn(boom())
    assert isinstance(future.exception(timeout=5), ValueError)
    del future
    gc.collect()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def _sleeper(
    started: threading.Event | None = None,
) -> tuple[Coroutine[Any, Any, None], threading.Event]:
    """A coroutine that sleeps a minute (setting ``started`` first), and the event it sets
    when it is cancelled."""
    cancelled = threading.Event()

    async def sleep() -> None:
        if started is not None:
            started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    return sleep(), cancelled


def test_cancelling_a_spawned_future_cancels_the_coroutine() -> None:
    started = threading.Event()
    coro, cancelled = _sleeper(started)
    future = _runtime.spawn(coro)
    assert started.wait(5)
    assert future.cancel()
    assert cancelled.wait(2)


def test_spawn_refuses_what_is_not_a_coroutine() -> None:
    with pytest.raises(TypeError, match="needs a coroutine"):
        _runtime.spawn(asyncio.sleep)  # type: ignore[arg-type]


def test_timeout_cancels_the_coroutine() -> None:
    coro, cancelled = _sleeper()
    with pytest.raises(TimeoutError):
        _runtime.run_sync(coro, timeout=0.2)
    assert cancelled.wait(2)


def test_ctrl_c_interrupts_run_sync_promptly_and_cancels() -> None:
    forever, cancelled = _sleeper()

    main = threading.main_thread().ident
    assert main == threading.get_ident()
    sent_at: list[float] = []

    def press_ctrl_c() -> None:
        sent_at.append(time.monotonic())
        signal.pthread_kill(main, signal.SIGINT)

    threading.Timer(0.3, press_ctrl_c).start()
    with pytest.raises(KeyboardInterrupt):
        _runtime.run_sync(forever)
    latency = time.monotonic() - sent_at[0]
    assert latency < 0.2, f"Ctrl-C took {latency:.2f} s to interrupt the wait"
    assert cancelled.wait(2)


def test_sync_client_works_inside_a_running_event_loop() -> None:
    client = Lasso(
        api_key="lasso_x",
        base_url="http://t/api/v1",
        transport=httpx.MockTransport(
            lambda r: httpx.Response(200, json={"id": "tbl_1", "status": "completed"})
        ),
    )

    async def cell() -> str:
        # What a notebook cell does: a sync call while the kernel's loop is running.
        return client.tables.get("tbl_1").status

    assert asyncio.run(cell()) == "completed"


def test_blocking_call_from_the_runtime_thread_raises_instead_of_deadlocking() -> None:
    client = Lasso(
        api_key="lasso_x",
        base_url="http://t/api/v1",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"id": "t"})),
    )

    async def misuse() -> None:
        client.tables.get("t")

    with pytest.raises(RuntimeThreadError, match="async API"):
        _runtime.run_sync(misuse(), timeout=5)


def test_waiting_on_a_future_from_the_runtime_thread_raises_instead_of_freezing() -> None:
    async def inner() -> int:
        return 1

    async def callback_that_blocks() -> None:
        # What a done-callback calling a blocking API would do.
        _runtime.wait_future(_runtime.spawn(inner()), timeout=5)

    with pytest.raises(RuntimeThreadError, match="callback"):
        _runtime.run_sync(callback_that_blocks(), timeout=5)
    assert _runtime.run_sync(inner(), timeout=5) == 1  # the loop is still alive
