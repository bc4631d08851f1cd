"""``%%lasso_table`` in a real Jupyter kernel (jupyter_client): the progress widget's state
updates reach IOPub while the cell still blocks, before its execute_reply."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from kernels import execute, kernel_client

pytestmark = pytest.mark.kernel

CSV = "name;sku;price\n" + "".join(f"Widget {i};W{i:03d};{i}.50\n" for i in range(5))


@pytest.fixture
def kernel(engine_factory: Any) -> Iterator[Any]:
    # ~1.5 s per table: several progress polls happen while the cell is blocked.
    engine = engine_factory(pace=0.09)
    env = {**os.environ, "LASSO_API_KEY": engine.api_key, "LASSO_BASE_URL": engine.base_url}
    with kernel_client(env) as kc:
        yield kc


def test_widget_updates_stream_before_the_blocking_cell_replies(kernel: Any) -> None:
    _, reply, _ = execute(kernel, "%load_ext lasso_notebook")
    assert reply["content"]["status"] == "ok"

    iopub, reply, reply_at = execute(kernel, f"%%lasso_table df --schema Products\n{CSV}")
    assert reply["content"]["status"] == "ok", reply["content"]

    views = [
        msg
        for _, msg in iopub
        if msg["msg_type"] == "display_data"
        and "application/vnd.jupyter.widget-view+json" in msg["content"]["data"]
    ]
    assert views, "the progress widget was not displayed"
    model_id = views[0]["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]

    updates = [
        (at, msg["content"]["data"]["state"])
        for at, msg in iopub
        if msg["msg_type"] == "comm_msg"
        and msg["content"]["comm_id"] == model_id
        and msg["content"]["data"].get("method") == "update"
    ]
    # Update messages carry only the changed traits: replay them to know each one's phase.
    state: dict[str, Any] = {}
    live = []
    for at, change in updates:
        state.update(change)
        if state.get("phase") == "running":
            live.append((at, dict(state)))
    assert live, f"no in-flight update of the widget: {[s for _, s in updates]}"
    # In flight means: sent while the cell was still blocked, received before its reply.
    assert all(at < reply_at for at, _ in live)
    progresses = {s["progress"] for _, s in live}
    assert any(0 < p < 100 for p in progresses), progresses
    assert state["phase"] == "completed" and state["total_rows"] == 5
    notes = [state["note"] for _, state in updates if "note" in state]
    assert notes[-1] == "→ df (5 rows)"

    iopub, reply, _ = execute(kernel, "print(len(df), type(df).__name__)")
    printed = "".join(m["content"]["text"] for _, m in iopub if m["msg_type"] == "stream")
    assert printed.strip() == "5 DataFrame"

    # A user error: the cell fails (Run All stops there) with two lines and no traceback.
    iopub, reply, _ = execute(kernel, f"%%lasso_table other --schema Prodcts\n{CSV}")
    assert reply["content"]["status"] == "error"
    errors = [m["content"] for _, m in iopub if m["msg_type"] == "error"]
    assert len(errors) == 1
    shown = "\n".join(errors[0]["traceback"])
    assert "unknown schema 'Prodcts'" in shown and "'Products'" in shown
    assert "Traceback" not in shown and "File " not in shown and len(shown.splitlines()) <= 2
