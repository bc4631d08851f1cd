"""One progress display for a group of tables, shared by ``lasso_notebook.wait()`` and batches:
``GroupState`` (done of all, rows so far, failures, an estimate) as one line of text, and
``GroupWidget``, the progress widget that shows it in a kernel (one widget, not one per table)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._display import format_duration, frontend

if TYPE_CHECKING:
    from .widgets.progress import ProgressWidget

__all__ = ["GroupState", "GroupWidget", "estimate_left", "plural"]

log = logging.getLogger("lasso_notebook")

#: Below this share done, an estimate of the time left is mostly noise: none is shown.
_MIN_PROGRESS_FOR_ETA = 5


def plural(count: int, word: str) -> str:
    """``1 table``, ``3 tables``, ``1,200 rows``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def estimate_left(progress: float, elapsed: float) -> float | None:
    """Seconds left at the pace so far (``progress`` % done after ``elapsed`` s); None too
    early to tell."""
    if progress < _MIN_PROGRESS_FOR_ETA or progress >= 100 or elapsed <= 0:
        return None
    return elapsed * (100 - progress) / progress


@dataclass
class GroupState:
    """Where a group of tables stands, as the display shows it."""

    title: str
    done: int
    total: int
    rows: int
    progress: int
    elapsed: float
    #: "job" for a wait, "table" for a batch.
    unit: str = "job"
    eta: float | None = None
    #: Counted problems after the rows: ``["1 failed", "2 files failed"]``.
    counts: list[str] = field(default_factory=list)
    #: What failed and why, in a line (red in the widget).
    failures: str = ""
    #: The group as a whole ended without a result (a failed wait, a failed batch).
    failed: bool = False
    note: str = ""
    validation: str = ""
    #: Whether the group is over; None: when every table is done (a batch still has its
    #: rows to combine then, and says so).
    ended: bool | None = None

    @property
    def finished(self) -> bool:
        return self.done == self.total if self.ended is None else self.ended

    @property
    def phase(self) -> str:
        if not self.finished:
            return "running"
        return "failed" if self.failed else "completed"

    def status(self, *, rows: bool = True) -> str:
        """E.g. ``2 of 3 done · 57 rows · 1 failed`` (the widget shows the rows apart)."""
        unit = (
            "" if self.unit == "job" else f" {self.unit}s" if self.total != 1 else f" {self.unit}"
        )
        parts = [f"{self.done} of {self.total}{unit} done"]
        if rows:
            parts.append(plural(self.rows, "row"))
        parts.extend(self.counts)
        return " · ".join(parts)

    def line(self) -> str:
        """The text form: ``title · status · elapsed · ~left · failures · note``."""
        parts = [self.title, self.status(), format_duration(self.elapsed)]
        if self.eta is not None and not self.finished:
            parts.append(f"~{format_duration(self.eta)} left")
        parts.extend(part for part in (self.failures, self.note) if part)
        return " · ".join(parts)

    def lines(self) -> str:
        """``line()`` and, once finished, the validation line under it."""
        if self.finished and self.validation:
            return f"{self.line()}\n{self.validation}"
        return self.line()


class GroupWidget:
    """A ``ProgressWidget`` drawing a ``GroupState`` (None outside a kernel or without
    widgets: the owner then prints or draws its text line)."""

    def __init__(self, title: str, *, can_stop: bool = False) -> None:
        from .widgets.progress import ProgressWidget

        self.widget: ProgressWidget = ProgressWidget(
            name=title, status="waiting", phase="running", can_stop=can_stop
        )
        self.displayed = False

    def show(self) -> None:
        """Display the widget under the running cell, once (only in a kernel)."""
        if self.displayed or frontend() != "kernel":
            return
        try:
            from IPython.display import display

            display(self.widget)
            self.displayed = True
        except Exception:
            log.debug("could not display the progress widget", exc_info=True)

    def push(self, state: GroupState, *, final: bool = False, **extra: Any) -> None:
        try:
            self.widget.push(
                final=final,
                status=state.status(rows=False),
                phase=state.phase,
                progress=100 if state.finished and not state.failed else state.progress,
                total_rows=state.rows,
                elapsed=round(state.elapsed, 1),
                eta=None if state.eta is None else round(state.eta, 1),
                error_message=state.failures,
                note=state.note,
                validation=state.validation if state.finished else "",
                **extra,
            )
        except Exception:
            # A broken display must not break the work it shows.
            log.exception("lasso_notebook: could not update a progress widget")
