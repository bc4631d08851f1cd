"""Webhook delivery: ``table.completed`` / ``table.failed`` POSTs, signed with HMAC-SHA256
when a secret is set, each attempt bounded by one overall deadline, retried on a schedule,
persisted so a restart does not lose them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._version import __version__
from .store import Store, now_iso

__all__ = ["WebhookDispatcher", "sign"]

log = logging.getLogger("lasso_notebook.server")

TIMEOUT = 10.0  # the documented time a receiver has to answer (docs/architecture.md §6)
MAX_RESPONSE_BYTES = 64 * 1024
MAX_IN_FLIGHT = 8
LEASE = 60.0  # an attempt in flight is not picked up again (e.g. by another engine) for this long


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    def __init__(
        self,
        store: Store,
        secret: str | None,
        retry_delays: Sequence[float],
        timeout: float = TIMEOUT,
    ) -> None:
        self.store = store
        self.secret = secret
        self.retry_delays = [max(0.0, float(d)) for d in retry_delays]
        # Below LEASE, or an attempt still in flight would be claimed and sent a second time.
        if not 0 < float(timeout) < LEASE:
            raise ValueError(
                f"webhook_timeout must be a number of seconds above 0 and below {LEASE:g}, "
                f"got {timeout!r}"
            )
        self.timeout = float(timeout)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name="lasso-engine-webhooks", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def enqueue(self, table: dict[str, Any]) -> None:
        """Queue the event for a finished table (no-op without ``webhook_url``)."""
        url = table.get("webhook_url")
        if not url:
            return
        event = "table.completed" if table["status"] == "completed" else "table.failed"
        body = json.dumps(
            {
                "event": event,
                "timestamp": now_iso(),
                "data": {
                    "table_id": table["id"],
                    "status": table["status"],
                    "total_rows": table["total_rows"],
                },
            },
            separators=(",", ":"),
        )
        self.store.add_delivery(table["id"], url, event, body, table.get("webhook_headers") or {})
        self._wake.set()

    # -- delivery loop ----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for delivery in self.store.claim_due_deliveries(LEASE):
                    self._slots.acquire()
                    # Daemon threads: a slow receiver never delays process exit.
                    threading.Thread(target=self._attempt, args=(delivery,), daemon=True).start()
                due = self.store.next_delivery_at()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("webhook loop failed")
                due = None
            wait = 1.0 if due is None else min(1.0, max(0.01, due - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def _attempt(self, delivery: dict[str, Any]) -> None:
        try:
            error = self._send(delivery)
            attempt = delivery["attempts"] + 1
            retry_at = None
            if error is not None and attempt <= len(self.retry_delays):
                retry_at = time.time() + self.retry_delays[attempt - 1]
            if error is not None:
                log.warning(
                    "webhook to %s failed (attempt %d): %s", delivery["url"], attempt, error
                )
            if not self._stop.is_set():
                self.store.delivery_result(delivery["id"], error is None, error, retry_at)
                self._wake.set()
        except Exception:
            # Store closed during shutdown: the delivery stays leased and is retried later.
            log.debug("webhook bookkeeping failed", exc_info=True)
        finally:
            self._slots.release()

    def _send(self, delivery: dict[str, Any]) -> str | None:
        url = delivery["url"]
        if urlsplit(url).scheme not in ("http", "https"):
            return "only http(s) webhook URLs are called"
        body = delivery["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"lasso-notebook-engine/{__version__}",
            "X-Lasso-Event": delivery["event"],
            "X-Lasso-Delivery-Id": str(uuid.uuid4()),  # per attempt, as documented
        }
        if self.secret:
            headers["X-Lasso-Signature"] = sign(self.secret, body)
        headers.update(delivery["headers"])
        try:
            return asyncio.run(self._post(url, body, headers))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # InvalidURL is no HTTPError: httpx raises it building the next request of a
            # redirect to a malformed Location, even with redirects off. Uncaught, the
            # delivery stayed leased and was retried every LEASE seconds for ever.
            return f"{type(exc).__name__}: {exc}"

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        """POST within one deadline for the whole attempt. httpx's own timeouts are per phase
        and per read: a receiver that accepts and then stalls, or trickles its headers a byte
        at a time, would otherwise hold the attempt (and a delivery slot) far past it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        # No redirects: a 3xx is a failed delivery, never a hop to another scheme or host.
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            request = client.build_request("POST", url, content=body, headers=headers)
            try:
                response = await asyncio.wait_for(client.send(request, stream=True), self.timeout)
            except asyncio.TimeoutError:
                return f"no answer within {self.timeout:g} s"
            try:
                # The status is all we need; the body is read (so the receiver is not cut off
                # mid-reply) only up to a size and the same deadline.
                await asyncio.wait_for(_drain(response), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                pass  # the status came in time; a body still trickling is cut off
            finally:
                await response.aclose()
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"


async def _drain(response: httpx.Response) -> None:
    read = 0
    async for chunk in response.aiter_bytes():
        read += len(chunk)
        if read >= MAX_RESPONSE_BYTES:
            return
