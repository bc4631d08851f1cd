"""ProgressWidget through its comm messages (a recording comm, as ipywidgets' own tests do):
states of a real job, throttling, the stop message, the text fallbacks and the static files."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest

from lasso_notebook import Lasso
from lasso_notebook._display import TerminalLine, status_line
from lasso_notebook.jobs import submit
from lasso_notebook.widgets import static_path
from lasso_notebook.widgets.progress import ProgressWidget


class RecordingComm:
    """Stands in for the kernel comm: keeps every message the widget sends."""

    comm_id = "test-comm"
    kernel = "truthy"  # ipywidgets only sends when the comm has a kernel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The comm_open carries the initial state; later changes travel as "update" messages.
        opened = (kwargs.get("data") or {}).get("state") or {}
        self.messages: list[dict[str, Any]] = [{"method": "update", "state": dict(opened)}]

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, buffers: Any = None, **kwargs: Any) -> None:
        self.messages.append(data)

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass

    def updates(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.messages if m and m.get("method") == "update"]


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    import comm

    monkeypatch.setattr(comm, "create_comm", RecordingComm)


def state_of(widget: ProgressWidget) -> dict[str, Any]:
    return merged(widget.comm.updates())


def merged(updates: list[dict[str, Any]]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for update in updates:
        state.update(update)
    return state


def wait_until(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_push_coalesces_bursts_and_always_sends_the_final_state() -> None:
    widget = ProgressWidget(name="burst")
    comm = widget.comm
    comm.messages.clear()
    for value in range(1, 51):  # a burst: far more than 10 per second
        widget.push(progress=value, total_rows=value * 2)
    time.sleep(0.3)
    updates = comm.updates()
    assert 1 <= len(updates) <= 2  # the first at once, the rest in one delayed message
    assert merged(updates)["progress"] == 50 and merged(updates)["total_rows"] == 100
    assert all(len(u) > 1 for u in updates[1:])  # several traits per message (hold_sync)

    comm.messages.clear()
    started = time.monotonic()
    while time.monotonic() - started < 1.0:  # a steady stream at ~100 pushes per second
        widget.push(elapsed=time.monotonic() - started)
        time.sleep(0.01)
    widget.push(phase="completed", status="completed", progress=100, final=True)
    updates = comm.updates()
    assert len(updates) <= 13  # ≤ ~10 per second, plus the final one
    assert updates[-1]["phase"] == "completed" and updates[-1]["progress"] == 100


def test_push_rejects_unknown_traits() -> None:
    with pytest.raises(TypeError, match="api_key"):
        ProgressWidget().push(api_key="x")


def test_stop_message_reaches_the_callback() -> None:
    widget = ProgressWidget()
    stopped: list[bool] = []
    widget.on_stop(lambda: stopped.append(True))
    frontend = {
        "content": {"data": {"method": "custom", "content": {"type": "stop"}}},
        "buffers": [],
    }
    widget._handle_msg(frontend)
    assert stopped == [True]
    other = {"content": {"data": {"method": "custom", "content": {"type": "other"}}}, "buffers": []}
    widget._handle_msg(other)
    assert stopped == [True]


def test_job_widget_goes_through_its_states(engine_factory: Any) -> None:
    engine = engine_factory(pace=0.1)
    client = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    job = submit("Products", "watched", text=_catalog(48), client=client, progress="widget")
    widget = job.widget
    assert widget is not None and widget.can_stop
    job.result(timeout=30)
    updates = widget.comm.updates()
    state = merged(updates)
    assert state["phase"] == "completed" and state["status"] == "completed"
    assert state["total_rows"] == 48 and state["progress"] == 100
    assert state["table_id"] == job.id and state["name"] == "watched"
    assert state["eta"] is None and state["error_message"] == ""
    running = [u for u in updates if u.get("phase") == "running"]
    assert running, "no live update while processing"
    assert any(0 < u.get("progress", 0) < 100 for u in running)
    assert any(u.get("can_stop") is False for u in updates)  # hidden while blocking

    failed = submit("Products", "broken", text="???", client=client, progress="widget")
    with pytest.raises(Exception, match="Could not find a table"):
        failed.result(timeout=30)
    state = merged(failed.widget.comm.updates())
    assert state["phase"] == "failed" and "Could not find a table" in state["error_message"]

    # The same catalog again, extracted anew (not reused): a job to stop watching mid-way.
    slow = submit(
        "Products", "left", text=_catalog(48), client=client, progress="widget", reuse=False
    )
    wait_until(lambda: slow.phase.value == "running")
    slow.widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": {"type": "stop"}}}, "buffers": []}
    )  # the "Stop watching" click
    assert slow.detached
    wait_until(slow.done)
    assert merged(slow.widget.comm.updates())["detached"] is True

    slow_note = "→ df (48 rows)"
    job.note = slow_note
    assert job.widget.comm.updates()[-1] == {"note": slow_note}
    first, summary = repr(job).splitlines()  # the status line, then the validation line
    assert first.endswith(slow_note) and summary == "48 rows, all valid"
    assert state_of(job.widget)["validation"] == summary


def test_text_forms() -> None:
    line = status_line(
        table_id="tbl_8f2c9a",
        name="Q1 catalog",
        status="processing",
        phase="running",
        progress=45,
        total_rows=12,
        elapsed=8.2,
    )
    assert line == 'tbl_8f… "Q1 catalog" · processing 45% · 12 rows · 8 s'
    widget = ProgressWidget(
        table_id="tbl_8f2c9a",
        name="Q1 catalog",
        status="failed",
        phase="failed",
        error_message="x" * 150,
        elapsed=75,
    )
    data, _ = widget._repr_mimebundle_()
    assert data["text/plain"] == repr(widget)  # full line, not anywidget's 110-char cut
    assert "1 min 15 s" in repr(widget) and "x" * 150 in repr(widget)
    assert "application/vnd.jupyter.widget-view+json" in data


def test_job_without_widget_is_text_only(engine: Any) -> None:
    client = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    job = submit("Products", "plain", text=_catalog(3), client=client, progress=False)
    job.result(timeout=30)
    data, _ = job._repr_mimebundle_()
    assert list(data) == ["text/plain"] and "completed · 3 rows" in data["text/plain"]
    assert job.widget is None


def test_terminal_line_rewrites_itself(engine: Any, capsys: Any) -> None:
    stream = io.StringIO()
    line = TerminalLine(stream, live=True)
    line.update("a")
    line.update("a")  # unchanged: nothing written
    line.update("b")
    line.close()
    assert stream.getvalue() == "\r\x1b[2Ka\r\x1b[2Kb\n"
    # Piped or logged (not a tty): only the final line, without control codes.
    piped = io.StringIO()
    line = TerminalLine(piped)
    line.update("a")
    line.update("b")
    line.close("done")
    assert piped.getvalue() == "done\n"

    client = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    job = submit("Products", "terminal", text=_catalog(3), client=client, progress="text")
    job.result(timeout=30)
    out = capsys.readouterr().out
    frames = out.split("\r\x1b[2K")
    assert all("\n" not in frame for frame in frames[:-1])  # one line, rewritten in place
    # The final state, then (finished) the validation summary under it.
    assert frames[-1].endswith("\n")
    status, summary = frames[-1].rstrip("\n").split("\n")
    assert "completed · 3 rows" in status and summary == "3 rows, all valid"
    # Asking a finished job again (the magic waits, then takes the result) prints nothing more.
    job.wait()
    job.result()
    assert capsys.readouterr().out == ""


def test_static_files_and_safe_rendering() -> None:
    js = static_path("progress.js")
    assert js.name == "progress.js" and static_path("lasso.css").is_file()
    with pytest.raises(FileNotFoundError, match=r"nope\.js"):
        static_path("nope.js")
    source = js.read_text()
    assert "export default" in ProgressWidget._esm and "--jp-" in ProgressWidget._css
    # Server strings (names, error messages) must never be parsed as HTML.
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source)
    assert "textContent" in source
    for trait in ProgressWidget().trait_names(sync=True):
        if not trait.startswith("_") and trait not in ("layout", "tabbable", "tooltip"):
            assert f'"{trait}"' in source, f"progress.js ignores {trait}"


def _catalog(n: int) -> str:
    rows = [
        f"Widget {i},SKU{i},Acme,{i}.5,USD,yes,2024-01-02,a;b,https://x.test/{i}" for i in range(n)
    ]
    return "\n".join(["name,sku,brand,price,currency,in_stock,release_date,tags,url", *rows])
