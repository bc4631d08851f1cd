"""The outputs a widget leaves for readers without widgets: each display carries a display id and
a ``text/plain`` + ``text/html`` form of the state; after every cell, the kernel's main thread
re-sends (``update_display_data``) the outputs of widgets whose state settled anew, so a notebook
saved after "Run All" shows the outcome in text exports, nbconvert and GitHub too.

Why after the cell, from the main thread: like the widget state (see ``_resync``), an update sent
from the runtime thread carries the parent header of an old cell, and nbclient drops it. Why
only on a change of ``fallback_key()``: a frontend re-renders the widget view on each update.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from collections.abc import Hashable
from typing import Any

__all__ = ["FallbackDisplay"]

log = logging.getLogger("lasso_notebook")

_lock = threading.Lock()
# widget -> [display ids, the fallback_key() its outputs show]
_shown: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()
_hooked_shells: weakref.WeakSet[Any] = weakref.WeakSet()


class FallbackDisplay:
    """Mixin for widgets: ``display(widget)`` publishes its bundle (widget view, text, HTML)
    under a display id, and the output is brought up to date after each cell."""

    def fallback_text(self) -> str:
        raise NotImplementedError

    def fallback_html(self) -> str:
        raise NotImplementedError

    def fallback_key(self) -> Hashable:
        """What must differ for the saved output to be re-sent (not every tick of a clock)."""
        raise NotImplementedError

    def fallback_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget's own bundle (its view) with the text and HTML forms of its state."""
        bundle = self._repr_mimebundle_()  # type: ignore[attr-defined]
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle or {}, {})
        data = dict(data)
        data["text/plain"] = self.fallback_text()
        data["text/html"] = self.fallback_html()
        return data, dict(metadata or {})

    def _ipython_display_(self) -> None:
        # IPython calls this for display(widget) and for a widget that is a cell's result.
        from IPython.display import display

        data, metadata = self.fallback_bundle()
        display_id = uuid.uuid4().hex
        display(data, metadata=metadata, raw=True, display_id=display_id)
        with _lock:
            entry = _shown.setdefault(self, [[], None])
            entry[0].append(display_id)
            entry[1] = self.fallback_key()
        _hook_shell()


def update_settled() -> None:
    """Re-send the outputs of widgets whose ``fallback_key()`` changed since they were sent;
    runs after each cell, on the kernel's main thread (in that cell's context)."""
    from IPython.display import update_display

    with _lock:
        pending = [(widget, list(entry[0]), entry[1]) for widget, entry in _shown.items()]
    for widget, display_ids, shown_key in pending:
        if getattr(widget, "comm", None) is None:  # closed: its outputs stay as they are
            with _lock:
                _shown.pop(widget, None)
            continue
        try:
            key = widget.fallback_key()
            if key == shown_key:
                continue
            data, metadata = widget.fallback_bundle()
            for display_id in display_ids:
                update_display(data, metadata=metadata, raw=True, display_id=display_id)
            with _lock:
                if widget in _shown:
                    _shown[widget][1] = key
        except Exception:
            log.exception("lasso_notebook: could not update a widget's saved output")


def _hook_shell() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None or shell in _hooked_shells:
        return
    shell.events.register("post_execute", update_settled)
    _hooked_shells.add(shell)
