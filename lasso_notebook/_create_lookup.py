"""``POST /tables`` without duplicates: ``TableCreator`` sends a create, and after an ambiguous
failure (the request may have been processed) looks for the table it may have made before any
new attempt, also after the last one. The look-up rides over an outage with the create's own
budget (``look_patiently``); when that runs out it says a table may exist
(``TableMayExistError``). So one call never leaves two tables, nor one it does not name.
Creates of one name by one client go one after the other."""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, TypeVar

from ._retry import RETRY_STATUSES
from .errors import (
    APIConnectionError,
    APIStatusError,
    LassoError,
    NotFoundError,
    TableMayExistError,
)
from .models import CreateTableRequest, Table

if TYPE_CHECKING:
    from .client import AsyncLasso

__all__ = [
    "CLOCK_SLACK",
    "LOOKUP_SCAN",
    "TableCreator",
    "look_patiently",
    "same_source",
    "source_matches",
]

T = TypeVar("T")

log = logging.getLogger("lasso_notebook")

#: Tables listed at most when looking for the one a lost ``POST /tables`` made (a name that
#: many tables contain must not cost an unbounded walk).
LOOKUP_SCAN = 1000
#: Server and client clocks differ; a minute of slack still excludes older namesakes.
CLOCK_SLACK = timedelta(seconds=60)


class TableCreator:
    """Creates tables for one client and remembers the ones it returned."""

    def __init__(self, client: AsyncLasso) -> None:
        self._client = client
        #: Tables this client created, so a look-up after a lost response never takes one of
        #: them for the lost one (bounded: only recent namesakes matter).
        self._created_ids: deque[str] = deque(maxlen=1000)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def create(self, request: CreateTableRequest) -> Table:
        lock = self._locks.get(request.name)
        if lock is None:
            lock = self._locks[request.name] = asyncio.Lock()
        # Namesakes are created one after the other: a look-up after a lost response must not
        # take the table of a concurrent call whose own response has not arrived yet.
        async with lock:
            return await self._create(request)

    async def _create(self, request: CreateTableRequest) -> Table:
        client = self._client
        body = request.to_body()
        attempt = 0
        while True:
            started = datetime.now(timezone.utc)
            try:
                table = Table.model_validate(await client.request("POST", "/tables", json=body))
            except (APIConnectionError, APIStatusError) as exc:
                if not _ambiguous(exc):
                    raise
                await asyncio.sleep(client.retry.backoff(attempt))
                found, attempt = await look_patiently(
                    client,
                    functools.partial(self._find, request, started),
                    name=request.name,
                    failure=_failure_text(exc),
                    attempt=attempt,
                )
                if found is not None:
                    log.info("POST /tables failed ambiguously; found table %s", found.id)
                    return self._remember(found)
                if attempt >= client.retry.max_retries:
                    raise  # the look-up answered: no table was made, this is why
                attempt += 1
            else:
                return self._remember(table)

    def _remember(self, table: Table) -> Table:
        self._created_ids.append(table.id)
        return table

    async def _find(self, request: CreateTableRequest, since: datetime) -> Table | None:
        """The table a lost ``POST /tables`` made, if any: same name and schema, a matching
        kind of source, created since the attempt began, and not one this client already
        returned (a cell re-run under the same name makes namesakes within seconds)."""
        since -= CLOCK_SLACK
        candidates: list[tuple[datetime, str]] = []
        scanned = 0
        async for summary in await self._client.tables.list(search=request.name, limit=100):
            scanned += 1
            if scanned > LOOKUP_SCAN:
                break
            created = summary.created_at
            if (
                summary.name == request.name
                and summary.schema_id in (None, request.schema_id)
                and created is not None
                and created >= since
                and summary.id not in self._created_ids
            ):
                candidates.append((created, summary.id))
        # Newest first: earlier namesakes were made before this attempt began.
        for _created, table_id in sorted(candidates, reverse=True):
            try:
                table = await self._client.tables.get(table_id)
            except NotFoundError:
                continue  # deleted since it was listed
            if same_source(table, request):
                return table
        return None


def _ambiguous(exc: APIConnectionError | APIStatusError) -> bool:
    """Whether a failed ``POST /tables`` may have made the table: the request was sent and no
    answer came back, or the server failed while handling it (a refused one made nothing, and
    a connection never made was retried by ``request()`` already)."""
    if isinstance(exc, APIConnectionError):
        return exc.request_sent
    return exc.status_code in (500, 502, 504)


async def look_patiently(
    client: AsyncLasso,
    lookup: Callable[[], Awaitable[T]],
    *,
    name: str,
    failure: str,
    attempt: int = 0,
) -> tuple[T, int]:
    """Run ``lookup`` (a read that looks for a table a create may have made) until it answers,
    riding over an outage with the create's own budget: each failed try spends one of the
    client's ``max_retries`` attempts (``attempt`` counts those already spent) and waits as a
    resent create would (``Retry-After`` honoured up to its cap, else the backoff). Returns
    the answer and the attempts spent. When the budget is spent, or the failure is not one a
    retry cures, raises ``TableMayExistError`` for the table ``name`` (``failure``: why the
    create is in doubt)."""
    while True:
        try:
            return await lookup(), attempt
        except LassoError as exc:
            if not _transient(exc) or attempt >= client.retry.max_retries:
                raise TableMayExistError(name, f"{failure}; looking for it: {exc}") from exc
            attempt += 1
            response = exc.response if isinstance(exc, APIStatusError) else None
            delay = client.retry.delay(attempt, response)
            log.debug("looking for table %r failed (%s); trying again in %.2f s", name, exc, delay)
            await asyncio.sleep(delay)


def _failure_text(exc: APIConnectionError | APIStatusError) -> str:
    # A connection error names its request already ("POST /tables failed: …").
    return str(exc) if isinstance(exc, APIConnectionError) else f"POST /tables answered {exc}"


def _transient(exc: LassoError) -> bool:
    """A failure an outage causes and a later try may not meet again."""
    if isinstance(exc, APIConnectionError):
        return True
    return isinstance(exc, APIStatusError) and exc.status_code in RETRY_STATUSES


def same_source(table: Table, request: CreateTableRequest) -> bool:
    """Whether ``table`` could have been made from ``request``'s source (a server that omits
    ``source_type`` or ``files`` is given the benefit of the doubt)."""
    if request.source_text is not None:
        return source_matches(table, "text", 1)
    if request.file_ids is not None:
        return source_matches(table, "files", len(request.file_ids))
    return source_matches(table, "urls", len(request.file_urls or []))


#: The ``source_type`` values a server may report for each kind of source (URL sources are
#: files fetched by the server on some revisions).
_SOURCE_TYPES = {
    "text": {"text"},
    "files": {"files", "file"},
    "urls": {"urls", "url", "files", "file"},
}


def source_matches(table: Table, kind: str, count: int) -> bool:
    """Whether ``table`` could have been made from ``count`` sources of ``kind`` ("text",
    "files" or "urls"); what the server leaves out counts as matching."""
    if table.source_type is not None and table.source_type not in _SOURCE_TYPES[kind]:
        return False
    return kind == "text" or not table.files or len(table.files) == count
