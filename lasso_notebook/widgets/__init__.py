"""Widgets of lasso_notebook (anywidget classes that only render state) and ``static_path``,
which finds their JS/CSS both in an installed wheel and in an editable checkout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .form import SubmitForm
    from .progress import ProgressWidget

__all__ = ["ProgressWidget", "SubmitForm", "static_path"]

_PACKAGE = Path(__file__).resolve().parent.parent


def static_path(name: str) -> Path:
    """The path of a front-end file: ``lasso_notebook/static/<name>`` in a wheel (hatch
    force-includes ``js/`` there), else ``<repo>/js/<name>`` in an editable install."""
    for folder in (_PACKAGE / "static", _PACKAGE.parent / "js"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"lasso_notebook front-end file {name!r} is missing from {_PACKAGE / 'static'} and "
        f"{_PACKAGE.parent / 'js'}; reinstall the package"
    )


def __getattr__(name: str) -> Any:
    # anywidget/ipywidgets load only when a widget is actually wanted.
    if name == "ProgressWidget":
        from .progress import ProgressWidget

        return ProgressWidget
    if name == "SubmitForm":
        from .form import SubmitForm

        return SubmitForm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
