"""lasso_notebook: Lasso product-data extraction in Jupyter.

``%load_ext lasso_notebook`` registers the ``%%lasso_table`` and ``%lasso`` magics; the client,
jobs and widgets are importable from here. Heavy pieces (the embedded engine, widgets, magics)
load lazily, so ``import lasso_notebook`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._schema_builder import create_schema
from ._version import __version__
from .client import AsyncLasso, Lasso, default_client
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchFailedError,
    ConflictError,
    EngineStartError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidRequestError,
    JobDetachedError,
    LassoError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RuntimeThreadError,
    TableFailedError,
    TableMayExistError,
    UnparsedValuesWarning,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from .models import Column, File, Phase, Row, Schema, Table

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ._batch import BatchJob, BatchTable, FileFailure, submit_batch
    from ._wait import WaitInterrupted, wait
    from .jobs import JobInterrupted, TableJob, attach, resolve_schema, submit
    from .widgets.form import SubmitForm
    from .widgets.progress import ProgressWidget

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncLasso",
    "AuthenticationError",
    "BadRequestError",
    "BatchFailedError",
    "BatchJob",
    "BatchTable",
    "Column",
    "ConflictError",
    "EngineStartError",
    "File",
    "FileFailure",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidRequestError",
    "JobDetachedError",
    "JobInterrupted",
    "Lasso",
    "LassoError",
    "NotFoundError",
    "PermissionDeniedError",
    "Phase",
    "ProgressWidget",
    "RateLimitError",
    "Row",
    "RuntimeThreadError",
    "Schema",
    "SubmitForm",
    "Table",
    "TableFailedError",
    "TableJob",
    "TableMayExistError",
    "UnparsedValuesWarning",
    "UnprocessableEntityError",
    "WaitInterrupted",
    "WaitTimeoutError",
    "__version__",
    "attach",
    "create_schema",
    "default_client",
    "jobs",
    "load_ipython_extension",
    "resolve_schema",
    "submit",
    "submit_batch",
    "wait",
]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext lasso_notebook``: register the magics (imported only now)."""
    from .magics import load_ipython_extension as load

    load(ipython)


# Loaded on first use, so ``import lasso_notebook`` does not pull in widgets or pandas.
# ``jobs`` is the module lasso_notebook.jobs, which is also callable: ``lasso_notebook.jobs()``.
_LAZY = {
    "submit": "jobs",
    "attach": "jobs",
    "TableJob": "jobs",
    "JobInterrupted": "jobs",
    "resolve_schema": "jobs",
    "ProgressWidget": "widgets.progress",
    "SubmitForm": "widgets.form",
    "wait": "_wait",
    "WaitInterrupted": "_wait",
    "submit_batch": "_batch",
    "BatchJob": "_batch",
    "BatchTable": "_batch",
    "FileFailure": "_failures",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "jobs":
        return importlib.import_module(".jobs", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'lasso_notebook' has no attribute {name!r}")
