"""The ``%lasso`` listings: schemas, tables and this kernel's jobs as DataFrames, and the
effective configuration as text (key masked, without starting the embedded engine)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import client as client_mod
from . import jobs
from ._config import DEFAULT_BASE_URL, mask_key
from ._display import format_duration
from ._human import tidy
from ._magic_housekeeping import data_dir_line
from ._reuse_policy import reuse_text

if TYPE_CHECKING:
    import pandas as pd

    from .client import Lasso
    from .magics import LassoMagics

__all__ = ["config_text", "jobs_frame", "schemas_frame", "tables_frame"]


def schemas_frame(client: Lasso, limit: int) -> pd.DataFrame:
    items = _take(client.schemas.list(limit=min(limit, 100)), limit)
    columns = ["id", "name", "description", "is_default", "columns_count"]
    columns += ["created_at", "updated_at"]
    return _frame([item.to_dict() for item in items], columns)


def tables_frame(
    client: Lasso, limit: int, *, search: str | None, status: str | None
) -> pd.DataFrame:
    page = client.tables.list(limit=min(limit, 100), search=search, status=status)
    columns = ["id", "name", "status", "total_rows", "schema_id", "created_at"]
    return _frame([item.to_dict() for item in _take(page, limit)], columns)


def jobs_frame(targets: dict[Any, str]) -> pd.DataFrame:
    """This kernel's jobs and the tables of its batches (``batch`` names the batch), oldest
    first; ``targets``: the variable each cell meant a job or batch for."""
    from ._batch import batches

    started: list[tuple[float, int, dict[str, Any]]] = []
    for job in jobs.jobs():
        row = _job_row(job, targets.get(job))
        started.append((job.started, len(started), row))
    for batch in batches():
        for table in batch.jobs:
            row = {**_job_row(table, targets.get(batch)), "batch": batch.name}
            started.append((batch.started, len(started), row))
    rows = [row for *_, row in sorted(started, key=lambda item: item[:2])]
    columns = ["id", "name", "status", "progress", "total_rows", "elapsed", "var", "reused"]
    return _frame(rows, [*columns, "batch"])


def _job_row(job: Any, var: str | None) -> dict[str, Any]:
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "progress": job.progress,
        "total_rows": job.total_rows,
        "elapsed": job.elapsed,
        "var": var,
        "reused": job.reused,
        "batch": None,
    }


def config_text(magics: LassoMagics) -> str:
    """The effective configuration, key masked; does not start the embedded engine."""
    key = os.environ.get("LASSO_API_KEY") or None
    base = os.environ.get("LASSO_BASE_URL") or None
    if magics.client is not None:
        url = magics.client.base_url
        backend = "embedded engine" if magics.client.embedded else _backend_of(url)
        key_shown = magics.client.masked_key
        source = "a client set on LassoMagics.client"
    elif key or base:
        url = (base or DEFAULT_BASE_URL).rstrip("/")
        backend = _backend_of(url)
        key_shown = mask_key(key)
        source = " and ".join(
            name for name, value in (("LASSO_API_KEY", key), ("LASSO_BASE_URL", base)) if value
        )
        source += " set"
    else:
        backend = "embedded engine"
        engine_url = _running_engine_url()
        url = engine_url or "(starts on first use)"
        key_shown = "(local engine key)" if engine_url else "(not set)"
        source = "no LASSO_API_KEY or LASSO_BASE_URL set"
    lines = [
        f"backend         {backend} ({source})",
        f"base_url        {url}",
        f"api_key         {key_shown}",
        *([data_dir_line()] if backend == "embedded engine" else []),
        f"default_schema  {magics.default_schema or '(none: pass --schema)'}",
        f"timeout         {_fmt_seconds(magics.timeout) if magics.timeout else 'none (wait)'}",
        # The budget shares the polling line: both are about how a job polls.
        f"poll_cap        {_fmt_seconds(magics.poll_cap)}; rate_limit_budget "
        f"{format_duration(magics.rate_limit_budget)} (of nothing but 429s)",
        f"widget          {'on' if magics.widget else 'off'}",
        f"reuse           {reuse_text(magics.reuse, magics.url_max_age)}",
        "Change with %config LassoMagics.<option> = value; the key and base URL come from "
        "the environment.",
    ]
    return "\n".join(lines)


def _backend_of(url: str) -> str:
    """What a base URL points at, in the words of %lasso config."""
    if url == DEFAULT_BASE_URL:
        return "hosted API"
    host = urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "::1", "localhost"):
        # An engine on this machine (lasso-engine, or serve()): the same code as the embedded one.
        return "local engine"
    return "Lasso API at a custom URL"


def _running_engine_url() -> str | None:
    default = client_mod.current_default_client()
    return default.base_url if default is not None and default.embedded else None


def _fmt_seconds(value: float) -> str:
    return f"{value:g} s"


def _take(page: Any, limit: int) -> list[Any]:
    items = []
    for item in page:
        items.append(item)
        if len(items) >= limit:
            break
    return items


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(rows)
    for column in columns:
        if column not in df.columns:
            df[column] = None
    # One timestamp format in local time, durations as "1.2 s", empty cells for no value.
    return tidy(df[columns + [c for c in df.columns if c not in columns]])
