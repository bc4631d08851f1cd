"""Re-sends, from the kernel's main thread after each cell, the state of widgets that changed
on the runtime thread, so headless runs (nbclient) save their latest state into the notebook.

Why: a message sent from the runtime thread carries the parent header of the cell that started
that thread; nbclient keeps only messages whose parent is the cell it is running, so background
updates of a finished cell would be dropped and the saved notebook would show a stale widget.
JupyterLab does not filter, which is why the live view never needed this.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

import anywidget

__all__ = ["ResyncWidget"]

log = logging.getLogger("lasso_notebook")

_changed: weakref.WeakSet[ResyncWidget] = weakref.WeakSet()
_lock = threading.Lock()
_hooked_shells: weakref.WeakSet[Any] = weakref.WeakSet()


def _resend_changed() -> None:
    with _lock:
        widgets = list(_changed)
        _changed.clear()
    for widget in widgets:
        try:
            # Sent in the current cell's context, so every frontend and nbclient records it.
            widget.send_state()
        except Exception:
            log.exception("lasso_notebook: could not re-send a widget's state")


def _hook_shell() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None or shell in _hooked_shells:
        return
    shell.events.register("post_execute", _resend_changed)
    _hooked_shells.add(shell)


class ResyncWidget(anywidget.AnyWidget):
    """An AnyWidget whose off-main-thread state changes are repeated after the running cell."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if threading.current_thread() is threading.main_thread():
            _hook_shell()

    def send_state(self, key: Any = None) -> None:
        super().send_state(key)
        if threading.current_thread() is not threading.main_thread():
            with _lock:
                _changed.add(self)
