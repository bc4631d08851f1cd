"""Where lasso_notebook keeps its data on this machine (the embedded engine's database and
files, the reuse index): ``resolve_data_dir``, the one place that decides it, importable without
the ``server`` extra."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "DEFAULT_DATA_DIR", "resolve_data_dir"]

DEFAULT_DATA_DIR = Path("~/.lasso_notebook")
DATA_DIR_ENV = "LASSO_NOTEBOOK_DATA_DIR"


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """``data_dir`` if given, else ``$LASSO_NOTEBOOK_DATA_DIR`` (empty counts as unset), else
    ``~/.lasso_notebook/``. The engine (``serve()``, ``embedded()``, ``python -m
    lasso_notebook.server``) and the client's reuse index all agree through this function."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(data_dir).expanduser().resolve()
