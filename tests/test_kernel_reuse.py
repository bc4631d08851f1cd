"""Real Jupyter kernels (jupyter_client) sharing one data dir, each with its own embedded engine
on its own port: two kernels submitting the same extraction at the same moment end with one
table, one of them reusing the other's; a kernel started afterwards (a restart) reuses it too."""

from __future__ import annotations

import json
import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.kernel

TEXT = "name,sku,price\\nShared Drill,SD-1,129.00\\nShared Saw,SS-2,89.50\\n"

SETUP = """\
import json, time
import lasso_notebook as ln
ln.default_client()  # starts this kernel's embedded engine now, not inside the timed cell
"""

SUBMIT = """\
time.sleep(max(0.0, {start_at!r} - time.time()))
job = ln.submit("Products", "shared", text="{text}", progress=False)
df = job.result(timeout=60)
print("RESULT " + json.dumps({{
    "reused": job.reused, "id": job.id, "frame": df.to_json(), "base_url": ln.default_client().base_url,
    "tables": [t.id for t in ln.default_client().tables.list(limit=100)],
}}))
"""


class Kernel:
    def __init__(self, env: dict[str, str]) -> None:
        from jupyter_client import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def start(self, code: str) -> str:
        return self.kc.execute(code)

    def finish(self, msg_id: str, timeout: float = 120) -> str:
        """Everything the cell printed; fails on an error or when it does not finish."""
        deadline = time.monotonic() + timeout
        out: list[str] = []
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
        raise AssertionError(f"the cell did not finish in {timeout} s: {''.join(out)}")

    def run(self, code: str, timeout: float = 120) -> str:
        return self.finish(self.start(code), timeout)

    def stop(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def result_of(output: str) -> dict[str, Any]:
    (line,) = [ln for ln in output.splitlines() if ln.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


@pytest.fixture
def kernel_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("LASSO_API_KEY", "LASSO_BASE_URL")}
    env.update(
        LASSO_NOTEBOOK_DATA_DIR=str(tmp_path / "shared-data"),
        LASSO_ENGINE_PACE="0.05",  # a table takes ~1 s: still running when the other attaches
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    env.pop("LASSO_NOTEBOOK_REUSE", None)
    yield env


def test_two_kernels_at_once_make_one_table_and_a_restart_reuses_it(
    kernel_env: dict[str, str],
) -> None:
    kernels = [Kernel(kernel_env), Kernel(kernel_env)]
    try:
        for kernel in kernels:
            assert "embedded Lasso engine" in kernel.run(SETUP)
        start_at = time.time() + 1.0  # both cells submit at this very moment
        code = SUBMIT.format(start_at=start_at, text=TEXT)
        cells = [kernel.start(code) for kernel in kernels]
        first, second = (result_of(k.finish(c)) for k, c in zip(kernels, cells, strict=True))
    finally:
        for kernel in kernels:
            kernel.stop()

    assert first["base_url"] != second["base_url"]  # two engines, one data dir
    assert first["id"] == second["id"]
    assert sorted([first["reused"], second["reused"]]) == [False, True]
    assert first["frame"] == second["frame"]
    assert first["tables"] == second["tables"] == [first["id"]]  # one table for both

    restarted = Kernel(kernel_env)
    try:
        restarted.run(SETUP)
        again = result_of(restarted.run(SUBMIT.format(start_at=0.0, text=TEXT)))
    finally:
        restarted.stop()
    assert again["reused"] and again["id"] == first["id"] and again["tables"] == [first["id"]]
    assert again["frame"] == first["frame"]
