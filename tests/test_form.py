"""SubmitForm driven like a browser would: custom comm messages (with binary buffers for file
chunks) into the widget, against the embedded engine over loopback HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from transports import CountingTransport

from lasso_notebook.client import Lasso
from lasso_notebook.widgets import form as form_module
from lasso_notebook.widgets.form import CHUNK_BYTES, SubmitForm

CSV = "name,sku,price\nWidget,W-1,9.99\nGadget,G-2,19.5\nGizmo,Z-3,4\n"


@pytest.fixture
def transport() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
def client(engine: Any, transport: CountingTransport) -> Iterator[Lasso]:
    lasso = Lasso(api_key=engine.api_key, base_url=engine.base_url, transport=transport)
    yield lasso
    lasso.close()


class Browser:
    """Plays the front end: sends comm messages into the widget, records what comes back."""

    def __init__(self, form: SubmitForm) -> None:
        self.form = form
        self.received: list[tuple[dict[str, Any], list[Any]]] = []

        def record(data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
            self.received.append((data, list(buffers or [])))

        form.comm.send = record  # the kernel → browser direction of the comm

    def send(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        # The message as ipykernel hands it to the widget's comm (comm_msg, method "custom").
        msg = {
            "content": {
                "comm_id": self.form.model_id,
                "data": {"method": "custom", "content": content},
            },
            "buffers": [memoryview(b) for b in (buffers or [])],
        }
        self.form._handle_msg(msg)

    def customs(self, kind: str) -> list[dict[str, Any]]:
        return [
            data["content"]
            for data, _ in self.received
            if data.get("method") == "custom" and data["content"].get("type") == kind
        ]

    def upload(self, name: str, data: bytes, fid: str = "f1", chunk: int = CHUNK_BYTES) -> None:
        """What form.js does for a picked file: start, and once the kernel accepted it (an ack
        at 0 bytes), ≤ 1 MiB chunks each acked, then end."""
        self.send({"type": "file_start", "fid": fid, "name": name, "size": len(data), "mime": ""})
        assert self.answers(fid)[-1] == {"type": "file_ack", "fid": fid, "received": 0}
        for offset in range(0, len(data), chunk):
            self.send(
                {"type": "file_chunk", "fid": fid, "offset": offset},
                [data[offset : offset + chunk]],
            )
        self.send({"type": "file_end", "fid": fid})

    def answers(self, fid: str) -> list[dict[str, Any]]:
        """The kernel's file_ack / file_refused messages about ``fid``, in order."""
        return [
            data["content"]
            for data, _ in self.received
            if data.get("method") == "custom"
            and data["content"].get("type") in ("file_ack", "file_refused")
            and data["content"].get("fid") == fid
        ]

    def submit(self, **values: Any) -> None:
        base = {
            "schema_id": self.form.schema_id,
            "name": "catalog",
            "source": "text",
            "text": "",
            "urls": "",
            "context": "",
            "enhance": "",
            "webhook": "",
            "files": [],
        }
        self.send({"type": "submit", "values": {**base, **values}})


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


def wait_done(form: SubmitForm, timeout: float = 20.0) -> None:
    wait_for(lambda: form.phase not in ("submitting", "running"), timeout)


@pytest.fixture
def make_form(client: Lasso) -> Iterator[Callable[..., tuple[SubmitForm, Browser]]]:
    forms: list[SubmitForm] = []

    def make(**kwargs: Any) -> tuple[SubmitForm, Browser]:
        kwargs.setdefault("schema", "Products")
        form = SubmitForm(client=client, **kwargs)
        forms.append(form)
        browser = Browser(form)
        browser.send({"type": "refresh"})  # what the view does when first shown
        wait_for(lambda: form.schemas_status == "ready")
        if form.schema_id:
            wait_for(lambda: form.schema_preview.get("status") == "ready")
        return form, browser

    yield make
    for form in forms:
        form.close()


# -- schema picker -------------------------------------------------------------------------------


def test_schema_picker_lists_schemas_and_preselects_by_name(make_form: Callable) -> None:
    form, _ = make_form(schema="Products")
    names = [s["name"] for s in form.schemas]
    assert "Products" in names
    products = next(s for s in form.schemas if s["name"] == "Products")
    assert form.schema_id == products["id"]
    columns = {c["key"]: c["type"] for c in form.schema_preview["columns"]}
    assert columns["price"] == "number" and columns["in_stock"] == "boolean"


