"""A completed table's rows → typed pandas DataFrame. ``read_rows`` picks the way in: one streamed
json export when the frame needs no row metadata, else (and whenever the export fails a check)
concurrent, exactly-once paging (``fetch_rows``). ``TableFrames`` keeps a job's frame and makes
its other shapes without the raw rows. The conversion itself lives in ``_frame_build``.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._download import Download
from ._export_stream import ExportUnusable, read_export
from ._frame_build import (
    LOCATION_COLUMN,
    META_COLUMNS,
    SOURCE_COLUMN,
    RowColumns,
    build_frame,
    dtype_for,
    frame_from_columns,
    meta_frame,
    table_sources,
    unique_labels,
    unparsed_summary,
    warn_unparsed,
)
from .errors import APIConnectionError, InternalServerError, LassoError, RateLimitError
from .models import Column, Phase, Table

if TYPE_CHECKING:
    import pandas as pd

    from .client import AsyncLasso

__all__ = [
    "LOCATION_COLUMN",
    "META_COLUMNS",
    "SOURCE_COLUMN",
    "IncompleteRowsError",
    "RowColumns",
    "TableFrames",
    "build_frame",
    "dtype_for",
    "fetch_frame",
    "fetch_parts",
    "fetch_rows",
    "frame_from_columns",
    "read_frames",
    "read_meta_columns",
    "read_rows",
    "table_sources",
    "unparsed_summary",
    "uses_export",
    "warn_unparsed",
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

_TRANSIENT = (APIConnectionError, InternalServerError, RateLimitError)

#: ``on_progress(rows, received_bytes)`` while rows arrive (bytes are None when paging).
ProgressCallback = Callable[[int, "int | None"], None]


class IncompleteRowsError(LassoError):
    """Rows kept going missing while reading a table: the assembled count never matched."""


# --------------------------------------------------------------------------------------------
# Paging


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
# Choosing the way in


def uses_export(table: Table, *, meta: bool, provenance: bool = False) -> bool:
    """Whether a frame can come from the json export: it has no row ids, validation fields or
    per-row provenance (``meta`` / ``provenance``), which only the rows listing carries, and
    the table is completed (the export answers 409 before; a failed table's rows are listed)."""
    return not meta and not provenance and table.total_rows > 0 and table.phase is Phase.COMPLETED


def has_several_sources(table: Table) -> bool:
    """A table made from more than one file or URL: its frame names each row's source
    (``_source``), which only the rows listing knows."""
    return len(table_sources(table)) > 1


async def read_rows(
    client: AsyncLasso,
    table: Table,
    *,
    meta: bool = False,
    provenance: bool = False,
    on_progress: ProgressCallback | None = None,
    on_fallback: Callable[[str], None] | None = None,
) -> tuple[list[Column], RowColumns]:
    """The columns and every row of a finished table, gathered column by column.

    Without ``meta`` or ``provenance`` the rows of a completed table come from one streamed
    json export (``read_export``); any error, 409, malformed or truncated body or count
    mismatch there is logged and the rows listing is read instead (``on_fallback(reason)`` is
    told), exactly once per row as always. With ``meta`` (row ids, validation fields) or
    ``provenance`` (each row's source) the listing is read directly: only it has them.
    """
    columns_task = asyncio.ensure_future(client.tables.columns(table.id))
    try:
        data: RowColumns | None = None
        if uses_export(table, meta=meta, provenance=provenance):
            try:
                data = await read_export(client, table, on_progress=on_progress)
            except ExportUnusable as exc:
                log.info("table %s: export not used (%s); reading the rows listing", table.id, exc)
                if on_fallback is not None:
                    on_fallback(str(exc))
        if data is None:
            paging_progress = None
            if on_progress is not None:
                callback = on_progress

                def paging_progress(rows: int, _total: int) -> None:
                    callback(rows, None)

            rows = await fetch_rows(
                client, table.id, expected=table.total_rows, on_progress=paging_progress
            )
            data = RowColumns.from_rows(rows)
            del rows
        columns = await columns_task
    finally:
        await _settle([columns_task])
    return columns, data


async def read_frames(
    client: AsyncLasso,
    table: Table,
    *,
    labels: bool = False,
    meta: bool = False,
    statuses: bool = False,
    on_download: Callable[[Download | None], None] | None = None,
) -> TableFrames:
    """A finished table's frames (``read_rows``, then the conversion in a worker thread:
    it is CPU-bound and would stall every other job's polls and widgets on the runtime loop).
    ``statuses``: the rows' validation fields are needed although the frame has no meta
    columns (to keep only valid rows), so the rows listing is read. A table of several files
    or URLs is read from the listing too: the frame names each row's source (``_source``).
    ``on_download`` gets the download's progress now and then, and None once the rows are
    in."""
    provenance = has_several_sources(table)
    download = Download(table.total_rows)

    def progress(rows: int, received: int | None) -> None:
        if download.update(rows, received) and on_download is not None:
            on_download(download)

    def fell_back(_reason: str) -> None:
        nonlocal download
        download = Download(table.total_rows)  # the listing is read from its first row

    columns, data = await read_rows(
        client,
        table,
        meta=meta or statuses,
        provenance=provenance,
        on_progress=progress,
        on_fallback=fell_back,
    )
    if on_download is not None:
        on_download(None)
    return await asyncio.to_thread(
        functools.partial(
            TableFrames.from_columns,
            data,
            columns,
            table=table,
            labels=labels,
            meta=meta,
            provenance=provenance,
        )
    )


async def read_meta_columns(client: AsyncLasso, table: Table) -> pd.DataFrame:
    """The meta columns of every row (source, location, id, validation status and errors),
    indexed by ``row_index``: for a frame that was read through the export, which has none
    (nor ``_source``: that table had one source)."""
    import pandas as pd

    rows = await fetch_rows(client, table.id, expected=table.total_rows)
    data = RowColumns.from_rows(rows)
    del rows
    index = pd.Index(data.row_index or [], dtype="int64", name="row_index")
    return meta_frame(data, index, table=table)


# --------------------------------------------------------------------------------------------
# A job's frames


class TableFrames:
    """A job's DataFrame (``df``, in the job's shape) and its other shapes on demand.

    The raw rows are not kept: a job lives as long as the kernel, and its rows would hold the
    data a second time. Another shape is derived from ``df``: columns renamed between keys and
    labels, and the meta columns (``_source`` unless the frame always shows it,
    ``_source_location``, ``META_COLUMNS``) dropped or added (kept aside, alone, when ``df``
    lacks them). A frame read through the export has no meta columns until ``add_meta`` gives
    them.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        labels: bool,
        meta: bool,
        meta_columns: pd.DataFrame | None = None,
        provenance: bool = False,
    ) -> None:
        self.df = df
        self.labels = labels
        self.meta = meta
        #: ``_source`` is part of every shape (the frame combines several sources).
        self.provenance = provenance
        self._meta_columns = meta_columns
        # (key, label) of every data column in order, taken before anyone can change df.attrs.
        self._columns = [(c["key"], c["label"]) for c in df.attrs["lasso"]["columns"]]

    @classmethod
    def from_columns(
        cls,
        data: RowColumns,
        columns: Sequence[Column | dict[str, Any]],
        *,
        table: Table | None = None,
        labels: bool = False,
        meta: bool = False,
        provenance: bool = False,
    ) -> TableFrames:
        """The frame from gathered rows, which it consumes, plus what the other shapes need
        (CPU-bound: run it off the loop)."""
        provenance = provenance or data.combined
        df = frame_from_columns(
            data,
            columns,
            table=table,
            labels=labels,
            meta=meta,
            provenance=provenance,
            consume=True,
        )
        meta_columns = None
        if not meta and data.meta is not None:
            meta_columns = meta_frame(data, df.index, source=not provenance, table=table)
        data.meta = data.source = data.location = None
        return cls(df, labels=labels, meta=meta, meta_columns=meta_columns, provenance=provenance)

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
        """``from_columns`` for row objects of the rows listing."""
        return cls.from_columns(
            RowColumns.from_rows(rows), columns, table=table, labels=labels, meta=meta
        )

    def lacks(self, meta: bool) -> bool:
        """True when the shape asked for needs meta columns this frame has not read."""
        return meta and not self.meta and self._meta_columns is None

    def add_meta(self, meta_columns: pd.DataFrame) -> None:
        """The meta columns read later (``read_meta_columns``), indexed by ``row_index`` (rows
        missing there get NA)."""
        if self.provenance:
            meta_columns = meta_columns.drop(columns=[SOURCE_COLUMN], errors="ignore")
        self._meta_columns = meta_columns

    def statuses(self) -> pd.Series | None:
        """Each row's validation status, indexed like ``df``; None when the rows had none."""
        source = self.df if self.meta else self._meta_columns
        if source is None or "_validation_status" not in source.columns:
            return None
        column = source["_validation_status"]
        return None if column.isna().all() else column

    def _extras(self) -> list[str]:
        """The columns ``meta=True`` adds, in order."""
        first = [] if self.provenance else [SOURCE_COLUMN]
        return [*first, LOCATION_COLUMN, *META_COLUMNS]

    def get(self, labels: bool, meta: bool) -> pd.DataFrame:
        """The frame with key (or label) column names, with or without the meta columns: ``df``
        itself in its own shape, else a new frame as ``build_frame`` would have made it."""
        if (labels, meta) == (self.labels, self.meta):
            return self.df
        if self.lacks(meta):
            raise LookupError("the meta columns were not read; add_meta() them first")
        names = unique_labels(self._columns)
        keys = [key for key, _ in self._columns]
        current = [names[k] for k in keys] if self.labels else keys
        wanted = [names[k] for k in keys] if labels else keys
        # Columns of no schema key (a server's extra keys) and _source stay as they are.
        data_columns = set(current) | set(self._extras())
        others = [c for c in self.df.columns if c not in data_columns]
        frame = self.df[current + others].set_axis(wanted + others, axis=1)
        if meta:
            extras = self._extras()
            extra = self.df[extras] if self.meta else self._meta_columns
            assert extra is not None
            frame = frame.join(extra[[c for c in extras if c in extra.columns]])
        frame.attrs = copy.deepcopy(self.df.attrs)
        return frame
