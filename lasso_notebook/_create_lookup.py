"""``POST /tables`` without duplicates: ``TableCreator`` sends a create, and after an ambiguous
failure (the request may have been processed) looks for the table it may have made before any
new attempt, also after the last one. So one call never leaves two tables, nor one it does not
return. Creates of one name by one client go one after the other."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .errors import APIConnectionError, APIStatusError, LassoError
from .models import CreateTableRequest, Table

if TYPE_CHECKING:
    from .client import AsyncLasso

__all__ = ["CLOCK_SLACK", "LOOKUP_SCAN", "TableCreator", "same_source", "source_matches"]

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
                if isinstance(exc, APIConnectionError):
                    # A connection never made was retried by request() already.
                    ambiguous = exc.request_sent
                else:
                    ambiguous = exc.status_code in (500, 502, 504)
                if not ambiguous:
                    raise
                await asyncio.sleep(client.retry.backoff(attempt))
                try:
                    found = await self._find(request, started)
                except LassoError:
                    raise exc from None  # the look-up failed too: report the original failure
                if found is not None:
                    log.info("POST /tables failed ambiguously; found table %s", found.id)
                    return self._remember(found)
                if attempt >= client.retry.max_retries:
                    raise
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
            table = await self._client.tables.get(table_id)
            if same_source(table, request):
                return table
        return None


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
