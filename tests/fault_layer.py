"""The fault layer of the fault-injection tests: an httpx transport in front of a real engine
that refuses, breaks or garbles the requests its rules match (``Rule``), and the actions the
rules take (a refusal, an error after the engine acted, a reset, a timeout, a garbled body)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

Forward = Callable[[], Awaitable[httpx.Response]]
Action = Callable[[httpx.Request, Forward], Awaitable[httpx.Response]]


@dataclass
class Rule:
    """Apply ``action`` to the next ``times`` requests matching method, path regex and query."""

    method: str
    path: str
    action: Action
    times: int = 1
    query: dict[str, str] = field(default_factory=dict)
    fired: int = 0

    def matches(self, request: httpx.Request) -> bool:
        if self.fired >= self.times or request.method != self.method:
            return False
        path = request.url.path.split("/api/v1", 1)[-1]
        if not re.fullmatch(self.path, path):
            return False
        return all(request.url.params.get(k) == v for k, v in self.query.items())


class FaultyTransport(httpx.AsyncBaseTransport):
    """A real ``AsyncHTTPTransport`` to the engine, with scripted faults in front of it."""

    def __init__(self, rules: list[Rule]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rules = rules
        self.seen: list[tuple[str, str]] = []  # (method, path?query) of every request

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, f"{request.url.path}?{request.url.query.decode()}"))

        async def forward() -> httpx.Response:
            return await self.inner.handle_async_request(request)

        for rule in self.rules:
            if rule.matches(request):
                rule.fired += 1
                return await rule.action(request, forward)
        return await forward()

    async def aclose(self) -> None:
        await self.inner.aclose()


async def consume(forward: Forward) -> httpx.Response:
    """Let the engine process the request, and read its answer (which the fault then loses)."""
    response = await forward()
    await response.aread()
    await response.aclose()
    return response


def _envelope(status: int) -> dict[str, Any]:
    return {
        "status_code": status,
        "error_type": "internal_error" if status >= 500 else "rate_limited",
        "message": f"injected {status}",
        "request_id": "fault",
    }


def refuse(status: int, retry_after: str | None = None) -> Action:
    """The engine never sees the request (a proxy or rate limiter answered)."""

    async def action(request: httpx.Request, forward: Forward) -> httpx.Response:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return httpx.Response(status, json=_envelope(status), headers=headers)

    return action


def after(status: int) -> Action:
    """The engine processed the request, but the answer the client gets is an error."""

    async def action(request: httpx.Request, forward: Forward) -> httpx.Response:
        await consume(forward)
        return httpx.Response(status, json=_envelope(status))

    return action


def reset(processed: bool) -> Action:
    """Connection reset by peer, before the request reached the engine or after it acted."""

    async def action(request: httpx.Request, forward: Forward) -> httpx.Response:
        if processed:
            await consume(forward)
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)

    return action


async def timeout_after(request: httpx.Request, forward: Forward) -> httpx.Response:
    await consume(forward)
    raise httpx.ReadTimeout("timed out", request=request)


async def malformed(request: httpx.Request, forward: Forward) -> httpx.Response:
    real = await consume(forward)
    return httpx.Response(
        real.status_code,
        content=b'{"data": [{"id": "x"',
        headers={"Content-Type": "application/json"},
    )


class _BrokenStream(httpx.AsyncByteStream):
    def __init__(self, head: bytes, request: httpx.Request) -> None:
        self.head = head
        self.request = request

    async def __aiter__(self) -> Any:
        yield self.head
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=self.request
        )


async def truncated(request: httpx.Request, forward: Forward) -> httpx.Response:
    """Headers and half the body arrive, then the connection drops."""
    real = await consume(forward)
    return httpx.Response(
        real.status_code,
        headers={"Content-Type": "application/json", "Content-Length": str(len(real.content))},
        stream=_BrokenStream(real.content[: len(real.content) // 2], request),
    )
