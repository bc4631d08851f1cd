"""A completed table's rows in one request: ``GET /tables/{id}/export?format=json`` streamed and
parsed as it arrives (``FlatRowsParser``) into columns, then checked (``read_export``). Anything
unexpected raises ``ExportUnusable``, and the caller reads the rows listing instead.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from ._frame_build import RowColumns

if TYPE_CHECKING:
    from .client import AsyncLasso
    from .models import Table

__all__ = ["ExportUnusable", "FlatRowsParser", "read_export"]

log = logging.getLogger("lasso_notebook")

#: Bytes looked at before deciding how the array is laid out; beyond it, the generic parser.
SNIFF_LIMIT = 1 << 20
#: Rows per page of the spot-check read (the API's maximum page size).
CHECK_PAGE = 100


class ExportUnusable(Exception):
    """The export cannot give this table's frame (an error, a malformed or truncated body, or
    rows that do not add up): the rows listing is read instead."""


# --------------------------------------------------------------------------------------------
# Parsing


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while one block of rows is parsed (a few ms).

    Each block allocates hundreds of dicts and lists that die at once; collections triggered
    by them traverse every list kept so far (a tags column holds one per row), which made
    parsing ~2.5x slower. Pausing per block keeps collections to block boundaries. The switch
    is process-wide, so it is only flipped back on if it was on.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _loads(text: bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # Valid JSON orjson refuses (an escaped lone surrogate, a number beyond a double).
        return json.loads(text)


class FlatRowsParser:
    """Parses a JSON array of flat objects fed in pieces, adding its rows to ``sink``.

    Servers that write one object per line (``[\\n{…},\\n{…}\\n]``, still one JSON array; the
    embedded engine does) are parsed a block of complete lines at a time with orjson. Any other
    layout goes through ijson's incremental parser. Either way only the current piece of the
    body is held, never the whole body. Malformed or truncated input raises ``ValueError``.
    """

    def __init__(self, sink: RowColumns) -> None:
        self.sink = sink
        self.mode: str | None = None  # "lines" or "generic", once the start was seen
        self._head = b""  # the start of the body, until the layout is known
        self._rest = b""  # lines mode: the incomplete last line
        # Lines mode: what may come next: "row" or "]" (start), "row" (after a comma), "]".
        self._expect = "row or end"
        self._closed = False
        self._generic: Any = None
        self._items: Any = None

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.mode is None:
            self._head += chunk
            self._sniff(final=False)
        elif self.mode == "lines":
            data = self._rest + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                self._rest = data
                return
            self._rest = data[cut + 1 :]
            self._lines(data[:cut])
        else:
            self._send(chunk)

    def close(self) -> None:
        """The body ended: the array must be complete."""
        if self.mode is None:
            self._sniff(final=True)
        if self.mode == "lines":
            rest, self._rest = self._rest, b""
            self._lines(rest)
            if not self._closed:
                raise ValueError("the JSON array is not closed (truncated body?)")
        elif self.mode == "generic":
            try:
                self._generic.close()
            except Exception as exc:
                raise ValueError(f"malformed JSON array: {exc}") from None
            self._drain()

    def _sniff(self, final: bool) -> None:
        head = self._head
        body = head.lstrip()
        if not body:
            if final:
                raise ValueError("empty body")
            return
        if body[:1] != b"[":
            raise ValueError("the body is not a JSON array")
        first = body.find(b"\n")
        second = body.find(b"\n", first + 1) if first >= 0 else -1
        if (first < 0 or second < 0) and not final and len(head) < SNIFF_LIMIT:
            return  # not enough seen yet
        line = body[first + 1 : second if second >= 0 else len(body)].strip()
        one_per_line = (
            first >= 0
            and not body[1:first].strip()
            and (
                line.startswith(b"]")
                or (line.startswith(b"{") and (line.endswith(b"}") or line.endswith(b"},")))
            )
        )
        self._head = b""
        if one_per_line:
            self.mode = "lines"
            self.feed(body[first + 1 :])
        else:
            import ijson

            self.mode = "generic"
            self._items = ijson.sendable_list()
            self._generic = ijson.items_coro(self._items, "item", use_float=True)
            self._send(head)

    def _lines(self, block: bytes) -> None:
        """Complete lines: rows (each ``{…}`` with a comma unless last) and maybe the ``]``."""
        text = block.strip()
        if not text:
            return
        if self._closed:
            raise ValueError("data after the end of the JSON array")
        closing = text.endswith(b"]")
        if closing:
            text = text[:-1].rstrip()
            self._closed = True
        if not text:
            if self._expect == "row":
                raise ValueError("the JSON array ends with a comma")
            return
        if self._expect == "end":
            raise ValueError("rows are not separated by commas")
        comma = text.endswith(b",")
        if comma:
            if closing:
                raise ValueError("the JSON array ends with a comma")
            text = text[:-1]
        self._expect = "row" if comma else "end"
        with _gc_paused():
            self.sink.add_flat(_loads(b"[" + text + b"]"))

    def _send(self, chunk: bytes) -> None:
        with _gc_paused():
            try:
                self._generic.send(chunk)
            except Exception as exc:
                raise ValueError(f"malformed JSON array: {exc}") from None
            self._drain()

    def _drain(self) -> None:
        if self._items:
            self.sink.add_flat(list(self._items))
            del self._items[:]


# --------------------------------------------------------------------------------------------
# Reading


async def read_export(
    client: AsyncLasso,
    table: Table,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> RowColumns:
    """Every row of a completed table from its json export, in row_index order.

    ``on_progress(rows, bytes)`` is called as the body arrives. Checks before the rows are
    believed: the count equals ``total_rows``; and the last page of the rows listing (what
    paging would read last) has ``row_index`` up to ``total_rows - 1`` with the same values as
    the export's last rows. That proves the rows are numbered 0..n-1 (the frame's index is
    then the export's order) and that the export runs in ``row_index`` order, which the
    embedded engine guarantees and the API does not document. ``ExportUnusable`` otherwise.
    """
    expected = table.total_rows
    check = asyncio.ensure_future(_last_page(client, table.id, expected))
    try:
        data = await _read_body(client, table.id, expected, on_progress)
        try:
            last_page = await check
        except Exception as exc:
            raise ExportUnusable(f"the check read of the rows listing failed: {exc}") from None
        _check_tail(data, last_page, expected)
        return data
    finally:
        if not check.done():
            check.cancel()
        await asyncio.gather(check, return_exceptions=True)


async def _read_body(
    client: AsyncLasso,
    table_id: str,
    expected: int,
    on_progress: Callable[[int, int], None] | None,
) -> RowColumns:
    data = RowColumns()
    parser = FlatRowsParser(data)
    received = 0
    path = f"/tables/{quote(table_id, safe='')}/export"
    try:
        async with client.stream("GET", path, params={"format": "json"}) as response:
            if response.status_code != 200:
                raise ExportUnusable(f"the export answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                parser.feed(chunk)
                if data.count > expected:
                    raise ExportUnusable(f"the export has more rows than total_rows={expected}")
                if on_progress is not None:
                    on_progress(data.count, received)
        parser.close()
    except ExportUnusable:
        raise
    except Exception as exc:  # a broken connection, a malformed body; never a cancellation
        raise ExportUnusable(f"{type(exc).__name__}: {exc}") from None
    if data.count != expected:
        raise ExportUnusable(f"the export has {data.count} rows, total_rows is {expected}")
    return data


async def _last_page(client: AsyncLasso, table_id: str, total: int) -> dict[str, Any]:
    if total == 0:
        return {"data": [], "pagination": {"total": 0}}
    page = math.ceil(total / CHECK_PAGE)
    body = await client.request(
        "GET",
        f"/tables/{quote(table_id, safe='')}/rows",
        params={"page": page, "limit": CHECK_PAGE},
    )
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ExportUnusable("the rows listing sent a malformed page")
    return body


def _check_tail(data: RowColumns, page: dict[str, Any], total: int) -> None:
    listed = (page.get("pagination") or {}).get("total")
    if listed != total:
        raise ExportUnusable(f"the rows listing has {listed} rows, total_rows is {total}")
    rows = page["data"]
    first = (math.ceil(total / CHECK_PAGE) - 1) * CHECK_PAGE if total else 0
    if [row.get("row_index") for row in rows] != list(range(first, total)):
        raise ExportUnusable("row_index is not 0..total_rows-1 (rows were deleted or moved)")
    for row in rows:
        position = row["row_index"]
        listed_data = row.get("data") or {}
        for key, column in data.values.items():
            if column[position] != listed_data.get(key):
                raise ExportUnusable(
                    f"the export's row {position} differs from the rows listing's "
                    "(the export is not in row_index order)"
                )