def test_schema_picker_preselects_by_id_and_flags_unknown(
    make_form: Callable, client: Lasso
) -> None:
    products = next(s for s in client.schemas.list() if s.name == "Products")
    form, _ = make_form(schema=products.id)
    assert form.schema_id == products.id

    unknown, _ = make_form(schema="No Such Schema")
    assert unknown.schema_id == ""
    assert "No Such Schema" in unknown.errors["schema"]


def test_selecting_a_schema_loads_its_columns(make_form: Callable, client: Lasso) -> None:
    other = client.schemas.create(
        "Books", [{"key": "title", "type": "text"}, {"key": "pages", "type": "number"}]
    )
    form, browser = make_form()
    browser.send({"type": "refresh"})
    wait_for(lambda: any(s["id"] == other.id for s in form.schemas))
    browser.send({"type": "select_schema", "schema_id": other.id})
    wait_for(lambda: form.schema_preview.get("schema_id") == other.id)
    wait_for(lambda: form.schema_preview.get("status") == "ready")
    assert form.schema_id == other.id
    assert [(c["key"], c["type"]) for c in form.schema_preview["columns"]] == [
        ("title", "text"),
        ("pages", "number"),
    ]


# -- valid submissions of each source kind --------------------------------------------------------


def test_text_submit_completes_with_dataframe_preview_and_result_var(
    make_form: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace: dict[str, Any] = {}
    monkeypatch.setattr(form_module, "_user_namespace", lambda: namespace)
    rows = "".join(f"Item {i},SKU-{i},{i}.5\n" for i in range(12))
    form, browser = make_form(result_var="items")
    results: list[Any] = []
    form.on_result(results.append)

    browser.submit(name="twelve items", source="text", text="name,sku,price\n" + rows)
    wait_done(form)

    assert form.phase == "completed", form.errors or form.job_state
    df = form.df
    assert len(df) == 12
    assert list(df["name"])[:2] == ["Item 0", "Item 1"]
    assert df["price"].iloc[3] == pytest.approx(3.5)
    assert namespace["items"] is df
    assert results == [df]
    assert form.job is not None and form.job.id == form.job_state["id"]
    preview = form.preview
    assert preview["total_rows"] == 12
    assert len(preview["rows"]) == 10  # at most ten rows travel to the browser
    keys = [c["key"] for c in preview["columns"]]
    assert preview["rows"][0]["cells"][keys.index("name")] == "Item 0"
    assert preview["rows"][3]["cells"][keys.index("price")] == "3.50"  # money: two decimals
    assert form.job_state["total_rows"] == 12 and form.job_state["progress"] == 100
    assert "completed" in repr(form) and "12 rows" in repr(form)


def test_files_submit_sends_chunks_and_completes(make_form: Callable, engine: Any) -> None:
    form, browser = make_form()
    data = CSV.encode()
    # Small chunks, so the reassembly over several messages is what is tested.
    browser.upload("products.csv", data, fid="csv1", chunk=16)
    acks = browser.customs("file_ack")
    # The acceptance (0 bytes) first, then one ack per chunk.
    assert [a["received"] for a in acks] == [0, *range(16, len(data), 16), len(data)]
    assert form.files[0]["status"] == "received" and form.files[0]["received"] == len(data)

    browser.submit(name="from a file", source="files", files=["csv1"])
    wait_done(form)

    assert form.phase == "completed", form.errors or form.job_state
    assert list(form.df["sku"]) == ["W-1", "G-2", "Z-3"]
    assert form.files[0]["status"] == "uploaded"
    assert form.job.table.source_type == "files"


def test_multi_mib_file_reassembles_byte_exact_on_the_server(
    make_form: Callable, client: Lasso, engine: Any
) -> None:
    form, browser = make_form()
    # 3.5 MiB of every byte value: four chunks, the last one partial.
    data = os.urandom(3 * CHUNK_BYTES + CHUNK_BYTES // 2)
    browser.upload("blob.bin", data, fid="big")
    acks = browser.customs("file_ack")
    assert [a["received"] for a in acks] == [
        0,
        CHUNK_BYTES,
        2 * CHUNK_BYTES,
        3 * CHUNK_BYTES,
        len(data),
    ]
    assert form.files[0]["status"] == "received"

    browser.submit(name="big", source="files", files=["big"])
    wait_done(form)
    assert form.files[0]["status"] == "uploaded", form.errors
    uploaded = [f for f in client.files.list(limit=100) if f.filename == "blob.bin"]
    assert len(uploaded) == 1 and uploaded[0].size == len(data)
    stored = Path(engine.data_dir) / "files" / uploaded[0].id
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.fixture
def csv_site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "products.csv").write_text(CSV)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urls_submit_completes(make_form: Callable, csv_site: str) -> None:
    form, browser = make_form()
    browser.submit(name="from a url", source="urls", urls=f"\n  {csv_site}/products.csv  \n")
    wait_done(form)
    assert form.phase == "completed", form.errors or form.job_state
    assert list(form.df["name"]) == ["Widget", "Gadget", "Gizmo"]
    assert form.job.table.source_type == "urls"
    assert form.preview["total_rows"] == 3


# -- refusals: a message next to the field and no API call --------------------------------------


INVALID = [
    pytest.param({"schema_id": ""}, "schema", "Choose a schema", id="no-schema"),
    pytest.param({"name": "   "}, "name", "name", id="blank-name"),
    pytest.param({"text": " \n "}, "text", "Paste the text", id="blank-text"),
    pytest.param(
        {"text": CSV, "urls": "https://example.com/a.csv"},
        "source",
        "exactly one source",
        id="two-sources",
    ),
    pytest.param(
        {"source": "urls", "urls": "https://ok.example/a.csv\nftp://files.example/b.csv"},
        "urls",
        "ftp://files.example/b.csv",
        id="non-http-url",
    ),
    pytest.param({"source": "urls", "urls": "\n\n"}, "urls", "at least one URL", id="no-urls"),
    pytest.param({"source": "files", "files": []}, "files", "at least one file", id="no-files"),
    pytest.param(
        {"source": "files", "files": ["never-started"]}, "files", "add it again", id="unknown-file"
    ),
    pytest.param({"source": "carrier-pigeon"}, "source", "Choose a source", id="bad-source"),
    pytest.param(
        {"text": CSV, "webhook": "javascript:alert(1)"}, "webhook", "http(s)", id="webhook"
    ),
]


@pytest.mark.parametrize(("values", "field", "message"), INVALID)
def test_invalid_input_is_refused_without_any_request(
    make_form: Callable,
    transport: CountingTransport,
    values: dict[str, Any],
    field: str,
    message: str,
) -> None:
    form, browser = make_form()
    before = transport.total()
    browser.submit(**values)
    assert message in form.errors[field]
    assert form.phase == "idle" and form.job is None
    time.sleep(0.1)  # nothing started in the background either
    assert transport.total() == before


def test_file_over_the_limit_and_half_sent_files_are_refused(
    make_form: Callable, transport: CountingTransport
) -> None:
    form, browser = make_form(max_file_bytes=1000)
    before = transport.total()
    browser.send({"type": "file_start", "fid": "huge", "name": "huge.pdf", "size": 5000})
    (refused,) = browser.customs("file_refused")
    assert refused["fid"] == "huge"
    assert "1000 bytes" in refused["message"] and "huge.pdf" in refused["message"]
    assert form.files == [] and "files" not in form.errors  # shown on the file, not twice

    browser.send({"type": "file_start", "fid": "half", "name": "half.csv", "size": 100})
    browser.send({"type": "file_chunk", "fid": "half", "offset": 0}, [b"x" * 40])
    assert form.files[0]["status"] == "sending" and form.files[0]["received"] == 40
    browser.submit(source="files", files=["half"])
    assert "Wait until every file" in form.errors["files"]

    # A chunk out of order breaks the transfer instead of corrupting the file.
    browser.send({"type": "file_chunk", "fid": "half", "offset": 80}, [b"y" * 20])
    assert form.files[0]["status"] == "error" and "expected byte 40" in form.files[0]["error"]
    browser.submit(source="files", files=["half"])
    assert "marked with an error" in form.errors["files"]

    browser.send({"type": "file_remove", "fid": "half"})
    assert form.files == []
    assert transport.total() == before


def test_every_file_start_gets_an_answer(make_form: Callable, transport: CountingTransport) -> None:
    """The browser sends no chunk before the kernel answered a start, so every start must get
    one answer: an ack at 0 bytes, or a refusal saying why (which keeps no record)."""
    form, browser = make_form(max_file_bytes=1000)
    before = transport.total()

    def start(fid: str, name: str = "a.csv", size: Any = 10) -> dict[str, Any]:
        count = len(browser.answers(fid))
        browser.send({"type": "file_start", "fid": fid, "name": name, "size": size, "mime": ""})
        answers = browser.answers(fid)
        assert len(answers) == count + 1, answers  # one answer, with no chunk sent yet
        return answers[-1]

    assert start("ok") == {"type": "file_ack", "fid": "ok", "received": 0}
    assert [(f["fid"], f["status"], f["received"]) for f in form.files] == [("ok", "sending", 0)]

    refusals = {
        "the limit is 1000 bytes": start("big", "big.pdf", 5000),
        "already in the list": start("dup", "a.csv"),  # the name "ok" has
        "no valid size": start("nosize", "b.csv", "ten"),
        "valid id": start("../etc", "c.csv"),  # the kernel used to ignore these silently
        "without a valid id": start("", "d.csv"),
        "already in use": start("ok", "e.csv"),  # a repeated id, ignored before too
    }
    form.phase = "running"  # what a started job sets: no new files meanwhile
    refusals["A job is running"] = start("late", "f.csv")
    form.phase = "idle"
    for words, answer in refusals.items():
        assert answer["type"] == "file_refused", answer
        assert words in answer["message"], answer
    # Refused starts leave no record; the repeated id left the first file as it was.
    assert [(f["fid"], f["name"], f["status"]) for f in form.files] == [("ok", "a.csv", "sending")]

    # A chunk the kernel does not expect (never started, or removed) is refused, not dropped
    # silently: the browser would otherwise wait for its ack.
    browser.send({"type": "file_chunk", "fid": "ghost", "offset": 0}, [b"x"])
    browser.send({"type": "file_remove", "fid": "ok"})
    browser.send({"type": "file_chunk", "fid": "ok", "offset": 0}, [b"x"])
    for fid in ("ghost", "ok"):
        answer = browser.answers(fid)[-1]
        assert answer["type"] == "file_refused" and "no longer expects" in answer["message"]
    assert form.files == []
    assert transport.total() == before


def test_a_failure_handling_a_file_message_is_answered_too(
    make_form: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    form, browser = make_form()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(form._inbox, "start", broken)
        browser.send({"type": "file_start", "fid": "s1", "name": "a.csv", "size": 3})
    (answer,) = browser.answers("s1")
    assert (
        answer["type"] == "file_refused"
        and "Internal error (RuntimeError): boom" in (answer["message"])
    )

    # The disk refuses the bytes: the transfer breaks with the reason.
    browser.send({"type": "file_start", "fid": "w1", "name": "w.csv", "size": 3})
    incoming = form._inbox.snapshot()["w1"]
    incoming.handle.close()

    class FullDisk:
        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

        def close(self) -> None:
            pass

    incoming.handle = FullDisk()
    browser.send({"type": "file_chunk", "fid": "w1", "offset": 0}, [b"abc"])
    answer = browser.answers("w1")[-1]
    assert answer["type"] == "file_refused" and "No space left" in answer["message"]
    assert form.files[0]["status"] == "error" and "No space left" in form.files[0]["error"]

    # A bug while handling a chunk: refused, and the half file is marked, not left "sending".
    browser.send({"type": "file_start", "fid": "c1", "name": "c.csv", "size": 3})
    with monkeypatch.context() as patch:
        patch.setattr(form._inbox, "chunk", broken)
        browser.send({"type": "file_chunk", "fid": "c1", "offset": 0}, [b"abc"])
    answer = browser.answers("c1")[-1]
    assert answer["type"] == "file_refused" and "boom" in answer["message"]
    record = next(f for f in form.files if f["fid"] == "c1")
    assert record["status"] == "error" and "boom" in record["error"]


# -- errors from the API ------------------------------------------------------------------------


def test_unknown_schema_id_from_the_api_lands_next_to_the_schema(
    make_form: Callable, transport: CountingTransport
) -> None:
    form, browser = make_form()
    browser.submit(schema_id="schema_doesnotexist", text=CSV)
    wait_for(lambda: form.errors)
    assert form.phase == "idle"
    assert "schema_doesnotexist" in form.errors["schema"]
    assert transport.counts["POST /tables"] == 0  # refused before any table was created


def test_api_422_surfaces_next_to_its_field(
    make_form: Callable, transport: CountingTransport
) -> None:
    form, browser = make_form()
    urls = "https://example.com/a.csv\nhttps://example.com/a.csv"  # the engine refuses twins
    browser.submit(source="urls", urls=urls)
    wait_for(lambda: form.errors)
    assert transport.counts["POST /tables"] == 1
    assert form.phase == "idle" and form.job_state == {}
    assert "422" in form.errors["urls"] and "listed twice" in form.errors["urls"]
    # The input stays, so the user can fix it and submit again.
    assert form.urls == urls


def test_more_urls_than_a_table_takes_are_refused_before_sending(
    make_form: Callable, transport: CountingTransport
) -> None:
    form, browser = make_form()
    urls = "\n".join(f"https://example.com/{i}.csv" for i in range(11))  # a table takes 10
    browser.submit(source="urls", urls=urls)
    wait_for(lambda: form.errors)
    assert transport.counts["POST /tables"] == 0
    assert "at most 10 URLs (got 11)" in form.errors["urls"]
    assert "submit_batch()" in form.errors["urls"]
    assert form.phase == "idle" and form.urls == urls


def test_failed_table_shows_the_servers_error_message(make_form: Callable) -> None:
    form, browser = make_form()
    browser.upload("noise.csv", os.urandom(4096), fid="noise")
    browser.submit(source="files", files=["noise"])
    wait_done(form)
    assert form.phase == "failed"
    table = form.job.table
    assert table is not None and table.error_message
    assert form.job_state["error_message"] == table.error_message
    assert form.df is None
    assert "error: " in repr(form)


# -- running, reset, state hygiene ---------------------------------------------------------------


def test_second_submit_while_running_is_ignored_and_reset_keeps_schema(
    engine_factory: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = engine_factory(pace=0.1)
    transport = CountingTransport()
    client = Lasso(api_key=slow.api_key, base_url=slow.base_url, transport=transport)
    form = SubmitForm(schema="Products", client=client, name="first")
    browser = Browser(form)
    form.refresh_schemas(wait=True)
    schema_id = form.schema_id
    assert schema_id

    browser.submit(name="first", text=CSV)
    assert form.phase == "running"
    browser.submit(name="second", text=CSV)  # the button is disabled; a stray click is ignored
    seen: set[str] = set()
    while form.phase == "running":
        seen.add(form.job_state.get("status", ""))
        time.sleep(0.02)
    assert form.phase == "completed"
    assert transport.counts["POST /tables"] == 1
    # The server's live statuses reached the form before the end, not only the final state.
    assert seen & {"queued", "processing"}, seen

    browser.send({"type": "reset"})
    assert form.phase == "idle" and form.text == "" and form.preview == {}
    assert form.schema_id == schema_id and form.name != "first"
    assert form.df is not None  # the last result stays until the next submit
    form.close()
    client.close()


def test_widget_state_never_contains_the_api_key(make_form: Callable, engine: Any) -> None:
    form, browser = make_form()
    browser.submit(name="secret check", text=CSV)
    wait_done(form)
    state = json.dumps(form.get_state(), default=str)
    messages = json.dumps([data for data, _ in browser.received], default=str)
    assert engine.api_key not in state
    assert engine.api_key not in messages
    assert engine.api_key not in repr(form)


def test_text_form_describes_the_form() -> None:
    client = Lasso(api_key="lasso_x", base_url="http://127.0.0.1:9", max_retries=0)
    form = SubmitForm(schema="Products", client=client)
    text = form._repr_mimebundle_()[0]["text/plain"]
    assert text.startswith("SubmitForm · schema Products · idle")
    form.errors = {"name": "Give the table a name."}
    assert "name: Give the table a name." in repr(form)
    form.close()


def test_schema_list_failure_and_auth_error_show_in_the_form(engine: Any) -> None:
    client = Lasso(api_key="lasso_" + "0" * 64, base_url=engine.base_url, max_retries=0)
    form = SubmitForm(schema="Products", client=client)
    browser = Browser(form)
    browser.send({"type": "refresh"})
    wait_for(lambda: form.schemas_status != "loading")
    assert form.schemas_status == "error"
    assert "401" in form.schemas_message
    browser.submit(schema_id="schema_x", text=CSV)
    wait_for(lambda: form.errors)
    assert "401" in form.errors["form"] and form.phase == "idle"
    form.close()
    client.close()


@pytest.fixture
def node() -> str:
    """The node binary; skipped without it, except under CI, where skipping would hide a
    broken parity check (same rule as chromium for the browser tests)."""
    path = shutil.which("node")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("node not found; CI is set, so the form.js tests may not skip")
        pytest.skip("node is not installed")
    return path


FORM_JS = (Path(__file__).parent.parent / "js" / "form.js").as_uri()


def run_module(node: str, script: str) -> Any:
    """Run an ES module script with node; it prints one JSON value, which is returned."""
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_browser_side_validation_matches_the_kernel(node: str) -> None:
    """form.js's ``validate`` (run by node) refuses what the kernel refuses, with the same words."""
    cases = {
        "ok": {"schema_id": "s", "name": "n", "source": "text", "text": "x", "urls": ""},
        "empty": {"schema_id": "", "name": " ", "source": "text", "text": "", "urls": ""},
        "two": {
            "schema_id": "s",
            "name": "n",
            "source": "urls",
            "text": "x",
            "urls": "https://a.example/x\njavascript:alert(1)",
            "webhook": "ftp://h",
        },
    }
    script = (
        f"import {{ validate }} from {json.dumps(FORM_JS)};\n"
        f"const cases = {json.dumps(cases)};\n"
        "const out = {};\n"
        "for (const [k, v] of Object.entries(cases)) out[k] = validate(v, []);\n"
        "console.log(JSON.stringify(out));\n"
    )
    js = run_module(node, script)
    assert js["ok"] == {}
    form = SubmitForm(client=Lasso(api_key="lasso_x", base_url="http://127.0.0.1:9"))
    for key, values in cases.items():
        _, kernel = form._validate({**values, "files": []})
        assert js[key] == kernel, key
    assert set(js["empty"]) == {"schema", "name", "text"}
    assert set(js["two"]) == {"urls", "source", "webhook"}
    form.close()


UPLOADER_SCRIPT = """
import { createUploader } from %s;
const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sent = [];
const send = (msg, buffers) => sent.push({ ...msg, bytes: buffers ? buffers[0].byteLength : null });
const up = createUploader(send, () => {}, { stallMs: 300 });
const types = (fid) => sent.filter((m) => m.fid === fid).map((m) => m.type);
const entry = (fid) => up.local().filter((f) => f.fid === fid).map((f) => [f.status, f.error]);
const out = {};

up.start(new File([new Uint8Array(5 * MiB + 7)], "big.bin"));
const big = sent[0].fid;
await sleep(50);
out.beforeAccept = types(big);
out.waiting = up.local().map((f) => f.waiting);
up.onMessage({ type: "file_ack", fid: big, received: 0 });
await sleep(50);
out.window = types(big);
for (let n = 1; n <= 6; n += 1) {
  up.onMessage({ type: "file_ack", fid: big, received: Math.min(n * MiB, 5 * MiB + 7) });
  await sleep(20);
}
out.done = types(big);
out.chunks = sent.filter((m) => m.fid === big && m.bytes !== null).map((m) => [m.offset, m.bytes]);
out.doneEntry = entry(big);

up.start(new File(["0123456789"], "dup.csv"));
const dup = sent.at(-1).fid;
up.onMessage({ type: "file_refused", fid: dup, message: '"dup.csv" is already in the list.' });
await sleep(50);
out.refused = types(dup);
out.refusedEntry = entry(dup);

up.start(new File([new Uint8Array(3 * MiB)], "mid.bin"));
const mid = sent.at(-1).fid;
up.onMessage({ type: "file_ack", fid: mid, received: 0 });
await sleep(50);
up.onMessage({ type: "file_refused", fid: mid, message: "The kernel no longer expects this file." });
await sleep(50);
out.mid = types(mid);

up.start(new File(["y"], "lost.csv"));
const lost = sent.at(-1).fid;
await sleep(600);
out.stalled = types(lost);
out.stalledEntry = entry(lost);
console.log(JSON.stringify(out));
"""


def test_uploader_sends_nothing_before_acceptance_and_never_waits_forever(node: str) -> None:
    """form.js's ``createUploader`` (run by node against a fake kernel): no chunk before the
    ack at 0 bytes, then at most four in flight; a refusal ends the transfer with its message
    on the file; a kernel that never answers ends it too (after ``stallMs``)."""
    out = run_module(node, UPLOADER_SCRIPT % json.dumps(FORM_JS))
    mib = 1024 * 1024
    assert out["beforeAccept"] == ["file_start"]
    assert out["waiting"] == [True]  # shown as "waiting for the kernel…"
    assert out["window"] == ["file_start"] + ["file_chunk"] * 4
    assert out["done"] == ["file_start"] + ["file_chunk"] * 6 + ["file_end"]
    assert out["chunks"] == [[i * mib, mib] for i in range(5)] + [[5 * mib, 7]]
    assert out["doneEntry"] == []  # the kernel's record shows it from now on
    assert out["refused"] == ["file_start"]
    assert out["refusedEntry"] == [["error", '"dup.csv" is already in the list.']]
    assert out["mid"] == ["file_start"] + ["file_chunk"] * 3  # no file_end after the refusal
    assert out["stalled"] == ["file_start", "file_remove"]
    ((status, message),) = out["stalledEntry"]
    assert status == "error" and "has not answered for 1 s" in message


# -- threads and temp files -------------------------------------------------------------------


def test_default_client_is_resolved_on_the_callers_thread(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """default_client() may start the embedded engine (blocking, printing a notice): that must
    happen in the cell showing the form, not on the runtime thread."""
    import lasso_notebook.client as client_module

    lasso = Lasso(api_key=engine.api_key, base_url=engine.base_url)
    threads: list[str] = []

    def fake_default_client() -> Lasso:
        threads.append(threading.current_thread().name)
        return lasso

    monkeypatch.setattr(client_module, "default_client", fake_default_client)
    form = SubmitForm(schema="Products")
    form._repr_mimebundle_()  # what displaying it does
    wait_for(lambda: form.schemas_status == "ready")
    wait_for(lambda: form.schema_preview.get("status") == "ready")
    assert threads == [threading.current_thread().name]
    form.close()
    lasso.close()


def test_a_client_that_cannot_start_shows_in_the_picker(monkeypatch: pytest.MonkeyPatch) -> None:
    import lasso_notebook.client as client_module
    from lasso_notebook.errors import EngineStartError

    def broken() -> Lasso:
        raise EngineStartError("port 1234 is taken")

    monkeypatch.setattr(client_module, "default_client", broken)
    form = SubmitForm(schema="Products")
    text = form._repr_mimebundle_()[0]["text/plain"]  # displaying never raises
    assert text.startswith("SubmitForm")
    assert form.schemas_status == "error" and "port 1234 is taken" in form.schemas_message
    form.refresh_schemas(wait=True)  # returns, the picker says why
    assert form.schemas_status == "error"
    form.close()


def test_refresh_schemas_wait_on_the_runtime_thread_is_refused(make_form: Callable) -> None:
    from lasso_notebook import _runtime
    from lasso_notebook.errors import RuntimeThreadError

    form, _ = make_form()

    async def in_callback() -> None:  # what an on_result callback would run into
        form.refresh_schemas(wait=True)

    with pytest.raises(RuntimeThreadError, match="deadlock"):
        _runtime.run_sync(in_callback(), timeout=10)

    async def no_wait() -> None:
        form.refresh_schemas()

    _runtime.run_sync(no_wait(), timeout=10)  # without waiting it is fine
    wait_for(lambda: form.schemas_status == "ready")


def test_uploaded_temp_files_are_deleted_once_the_table_exists(make_form: Callable) -> None:
    form, browser = make_form()
    browser.upload("products.csv", CSV.encode(), fid="csv1")
    (path,) = [i.path for i in form._inbox.snapshot().values()]
    assert path.read_bytes() == CSV.encode()

    browser.submit(name="from a file", source="files", files=["csv1"])
    wait_done(form)
    assert form.phase == "completed", form.errors or form.job_state
    assert form.files[0]["status"] == "uploaded"
    assert not path.exists() and not path.parent.exists()
    assert list(form._inbox.directory.iterdir()) == []


def test_failed_table_deletes_the_bytes_and_asks_to_add_the_file_again(
    make_form: Callable,
) -> None:
    form, browser = make_form()
    browser.upload("noise.csv", os.urandom(4096), fid="noise")
    browser.submit(source="files", files=["noise"])
    wait_done(form)
    assert form.phase == "failed"
    assert list(form._inbox.directory.iterdir()) == []
    browser.submit(source="files", files=["noise"])
    assert "add it again" in form.errors["files"]
    browser.send({"type": "file_remove", "fid": "noise"})
    browser.upload("noise.csv", os.urandom(4096), fid="noise2")
    assert form.files[0]["status"] == "received"


def test_files_stay_when_no_table_was_created(make_form: Callable) -> None:
    form, browser = make_form()
    browser.upload("products.csv", CSV.encode(), fid="csv1")
    browser.submit(schema_id="schema_doesnotexist", source="files", files=["csv1"])
    wait_for(lambda: form.errors)
    assert form.phase == "idle" and "schema_doesnotexist" in form.errors["schema"]
    assert form.files[0]["status"] == "received"
    (path,) = [i.path for i in form._inbox.snapshot().values()]
    assert path.read_bytes() == CSV.encode()
    form.close()
    assert not form._inbox.directory.exists()


# -- reuse: an identical request attaches to the earlier table; "Extract again" ---------------------


def test_a_reused_result_says_so_and_extract_again_makes_a_new_table(
    make_form: Callable, transport: CountingTransport
) -> None:
    form, browser = make_form(result_var=None)
    browser.submit(name="first", source="text", text=CSV)
    wait_done(form)
    first, first_df = form.job, form.df
    assert form.phase == "completed" and form.job_state["reused"] is False
    creates = transport.counts["POST /tables"]

    # "New extraction", then the very same request: reused, nothing created.
    browser.send({"type": "reset"})
    browser.submit(name="second", source="text", text=CSV)
    wait_done(form)
    assert form.phase == "completed", form.errors or form.job_state
    assert form.job_state["reused"] is True and form.job.id == first.id
    assert transport.counts["POST /tables"] == creates
    message = form.job_state["reuse_message"]
    assert message.startswith(f"reused {first.id[:6]}… from ")
    assert message.endswith('(no new extraction; click "Extract again" to extract again)')
    assert message in repr(form)
    assert form.df.equals(first_df) and form.preview["total_rows"] == 3

    browser.send({"type": "extract_again"})
    wait_done(form)
    assert form.phase == "completed", form.errors or form.job_state
    assert form.job_state["reused"] is False and form.job_state["reuse_message"] == ""
    assert form.job.id != first.id and transport.counts["POST /tables"] == creates + 1
    # Only after a reused result: otherwise the message changes nothing.
    newest = form.job
    browser.send({"type": "extract_again"})
    assert form.job is newest and form.phase == "completed"


def test_extract_again_uploads_the_files_a_reused_result_never_sent(
    make_form: Callable, transport: CountingTransport
) -> None:
    form, browser = make_form()
    browser.upload("products.csv", CSV.encode(), fid="a")
    browser.submit(name="files", source="files", files=["a"])
    wait_done(form)
    first = form.job
    assert form.files[0]["status"] == "uploaded" and transport.counts["POST /files"] == 1

    browser.send({"type": "reset"})
    browser.upload("products.csv", CSV.encode(), fid="b")
    browser.submit(name="files", source="files", files=["b"])
    wait_done(form)
    assert form.job_state["reused"] is True and form.job.id == first.id
    assert transport.counts["POST /files"] == 1  # hashed locally: nothing was uploaded
    assert form.files[0]["status"] == "received"  # so the bytes stay for "Extract again"

    browser.send({"type": "extract_again"})
    wait_done(form)
    assert form.phase == "completed" and form.job.id != first.id
    assert transport.counts["POST /files"] == 2 and form.files[0]["status"] == "uploaded"
    assert list(form.df["sku"]) == ["W-1", "G-2", "Z-3"]


class HeldListing(httpx.AsyncBaseTransport):
    """Holds the answer to the first ``GET /schemas`` (listed by the server already) until
    ``release`` is set: a load in flight that cannot know of a schema created meanwhile."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.release = threading.Event()
        self.held = threading.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/schemas") and not self.held.is_set():
            await response.aread()
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_refresh_asked_during_a_load_lists_the_schemas_again(engine: Any) -> None:
    transport = HeldListing()
    client = Lasso(api_key=engine.api_key, base_url=engine.base_url, transport=transport)
    form = SubmitForm(client=client)
    form.refresh_schemas()  # what the view asks when first shown
    wait_for(transport.held.is_set, 10)  # that load is in flight
    name = f"made during a load {time.monotonic_ns()}"
    client.schemas.create(name=name, columns=[{"key": "name", "label": "Name", "type": "text"}])
    form.refresh_schemas()  # what creating a schema asks of every open form
    transport.release.set()
    wait_for(lambda: any(s["name"] == name for s in form.schemas), 10)
    client.close()
