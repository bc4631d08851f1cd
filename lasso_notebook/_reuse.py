"""Reuse by default: before a job creates a table, ``create_or_reuse`` looks the extraction's
fingerprint up in the reuse index. A table made from the same input that is completed or still
running is attached to instead (rows are always read from the server); a failed, cancelled,
deleted or foreign one is dropped from the index and a new table is made. URL sources are
reused only while fresh (the pages may change behind the same address).

Every create is announced in the index before ``POST /tables`` is sent (a *pending* claim), so
two kernels submitting the same thing at once end with one table, and a create whose response
was lost can be found again (``find_pending_table``) — also with ``reuse=False``, whose claims
live under keys of their own (one per job, so identical jobs never wait for each other) and
are dropped once the create is settled."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._create_lookup import CLOCK_SLACK, LOOKUP_SCAN, look_patiently, source_matches
from ._data_dir import resolve_data_dir
from ._fingerprint import Fingerprint, backend_identity, fingerprint
from ._plan import create_from, upload_files
from ._reuse_index import INDEX_FILE, Claim, Entry, Request, ReuseIndex, disable, open_index
from ._reuse_policy import Reused, ReusePolicy
from ._schemas import aresolve_schema
from .errors import (
    APIConnectionError,
    APIStatusError,
    NotFoundError,
    PermissionDeniedError,
    TableMayExistError,
)
from .models import Phase

if TYPE_CHECKING:
    from ._plan import SubmitPlan
    from .client import AsyncLasso
    from .models import Schema, Table

__all__ = [
    "create_or_reuse",
    "find_pending_table",
    "forget_table",
    "index_dir",
    "open_client_index",
]

log = logging.getLogger("lasso_notebook")

#: How often a job holding a create claim shows it is alive (see ``CLAIM_STALE_AFTER``).
HEARTBEAT = 5.0
#: How long a job waits for another kernel's identical create before making its own table.
CLAIM_WAIT_MAX = 120.0
CLAIM_POLL = 0.2
#: Claims of jobs that reuse nothing (``reuse=False``) live under ``once:<fingerprint>:<job>``:
#: they only guard a create whose answer may be lost, and never become a table to reuse.
ONCE_PREFIX = "once:"

T = TypeVar("T")


# ------------------------------------------------------------------------------- the index


def index_dir(client: AsyncLasso) -> Path:
    """The folder of ``client``'s reuse index: the embedded engine's data dir, else the data
    dir ``resolve_data_dir()`` names (``LASSO_NOTEBOOK_DATA_DIR``, else ``~/.lasso_notebook``)."""
    return client.engine_data_dir or resolve_data_dir()


def open_client_index(client: AsyncLasso) -> ReuseIndex | None:
    """Open (once per process) the index ``client`` uses; None when it is broken. ``submit()``
    calls this on the caller's thread, so the one warning shows under the cell that asked."""
    return open_index(index_dir(client))


def forget_table(client: AsyncLasso, table_id: str) -> None:
    """A table deleted through this client is dropped from the index at once (a later run
    would find it gone anyway, one request later). Never creates an index."""
    path = index_dir(client) / INDEX_FILE
    if not path.exists():
        return
    index = open_index(path.parent)
    if index is None:
        return
    try:
        index.forget_table(table_id)
    except (sqlite3.Error, OSError) as exc:
        disable(index, exc)


