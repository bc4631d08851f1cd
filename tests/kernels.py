"""A real Jupyter kernel for the kernel tests (jupyter_client): started with an environment of
the test's choosing, and ``execute``, which runs one cell and returns what it sent."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def kernel_client(env: dict[str, str], cwd: str | None = None) -> Iterator[Any]:
    """A started ``python3`` kernel's client, shut down on exit."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=cwd)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def execute(
    kc: Any, code: str, timeout: float = 60
) -> tuple[list[tuple[float, dict]], dict, float]:
    """Run ``code``; return its IOPub messages with their arrival times, the execute_reply and
    the reply's arrival time. Both channels are drained in one loop so arrival order is real."""
    msg_id = kc.execute(code)
    iopub: list[tuple[float, dict]] = []
    reply: dict | None = None
    reply_at = 0.0
    idle = False
    deadline = time.monotonic() + timeout
    while not (idle and reply is not None):
        assert time.monotonic() < deadline, "the cell did not finish in time"
        try:
            msg = kc.get_iopub_msg(timeout=0.02)
        except queue.Empty:
            pass
        else:
            if msg["parent_header"].get("msg_id") == msg_id:
                iopub.append((time.monotonic(), msg))
                content = msg["content"]
                idle |= msg["msg_type"] == "status" and content["execution_state"] == "idle"
        if reply is None:
            try:
                candidate = kc.get_shell_msg(timeout=0.02)
            except queue.Empty:
                continue
            if candidate["parent_header"].get("msg_id") == msg_id:
                reply, reply_at = candidate, time.monotonic()
    # The reply answers this execute request; the cell's IOPub opened with "busy" (nothing of
    # it was missed) and its last status was "idle".
    assert reply["msg_type"] == "execute_reply", reply["msg_type"]
    states = [m["content"]["execution_state"] for _, m in iopub if m["msg_type"] == "status"]
    assert iopub[0][1]["msg_type"] == "status" and states[0] == "busy", states
    assert states[-1] == "idle", states
    return iopub, reply, reply_at
