"""Hypothesis over ``%lasso_table`` / ``%%lasso_table`` / ``%lasso`` as a user types them in a
real IPython shell: a well-formed cell is accepted and its request reaches the API once, with
exactly the values typed; whatever else the line and body, the cell either works or fails with
the magic's short ``MagicError`` (at most two lines): never a traceback, a SystemExit or a hang.
Examples: tests/conftest.py's hypothesis profiles (``make test`` fixed, ``make fuzz`` random)."""

from __future__ import annotations

import contextlib
import io
import json
import keyword
import os
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from lasso_notebook import Lasso
from lasso_notebook.client import RetryPolicy
from lasso_notebook.magics import LassoMagics, MagicError

NOW = "2026-01-01T00:00:00.000Z"
SCHEMA = {
    "id": "sch_1",
    "name": "Products",
    "columns": [{"key": "name", "label": "Name", "type": "text"}],
    "created_at": NOW,
    "updated_at": NOW,
}


#: Every request the fake API answered: (method, path, query, JSON body or None).
seen: list[tuple[str, str, dict[str, str], Any]] = []


def fake_api(request: httpx.Request) -> httpx.Response:
    """Just enough API for a well-formed cell to run to its end: the table it creates fails at
    once with a hostile message, so every accepted line also ends in a (short) error."""
    path = request.url.path.removeprefix("/api/v1")
    is_json = request.headers.get("content-type") == "application/json"
    body = json.loads(request.content) if is_json else None
    seen.append((request.method, path, dict(request.url.params), body))
    if path == "/schemas":
        listed = {k: SCHEMA[k] for k in ("id", "name", "created_at", "updated_at")}
        return httpx.Response(
            200, json={"data": [listed], "pagination": {"page": 1, "limit": 100, "total": 1}}
        )
    if path == "/schemas/sch_1":
        return httpx.Response(200, json=SCHEMA)
    if path == "/files" and request.method == "POST":
        file_id = f"file_{sum(1 for m, p, _, _ in seen if (m, p) == ('POST', '/files'))}"
        return httpx.Response(201, json={"id": file_id, "filename": "a.csv", "size": 3})
    if path == "/tables" and request.method == "GET":
        listed = {k: failed_table("t")[k] for k in ("id", "name", "status", "created_at")}
        return httpx.Response(
            200, json={"data": [listed], "pagination": {"page": 1, "limit": 100, "total": 1}}
        )
    if path == "/tables" and request.method == "POST":
        body = json.loads(request.content)
        return httpx.Response(201, json=failed_table(body.get("name") or "t"))
    if path.startswith("/tables/"):
        return httpx.Response(200, json=failed_table("t"))
    return httpx.Response(
        404,
        json={"status_code": 404, "error_type": "not_found", "message": "nope", "request_id": "r"},
    )


def failed_table(name: str) -> dict[str, Any]:
    return {
        "id": "tbl_1",
        "name": name,
        "status": "failed",
        "progress": 100,
        "total_rows": 0,
        "schema_id": "sch_1",
        "error_message": "Traceback?\n<script>alert(1)</script>",
        "created_at": NOW,
        "updated_at": NOW,
    }


class _Shell(InteractiveShell):
    """No history database (one SQLite file per shell) and no displayhook flush at exit."""

    __test__ = False


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InteractiveShell]:
    folder = tmp_path_factory.mktemp("magic-fuzz")
    (folder / "a.csv").write_text("name\nA\n")
    (folder / "b.txt").write_text("name: B\n")
    (folder / "sub").mkdir()
    config = Config()
    config.HistoryAccessor.enabled = False
    ip = _Shell(config=config)
    ip.displayhook.flush = lambda: None
    ip.run_line_magic("load_ext", "lasso_notebook")
    magics = ip.magics_manager.registry["LassoMagics"]
    assert isinstance(magics, LassoMagics)
    magics.client = Lasso(
        api_key="lasso_fuzz",
        base_url="http://fuzz.invalid/api/v1",
        transport=httpx.MockTransport(fake_api),
        retry_policy=RetryPolicy(max_retries=0),
    )
    magics.widget = False
    cwd = os.getcwd()
    os.chdir(folder)  # relative --file values resolve (or not) inside this folder only
    try:
        yield ip
    finally:
        os.chdir(cwd)
        magics.client.close()


