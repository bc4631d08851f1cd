"""Rows → typed pandas DataFrame: concurrent, exactly-once row fetching (``fetch_rows``), the
column-type → dtype conversion (``build_frame``) driven by the table's columns, not by guessing,
and a job's frame with its other shapes (``TableFrames``) kept without the raw rows.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import APIConnectionError, InternalServerError, LassoError, RateLimitError
from .models import Column, Table

if TYPE_CHECKING:
    import pandas as pd

    from .client import AsyncLasso

__all__ = [
    "META_COLUMNS",
    "IncompleteRowsError",
    "TableFrames",
    "build_frame",
    "dtype_for",
    "fetch_frame",
    "fetch_parts",
    "fetch_rows",
    "unparsed_summary",
]

log = logging.getLogger("lasso_notebook")

#: Page size for row reads: the API maximum, so a 20,000-row table is 200 requests.
PAGE_LIMIT = 100
#: Pages in flight at once per table. Enough to hide latency; more only queues on the server.
PAGE_CONCURRENCY = 8
#: Attempts per page on transient failures, on top of the client's own retries.
PAGE_ATTEMPTS = 4
#: Extra passes over the pages when the assembled count falls short of the total.
REFETCH_ROUNDS = 3

#: Columns added with ``meta=True`` (prefixed so they cannot clash with schema keys).
META_COLUMNS = ("_row_id", "_validation_status", "_validation_errors")

_TEXT_TYPES = frozenset({"text", "url", "email", "richtext", "image"})
_LIST_TYPES = frozenset({"tags", "images"})
_TRANSIENT = (APIConnectionError, InternalServerError, RateLimitError)
#: d.m.y and d.m.yyyy (optionally followed by a time): the day comes first.
_DOTTED_DATE = re.compile(r"\s*\d{1,2}\.\d{1,2}\.\d{2,4}\b")


class IncompleteRowsError(LassoError):
    """Rows kept going missing while reading a table: the assembled count never matched."""


# --------------------------------------------------------------------------------------------
# Fetching


async def _get_page(client: AsyncLasso, table_id: str, page: int, limit: int) -> dict[str, Any]:
    """One page of raw row dicts (no model validation: a 20,000-row read is dominated by it)."""
    attempt = 0
    while True:
        try:
            body = await client.request(
                "GET",
                f"/tables/{quote(table_id, safe='')}/rows",
                params={"page": page, "limit": limit},
            )
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise APIConnectionError(f"GET /tables/{table_id}/rows: malformed page {page}")
            return body
        except _TRANSIENT as exc:
            attempt += 1
            if attempt >= PAGE_ATTEMPTS:
                raise
            delay = client.retry.delay(attempt - 1, getattr(exc, "response", None))
            log.debug("page %d of %s failed (%s); retrying in %.2f s", page, table_id, exc, delay)
            await asyncio.sleep(delay)


async def fetch_rows(
    client: AsyncLasso,
    table_id: str,
    *,
    expected: int | None = None,
    limit: int = PAGE_LIMIT,
    concurrency: int = PAGE_CONCURRENCY,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every row of a table exactly once, sorted by ``row_index``.

    Pages are read concurrently (bounded by ``concurrency``). Rows are assembled by
    ``row_index`` so a row seen twice counts once; when the count falls short of the listing's
    ``total`` the pages are read again (a listing can shift between requests), and only then
    ``IncompleteRowsError`` is raised. ``expected`` (the table's ``total_rows``) is checked too:
    a listing short of it is read once more in full, then believed, with a warning.
    """
    by_index: dict[int, dict[str, Any]] = {}
    total = 0
    # The listing's size as the latest pass saw it (the largest total any of its pages
    # reported): a table that grew or shrank, or one page that miscounted, is judged by what
    # the listing says now, not by the largest number it ever said.
    pass_total = 0
    rechecked = False  # the one extra full pass for a listing short of ``expected``
    semaphore = asyncio.Semaphore(max(1, concurrency))

    def absorb(body: dict[str, Any]) -> int:
        nonlocal total, pass_total
        pagination = body.get("pagination") or {}
        reported = int(pagination.get("total") or 0)
        total = max(total, reported)
        pass_total = max(pass_total, reported)
        fresh = 0
        for row in body["data"]:
            index = row.get("row_index")
            if isinstance(index, int) and index not in by_index:
                by_index[index] = row
                fresh += 1
        return fresh

    async def read(page: int) -> tuple[int, dict[str, Any]]:
        async with semaphore:
            return page, await _get_page(client, table_id, page, limit)

    first = await _get_page(client, table_id, 1, limit)
    absorb(first)
    if on_progress is not None:
        on_progress(len(by_index), total)
    pages = list(range(2, math.ceil(total / limit) + 1))
    for round_ in range(REFETCH_ROUNDS + 1):
        suspicious: list[int] = []
        tasks = [asyncio.ensure_future(read(p)) for p in pages]
        try:
            for next_done in asyncio.as_completed(tasks):
                page, body = await next_done
                got = len(body["data"])
                fresh = absorb(body)
                wanted = min(limit, max(0, total - (page - 1) * limit))
                # A short page or one carrying rows already seen means the listing moved under
                # us: its neighbours may hold what is missing.
                if got < wanted or fresh < got:
                    suspicious.append(page)
                if on_progress is not None:
                    on_progress(len(by_index), total)
        finally:
            # One page failed or the job was detached: the other reads stop here, send nothing
            # more, and their outcomes are collected (no "exception was never retrieved").
            await _settle(tasks)
        total, pass_total = pass_total, 0
        short_of_listing = len(by_index) < total
        short_of_table = expected is not None and len(by_index) < expected and not rechecked
        if not (short_of_listing or short_of_table):
            break
        if round_ == REFETCH_ROUNDS:
            if short_of_listing:
                raise IncompleteRowsError(
                    f"table {table_id}: read {len(by_index)} distinct rows of {total} after "
                    f"{REFETCH_ROUNDS} extra passes; the table may be changing, try again"
                )
            break
        log.info(
            "table %s: %d rows after pass %d (listing %d, total_rows %s); reading again",
            table_id,
            len(by_index),
            round_ + 1,
            total,
            expected,
        )
        # The listing's own size bounds the pages (a row beyond it makes it report more next
        # time round); an overstated total_rows must not cost thousands of empty reads.
        last = max(1, math.ceil(total / limit))
        # First retry the pages that looked wrong and their neighbours, then everything.
        if round_ == 0 and suspicious and short_of_listing:
            near = {q for p in suspicious for q in (p - 1, p, p + 1) if 1 <= q <= last}
            pages = sorted(near)
        else:
            rechecked = rechecked or not short_of_listing
            pages = list(range(1, last + 1))
    if expected is not None and expected != len(by_index):
        log.warning(
            "lasso_notebook: table %s reports total_rows=%d but its rows listing has %d; "
            "the DataFrame holds the %d listed",
            table_id,
            expected,
            len(by_index),
            len(by_index),
        )
    return [by_index[i] for i in sorted(by_index)]


