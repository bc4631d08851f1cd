"""Every table one client follows, polled together (``TablePoller``, one per client, on the runtime
loop). A few tables are polled one by one on their own ``PollSchedule``. Many are covered by one
listing of the active tables per cycle (``GET /tables?status=…``: id, status, row count), and a
table is read on its own (``GET /tables/{id}``) only when the listing shows it changed or no
longer lists it, when the listing cannot show what its display needs (progress), or when its
progress rate says it is about to finish. A 429 pauses every poll until ``Retry-After``; a
table that gets nothing but 429s for longer than its ``rate_limit_budget`` ends with
``RateLimitError`` (it goes on on the server).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._display import format_duration
from ._polling import DEFAULT_RATE_LIMIT_BUDGET, MAX_POLL_FAILURES, PollSchedule
from ._resources import _seg
from .errors import APIConnectionError, InternalServerError, RateLimitError
from .models import Phase, Table, phase_of

if TYPE_CHECKING:
    from .client import AsyncLasso

__all__ = ["GROUP_FROM", "LIST_EVERY", "TablePoller", "poller_for"]

log = logging.getLogger("lasso_notebook")

#: From this many followed tables on, a listing per cycle replaces most per-table polls.
GROUP_FROM = 4
#: Seconds between two listings while tables are followed as a group: bounds how late a table
#: that finished is noticed.
LIST_EVERY = 0.3
#: Listing page size (the API's maximum) and the most pages read per status and cycle.
LIST_LIMIT = 100
LIST_PAGES = 10
#: Listings ask for the documented active statuses; a table in neither is read on its own.
LISTED_STATUSES = {Phase.PENDING: "queued", Phase.RUNNING: "processing"}
#: After a listing failed (a server without the status filter, say), tables are polled one by
#: one for this long before a listing is tried again.
LIST_RETRY = 30.0
#: Per-table reads in flight at once.
GET_CONCURRENCY = 16

NEVER = float("inf")

_pollers: weakref.WeakKeyDictionary[AsyncLasso, TablePoller] = weakref.WeakKeyDictionary()


def poller_for(client: AsyncLasso) -> TablePoller:
    """The client's poller (made on first use; call on the runtime loop)."""
    poller = _pollers.get(client)
    if poller is None:
        poller = _pollers[client] = TablePoller(client)
    return poller


class _Watch:
    """One followed table: its last state, its schedule and who to tell."""

    def __init__(
        self,
        table: Table,
        schedule: PollSchedule,
        on_table: Callable[[Table], Any],
        on_request: Callable[[], Any] | None,
        on_limited: Callable[[float | None], Any] | None,
        budget: float,
        done: asyncio.Future[Table],
        now: float,
    ) -> None:
        self.table = table
        self.schedule = schedule
        self.on_table = on_table
        self.on_request = on_request
        self.on_limited = on_limited
        #: Seconds of nothing but 429s before the table is given up (``rate_limit_budget``).
        self.budget = budget
        self.done = done
        self.failures = 0
        #: When the request behind ``table`` was sent: older answers are stale and ignored.
        self.seen_at = now
        #: Next poll of its own (monotonic time); ``inf`` while the listing covers it.
        self.due = now + schedule.next_pause(now)
        self.busy = False  # a read of its own in flight
        #: The listing showed this table in the last cycle (with what it needs to be shown).
        self.covered = False
        #: A read of its own found it active while the listing did not show it: the listing
        #: cannot see it (a status the filter does not know, too many active tables).
        self.unlisted = False
        #: When the first request of an unbroken run of 429s was sent (None once any other
        #: answer came).
        self.limited_since: float | None = None
        #: When polling resumes after a 429 (None while not rate limited); what the job shows.
        self.limited_until: float | None = None

    @property
    def closed(self) -> bool:
        return self.done.done()


