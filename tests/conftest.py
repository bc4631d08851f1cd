"""Shared fixtures. ``engine``: a fresh embedded engine (real loopback HTTP) on a temp data dir;
``engine_factory``: start engines with custom options; all are stopped after the test. For the
whole session ``LASSO_NOTEBOOK_DATA_DIR`` points at a temp dir, so nothing (the embedded engine,
the reuse index, kernels started by tests) ever writes into the real ``~/.lasso_notebook``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


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
