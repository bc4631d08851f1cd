"""Hostile files against the embedded engine: uploads over the limit are refused while streaming
(memory measured), stored files never take a path from the user, and hostile documents (zip
bombs, encrypted or corrupt PDFs, empty, binary, deeply nested, one 50 MB line) end as failed
tables with a clear reason while the engine's memory stays bounded and its API answers."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

MB = 1 << 20
#: Growth of the engine process's peak RSS allowed over a warmed-up baseline, for all the
#: hostile documents together. A zip bomb read for real needs several times its 256 MB.
RSS_BUDGET = 200 * MB
#: The slowest GET the API may answer with while a hostile document is being extracted.
LATENCY_BUDGET = 1.0


# -- documents -----------------------------------------------------------------------------
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument" Target="{target}"/></Relationships>'
)
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
    'application/xml"/><Override PartName="/{main}" ContentType="{ctype}"/></Types>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_SHEET_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def zip_bomb(path: Path, kind: str, inflated: int = 256 * MB) -> None:
    """A structurally valid .xlsx / .docx whose one big part unpacks ~100x (level 1 deflate
    of repeated XML: fast to build, ~2 MB on disk)."""
    if kind == "xlsx":
        main, ctype = "xl/workbook.xml", "application/vnd.openxmlformats-officedocument."
        ctype += "spreadsheetml.sheet.main+xml"
        big = "xl/worksheets/sheet1.xml"
        head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        head += b"<sheetData>"
        unit = b'<row><c t="inlineStr"><is><t>AAAAAAAAAAAAAAAAAAAAAAAA</t></is></c></row>'
        tail = b"</sheetData></worksheet>"
    else:
        main, big = "word/document.xml", "word/document.xml"
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
        head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
        head += b'main"><w:body>'
        unit = b"<w:p><w:r><w:t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</w:t></w:r></w:p>"
        tail = b"</w:body></w:document>"
    chunk = unit * (MB // len(unit))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _TYPES.format(main=main, ctype=ctype))
        archive.writestr("_rels/.rels", _RELS.format(target=main))
        if kind == "xlsx":
            archive.writestr("xl/workbook.xml", _WORKBOOK)
            archive.writestr("xl/_rels/workbook.xml.rels", _SHEET_RELS)
        with archive.open(big, "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0"?>' + head)
            for _ in range(inflated // len(chunk)):
                fh.write(chunk)
            fh.write(tail)


def encrypted_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Name: Secret drill")
    pdf.set_encryption(owner_password="owner", user_password="user")
    path.write_bytes(bytes(pdf.output()))


#: name -> (builder, a fragment the table's error_message must contain)
HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "bomb.xlsx": (lambda p: zip_bomb(p, "xlsx"), "zip bomb"),
    "bomb.docx": (lambda p: zip_bomb(p, "docx"), "zip bomb"),
    "encrypted.pdf": (encrypted_pdf, "password-protected"),
    "corrupt.pdf": (
        lambda p: p.write_bytes(b"%PDF-1.7\n" + random.Random(1).randbytes(200_000)),
        "could not be read as a PDF",
    ),
    "empty.csv": (lambda p: p.write_bytes(b""), "empty (0 bytes)"),
    "binary.csv": (
        lambda p: p.write_bytes(random.Random(2).randbytes(2 * MB)),
        "binary",
    ),
    "nested.json": (
        lambda p: p.write_text("[" * 200_000 + "]" * 200_000),
        "nested too deeply",
    ),
    "one-line.csv": (lambda p: p.write_bytes(b"a" * (50 * MB)), "line longer than"),
    "one-line.txt": (lambda p: p.write_bytes(b"name\n" + b"a," * (25 * MB)), "line longer than"),
}


# -- an engine in its own process, so its memory can be measured -----------------------------
class EngineProcess:
    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lasso_notebook.server",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                "--workers",
                "1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines = [self.proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        self.base_url = next(ln.split("=", 1)[1].strip() for ln in lines if "BASE_URL=" in ln)
        self.api_key = next(ln.split("=", 1)[1].strip() for ln in lines if "API_KEY=" in ln)
        self.data_dir = data_dir

    def peak_rss(self) -> int:
        """VmHWM: the process's peak resident memory so far, in bytes."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]

    def stop(self) -> None:
        self.proc.send_signal(2)  # Ctrl-C: the engine stops cleanly
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def engine_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    handle = EngineProcess(tmp_path_factory.mktemp("hostile-engine"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def api(engine_proc: EngineProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {engine_proc.api_key}"}
    with httpx.Client(base_url=engine_proc.base_url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def schema_id(api: httpx.Client) -> str:
    return next(s["id"] for s in api.get("/schemas").json()["data"] if s["name"] == "Products")


def extract(api: httpx.Client, schema_id: str, name: str, content: bytes) -> tuple[dict, float]:
    """Upload, create a table, follow it to its end; returns it and the slowest GET seen."""
    uploaded = api.post("/files", files={"file": (name, content)})
    assert uploaded.status_code == 201, uploaded.text
    created = api.post(
        "/tables", json={"name": name, "schema_id": schema_id, "file_ids": [uploaded.json()["id"]]}
    )
    assert created.status_code == 201, created.text
    table, slowest = created.json(), 0.0
    deadline = time.monotonic() + 60
    while table["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, f"{name} still {table['status']} after 60 s"
        time.sleep(0.05)
        start = time.perf_counter()
        table = api.get(f"/tables/{table['id']}").json()
        api.get("/schemas")  # a second route, served while the worker reads the document
        slowest = max(slowest, time.perf_counter() - start)
    return table, slowest


@pytest.fixture(scope="module")
def baseline(engine_proc: EngineProcess, api: httpx.Client, schema_id: str) -> int:
    """Peak RSS after one good document of each kind was read (every reader library loaded)."""
    import docx
    import openpyxl
    from fpdf import FPDF

    folder = engine_proc.data_dir.parent / "good"
    folder.mkdir(exist_ok=True)
    book = openpyxl.Workbook()
    book.active.append(["Name", "Price"])
    book.active.append(["Drill", 9.5])
    book.save(folder / "good.xlsx")
    document = docx.Document()
    document.add_paragraph("Name: Drill\nPrice: 9.50")
    document.save(str(folder / "good.docx"))
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(w=0, text="Name: Drill\nPrice: 9.50")
    (folder / "good.pdf").write_bytes(bytes(pdf.output()))
    (folder / "good.json").write_text('[{"name": "Drill", "price": 9.5}]')
    for path in sorted(folder.iterdir()):
        table, _ = extract(api, schema_id, path.name, path.read_bytes())
        assert table["status"] == "completed", table
    return engine_proc.peak_rss()


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-docs")
    for name, (build, _) in HOSTILE.items():
        build(folder / name)
    return folder


# -- tests -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_document_fails_clearly_with_bounded_memory(
    name: str,
    engine_proc: EngineProcess,
    api: httpx.Client,
    schema_id: str,
    baseline: int,
    hostile_dir: Path,
) -> None:
    table, slowest = extract(api, schema_id, name, (hostile_dir / name).read_bytes())
    assert table["status"] == "failed", table
    message = table["error_message"] or ""
    assert HOSTILE[name][1] in message, message
    assert "unexpectedly" not in message and "Traceback" not in message
    assert len(message) < 400
    assert slowest < LATENCY_BUDGET, f"a GET took {slowest:.2f} s while {name} was read"
    grown = engine_proc.peak_rss() - baseline
    assert grown < RSS_BUDGET, f"engine peak RSS grew {grown / MB:.0f} MB by {name}"


def test_engine_still_extracts_after_the_hostile_documents(
    api: httpx.Client, schema_id: str, baseline: int
) -> None:
    table, _ = extract(api, schema_id, "after.csv", b"name,price\nA,1\nB,2\n")
    assert table["status"] == "completed" and table["total_rows"] == 2


HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "a/b\x00.csv",
    "/abs/path.csv",
    "....//....//x.csv",
    ".",
    "",
    "x" * 1000 + ".csv",
    "line\nbreak.csv",
]


def test_stored_files_take_generated_ids_only(engine_factory: Any, tmp_path: Path) -> None:
    root = tmp_path / "root"
    engine = engine_factory(data_dir=root / "data")
    before = {p for p in tmp_path.rglob("*")}
    headers = {"Authorization": f"Bearer {engine.api_key}"}
    with httpx.Client(base_url=engine.base_url, headers=headers, timeout=10) as api:
        ids = []
        for n, hostile in enumerate(HOSTILE_NAMES):
            # Multipart written by hand: the name reaches the server byte for byte.
            disposition = hostile.encode("utf-8").replace(b'"', b"")
            body = (
                b'--B\r\nContent-Disposition: form-data; name="file"; filename="'
                + disposition
                + b'"\r\nContent-Type: text/csv\r\n\r\nname\nA'
                + str(n).encode()
                + b"\n\r\n--B--\r\n"
            )
            response = api.post(
                "/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"}
            )
            assert response.status_code == 201, (hostile, response.text)
            meta = response.json()
            assert re.fullmatch(r"file_[0-9a-f]{24}", meta["id"])
            assert not re.search(r"[/\\\x00-\x1f]", meta["filename"]), meta["filename"]
            assert meta["filename"] not in ("", ".", "..") and len(meta["filename"]) <= 255
            ids.append(meta["id"])
    created = {p for p in tmp_path.rglob("*")} - before
    stored = {p for p in created if p.is_file() and p.parent == engine.data_dir / "files"}
    assert {p.name for p in stored} == set(ids)  # every upload under its id, nothing else
    # Nothing at all was written outside the data dir, whatever the names said.
    assert all(engine.data_dir in p.parents for p in created), sorted(map(str, created))


def test_upload_over_the_limit_is_refused_while_streaming_in_bounded_memory(
    engine_factory: Any,
) -> None:
    engine = engine_factory(max_upload_bytes=1 * MB)
    chunk = b"y" * (64 * 1024)
    sent = 0

    def body() -> Iterator[bytes]:
        # Chunked, without Content-Length: the engine learns the size only by reading.
        nonlocal sent
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        for _ in range(40 * MB // len(chunk)):
            sent += len(chunk)
            yield chunk
        yield b"\r\n--B--\r\n"

    headers = {
        "Authorization": f"Bearer {engine.api_key}",
        "Content-Type": "multipart/form-data; boundary=B",
    }
    tracemalloc.start()
    try:
        response = httpx.post(
            f"{engine.base_url}/files", content=body(), headers=headers, timeout=60
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413, response.text
    assert "limit is 1.0 MB" in response.json()["message"]
    assert sent == 40 * MB  # the whole body went through the engine (client and engine here)
    # Both ends in this process: 40 MB streamed with a few MB of Python allocations at most.
    assert peak < 8 * MB, f"peak Python allocations {peak / MB:.1f} MB for a 40 MB upload"
    assert not any((engine.data_dir / "files").iterdir())  # the partial file was removed


def test_line_guard_finds_long_lines_across_chunks(tmp_path: Path) -> None:
    from lasso_notebook.server.extract import ExtractionError, Source
    from lasso_notebook.server.worker import MAX_LINE_BYTES, check_lines

    def check(name: str, content: bytes) -> None:
        path = tmp_path / name
        path.write_bytes(content)
        check_lines(Source(path=path, filename=name))

    ok_line = b"x" * (MB - 1) + b"\n"
    check("many-long-lines.csv", ok_line * 20)  # long but legitimate lines pass
    check("minified.json", b'[{"name": "' + b"y" * (MAX_LINE_BYTES + 10) + b'"}]')
    with pytest.raises(ExtractionError, match="line longer than"):
        # The long line starts mid-chunk and ends chunks later: it is still measured whole.
        check("hidden.csv", b"name\n" + b"z" * (MAX_LINE_BYTES + 1) + b"\n" + ok_line)