class TablePoller:
    """Follows tables for one client until each is finished (see the module docstring)."""

    def __init__(self, client: AsyncLasso) -> None:
        self._client = client
        self._watches: list[_Watch] = []
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._next_listing = 0.0
        self._listing_broken_until = 0.0
        self._paused_until = 0.0  # after a 429: nothing is sent before this
        self._gets = asyncio.Semaphore(GET_CONCURRENCY)
        self._in_flight: set[asyncio.Task[None]] = set()
        #: Requests sent, for benchmarks and tests: listing pages and per-table reads.
        self.listings = 0
        self.reads = 0

    # -- following ---------------------------------------------------------------------------

    async def follow(
        self,
        table: Table,
        schedule: PollSchedule,
        on_table: Callable[[Table], Any],
        *,
        on_request: Callable[[], Any] | None = None,
        on_limited: Callable[[float | None], Any] | None = None,
        rate_limit_budget: float = DEFAULT_RATE_LIMIT_BUDGET,
    ) -> Table:
        """Poll ``table`` until it is finished and return it. ``on_table`` gets every changed
        state (progress never going backwards); ``on_request`` is called per read of this
        table; ``on_limited`` gets the ``time.monotonic()`` at which polling resumes after a
        429, and None once an answer got through. Raises what ended the polling
        (``MAX_POLL_FAILURES`` failed reads in a row, nothing but 429s for longer than
        ``rate_limit_budget`` seconds, or any other error); cancelling the caller stops
        following the table."""
        if table.is_terminal:
            return table
        loop = asyncio.get_running_loop()
        watch = _Watch(
            table,
            schedule,
            on_table,
            on_request,
            on_limited,
            rate_limit_budget,
            loop.create_future(),
            time.monotonic(),
        )
        self._watches.append(watch)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        self._wake()
        try:
            return await watch.done
        finally:
            if not watch.done.done():
                watch.done.cancel()
            self._watches.remove(watch)

    @property
    def following(self) -> int:
        """Tables followed now."""
        return len(self._watches)

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while self._watches:
                now = time.monotonic()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                if not self._grouped(now):
                    for watch in self._watches:
                        if watch.due == NEVER:  # the group shrank: back to its own schedule
                            watch.covered = False
                            watch.due = now + watch.schedule.next_pause(now)
                elif now >= self._next_listing:
                    self._next_listing = now + LIST_EVERY
                    await self._list(now)
                    now = time.monotonic()
                for watch in list(self._watches):
                    if not watch.busy and not watch.closed and watch.due <= now:
                        self._start_read(watch)
                await self._sleep(self._next_wake(now))
        except Exception as exc:  # a bug here must not leave jobs waiting for ever
            log.exception("lasso_notebook: the table poller failed")
            for watch in self._watches:
                _fail(watch, exc)

    def _grouped(self, now: float) -> bool:
        return len(self._watches) >= GROUP_FROM and now >= self._listing_broken_until

    def _next_wake(self, now: float) -> float:
        wake = min((w.due for w in self._watches if not w.busy), default=now + LIST_EVERY)
        if self._grouped(now):
            wake = min(wake, self._next_listing)
        return max(0.0, min(wake - now, LIST_RETRY))

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        self._wakeup = wakeup = loop.create_future()
        timer = loop.call_later(seconds, _resolve, wakeup)
        try:
            await wakeup
        finally:
            timer.cancel()
            self._wakeup = None

    def _wake(self) -> None:
        if self._wakeup is not None:
            _resolve(self._wakeup)

    # -- one table ---------------------------------------------------------------------------

    def _start_read(self, watch: _Watch) -> None:
        watch.busy = True
        task = asyncio.ensure_future(self._read(watch))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _read(self, watch: _Watch) -> None:
        try:
            async with self._gets:
                if watch.closed:
                    return
                sent = time.monotonic()
                self.reads += 1
                if watch.on_request is not None:
                    watch.on_request()
                try:
                    body = await self._client.request(
                        "GET", f"/tables/{_seg(watch.table.id)}", retry_rate_limited=False
                    )
                    table = Table.model_validate(body)
                except RateLimitError as exc:
                    self._rate_limited(exc, [watch], sent)
                    return
                except (APIConnectionError, InternalServerError) as exc:
                    if isinstance(exc, InternalServerError):
                        watch.limited_since = None  # an answer other than 429
                    _resumed(watch)
                    watch.failures += 1
                    if watch.failures >= MAX_POLL_FAILURES:
                        _fail(watch, exc)
                        return
                    log.debug("poll of %s failed (%s); trying again", watch.table.id, exc)
                    watch.schedule.failed()
                    now = time.monotonic()
                    watch.due = now + watch.schedule.next_pause(now)
                    return
                except Exception as exc:
                    _fail(watch, exc)
                    return
            self._answer(watch, table, sent, read=True)
        finally:
            watch.busy = False
            self._wake()

    def _answer(self, watch: _Watch, new: Table, sent: float, *, read: bool) -> None:
        """A newer state of the table: from a read of its own, or the listing's fields."""
        if watch.closed or sent < watch.seen_at:
            return  # stale: an answer to a later request is already in
        old = watch.table
        if (
            new.phase is Phase.RUNNING
            and old.phase is Phase.RUNNING
            and new.progress < old.progress
        ):
            new = new.model_copy(update={"progress": old.progress})  # never shown going back
        watch.seen_at = sent
        watch.failures = 0
        watch.limited_since = None
        _resumed(watch)
        changed = _shown(new) != _shown(old)
        watch.table = new
        if changed or new.is_terminal:
            try:
                watch.on_table(new)
            except Exception as exc:  # the follower broke: it ends with that error
                _fail(watch, exc)
                return
        if new.is_terminal:
            watch.done.set_result(new)
            return
        now = time.monotonic()
        if read:
            watch.schedule.answered(changed)
            watch.due = self._due(watch, now)
        elif watch.due == NEVER:
            watch.due = self._due(watch, now)

    def _due(self, watch: _Watch, now: float) -> float:
        """When the table should next be read on its own (``NEVER``: the listing suffices)."""
        if watch.covered and self._grouped(now):
            eta = watch.schedule.eta_at
            # The listing notices the end within LIST_EVERY; a read of its own only pays
            # when the progress rate says the end comes sooner.
            if eta is None or eta - now > LIST_EVERY:
                return NEVER
        return now + watch.schedule.next_pause(now)

    # -- the listing -------------------------------------------------------------------------

    async def _list(self, now: float) -> None:
        """One listing of the active tables, and what it tells each followed table."""
        watches = [w for w in self._watches if not w.closed]
        statuses = [LISTED_STATUSES[Phase.RUNNING]]  # pending tables move there too
        if any(w.table.phase is Phase.PENDING for w in watches):
            statuses.append(LISTED_STATUSES[Phase.PENDING])
        listed: dict[str, dict[str, Any]] = {}
        sent = time.monotonic()
        try:
            for items in await asyncio.gather(*(self._list_status(s) for s in statuses)):
                for item in items:
                    listed.setdefault(item["id"], item)
        except RateLimitError as exc:
            self._rate_limited(exc, watches, sent)
            return
        except Exception as exc:
            log.debug("listing the active tables failed (%s); polling them one by one", exc)
            self._listing_broken_until = time.monotonic() + LIST_RETRY
            return
        for watch in watches:
            watch.limited_since = None  # the listing got through for every table
            _resumed(watch)
            if watch.seen_at > sent:
                continue  # a read of its own was sent after this listing
            item = listed.get(watch.table.id)
            if item is not None:
                self._listed(watch, item, sent, now)
                continue
            watch.covered = False
            if not watch.unlisted:
                watch.unlisted = True
                watch.due = now  # finished, most likely: read it now
            elif watch.due == NEVER:
                watch.due = self._due(watch, now)

    async def _list_status(self, status: str) -> list[dict[str, Any]]:
        """The tables in ``status``, newest first: as many pages as could hold the followed
        tables and one more (the account may have other active tables; a followed table beyond
        them is found missing, read on its own, and then polled on its own)."""
        pages = min(LIST_PAGES, len(self._watches) // LIST_LIMIT + 2)
        items: list[dict[str, Any]] = []
        for page in range(1, pages + 1):
            self.listings += 1
            body = await self._client.request(
                "GET",
                "/tables",
                params={"status": status, "limit": LIST_LIMIT, "page": page},
                retry_rate_limited=False,
            )
            data = body["data"]
            if any(item.get("status") != status for item in data):
                # A server that ignores the filter (or names statuses otherwise) would list
                # every table it has, each cycle: poll one by one instead.
                raise ValueError(f"the listing for status={status} has other statuses")
            items.extend(data)
            if not data or page * LIST_LIMIT >= int(body["pagination"]["total"]):
                break
        return items

    def _listed(self, watch: _Watch, item: dict[str, Any], sent: float, now: float) -> None:
        watch.unlisted = False
        table = watch.table
        status = item.get("status")
        total_rows = item.get("total_rows")
        # Not in the documented listing (the engine sends it): used where present.
        progress = item.get("progress")
        has_progress = isinstance(progress, int) and not isinstance(progress, bool)
        # A running table's display needs its progress; without it in the listing, the table
        # keeps being read on its own schedule.
        watch.covered = has_progress or phase_of(status) is Phase.PENDING
        if status != table.status or (total_rows != table.total_rows and not has_progress):
            watch.due = now  # it changed: read the whole table
        elif has_progress and (progress, total_rows) != (table.progress, table.total_rows):
            update = {"progress": progress, "total_rows": total_rows}
            self._answer(watch, table.model_copy(update=update), sent, read=False)
        elif watch.due == NEVER:
            watch.due = self._due(watch, now)  # an end predicted soon, or coverage lost

    # -- rate limits -------------------------------------------------------------------------

    def _rate_limited(self, exc: RateLimitError, watches: list[_Watch], sent: float) -> None:
        """A 429 (polls do not retry them inside the client): the key is over its limit, so
        nothing more is sent for any table until ``Retry-After`` (else the poll cap) has
        passed. The one place polling handles 429s. A table whose run of nothing but 429s
        (since ``limited_since``) would outlast its budget before the next try ends now."""
        asked = self._client.retry.retry_after(exc.response) if exc.response else None
        now = time.monotonic()
        wait = asked if asked is not None else max(w.schedule.cap for w in watches)
        self._paused_until = max(self._paused_until, now + wait)
        for watch in watches:
            if watch.closed:
                continue
            if watch.limited_since is None:
                watch.limited_since = sent
            if now + wait - watch.limited_since > watch.budget:
                _fail(watch, _over_budget(exc, watch, now))
                continue
            if watch.due != NEVER:
                watch.due = max(watch.due, now + wait)
            watch.limited_until = now + wait
            _tell(watch, watch.limited_until)
        log.debug("rate limited; polling paused for %.1f s", wait)


def _shown(table: Table) -> tuple[Any, ...]:
    """What a follower shows of a table: a change in any of it is passed on."""
    return (table.status, table.progress, table.total_rows, table.get("status_note"))


def _over_budget(exc: RateLimitError, watch: _Watch, now: float) -> RateLimitError:
    """The error a table ends with after nothing but 429s for longer than its budget."""
    table = watch.table
    spent = now - (watch.limited_since or now)
    error = RateLimitError(
        f"rate limited: nothing but 429 answers for {format_duration(spent)} while following "
        f"table {table.id} ({table.name!r}), and the next try would pass its rate_limit_budget "
        f"of {format_duration(watch.budget)}; stopped polling",
        status_code=exc.status_code,
        error_type=exc.error_type,
        request_id=exc.request_id,
        body=exc.body,
        response=exc.response,
    )
    error.table_id = table.id
    return error


def _resumed(watch: _Watch) -> None:
    """An answer other than 429 came: the table is no longer shown as rate limited."""
    if watch.limited_until is not None:
        watch.limited_until = None
        _tell(watch, None)


def _tell(watch: _Watch, until: float | None) -> None:
    if watch.on_limited is None:
        return
    try:
        watch.on_limited(until)
    except Exception as exc:  # the follower broke: it ends with that error
        _fail(watch, exc)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fail(watch: _Watch, exc: BaseException) -> None:
    if not watch.closed:
        watch.done.set_exception(exc)
