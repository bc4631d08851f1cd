"""A transport that counts what the client sends over real loopback HTTP to the engine
(``CountingTransport``): tables created, files uploaded, exports against row listings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx


def by_path(path: str) -> str:
    return path


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests by ``METHOD key``, the key being ``group(path)`` (the path after
    ``/api/v1`` by default; a test may fold e.g. every ``…/export`` into ``export``)."""

    def __init__(self, group: Callable[[str], str] = by_path) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.group = group
        self.counts: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/api/v1", 1)[-1]
        self.counts[f"{request.method} {self.group(path)}"] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def total(self) -> int:
        return sum(self.counts.values())