async def _settle(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel what is still running and wait for all of it, retrieving every outcome."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def fetch_parts(
    client: AsyncLasso,
    table: Table,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Column], list[dict[str, Any]]]:
    """The columns and every row of a completed table, read together."""
    columns_task = asyncio.ensure_future(client.tables.columns(table.id))
    try:
        rows = await fetch_rows(
            client, table.id, expected=table.total_rows, on_progress=on_progress
        )
        columns = await columns_task
    finally:
        await _settle([columns_task])
    return columns, rows


async def fetch_frame(
    client: AsyncLasso,
    table: Table,
    *,
    labels: bool = False,
    meta: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, list[Column], list[dict[str, Any]]]:
    """A completed table as a DataFrame, with the columns and raw rows it was built from. The
    conversion runs in a worker thread: it is CPU-bound and would stall every other job's
    polling and widget updates on the runtime loop."""
    columns, rows = await fetch_parts(client, table, on_progress=on_progress)
    df = await asyncio.to_thread(build_frame, rows, columns, table=table, labels=labels, meta=meta)
    return df, columns, rows


# --------------------------------------------------------------------------------------------
# Conversion


def dtype_for(column: Column) -> str:
    """The pandas dtype a column type maps to (``Int64`` vs ``Float64`` is decided by values)."""
    kind = column.type
    if kind == "number":
        return "Int64|Float64"
    if kind == "boolean":
        return "boolean"
    if kind == "date":
        return "datetime64[us]"
    if kind in _TEXT_TYPES:
        return "string"
    if kind == "enum":
        return "category"
    return "object"


