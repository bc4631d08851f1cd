"""Shared fixtures. ``engine``: a fresh embedded engine (real loopback HTTP) on a temp data dir;
``engine_factory``: start engines with custom options; all are stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


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