# -- what users type -------------------------------------------------------------------------
# No line boundaries (those of str.splitlines, which IPython splits cells on): a magic line
# is one line.
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
words = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters=BREAKS), max_size=12
)
# --file values: real files, a folder, globs, and arbitrary text that cannot start a walk of
# the whole disk (an absolute ``/**`` glob would be slow, not wrong).
file_values = st.sampled_from(["a.csv", "*.csv", "*", "sub", "sub/*.pdf", "missing.pdf"]) | (
    words.filter(lambda w: "**" not in w and not w.startswith(("/", "~")))
)
values = (
    words
    | st.sampled_from(["Products", "sch_1", "tbl_1", "https://a.test/x.pdf", "ftp://x", "nan"])
    | st.floats(allow_nan=True).map(str)
    | st.integers().map(str)
)
options = st.one_of(
    st.tuples(st.sampled_from(["--schema", "--name", "--context", "--enhance"]), values),
    st.tuples(st.sampled_from(["--url", "--webhook", "--attach", "--timeout"]), values),
    st.tuples(st.just("--file"), file_values),
    st.tuples(
        st.sampled_from(
            ["--background", "--meta", "--labels", "--no-widget", "-h", "--help", "--", "-"]
        ),
        st.just(None),
    ),
    st.tuples(words, st.none() | words),
)


def quoted(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from([value, f"'{value}'", f'"{value}"', f"'{value}", f'"{value}'])


@st.composite
def magic_lines(draw: st.DrawFn) -> str:
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["df", "products", "1x", "class", "a-b"]) | words))
    for flag, value in draw(st.lists(options, max_size=6)):
        parts.append(flag)
        if value is not None:
            parts.append(draw(quoted(value)))
    return " ".join(parts)


@st.composite
def well_formed(draw: st.DrawFn, *, with_body: bool) -> str:
    """Lines that get past parsing, so the later checks and the server round trip are fuzzed
    too (names, contexts and odd values with a schema and exactly one source)."""
    parts = [draw(st.sampled_from(["", "df", "products", "_x1"]))]
    parts += ["--schema", draw(quoted(draw(st.sampled_from(["Products", "products", "sch_1"]))))]
    if not with_body:
        source = draw(st.sampled_from(["--file", "--url", "--attach"]))
        good = {"--file": ["a.csv", "*.csv", "b.txt"], "--url": ["https://a.test/x.pdf"]}
        value = draw(
            st.sampled_from(good.get(source, ["tbl_1"]))
            | (file_values if source == "--file" else values)
        )
        parts = ["df", source, draw(quoted(value))] if source == "--attach" else [*parts, source]
        if source != "--attach":
            parts.append(draw(quoted(value)))
    for flag in draw(st.lists(st.sampled_from(["--name", "--context", "--enhance"]), max_size=2)):
        parts += [flag, draw(quoted(draw(words)))]
    parts += draw(st.lists(st.sampled_from(["--meta", "--labels", "--no-widget"]), max_size=2))
    if draw(st.booleans()):
        parts += ["--timeout", draw(st.sampled_from(["5", "0.5", "0", "-1", "nan", "inf", "x"]))]
    return " ".join(p for p in parts if p)


lasso_lines = st.one_of(
    st.tuples(st.sampled_from(["schemas", "tables", "jobs", "config", "nope", ""]), words).map(
        " ".join
    ),
    st.lists(
        st.sampled_from(["tables", "--limit", "0", "-5", "x", "--search", "--status", "'a"])
        | words,
        max_size=5,
    ).map(" ".join),
)


