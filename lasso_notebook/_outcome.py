"""What a job and a batch share once they finish (``Outcome``): the DataFrame ``result()``
hands over (raising the job's error, warning once about values that did not fit), ``await``,
and done-callbacks run on the runtime thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd

from . import _runtime
from .frames import warn_unparsed

__all__ = ["Outcome"]

log = logging.getLogger("lasso_notebook")


class Outcome:
    """Mixin: the subclass sets these in ``__init__`` and defines ``frame()`` and ``_owner()``."""

    _result: concurrent.futures.Future[Any]
    _error: BaseException | None
    _lock: threading.Lock
    _finished: bool
    _callbacks: list[Callable[[Any], Any]]
    _warned_unparsed: bool

    def frame(self, *, labels: Any, meta: Any, valid_only: Any) -> pd.DataFrame | None:
        raise NotImplementedError

    def _owner(self) -> str:
        """How messages name it: ``table tbl_…``, ``batch 'q1'``."""
        raise NotImplementedError

    def _frame(
        self, labels: bool | None, meta: bool | None, valid_only: bool | None = None
    ) -> pd.DataFrame:
        """``result()``'s frame: raises the error, and warns (once, on the caller's thread, so
        the warning shows under the cell that asked) about values that did not fit their
        column type."""
        if self._error is not None:
            raise self._error
        df = self.frame(labels=labels, meta=meta, valid_only=valid_only)
        assert df is not None
        if not self._warned_unparsed:
            self._warned_unparsed = True
            warn_unparsed(df, self._owner())
        return df

    def __await__(self) -> Any:
        return self._await().__await__()

    async def _await(self) -> pd.DataFrame:
        # Works on any loop (the kernel's, the runtime's); the shield keeps a cancelled awaiter
        # from cancelling the job's own future.
        await asyncio.shield(asyncio.wrap_future(self._result))
        return self._frame(None, None)

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None:
        """Call ``fn(job)`` once it finished (on the runtime thread; at once, there, if it
        already has). Exceptions from ``fn`` are logged."""
        with self._lock:
            if not self._finished:
                self._callbacks.append(fn)
                return
        _runtime.get_loop().call_soon_threadsafe(self._call, fn)

    def _call(self, fn: Callable[[Any], Any]) -> None:
        try:
            fn(self)
        except Exception:
            log.exception("lasso_notebook: a done-callback of %s failed", self._owner())
