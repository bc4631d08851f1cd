"""The Lasso API client: ``AsyncLasso`` (httpx.AsyncClient) and ``Lasso``, its sync facade whose
calls run on the background runtime thread. Resources, retries and auto-pagination live here."""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
import logging
import mimetypes
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import PrivateAttr, ValidationError

from . import _runtime
from ._config import mask_key, resolve
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidRequestError,
    LassoError,
    WaitTimeoutError,
    from_response,
)
from .models import (
    Column,
    CreateTableRequest,
    File,
    Page,
    Row,
    Schema,
    SchemaSummary,
    Table,
    TableSummary,
)

__all__ = [
    "AsyncLasso",
    "Lasso",
    "RetryPolicy",
    "SyncPage",
    "current_default_client",
    "default_client",
]

log = logging.getLogger("lasso_notebook")

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A refused request provably did nothing, so even a non-idempotent POST may be sent again.
REFUSED_STATUSES = frozenset({408, 429, 503})
#: Tables listed at most when looking for the one a lost ``POST /tables`` made (a name that
#: many tables contain must not cost an unbounded walk).
_LOOKUP_SCAN = 1000

FileInput = str | os.PathLike[str] | bytes | IO[bytes]


class RetryPolicy:
    """Capped exponential backoff with jitter; ``Retry-After`` honoured up to a cap."""

    def __init__(
        self,
        max_retries: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (0-based): in [d/2, d], d = base·2^attempt
        capped at ``max_delay``. The jitter spreads clients that failed together."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the server asked us to wait (``Retry-After``: seconds or HTTP date)."""
        value = response.headers.get("retry-after")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            seconds = (when - datetime.now(timezone.utc)).total_seconds()
        return max(0.0, min(self.max_retry_after, seconds))

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        asked = self.retry_after(response) if response is not None else None
        return asked if asked is not None else self.backoff(attempt)


class SyncPage(Page[T], Generic[T]):
    """A page of results. Iterating it (``for x in page`` or ``async for x in page``) walks
    this page and every following one; ``.data`` is this page only."""

    _fetch: Callable[[int], Awaitable[SyncPage[T]]] | None = PrivateAttr(default=None)
    #: The page number asked for: the next one counts from it, not from what the server
    #: echoes (a server that ignored ``page`` would otherwise be read for ever).
    _number: int = PrivateAttr(default=1)

    def _next_page_number(self) -> int | None:
        if self._fetch is None or not self.data:
            return None
        last = self._number * self.pagination.limit >= self.pagination.total
        return None if last else self._number + 1

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        page: SyncPage[T] = self
        while True:
            yield from page.data
            number = page._next_page_number()
            if number is None or page._fetch is None:
                return
            page = _runtime.run_sync(page._fetch(number))

    async def __aiter__(self) -> AsyncIterator[T]:
        page: SyncPage[T] = self
        while True:
            for item in page.data:
                yield item
            number = page._next_page_number()
            if number is None or page._fetch is None:
                return
            page = await page._fetch(number)


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _file_part(file: FileInput, filename: str | None) -> tuple[str, IO[bytes], str]:
    """An httpx multipart part for a path, bytes or a binary file object."""
    if isinstance(file, bytes):
        name, stream = filename or "upload.bin", io.BytesIO(file)
    elif isinstance(file, (str, os.PathLike)):
        path = Path(file).expanduser()
        if not path.is_file():
            raise InvalidRequestError(f"no such file: {path}; check the path")
        name, stream = filename or path.name, path.open("rb")
    elif hasattr(file, "read"):
        name = filename or Path(getattr(file, "name", "upload.bin")).name
        # A retry re-reads from the start; a stream that cannot seek is buffered once for that.
        stream = file if _seekable(file) else io.BytesIO(file.read())
    else:
        raise InvalidRequestError(
            f"cannot upload a {type(file).__name__}; pass a path, bytes or a binary file object"
        )
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, stream, content_type


class _Resource:
    def __init__(self, client: AsyncLasso) -> None:
        self._client = client

    async def _page(self, path: str, model: type[T], params: dict[str, Any]) -> SyncPage[T]:
        params = {k: v for k, v in params.items() if v is not None}
        body = await self._client.request("GET", path, params=params)
        page = SyncPage[model].model_validate(body)  # type: ignore[valid-type]

        async def fetch(number: int) -> SyncPage[T]:
            return await self._page(path, model, {**params, "page": number})

        page._fetch = fetch
        page._number = int(params.get("page", 1))
        return page


class AsyncSchemas(_Resource):
    async def list(self, page: int = 1, limit: int = 25) -> SyncPage[SchemaSummary]:
        return await self._page("/schemas", SchemaSummary, {"page": page, "limit": limit})

    async def get(self, schema_id: str) -> Schema:
        return Schema.model_validate(
            await self._client.request("GET", f"/schemas/{_seg(schema_id)}")
        )

    async def create(
        self,
        name: str,
        columns: list[Column | dict[str, Any]],
        description: str | None = None,
        is_default: bool | None = None,
    ) -> Schema:
        body: dict[str, Any] = {"name": name, "columns": _columns_body(columns)}
        if description is not None:
            body["description"] = description
        if is_default is not None:
            body["is_default"] = is_default
        return Schema.model_validate(await self._client.request("POST", "/schemas", json=body))

    async def update(self, schema_id: str, **fields: Any) -> Schema:
        if "columns" in fields:
            fields["columns"] = _columns_body(fields["columns"])
        data = await self._client.request("PUT", f"/schemas/{_seg(schema_id)}", json=fields)
        return Schema.model_validate(data)

    async def delete(self, schema_id: str) -> None:
        await self._client.request("DELETE", f"/schemas/{_seg(schema_id)}")

    async def generate(self, sample_data: str, name: str | None = None) -> Schema:
        body = {"sample_data": sample_data} | ({"name": name} if name else {})
        data = await self._client.request("POST", "/schemas/generate", json=body)
        return Schema.model_validate(data)


def _seg(value: str) -> str:
    """An id as one URL path segment: a typed or pasted id with ``/``, ``?`` or control
    characters must not reach another route, or fail inside httpx with a traceback."""
    return quote(str(value), safe="")


def _columns_body(columns: list[Column | dict[str, Any]]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude_none=True) if isinstance(c, Column) else dict(c) for c in columns]


