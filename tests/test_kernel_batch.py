"""A batch in a real Jupyter kernel (jupyter_client): one progress widget for all its tables (not
one per table), whose final state and saved text name the failed files, and the cell's output
line listing them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernels import execute as execute_timed
from kernels import kernel_client

pytestmark = pytest.mark.kernel


@pytest.fixture
def kernel(engine_factory: Any, tmp_path: Path) -> Iterator[Any]:
    engine = engine_factory(pace=0.02)
    env = {
        **os.environ,
        "LASSO_API_KEY": engine.api_key,
        "LASSO_BASE_URL": engine.base_url,
        "LASSO_NOTEBOOK_DATA_DIR": str(tmp_path / "index"),
    }
    with kernel_client(env, cwd=str(tmp_path)) as kc:
        yield kc


def execute(kc: Any, code: str) -> tuple[list[dict], dict]:
    """Run ``code``; its IOPub messages and its execute_reply."""
    iopub, reply, _ = execute_timed(kc, code, timeout=90)
    return [msg for _, msg in iopub], reply


def test_a_batch_shows_one_widget_and_names_the_failed_files(kernel: Any, tmp_path: Path) -> None:
    folder = tmp_path / "catalogs"
    folder.mkdir()
    for i in range(12):
        (folder / f"cat_{i:02d}.csv").write_text(
            "name,sku,price\n" + "".join(f"C{i} item {j},C{i}-{j},{j}.5\n" for j in range(2))
        )
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n% damaged\n")
    execute(kernel, "%load_ext lasso_notebook")
    iopub, reply = execute(kernel, "%lasso_table products --schema Products --file 'catalogs/*'")
    assert reply["content"]["status"] == "ok", reply["content"]

    opened = [m for m in iopub if m["msg_type"] == "comm_open"]
    progress = [
        m
        for m in opened
        if m["content"]["data"]["state"].get("_anywidget_id", "").endswith("ProgressWidget")
        or "total_rows" in m["content"]["data"]["state"]
    ]
    assert len(progress) == 1, [m["content"]["data"]["state"].get("name") for m in opened]
    comm_id = progress[0]["content"]["comm_id"]
    state = dict(progress[0]["content"]["data"]["state"])
    for m in iopub:
        if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id:
            state.update(m["content"]["data"].get("state") or {})
    assert state["name"].startswith("products: 13 files in ")
    assert state["phase"] == "completed" and state["total_rows"] == 24
    assert state["status"].endswith("tables done · 1 file failed")
    assert state["error_message"].startswith("1 of 13 files failed: broken.pdf (")
    assert state["note"].startswith("→ products (24 rows from ")

    # The saved output (what nbconvert and GitHub show) was brought to the final state too.
    shown = [
        m["content"]["data"].get("text/plain", "")
        for m in iopub
        if m["msg_type"] in ("display_data", "update_display_data")
    ]
    assert "1 of 13 files failed: broken.pdf" in shown[-1] and "completed" not in shown[0]

    printed = "".join(m["content"]["text"] for m in iopub if m["msg_type"] == "stream")
    assert "1 of 13 files failed: broken.pdf (could not be read as a PDF" in printed
    _, reply = execute(kernel, "assert len(products) == 24 and products['_source'].nunique() == 12")
    assert reply["content"]["status"] == "ok", reply["content"]
