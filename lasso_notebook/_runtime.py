"""The one background thread that owns all network I/O and polling (docs/architecture.md §2).

A daemon thread runs an asyncio loop, started lazily inside ``contextvars.copy_context()`` so
widget updates sent from it work on every ipykernel version. The kernel's own thread only ever
waits on futures, in short slices, so Ctrl-C interrupts a wait within a fraction of a second.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .errors import RuntimeThreadError

__all__ = [
    "get_loop",
    "in_runtime_thread",
    "run_sync",
    "spawn",
    "wait_future",
    "wait_in_slices",
]

log = logging.getLogger("lasso_notebook")

T = TypeVar("T")

#: How often a blocking wait wakes up to let KeyboardInterrupt through (seconds).
WAIT_SLICE = 0.1

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _report_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Never swallow a background failure: anything the loop could not hand to a caller is logged.
    exc = context.get("exception")
    log.error("lasso_notebook background error: %s", context.get("message"), exc_info=exc)


def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(_report_loop_error)
    loop.call_soon(ready.set)
    loop.run_forever()


def get_loop() -> asyncio.AbstractEventLoop:
    """The runtime loop, starting its thread on first use."""
    global _loop, _thread
    with _lock:
        if _loop is not None and _thread is not None and _thread.is_alive():
            return _loop
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=_run_loop, args=(loop, ready), name="lasso-runtime", daemon=True
        )
        # Copying the context is what lets widget messages sent from this thread find their
        # parent on ipykernel 7.0.x (``LookupError: shell_parent`` otherwise).
        contextvars.copy_context().run(thread.start)
        ready.wait()
        _loop, _thread = loop, thread
        return loop


def in_runtime_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def _forget_after_fork() -> None:
    # A forked child has no runtime thread; let it start its own.
    global _loop, _thread, _lock
    _loop, _thread, _lock = None, None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


class _SpawnedFuture(concurrent.futures.Future[T]):
    """A spawned coroutine's future. If it ends in an exception that nobody ever asks for
    (``result()`` / ``exception()``), the exception is logged when the future is dropped, as
    asyncio does for tasks: a fire-and-forget failure is never silent."""

    _asked = False

    # A wait that times out has not seen the outcome: only a finished future counts as asked.
    def result(self, timeout: float | None = None) -> T:
        try:
            return super().result(timeout)
        finally:
            self._asked = self._asked or self.done()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        try:
            return super().exception(timeout)
        finally:
            self._asked = self._asked or self.done()

    def __del__(self) -> None:
        if self._asked or not self.done() or self.cancelled():
            return
        exc = super().exception(0)
        if exc is not None:
            log.error("lasso_notebook background task failed: %r", exc, exc_info=exc)


def spawn(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule ``coro`` on the runtime loop; the future carries its result or exception, and
    cancelling it cancels the coroutine."""
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"spawn() needs a coroutine, got {type(coro).__name__}")
    loop = get_loop()
    future: _SpawnedFuture[T] = _SpawnedFuture()

    def start() -> None:
        if future.cancelled():  # cancelled before the loop got to it
            coro.close()
            return
        try:
            task = loop.create_task(coro)
        except BaseException as exc:  # the loop is closing: the caller must not wait for ever
            coro.close()
            if future.set_running_or_notify_cancel():
                future.set_exception(exc)
            return
        # Same state transfer as asyncio.run_coroutine_threadsafe, on our own future type.
        future.add_done_callback(
            lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None
        )
        task.add_done_callback(lambda t: _copy_outcome(t, future))

    loop.call_soon_threadsafe(start)
    return future


def _copy_outcome(task: asyncio.Task[T], future: concurrent.futures.Future[T]) -> None:
    if task.cancelled():
        future.cancel()
    elif future.set_running_or_notify_cancel():
        exc = task.exception()
        if exc is None:
            future.set_result(task.result())
        else:
            future.set_exception(exc)


def _refuse_on_runtime_thread() -> None:
    # The runtime thread waiting on its own loop would never wake up again: every job freezes.
    if in_runtime_thread():
        raise RuntimeThreadError(
            "a blocking lasso_notebook call was made on its own runtime thread (a callback?), "
            "where it would deadlock; use the async API (AsyncLasso / await job) there"
        )


def wait_in_slices(
    done: Callable[[], bool],
    timeout: float | None,
    timed_out: Callable[[], BaseException],
    *,
    future: concurrent.futures.Future[Any] | None = None,
    tick: Callable[[], None] | None = None,
) -> None:
    """Block until ``done()``, in slices of ``WAIT_SLICE`` so KeyboardInterrupt gets through
    promptly, calling ``tick()`` (a display's refresh) before each slice; raises
    ``timed_out()`` once ``timeout`` seconds passed. A slice ends as soon as ``future``, when
    given, completes. Whatever is awaited is left running on a timeout or an interrupt."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done():
        if tick is not None:
            tick()
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise timed_out()
        slice_ = WAIT_SLICE if remaining is None else min(WAIT_SLICE, remaining)
        if future is not None:
            concurrent.futures.wait([future], timeout=slice_)
        else:
            time.sleep(slice_)


def wait_future(
    future: concurrent.futures.Future[T],
    timeout: float | None = None,
) -> T:
    """Wait for ``future`` in short slices so KeyboardInterrupt gets through promptly.

    Raises ``TimeoutError`` when ``timeout`` passes first; the future is left running.
    """
    _refuse_on_runtime_thread()
    wait_in_slices(
        future.done,
        timeout,
        lambda: TimeoutError(f"no result after {timeout} s"),
        future=future,
    )
    return future.result()


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the runtime loop and block until it finishes.

    Works from plain scripts, notebook cells and inside a running event loop (the loop here is a
    different one). Ctrl-C or a timeout cancels the coroutine and re-raises in the caller.
    """
    if in_runtime_thread():
        coro.close()
    _refuse_on_runtime_thread()
    future = spawn(coro)
    try:
        return wait_future(future, timeout)
    except BaseException:
        future.cancel()
        raise
