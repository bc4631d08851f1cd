"""A real Jupyter kernel (jupyter_client): a background job's widget updates arrive on IOPub while
another cell sleeps, and an interrupted ``job.result()`` returns at once while the job goes on."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.kernel

CATALOG = "\\n".join(
    ["name,sku,brand,price,currency,in_stock,release_date,tags,url"]
    + [f"W{i},S{i},Acme,{i}.5,USD,yes,2024-01-02,a;b,https://x.test/{i}" for i in range(64)]
)


@pytest.fixture
def kernel() -> Iterator[Any]:
    from jupyter_client import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


class Cell:
    """An execute request and everything IOPub sent while it ran, with arrival times."""

    def __init__(self, kc: Any, code: str) -> None:
        self.kc = kc
        self.msg_id = kc.execute(code)
        self.iopub: list[tuple[float, dict[str, Any]]] = []
        self.busy_at: float | None = None
        self.idle_at: float | None = None

    def collect(self, until: float) -> None:
        """Read IOPub until the cell is idle or ``until`` (monotonic) passes."""
        while self.idle_at is None and time.monotonic() < until:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            now = time.monotonic()
            self.iopub.append((now, msg))
            if msg["parent_header"].get("msg_id") == self.msg_id and msg["msg_type"] == "status":
                state = msg["content"]["execution_state"]
                if state == "busy":
                    self.busy_at = now
                elif state == "idle":
                    self.idle_at = now

    def finish(self, timeout: float = 60) -> dict[str, Any]:
        self.collect(time.monotonic() + timeout)
        assert self.idle_at is not None, "cell did not finish"
        return self.kc.get_shell_msg(timeout=timeout)["content"]

    def stdout(self) -> str:
        return "".join(
            m["content"]["text"]
            for _, m in self.iopub
            if m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == self.msg_id
        )

    def widget_updates(self, comm_id: str) -> list[tuple[float, dict[str, Any]]]:
        return [
            (t, m["content"]["data"]["state"])
            for t, m in self.iopub
            if m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == comm_id
            and m["content"]["data"].get("method") == "update"
        ]


def test_widget_live_while_busy_and_interrupt(kernel: Any, engine_factory: Any) -> None:
    km, kc = kernel
    engine = engine_factory(pace=0.3)  # 16 steps: ~5 s per table

    setup = Cell(
        kc,
        f"""
import lasso_notebook as ln
from IPython.display import display
client = ln.Lasso(api_key={engine.api_key!r}, base_url={engine.base_url!r})
job = ln.submit("Products", "background", text="{CATALOG}", client=client)
display(job)
print("MODEL", job.widget.model_id)
""",
    )
    reply = setup.finish()
    assert reply["status"] == "ok", reply
    model_id = setup.stdout().split("MODEL", 1)[1].strip()
    assert any(m["msg_type"] == "display_data" for _, m in setup.iopub)

    # 1. Another cell blocks the kernel; the job's widget keeps updating on IOPub meanwhile.
    sleeper = Cell(kc, "import time; time.sleep(3)")
    assert sleeper.finish()["status"] == "ok"
    assert sleeper.busy_at is not None and sleeper.idle_at is not None
    during = [
        (t, state)
        for t, state in sleeper.widget_updates(model_id)
        if sleeper.busy_at < t < sleeper.idle_at
    ]
    assert len(during) >= 2, "no live widget updates while the cell slept"
    progress = [s["progress"] for _, s in during if "progress" in s]
    assert progress and progress == sorted(progress) and progress[-1] > 0
    assert during[-1][0] - during[0][0] > 1.0  # spread over the sleep, not one burst

    # 2. Ctrl-C during job.result() returns at once; the job goes on and completes. (The same
    # catalog, extracted anew: reusing the first table would leave nothing to wait for.)
    waiter = Cell(
        kc,
        f"""
job2 = ln.submit("Products", "interrupted", text="{CATALOG}", client=client, reuse=False)
df2 = job2.result()
""",
    )
    waiter.collect(time.monotonic() + 1.5)  # let it block
    assert waiter.idle_at is None, "result() returned before the interrupt"
    interrupted_at = time.monotonic()
    km.interrupt_kernel()
    reply = waiter.finish(timeout=10)
    assert waiter.idle_at is not None and waiter.idle_at - interrupted_at < 0.5, (
        waiter.idle_at - interrupted_at
    )
    assert reply["status"] == "error"
    assert reply["ename"] in ("JobInterrupted", "KeyboardInterrupt")
    assert "goes on" in reply["evalue"]

    after = Cell(
        kc,
        """
df2 = job2.result(timeout=30)
print("ROWS", len(df2), job2.status, job.status, len(job.df))
""",
    )
    assert after.finish()["status"] == "ok"
    assert "ROWS 64 completed completed 64" in after.stdout()
