"""Shared fixtures. ``engine``: a fresh embedded engine (real loopback HTTP) on a temp data dir;
``engine_factory``: start engines with custom options; all are stopped after the test. For the
whole session ``LASSO_NOTEBOOK_DATA_DIR`` points at a temp dir, so nothing (the embedded engine,
the reuse index, kernels started by tests) ever writes into the real ``~/.lasso_notebook``. Also
the hypothesis profiles every property test runs under."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

# Property tests. ``make test``: the same examples on every run (derandomized, no example
# database), so a rare input cannot turn a run red at random. ``make fuzz`` sets
# LASSO_HYPOTHESIS_PROFILE=fuzz: fresh random examples, LASSO_FUZZ_EXAMPLES per test (default
# 500), and failures kept in .hypothesis/ to be replayed first by the next fuzz run.
_COMMON: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("test", derandomize=True, database=None, max_examples=150, **_COMMON)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("LASSO_FUZZ_EXAMPLES") or 500), **_COMMON
)
settings.load_profile(os.environ.get("LASSO_HYPOTHESIS_PROFILE") or "test")


@pytest.fixture(scope="session", autouse=True)
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The data dir of everything that does not choose its own (tests that need their own
    still ``monkeypatch.setenv`` it; engine fixtures pass ``data_dir=``)."""
    path = tmp_path_factory.mktemp("lasso-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(path))
        yield path


@pytest.fixture
def engine_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    from lasso_notebook.server import serve

    started: list[Any] = []

    def start(**options: Any) -> Any:
        options.setdefault("data_dir", tmp_path_factory.mktemp("engine"))
        handle = serve(port=0, **options)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


@pytest.fixture
def engine(engine_factory: Callable[..., Any]) -> Any:
    """A running engine: ``.base_url``, ``.api_key``, ``.create_key()``, ``.data_dir``."""
    return engine_factory()


@pytest.fixture
def python_sigint() -> Iterator[None]:
    """Ctrl-C handled by Python (a KeyboardInterrupt in the main thread), as in a kernel. A
    library an earlier test loads may leave SIGINT to the OS default, and then
    ``_thread.interrupt_main()`` does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def api(engine: Any) -> Iterator[httpx.Client]:
    """An HTTP client of ``engine``, with its key."""
    headers = {"Authorization": f"Bearer {engine.api_key}"}
    with httpx.Client(base_url=engine.base_url, headers=headers, timeout=30) as client:
        yield client