class AsyncFiles(_Resource):
    async def upload(self, file: FileInput, filename: str | None = None) -> File:
        """Upload a local path, bytes or a binary file object (multipart part ``file``)."""
        name, stream, content_type = _file_part(file, filename)
        owned = isinstance(file, (str, os.PathLike))
        start = stream.tell()
        try:

            def parts() -> dict[str, Any]:
                # Each attempt re-reads from the start, so a retried upload sends every byte.
                stream.seek(start)
                return {"file": (name, stream, content_type)}

            data = await self._client.request("POST", "/files", files=parts)
        finally:
            if owned:
                stream.close()
        return File.model_validate(data)

    async def list(self, page: int = 1, limit: int = 25) -> SyncPage[File]:
        return await self._page("/files", File, {"page": page, "limit": limit})

    async def delete(self, file_id: str) -> None:
        await self._client.request("DELETE", f"/files/{_seg(file_id)}")


class AsyncTables(_Resource):
    async def create(
        self,
        schema_id: str,
        name: str,
        file_ids: list[str] | None = None,
        file_urls: list[str] | None = None,
        source_text: str | None = None,
        additional_context: str | None = None,
        enhancement_context: str | None = None,
        webhook_url: str | None = None,
    ) -> Table:
        """Create a table and start its extraction. Never creates two tables for one call:
        after an ambiguous failure it looks for the table before trying again."""
        try:
            request = CreateTableRequest(
                schema_id=schema_id,
                name=name,
                file_ids=file_ids,
                file_urls=file_urls,
                source_text=source_text,
                additional_context=additional_context,
                enhancement_context=enhancement_context,
                webhook_url=webhook_url,
            )
        except ValidationError as exc:
            raise InvalidRequestError(validation_message(exc)) from None
        return await self._client.create_table(request)

    async def get(self, table_id: str) -> Table:
        return Table.model_validate(await self._client.request("GET", f"/tables/{_seg(table_id)}"))

    async def list(
        self,
        page: int = 1,
        limit: int = 25,
        search: str | None = None,
        status: str | None = None,
    ) -> SyncPage[TableSummary]:
        params = {"page": page, "limit": limit, "search": search, "status": status}
        return await self._page("/tables", TableSummary, params)

    async def update(self, table_id: str, **fields: Any) -> Table:
        data = await self._client.request("PATCH", f"/tables/{_seg(table_id)}", json=fields)
        return Table.model_validate(data)

    async def delete(self, table_id: str) -> None:
        await self._client.request("DELETE", f"/tables/{_seg(table_id)}")

    async def columns(self, table_id: str) -> list[Column]:
        data = await self._client.request("GET", f"/tables/{_seg(table_id)}/columns")
        return [Column.model_validate(c) for c in data.get("data", [])]

    async def rows(
        self,
        table_id: str,
        page: int = 1,
        limit: int = 25,
        sort_by: str | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
    ) -> SyncPage[Row]:
        params = {"page": page, "limit": limit, "sort_by": sort_by, "sort_order": sort_order}
        return await self._page(f"/tables/{_seg(table_id)}/rows", Row, params)

    async def iter_rows(self, table_id: str, limit: int = 100) -> AsyncIterator[Row]:
        """Every row of the table, page after page."""
        async for row in await self.rows(table_id, page=1, limit=limit):
            yield row

    async def export(
        self,
        table_id: str,
        format: Literal["csv", "json", "xlsx"] = "csv",
        columns: list[str] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> str | list[dict[str, Any]] | bytes:
        """csv → text (``;``-separated), json → list of flat dicts, xlsx → bytes. With
        ``path`` the raw file is also written there."""
        params: dict[str, Any] = {"format": format}
        if columns:
            params["columns"] = ",".join(columns)
        response = await self._client.request(
            "GET", f"/tables/{_seg(table_id)}/export", params=params, raw=True
        )
        if path is not None:
            Path(path).write_bytes(response.content)
        if format == "json":
            return response.json()
        if format == "csv":
            return response.text
        return response.content

    async def wait_for_completion(
        self, table_id: str, interval_s: float = 3, timeout_s: float = 300
    ) -> Table:
        """Poll until the table is finished (completed, failed or cancelled, in either status
        vocabulary) and return it; ``WaitTimeoutError`` (a ``TimeoutError``) after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            table = await self.get(table_id)
            if table.is_terminal:
                return table
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"table {table_id} still {table.status} after {timeout_s} s; it goes on on "
                    "the server, wait again or attach to it later",
                    table,
                )
            await asyncio.sleep(min(interval_s, remaining))


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one line a user can act on (used for every refused request)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "invalid create-table request: " + "; ".join(problems)


class AsyncLasso:
    """Async client for the Lasso API. With no key and no base URL configured (arguments or
    ``LASSO_API_KEY`` / ``LASSO_BASE_URL``) it talks to the embedded engine."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = 60.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        settings = resolve(api_key, base_url)
        self.base_url = settings.base_url
        self.embedded = settings.embedded
        self._api_key = settings.api_key
        self.retry = retry_policy or RetryPolicy(max_retries=max_retries)
        #: Tables this client created, so a look-up after a lost response never takes one of
        #: them for the lost one (bounded: only recent namesakes matter).
        self._created_ids: deque[str] = deque(maxlen=1000)
        self._create_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        headers = {"User-Agent": f"lasso-notebook/{__version__}", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )
        self.schemas = AsyncSchemas(self)
        self.files = AsyncFiles(self)
        self.tables = AsyncTables(self)

    @property
    def masked_key(self) -> str:
        """The API key in a form safe to show (``lasso_…1a2b``)."""
        return mask_key(self._api_key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={self.masked_key!r})"

    async def __aenter__(self) -> AsyncLasso:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: Callable[[], dict[str, Any]] | None = None,
        raw: bool = False,
        idempotent: bool | None = None,
    ) -> Any:
        """Send a request with the retry rules; return parsed JSON (None for 204) or, with
        ``raw``, the response. Non-idempotent calls are only resent when the server provably
        did not act on them (connection refused, 408, 429, 503)."""
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        url = path.lstrip("/")
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._http.request(
                    method, url, params=params, json=json, files=files() if files else None
                )
            except httpx.TransportError as exc:
                error = _connection_error(exc, method, path, self._api_key)
                resend = idempotent or not error.request_sent
                if attempt >= self.retry.max_retries or not resend:
                    raise error from None
            else:
                if response.status_code < 400:
                    if raw:
                        return response
                    try:
                        return _json_body(response)
                    except APIConnectionError:
                        # A garbled answer to a read is a broken transfer: read again. A
                        # non-idempotent call may have acted, so its caller must decide.
                        if attempt >= self.retry.max_retries or not idempotent:
                            raise
                        response = None
                else:
                    retryable = REFUSED_STATUSES if not idempotent else RETRY_STATUSES
                    if attempt >= self.retry.max_retries or response.status_code not in retryable:
                        raise from_response(response)
            delay = self.retry.delay(attempt, response)
            log.debug("retrying %s %s in %.2f s (attempt %d)", method, path, delay, attempt + 1)
            await asyncio.sleep(delay)
            attempt += 1

    async def create_table(self, request: CreateTableRequest) -> Table:
        """``POST /tables`` with DESIGN.md §4: an ambiguous failure (the request may have been
        processed) is followed by a look-up before any new attempt, also after the last one,
        so one call never leaves two tables (nor one the caller does not know about)."""
        lock = self._create_locks.get(request.name)
        if lock is None:
            lock = self._create_locks[request.name] = asyncio.Lock()
        # Namesakes are created one after the other: a look-up after a lost response must not
        # take the table of a concurrent call whose own response has not arrived yet.
        async with lock:
            return await self._create_table(request)

    async def _create_table(self, request: CreateTableRequest) -> Table:
        body = request.to_body()
        attempt = 0
        while True:
            started = datetime.now(timezone.utc)
            try:
                table = Table.model_validate(await self.request("POST", "/tables", json=body))
            except (APIConnectionError, APIStatusError) as exc:
                if isinstance(exc, APIConnectionError):
                    # A connection never made was retried by request() already.
                    ambiguous = exc.request_sent
                else:
                    ambiguous = exc.status_code in (500, 502, 504)
                if not ambiguous:
                    raise
                await asyncio.sleep(self.retry.backoff(attempt))
                try:
                    found = await self._find_created_table(request, started)
                except LassoError:
                    raise exc from None  # the look-up failed too: report the original failure
                if found is not None:
                    log.info("POST /tables failed ambiguously; found table %s", found.id)
                    return self._remember(found)
                if attempt >= self.retry.max_retries:
                    raise
                attempt += 1
            else:
                return self._remember(table)

    def _remember(self, table: Table) -> Table:
        self._created_ids.append(table.id)
        return table

    async def _find_created_table(
        self, request: CreateTableRequest, since: datetime
    ) -> Table | None:
        """The table a lost ``POST /tables`` made, if any: same name and schema, a matching
        kind of source, created since the attempt began, and not one this client already
        returned (a cell re-run under the same name makes namesakes within seconds)."""
        # Server and client clocks differ; a minute of slack still excludes older namesakes.
        since -= timedelta(seconds=60)
        candidates: list[tuple[datetime, str]] = []
        scanned = 0
        async for summary in await self.tables.list(search=request.name, limit=100):
            scanned += 1
            if scanned > _LOOKUP_SCAN:
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
            table = await self.tables.get(table_id)
            if _same_source(table, request):
                return table
        return None