def run(shell: InteractiveShell, cell: str) -> tuple[Any, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = shell.run_cell(cell, store_history=False)
    return result, out.getvalue()


def assert_short(result: Any, output: str, cell: str) -> None:
    assert result.error_before_exec is None, (cell, result.error_before_exec)
    error = result.error_in_exec
    # Only the magic's short error may escape (or IPython's own one-line UsageError, for a
    # %%cell with an empty body): no traceback, no SystemExit from argparse.
    assert error is None or isinstance(error, (MagicError, UsageError)), (cell, repr(error))
    assert "Traceback" not in output.replace("Traceback?", ""), (cell, output)
    if isinstance(error, MagicError):
        assert 1 <= len(error.lines) <= 2, (cell, error.lines)
    # --hypothesis-show-statistics shows how far the inputs got (parse error ... server).
    event("ok" if error is None else "server" if "tbl_1" in str(error) else type(error).__name__)


# The shell is a module fixture, shared by the examples on purpose (one per example is slow).
fuzz = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@fuzz
@given(line=st.one_of(magic_lines(), well_formed(with_body=False), well_formed(with_body=False)))
def test_line_magic_fails_short_or_works(shell: InteractiveShell, line: str) -> None:
    result, output = run(shell, f"%lasso_table {line}")
    assert_short(result, output, line)


@fuzz
@given(
    line=st.one_of(magic_lines(), well_formed(with_body=True), well_formed(with_body=True)),
    body=st.text(min_size=1, max_size=200)
    | st.sampled_from(["name\nA\n", "Name: B\n", "{}", "<b>x</b>"]),
)
def test_cell_magic_fails_short_or_works(shell: InteractiveShell, line: str, body: str) -> None:
    result, output = run(shell, f"%%lasso_table {line}\n{body}")
    assert_short(result, output, line)


@fuzz
@given(line=lasso_lines)
def test_lasso_line_magic_fails_short_or_works(shell: InteractiveShell, line: str) -> None:
    result, output = run(shell, f"%lasso {line}")
    assert_short(result, output, line)


def test_the_fuzzed_paths_are_reached(shell: InteractiveShell) -> None:
    """The fake API is really used: a well-formed cell gets to the server's hostile failure,
    still as a short error, and ``nan`` is no timeout."""
    result, output = run(shell, "%%lasso_table df --schema Products\nname\nA\n")
    assert isinstance(result.error_in_exec, MagicError), output
    assert (
        "tbl_1" in output
        and "<script>" in output
        and "Traceback" not in output.replace("Traceback?", "")
    )
    result, output = run(shell, "%%lasso_table df --schema Products --timeout nan\nname\nA\n")
    assert isinstance(result.error_in_exec, MagicError) and "--timeout" in output, output
    assert Path("a.csv").is_file()  # the fixture's folder is the working directory


# -- well-formed cells are accepted, with exactly the values typed ----------------------------
# Values a user may type for an option: no quotes (they would need escaping), no $ { } (IPython
# expands them), no # ? (comment, help), not starting with "-" (an option); spaces need quotes.
SAFE = string.ascii_letters + string.digits + " .,:;_/=+@&()<>|~*[]^-äéß€中"
safe_values = st.text(st.sampled_from(SAFE), min_size=1, max_size=16).filter(
    lambda v: v.strip() and not v.startswith("-")
)
http_urls = st.builds(
    "{}://{}.test/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9._~/%-]{0,16}", fullmatch=True),
)
variables = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda v: not keyword.iskeyword(v) and v not in ("exit", "quit", "get_ipython")
)


def typed(draw: st.DrawFn, value: str) -> str:
    """``value`` as typed in a magic line: in double quotes, or bare when it has no space."""
    return f'"{value}"' if " " in value or draw(st.booleans()) else value


