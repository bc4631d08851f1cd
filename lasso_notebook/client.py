"""The Lasso API client: ``AsyncLasso`` (httpx.AsyncClient: the request loop with its retry
rules) and ``Lasso``, its sync facade whose calls run on the background runtime thread. The
resources live in ``_resources``, retry timing in ``_retry``, duplicate-free creates in
``_create_lookup``."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

from . import _runtime
from ._config import mask_key, resolve
from ._create_lookup import TableCreator
from ._fingerprint import key_fingerprint
from ._pages import SyncPage
from ._resources import AsyncFiles, AsyncSchemas, AsyncTables, FileInput, validation_message
from ._retry import REFUSED_STATUSES, RETRY_STATUSES, RetryPolicy
from ._version import __version__
from .errors import APIConnectionError, APITimeoutError, AuthenticationError, from_response
from .models import CreateTableRequest, Table

__all__ = [
    "AsyncLasso",
    "FileInput",
    "Lasso",
    "RetryPolicy",
    "SyncPage",
    "current_default_client",
    "default_client",
    "validation_message",
]

log = logging.getLogger("lasso_notebook")


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
        #: The embedded engine's data dir, where this client's reuse index lives too (None
        #: for any other server: the index then lives in the data dir ``resolve_data_dir()``).
        self.engine_data_dir = settings.data_dir
        self._api_key = settings.api_key
        self.retry = retry_policy or RetryPolicy(max_retries=max_retries)
        self._creator = TableCreator(self)
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
    def key_fingerprint(self) -> str:
        """A one-way hash of the API key that tells keys apart (what the reuse index keeps)."""
        return key_fingerprint(self._api_key)

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
        retry_rate_limited: bool = True,
    ) -> Any:
        """Send a request with the retry rules; return parsed JSON (None for 204) or, with
        ``raw``, the response. Non-idempotent calls are only resent when the server provably
        did not act on them (connection refused, 408, 429, 503). Every retry waits (capped)
        and at most ``max_retries`` are made, so a server answering only 429 ends the call
        with ``RateLimitError``; ``retry_rate_limited=False`` raises it at the first 429 (the
        poller pauses every poll and keeps its own budget for them)."""
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        retryable = RETRY_STATUSES if idempotent else REFUSED_STATUSES
        if not retry_rate_limited:
            retryable = retryable - {429}
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
                    if attempt >= self.retry.max_retries or response.status_code not in retryable:
                        error = from_response(response)
                        if isinstance(error, AuthenticationError):
                            error.key_sent = bool(self._api_key)
                        raise error
            delay = self.retry.delay(attempt, response)
            log.debug("retrying %s %s in %.2f s (attempt %d)", method, path, delay, attempt + 1)
            await asyncio.sleep(delay)
            attempt += 1

    def stream(
        self, method: str, path: str, *, params: dict[str, Any] | None = None
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """One request whose body is read as it arrives (``async with``), without the retry
        rules: the caller decides what a failure means (the export falls back to paging).
        Redirects are followed (a file may be served from storage elsewhere; httpx drops the
        key when the redirect leaves the API's origin)."""
        return self._http.stream(method, path.lstrip("/"), params=params, follow_redirects=True)

    async def create_table(self, request: CreateTableRequest) -> Table:
        """``POST /tables`` that never leaves two tables for one call (see ``_create_lookup``)."""
        return await self._creator.create(request)


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

    def __init__(self, inner: Any) -> None:
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