def _same_source(table: Table, request: CreateTableRequest) -> bool:
    """Whether ``table`` could have been made from ``request``'s source (a server that omits
    ``source_type`` or ``files`` is given the benefit of the doubt)."""
    if request.source_text is not None:
        kinds, count = {"text"}, None
    elif request.file_ids is not None:
        kinds, count = {"files", "file"}, len(request.file_ids)
    else:
        kinds, count = {"urls", "url", "files", "file"}, len(request.file_urls or [])
    if table.source_type is not None and table.source_type not in kinds:
        return False
    return count is None or not table.files or len(table.files) == count


def _connection_error(
    exc: httpx.TransportError, method: str, path: str, secret: str | None
) -> APIConnectionError:
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"{method} {path} timed out ({type(exc).__name__})", request_sent=sent
        )
    # Some httpx errors quote the request's headers (e.g. an illegal header value): scrub the
    # key from the text so it cannot reach a cell's output.
    detail = str(exc) or type(exc).__name__
    if secret:
        detail = detail.replace(secret, mask_key(secret))
    return APIConnectionError(f"{method} {path} failed: {detail}", request_sent=sent)


def _json_body(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise APIConnectionError(
            f"{response.request.method} {response.request.url.path}: the server sent a "
            f"malformed JSON body ({len(response.content)} bytes)"
        ) from None


class _SyncResource:
    """Runs an async resource's methods on the runtime thread, so they block the caller only."""

    def __init__(self, inner: _Resource) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if inspect.isasyncgenfunction(attr):

            @functools.wraps(attr)
            def iterate(*args: Any, **kwargs: Any) -> Iterator[Any]:
                agen = attr(*args, **kwargs)
                try:
                    while True:
                        try:
                            yield _runtime.run_sync(agen.__anext__())
                        except StopAsyncIteration:
                            return
                finally:
                    # A caller that stops early must not leave the generator's pages pending.
                    _runtime.run_sync(agen.aclose())

            return iterate
        if inspect.iscoroutinefunction(attr):

            @functools.wraps(attr)
            def call(*args: Any, **kwargs: Any) -> Any:
                return _runtime.run_sync(attr(*args, **kwargs))

            return call
        return attr

    def __dir__(self) -> list[str]:
        return [name for name in dir(self._inner) if not name.startswith("_")]


class Lasso:
    """Sync client for the Lasso API, usable in scripts, notebook cells and inside a running
    event loop: its requests run on lasso_notebook's background runtime thread."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = 60.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.async_client = AsyncLasso(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
            retry_policy=retry_policy,
        )
        self.base_url = self.async_client.base_url
        self.embedded = self.async_client.embedded
        self.masked_key = self.async_client.masked_key
        self.schemas: Any = _SyncResource(self.async_client.schemas)
        self.files: Any = _SyncResource(self.async_client.files)
        self.tables: Any = _SyncResource(self.async_client.tables)

    def __repr__(self) -> str:
        return repr(self.async_client).replace("AsyncLasso", "Lasso", 1)

    def __enter__(self) -> Lasso:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        _runtime.run_sync(self.async_client.aclose())


_default: Lasso | None = None
_default_env: tuple[str | None, str | None] | None = None
_default_lock = threading.Lock()


def default_client() -> Lasso:
    """The process-wide client used when none is passed (one connection pool for all jobs).
    Made anew when ``LASSO_API_KEY`` / ``LASSO_BASE_URL`` change, so a notebook that sets them
    mid-session switches backend without a restart."""
    global _default, _default_env
    env = (os.environ.get("LASSO_API_KEY") or None, os.environ.get("LASSO_BASE_URL") or None)
    with _default_lock:
        if _default is None or env != _default_env or _default.async_client.is_closed:
            _default, _default_env = Lasso(), env
        return _default


def current_default_client() -> Lasso | None:
    """The process-wide client if one was made already (never starts the embedded engine)."""
    return _default
