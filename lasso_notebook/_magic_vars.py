"""Which job may write which notebook variable: ``VarOwners`` lets a cell claim ``VAR`` for its
job, and stores a job's DataFrame only while that job still owns ``VAR`` — check and write in one
step under a lock, so an older job finishing late never overwrites a newer cell's result.
``View`` is the DataFrame shape a cell asked for."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .jobs import TableJob

__all__ = ["VarOwners", "View"]


@dataclass(frozen=True)
class View:
    """The DataFrame shape a cell asked for, and whether it gets its own copy."""

    labels: bool
    meta: bool
    copy: bool
    #: Leave out rows whose validation status is ``error`` (``--valid-only``).
    valid_only: bool = False

    def of(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.copy() if self.copy else df


class VarOwners:
    """Cells claim and store on the main thread, background jobs store from the runtime
    thread; one lock guards the owners and makes "VAR still mine? then store" one step."""

    def __init__(self, namespace: Callable[[], MutableMapping[str, Any]]) -> None:
        self._namespace = namespace  # the shell's user namespace, looked up at each store
        self._lock = threading.Lock()
        # VAR → the job that owns it now.
        self._owners: dict[str, TableJob] = {}
        # The job a cell meant for each variable, for the "var" column of %lasso jobs; weak, so
        # this does not keep every job (and its DataFrame) of the kernel alive.
        self._targets: weakref.WeakKeyDictionary[TableJob, str] = weakref.WeakKeyDictionary()

    def claim(self, var: str, job: TableJob) -> None:
        """``job``, of the cell being run, now owns VAR: older jobs no longer store into it."""
        with self._lock:
            self._owners[var] = job
            self._targets[job] = var

    def store(self, var: str, df: pd.DataFrame, job: TableJob, *, newest: bool = False) -> bool:
        """Put ``df`` in VAR if ``job`` still owns it (or ``newest``: the cell that just claimed
        it). True if stored."""
        with self._lock:
            owner = self._owners.get(var) is job
            if owner:
                self._owners.pop(var, None)
            if not (owner or newest):
                return False
            self._namespace()[var] = df
        return True

    def release(self, var: str, job: TableJob) -> bool:
        """``job`` gives VAR up without storing; False if a newer cell owns VAR already."""
        with self._lock:
            if self._owners.get(var) is not job:
                return False
            self._owners.pop(var, None)
            return True

    def owner(self, var: str) -> TableJob | None:
        """The job that will set VAR when it completes, if any."""
        with self._lock:
            return self._owners.get(var)

    def pending(self) -> dict[str, TableJob]:
        """Each VAR a job will still set → that job."""
        with self._lock:
            return dict(self._owners)

    def targets(self) -> dict[TableJob, str]:
        """Each job → the variable its cell meant it for."""
        with self._lock:
            return dict(self._targets)