async def _in_thread(
    index: ReuseIndex, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T | None:
    """Run an index call off the event loop; a failure disables the index (one warning) and
    reads as None: the job goes on without reuse."""
    try:
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
    except (sqlite3.Error, OSError) as exc:
        disable(index, exc)
        return None


# ------------------------------------------------------------------------------- the flow


async def create_or_reuse(
    client: AsyncLasso,
    plan: SubmitPlan,
    policy: ReusePolicy,
    on_upload: Callable[[str, int, int], None],
) -> tuple[Table, Reused | None]:
    """Resolve the schema, then attach to the table an identical earlier extraction made, or
    upload the files and create the table. Returns the table and, when reused, which one.
    Without reuse (``policy.enabled`` False) the create is still announced in the index, so
    a lost answer is found by the next run; only ``policy.index`` False leaves it alone."""
    schema = await aresolve_schema(client, plan.schema)
    index = open_client_index(client) if policy.index else None
    found: Fingerprint | None = None
    if index is not None:
        try:
            found = await asyncio.to_thread(
                fingerprint,
                plan,
                schema,
                backend=backend_identity(client.base_url, client.engine_data_dir),
                key_fingerprint=client.key_fingerprint,
            )
        except OSError as exc:  # a file went away since submit(): the upload says so
            log.debug("cannot hash the sources (%s); no reuse for this job", exc)
    if index is None or found is None:
        file_ids = await upload_files(client, plan, on_upload)
        return await create_from(client, plan, schema, file_ids), None
    return await _claimed(client, plan, schema, on_upload, policy, index, found)


async def _claimed(
    client: AsyncLasso,
    plan: SubmitPlan,
    schema: Schema,
    on_upload: Callable[[str, int, int], None],
    policy: ReusePolicy,
    index: ReuseIndex,
    fp: Fingerprint,
) -> tuple[Table, Reused | None]:
    request = Request(plan.name, schema.id, fp.source_kind, fp.source_count)
    token = f"{os.getpid()}-{secrets.token_hex(8)}"
    key = fp.digest if policy.enabled else await _once_key(index, fp.digest, token)
    force, replace = policy.refresh, None
    waiting_since: float | None = None
    while True:
        claim = await _in_thread(
            index, index.claim, key, request, token, force=force, replace_table=replace
        )
        if claim is None:  # the index broke meanwhile
            file_ids = await upload_files(client, plan, on_upload)
            return await create_from(client, plan, schema, file_ids), None
        if claim.kind == "hit":
            assert claim.entry is not None and claim.entry.table_id is not None
            table = await _reusable(client, claim.entry, schema, policy)
            if table is not None:
                return table, Reused(table.id, table.created_at or _recorded(claim.entry))
            replace = claim.entry.table_id  # gone, failed or stale: make a new one in its place
            continue
        if claim.kind == "busy" and not policy.enabled:
            key = f"{ONCE_PREFIX}{fp.digest}:{token}"  # another job took that orphan over
            continue
        if claim.kind == "busy":
            # Another kernel is creating this very table: wait for its id (bounded).
            waiting_since = waiting_since or time.monotonic()
            if time.monotonic() - waiting_since > CLAIM_WAIT_MAX:
                log.warning(
                    "lasso_notebook: an identical extraction was announced %.0f s ago and has "
                    "no table yet; creating one here",
                    time.monotonic() - waiting_since,
                )
                force = True
                continue
            await asyncio.sleep(CLAIM_POLL)
            continue
        return await _create_claimed(
            client,
            plan,
            schema,
            on_upload,
            _Claimed(index, key, request, token, claim, keep=policy.enabled),
        )


async def _once_key(index: ReuseIndex, digest: str, token: str) -> str:
    """The key a job that reuses nothing claims: an orphan of an identical earlier job (its
    create may have made a table nobody got), to look for that table first, else its own."""
    prefix = f"{ONCE_PREFIX}{digest}:"
    orphans = await _in_thread(index, index.orphans, prefix)
    return orphans[0].fingerprint if orphans else prefix + token


async def _reusable(
    client: AsyncLasso, entry: Entry, schema: Schema, policy: ReusePolicy
) -> Table | None:
    """The recorded table if it may be reused: still there, ours, of this schema, completed or
    on its way, and (URL sources) fresh enough. None otherwise."""
    assert entry.table_id is not None
    if entry.source_kind == "urls":
        age = time.time() - (entry.recorded_at or entry.claimed_at)
        if age > policy.url_max_age:
            log.debug("table %s from URLs is %.0f s old: not reused", entry.table_id, age)
            return None
    try:
        table = await client.tables.get(entry.table_id)
    except (NotFoundError, PermissionDeniedError):
        log.debug("table %s is gone: dropped from the reuse index", entry.table_id)
        return None
    if table.schema_id not in (None, schema.id) or not _usable(table):
        return None
    return table


def _usable(table: Table) -> bool:
    return table.phase in (Phase.PENDING, Phase.RUNNING, Phase.COMPLETED)


def _recorded(entry: Entry) -> datetime | None:
    stamp = entry.recorded_at or entry.claimed_at
    return datetime.fromtimestamp(stamp, timezone.utc) if stamp else None


@dataclasses.dataclass(frozen=True)
class _Claimed:
    """A claim this job holds: where it is, what it announced, and whether the table it ends
    with is recorded for reuse (``keep``) or the claim is dropped once the create settled."""

    index: ReuseIndex
    key: str
    request: Request
    token: str
    claim: Claim
    keep: bool


async def _create_claimed(
    client: AsyncLasso,
    plan: SubmitPlan,
    schema: Schema,
    on_upload: Callable[[str, int, int], None],
    held: _Claimed,
) -> tuple[Table, Reused | None]:
    """This job holds the claim: find the table a lost create made, or create it; record it."""
    index, key, token, claim = held.index, held.key, held.token, held.claim
    heartbeat = asyncio.create_task(_heartbeat(index, key, token))
    posted = False
    try:
        if claim.kind == "recover" and claim.entry is not None:
            entry = claim.entry
            exclude = await _in_thread(index, index.table_ids) or set()
            found, _spent = await look_patiently(
                client,
                functools.partial(find_pending_table, client, entry, exclude=exclude),
                name=entry.name,
                failure="an earlier run's POST /tables got no answer",
            )
            if found is not None:
                log.info("found table %s of an earlier create whose answer was lost", found.id)
                await _settle(held, found)
                return found, Reused(found.id, found.created_at or _recorded(entry), lost=True)
            # It made nothing: from here the claim announces this job's own create.
            await _in_thread(index, index.claim, key, held.request, token)
        file_ids = await upload_files(client, plan, on_upload)
        posted = True
        table = await create_from(client, plan, schema, file_ids)
    except BaseException as exc:
        # A table may exist that the index does not know of (this create's answer was lost,
        # or the earlier lost create could not be looked for): the next run looks first.
        if (posted and _may_have_created(exc)) or claim.kind == "recover":
            kept = await _in_thread(index, index.mark_lost, key, token)
            if kept and isinstance(exc, TableMayExistError):
                exc.mark_recorded()
        else:
            await _in_thread(index, index.release, key, token)
        raise
    finally:
        heartbeat.cancel()
    await _settle(held, table)
    return table, None


async def _settle(held: _Claimed, table: Table) -> None:
    """The create is settled with ``table``: record it for reuse, or drop the claim."""
    if held.keep:
        await _in_thread(
            held.index,
            held.index.complete,
            held.key,
            held.request,
            held.token,
            table.id,
            _iso(table),
        )
    else:
        await _in_thread(held.index, held.index.release, held.key, held.token)


async def _heartbeat(index: ReuseIndex, key: str, token: str) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT)
        if await _in_thread(index, index.touch, key, token) is None:
            return  # the index broke: nobody will wait for this claim any more