class _Problems:
    """Values that did not fit their column's type: kept out of the frame (NA), reported."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}

    def add(self, key: str, indexes: Sequence[int], values: Sequence[Any]) -> None:
        if not indexes:
            return
        self.by_key[key] = {
            "count": len(indexes),
            "rows": list(indexes[:20]),
            "examples": [_short(v) for v in values[:5]],
        }


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


_BOOLS: dict[Any, bool] = {
    **dict.fromkeys((True, "true", "yes", "y", "1", "t"), True),
    **dict.fromkeys((False, "false", "no", "n", "0", "f"), False),
}


def _convert(column: Column, values: list[Any], index: Sequence[int], problems: _Problems) -> Any:
    import numpy as np
    import pandas as pd

    kind = column.type
    key = column.key
    if kind == "number":
        raw = pd.Series(values, dtype=object)
        # Booleans are not numbers here, whatever Python thinks.
        raw = raw.where(~raw.map(lambda v: isinstance(v, bool)), "not-a-number")
        numbers = pd.to_numeric(raw.where(raw != "", None), errors="coerce").astype("float64")
        bad = raw.notna().to_numpy() & (raw != "").to_numpy() & numbers.isna().to_numpy()
        _report(problems, key, bad, index, values)
        finite = numbers.to_numpy()
        finite = finite[~np.isnan(finite)]
        integral = bool(np.all(finite == np.floor(finite))) and bool(np.all(np.abs(finite) < 2**53))
        return pd.array(numbers.to_numpy(), dtype="Float64").astype(
            "Int64" if integral else "Float64"
        )
    if kind == "boolean":
        out: list[Any] = []
        bad = np.zeros(len(values), dtype=bool)
        for i, value in enumerate(values):
            if _is_missing(value):
                out.append(None)
                continue
            key_ = value.strip().lower() if isinstance(value, str) else value
            try:
                out.append(_BOOLS[key_])
            except (KeyError, TypeError):
                out.append(None)
                bad[i] = True
        _report(problems, key, bad, index, values)
        return pd.array(out, dtype="boolean")
    if kind == "date":
        raw = pd.Series(
            [v if isinstance(v, str) and v.strip() else None for v in values], dtype=object
        )
        parsed = pd.to_datetime(raw, errors="coerce", utc=True, format="ISO8601")
        retry = parsed.isna().to_numpy() & raw.notna().to_numpy()
        if retry.any():
            # Not ISO 8601 ("March 10, 2025"): one value at a time through dateutil, which
            # reads a/b/y month first unless a part above 12 says otherwise; d.m.y is day first
            # wherever it is written (dateutil alone would read 10.03.2025 as October 3).
            for i in np.flatnonzero(retry):
                value = raw.iloc[i]
                dotted = _DOTTED_DATE.match(value) is not None
                parsed.iloc[i] = pd.to_datetime(value, errors="coerce", utc=True, dayfirst=dotted)
        bad = np.array([not _is_missing(v) for v in values], dtype=bool) & parsed.isna().to_numpy()
        _report(problems, key, bad, index, values)
        return parsed.dt.tz_localize(None).astype("datetime64[us]").to_numpy()
    if kind in _TEXT_TYPES:
        return pd.array([_text(v) for v in values], dtype="string")
    if kind == "enum":
        categories = list(dict.fromkeys(str(v) for v in column.enum_values or []))
        texts = [None if _is_missing(v) else _text(v) for v in values]
        if not categories:
            categories = sorted({t for t in texts if t is not None})
        allowed = set(categories)
        bad = np.array([t is not None and t not in allowed for t in texts], dtype=bool)
        _report(problems, key, bad, index, values)
        return pd.Categorical([t if t in allowed else None for t in texts], categories=categories)
    array = np.empty(len(values), dtype=object)
    if kind in _LIST_TYPES:
        for i, value in enumerate(values):
            if value is None:
                array[i] = None
            elif isinstance(value, list):
                array[i] = value
            elif isinstance(value, str) and value.strip().startswith("["):
                try:
                    decoded = json.loads(value)
                except ValueError:
                    decoded = [value]
                array[i] = decoded if isinstance(decoded, list) else [value]
            else:
                array[i] = [value]
        return array
    array[:] = values  # json and types this version does not know: as the server sent them
    return array


def _report(
    problems: _Problems, key: str, bad: Any, index: Sequence[int], values: Sequence[Any]
) -> None:
    positions = [int(i) for i in bad.nonzero()[0]] if bad.any() else []
    problems.add(key, [index[i] for i in positions], [values[i] for i in positions])


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat().replace("+00:00", "Z")


def _unique_labels(columns: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """Key → column name for ``labels=True``, from (key, label) pairs; a repeated label gets
    its key appended."""
    names: dict[str, str] = {}
    seen: set[str] = set()
    for key, label in columns:
        name = label or key
        if name in seen:
            name = f"{name} ({key})"
        seen.add(name)
        names[key] = name
    return names


def _meta_arrays(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    import pandas as pd

    errors = pd.Series([r.get("validation_errors") for r in rows], dtype=object)
    return {
        "_row_id": pd.array([r.get("id") for r in rows], dtype="string"),
        "_validation_status": pd.array([r.get("validation_status") for r in rows], dtype="string"),
        "_validation_errors": errors.to_numpy(),
    }


def build_frame(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column | dict[str, Any]],
    *,
    table: Table | None = None,
    labels: bool = False,
    meta: bool = False,
) -> pd.DataFrame:
    """A DataFrame from raw row dicts and the table's columns.

    Column order is the schema's; names are keys (``labels=True``: labels); the index is
    ``row_index``. Values that do not fit their type become NA and are listed in
    ``df.attrs["lasso"]["unparsed"]``. Keys in rows that no column describes are appended as
    object columns. ``meta=True`` adds the row id and validation columns.
    """
    import pandas as pd

    cols = [c if isinstance(c, Column) else Column.model_validate(c) for c in columns]
    cols = list({c.key: c for c in reversed(cols)}.values())[::-1]  # first of a duplicate key
    known = {c.key for c in cols}
    extra: dict[str, None] = {}
    for row in rows:
        for key in row.get("data") or {}:
            if key not in known:
                extra[key] = None
    cols += [Column(key=key, type="json") for key in extra]

    index = [int(row["row_index"]) for row in rows]
    datas = [row.get("data") or {} for row in rows]
    problems = _Problems()
    arrays: dict[str, Any] = {}
    for column in cols:
        key = column.key
        arrays[key] = _convert(column, [d.get(key) for d in datas], index, problems)
    if meta:
        arrays.update(_meta_arrays(rows))
    frame = pd.DataFrame(arrays, index=pd.Index(index, dtype="int64", name="row_index"))
    if labels:
        frame = frame.rename(columns=_unique_labels((c.key, c.label) for c in cols))
    if problems.by_key:
        log.info(
            "lasso_notebook: values that do not fit their column type were set to NA: %s",
            ", ".join(f"{k} ({v['count']})" for k, v in problems.by_key.items()),
        )
    frame.attrs["lasso"] = {
        "table_id": table.id if table else None,
        "name": table.name if table else None,
        "schema_id": table.schema_id if table else None,
        "status": table.status if table else None,
        "total_rows": table.total_rows if table else len(rows),
        "rows": len(rows),
        "created_at": _iso(table.created_at) if table else None,
        "updated_at": _iso(table.updated_at) if table else None,
        "fetched_at": _iso(datetime.now(timezone.utc)),
        "columns": [{"key": c.key, "label": c.label, "type": c.type} for c in cols],
        "unparsed": problems.by_key,
    }
    return frame


def unparsed_summary(df: pd.DataFrame) -> str:
    """``"3 values did not fit their column type and are NA: released (2), price (1)"``, or
    "" when every value fitted (read from ``df.attrs["lasso"]["unparsed"]``)."""
    unparsed = (df.attrs.get("lasso") or {}).get("unparsed") or {}
    if not unparsed:
        return ""
    count = sum(problem["count"] for problem in unparsed.values())
    columns = ", ".join(f"{key} ({problem['count']})" for key, problem in unparsed.items())
    values = "value" if count == 1 else "values"
    return f"{count} {values} did not fit their column type and are NA: {columns}"


class TableFrames:
    """A job's DataFrame (``df``, in the job's shape) and its other shapes on demand.

    The raw rows are not kept: a job lives as long as the kernel, and its rows would hold the
    data a second time. Another shape is derived from ``df``: columns renamed between keys and
    labels, and the ``META_COLUMNS`` dropped or added (kept aside, alone, when ``df`` lacks them).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        labels: bool,
        meta: bool,
        meta_columns: pd.DataFrame | None = None,
    ) -> None:
        if not meta and meta_columns is None:
            raise ValueError("a frame without meta columns needs them in meta_columns")
        self.df = df
        self.labels = labels
        self.meta = meta
        self._meta_columns = meta_columns
        # (key, label) of every data column in order, taken before anyone can change df.attrs.
        self._columns = [(c["key"], c["label"]) for c in df.attrs["lasso"]["columns"]]

    @classmethod
    def build(
        cls,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[Column | dict[str, Any]],
        *,
        table: Table | None = None,
        labels: bool = False,
        meta: bool = False,
    ) -> TableFrames:
        """``build_frame`` plus what the other shapes need (CPU-bound: run it off the loop)."""
        import pandas as pd

        df = build_frame(rows, columns, table=table, labels=labels, meta=meta)
        meta_columns = None if meta else pd.DataFrame(_meta_arrays(rows), index=df.index)
        return cls(df, labels=labels, meta=meta, meta_columns=meta_columns)

    def get(self, labels: bool, meta: bool) -> pd.DataFrame:
        """The frame with key (or label) column names, with or without the meta columns: ``df``
        itself in its own shape, else a new frame as ``build_frame`` would have made it."""
        if (labels, meta) == (self.labels, self.meta):
            return self.df
        names = _unique_labels(self._columns)
        keys = [key for key, _ in self._columns]
        current = [names[k] for k in keys] if self.labels else keys
        wanted = [names[k] for k in keys] if labels else keys
        frame = self.df[current].set_axis(wanted, axis=1)
        if meta:
            extra = self.df[list(META_COLUMNS)] if self.meta else self._meta_columns
            frame = frame.join(extra)
        frame.attrs = copy.deepcopy(self.df.attrs)
        return frame