@st.composite
def good_table_cells(draw: st.DrawFn) -> tuple[str, dict[str, Any], int]:
    """A well-formed ``%lasso_table`` / ``%%lasso_table`` cell, the create-table body it must
    send (``name`` None: generated) and how many files it uploads."""
    var = draw(st.none() | variables)
    options: dict[str, str] = {}
    for option in ("--name", "--context", "--enhance"):
        if draw(st.booleans()):
            options[option] = draw(safe_values)
    expected: dict[str, Any] = {"schema_id": "sch_1", "name": options.get("--name", var)}
    parts = [var or "", "--schema", typed(draw, draw(st.sampled_from(["Products", "sch_1"])))]
    for option, value in options.items():
        parts += [option, typed(draw, value)]
    expected["additional_context"] = options.get("--context")
    expected["enhancement_context"] = options.get("--enhance")
    if draw(st.booleans()):
        expected["webhook_url"] = draw(http_urls)
        parts += ["--webhook", typed(draw, expected["webhook_url"])]
    source = draw(st.sampled_from(["text", "url", "file"]))
    uploads = 0
    if source == "url":
        expected["file_urls"] = draw(st.lists(http_urls, min_size=1, max_size=3, unique=True))
        for url in expected["file_urls"]:
            parts += ["--url", typed(draw, url)]
    elif source == "file":
        files = draw(st.lists(st.sampled_from(["a.csv", "b.txt", "*.csv"]), min_size=1))
        uploads = len({"a.csv" if f == "*.csv" else f for f in files})
        for pattern in files:
            parts += ["--file", typed(draw, pattern)]
    parts += draw(st.lists(st.sampled_from(["--meta", "--labels", "--no-widget"]), unique=True))
    if draw(st.booleans()):
        parts.append("--background")
    elif draw(st.booleans()):
        parts += ["--timeout", str(draw(st.integers(30, 10**6)))]
    line = " ".join(p for p in parts if p)
    if source != "text":
        return f"%lasso_table {line}", expected, uploads
    lines = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30)
    body = "\n".join(draw(st.lists(lines, min_size=1, max_size=4))) + "\n"
    assume(body.strip())
    expected["source_text"] = body
    return f"%%lasso_table {line}\n{body}", expected, uploads


@fuzz
@given(case=good_table_cells())
def test_well_formed_table_cells_send_what_was_typed_once(
    shell: InteractiveShell, case: tuple[str, dict[str, Any], int]
) -> None:
    from lasso_notebook import jobs

    cell, expected, uploads = case
    before, jobs_before = len(seen), len(jobs())
    result, output = run(shell, cell)
    background = "--background" in cell.splitlines()[0]
    if background:
        assert result.error_in_exec is None, (cell, output)
        jobs()[-1].wait(timeout=10)
    else:  # accepted and sent: what stops it is the table's (hostile) failure on the server
        assert isinstance(result.error_in_exec, MagicError), (cell, output)
        assert "tbl_1" in str(result.error_in_exec) and "<script>" in output, (cell, output)
    assert len(jobs()) == jobs_before + 1, cell
    requests = seen[before:]
    total = len(requests_to(seen, "POST", "/files"))  # the fake numbers uploads from 1
    assert len(requests_to(requests, "POST", "/files")) == uploads, (cell, requests)
    creates = requests_to(requests, "POST", "/tables")
    assert len(creates) == 1, (cell, requests)
    body = creates[0][3]
    if uploads:
        expected["file_ids"] = [f"file_{n}" for n in range(total - uploads + 1, total + 1)]
    if expected["name"] is None:  # neither VAR nor --name: a dated name
        assert re.fullmatch(r"notebook extraction \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body["name"])
        expected["name"] = body["name"]
    assert body == {k: v for k, v in expected.items() if v is not None}, cell


def requests_to(requests: list[Any], method: str, path: str) -> list[Any]:
    return [r for r in requests if (r[0], r[1]) == (method, path)]


@st.composite
def good_listing_lines(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    """A well-formed ``%lasso tables`` / ``%lasso schemas`` line, the path it must read and
    the query it must send."""
    command = draw(st.sampled_from(["tables", "schemas"]))
    options, query = [], {"page": "1", "limit": "100"}
    if draw(st.booleans()):
        limit = draw(st.integers(1, 10**4))
        options.append(["--limit", str(limit)])
        query["limit"] = str(min(limit, 100))
    if command == "tables":
        for option in ("--search", "--status"):
            if draw(st.booleans()):
                value = draw(safe_values)
                options.append([option, typed(draw, value)])
                query[option[2:]] = value
    parts = [command] + [part for pair in draw(st.permutations(options)) for part in pair]
    return " ".join(parts), f"/{command}", query


@fuzz
@given(case=good_listing_lines())
def test_well_formed_listings_are_accepted(
    shell: InteractiveShell, case: tuple[str, str, dict[str, str]]
) -> None:
    line, path, query = case
    before = len(seen)
    result, output = run(shell, f"%lasso {line}")
    assert result.error_in_exec is None, (line, output)
    assert len(result.result) == 1 and result.result["id"].iloc[0] in ("sch_1", "tbl_1"), line
    assert [(m, p, q) for m, p, q, _ in seen[before:]] == [("GET", path, query)], line