def _may_have_created(exc: BaseException) -> bool:
    """Whether a failed ``POST /tables`` may still have made the table (its answer was lost)."""
    if isinstance(exc, APIConnectionError):
        return exc.request_sent
    if isinstance(exc, APIStatusError):
        return exc.status_code >= 500
    return isinstance(exc, asyncio.CancelledError)


def _iso(table: Table) -> str | None:
    return table.created_at.isoformat() if table.created_at is not None else None


# ---------------------------------------------------------------- creates whose answer was lost


async def find_pending_table(
    client: AsyncLasso, entry: Entry, *, exclude: set[str] | frozenset[str] = frozenset()
) -> Table | None:
    """The table a pending (or lost) create of ``entry`` may have made although its id never
    reached the index: same name and schema, a matching kind and number of sources, created
    since the claim (with a minute of clock slack), not a table the index already knows
    (``exclude``), and not failed. Newest first; at most ``LOOKUP_SCAN`` tables are listed."""
    since = datetime.fromtimestamp(entry.claimed_at, timezone.utc) - CLOCK_SLACK
    candidates: list[tuple[datetime, str]] = []
    scanned = 0
    async for summary in await client.tables.list(search=entry.name, limit=100):
        scanned += 1
        if scanned > LOOKUP_SCAN:
            break
        created = summary.created_at
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        if (
            summary.name == entry.name
            and summary.schema_id in (None, entry.schema_id)
            and created is not None
            and created >= since
            and summary.id not in exclude
        ):
            candidates.append((created, summary.id))
    for _created, table_id in sorted(candidates, reverse=True):
        with contextlib.suppress(NotFoundError):
            table = await client.tables.get(table_id)
            if source_matches(table, entry.source_kind, entry.source_count) and _usable(table):
                return table
    return None
