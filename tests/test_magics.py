"""``%%lasso_table`` / ``%lasso_table`` / ``%lasso`` driven through a real IPython shell against
the embedded engine over loopback HTTP: options, sources, blocking, background, attach, errors
(short, no traceback), ``%config`` and ``%lasso``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from traitlets.config import Config

from lasso_notebook.magics import LassoMagics, MagicError

CSV = "name;sku;price\n" + "".join(f"Widget {i};W{i:03d};{i}.50\n" for i in range(5))


class TestingShell(InteractiveShell):
    """An InteractiveShell without history (a SQLite file per shell) and a flush-free
    displayhook (an internal gc.collect can hang at exit), as jupysql's tests do."""

    __test__ = False  # not a test class, despite the name

    @classmethod
    def make(cls) -> TestingShell:
        config = Config()
        config.HistoryAccessor.enabled = False
        shell = cls.instance(config=config)
        shell.displayhook.flush = lambda: None
        return shell


@pytest.fixture(scope="module")
def shell() -> Iterator[TestingShell]:
    ip = TestingShell.make()
    ip.run_line_magic("load_ext", "lasso_notebook")
    yield ip


@pytest.fixture
def ip(shell: TestingShell) -> Iterator[TestingShell]:
    """The shared shell with a fresh ``LassoMagics`` (default config) and a clean namespace."""
    magics = LassoMagics(shell=shell)
    shell.register_magics(magics)
    yield shell
    shell.configurables.remove(magics)
    # %config merges into the shell's Config, which the next LassoMagics would inherit.
    shell.config.pop("LassoMagics", None)
    for name in [
        n for n in shell.user_ns if not n.startswith("_") and n not in shell.user_ns_hidden
    ]:
        del shell.user_ns[name]


def magics_of(shell: InteractiveShell) -> LassoMagics:
    return shell.magics_manager.registry["LassoMagics"]


def run(
    shell: InteractiveShell, code: str, capsys: pytest.CaptureFixture[str]
) -> tuple[ExecutionResult, str]:
    """Run a cell; return its result and everything printed (stdout + stderr)."""
    result = shell.run_cell(code, store_history=True)
    out = capsys.readouterr()
    return result, out.out + out.err


def assert_short_error(result: ExecutionResult, output: str, *fragments: str) -> None:
    """The cell failed with our message, in at most two lines, and without a traceback."""
    assert isinstance(result.error_in_exec, MagicError), (result.error_in_exec, output)
    for fragment in fragments:
        assert fragment in output, output
    assert "Traceback" not in output and "-----" not in output, output
    assert len(output.strip().splitlines()) <= 2, output


# --------------------------------------------------------------------------- no server needed


def test_help_lists_every_option_with_an_example(ip: InteractiveShell) -> None:
    doc = ip.find_cell_magic("lasso_table").__doc__
    options = [
        "--schema", "--name", "--file", "--url", "--context", "--enhance", "--webhook",
        "--attach", "--background", "--timeout", "--meta", "--labels", "--no-widget",
    ]  # fmt: skip
    for option in options:
        line = next(ln for ln in doc.splitlines() if ln.strip().startswith(option))
        block = doc[doc.index(line) :].split("\n  -")[0]
        assert "Example:" in block, (option, block)
    assert "%%lasso_table products --schema Products" in doc
    assert "$name and {expression}" in doc
    assert "%lasso config" in ip.find_line_magic("lasso").__doc__


@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        ("%lasso_table df --bogus", ["unrecognized arguments: --bogus", "%lasso_table?"]),
        ("%lasso_table df --timeout soon", ["--timeout", "invalid float value"]),
        ("%lasso_table df --context 'unclosed", ["No closing quotation"]),
        ("%lasso_table 1df --schema P --url http://x", ["'1df' is not a valid Python variable"]),
        ("%lasso_table class --schema P --url http://x", ["'class' is not a valid"]),
        ("%lasso_table df --schema P --url http://x --timeout 0", ["positive number"]),
        ("%lasso_table df --url http://x --background --timeout 5", ["drop --background"]),
        ("%lasso_table df --schema P", ["no source", "--file PATH or --url URL"]),
        (
            "%lasso_table df --schema P --url http://x --file a.pdf",
            ["--file and --url", "keep one"],
        ),
        ("%%lasso_table df --schema P --url http://x\nsome text", ["the cell body and --url"]),
        ("%lasso_table df --attach tbl_1 --url http://x", ["--attach follows", "remove --url"]),
        ("%%lasso_table --attach tbl_1 --schema P\ntext", ["remove the cell body, --schema"]),
        ("%lasso_table df --url http://x", ["no schema", "LassoMagics.default_schema"]),
        ("%lasso_table df --schema P --file nope.pdf", ["no such file: 'nope.pdf'"]),
        ("%lasso_table df --schema P --file 'nothing/*.pdf'", ["no file matches", "nothing/*.pdf"]),
        ("%lasso frobnicate", ["invalid choice: 'frobnicate'", "%lasso?"]),
        ("%lasso tables --limit 0", ["--limit must be a positive"]),
    ],
)
def test_option_mistakes_are_short_and_need_no_server(
    ip: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    line: str,
    fragments: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    # A request would fail loudly: the checks must all happen before any client exists.
    monkeypatch.setattr(LassoMagics, "_client", lambda self: pytest.fail("client used"))
    result, output = run(ip, line, capsys)
    assert_short_error(result, output, *fragments)


def test_a_folder_given_to_file_suggests_a_glob(
    ip: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    (tmp_path / "catalogs").mkdir()
    monkeypatch.chdir(tmp_path)
    result, output = run(ip, "%lasso_table df --schema P --file catalogs", capsys)
    assert_short_error(result, output, "is a folder", "catalogs/*.pdf")


def test_config_traits_are_settable_with_percent_config(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    magics = magics_of(ip)
    ip.run_cell('%config LassoMagics.default_schema = "Products"')
    ip.run_cell("%config LassoMagics.timeout = 90")
    ip.run_cell("%config LassoMagics.poll_cap = 2.5")
    ip.run_cell("%config LassoMagics.widget = False")
    assert (magics.default_schema, magics.timeout, magics.poll_cap, magics.widget) == (
        "Products",
        90.0,
        2.5,
        False,
    )
    capsys.readouterr()
    ip.run_cell("%config LassoMagics")
    listing = capsys.readouterr().out
    for trait in ("default_schema", "timeout", "poll_cap", "widget"):
        assert f"LassoMagics.{trait}" in listing


def test_lasso_config_masks_the_key_and_names_the_hosted_api(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "lsk_live_0123456789abcdefSECRET"
    monkeypatch.setenv("LASSO_API_KEY", key)
    monkeypatch.delenv("LASSO_BASE_URL", raising=False)
    ip.run_cell('%config LassoMagics.default_schema = "Products"')
    capsys.readouterr()
    result, output = run(ip, "%lasso config", capsys)
    assert result.success
    assert key not in output and "SECRET" not in output
    assert "lsk_li…CRET" in output
    assert "hosted API" in output and "https://hub.banditshq.com/api/v1" in output
    assert "default_schema  Products" in output


def test_lasso_config_without_key_names_the_embedded_engine(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LASSO_API_KEY", raising=False)
    monkeypatch.delenv("LASSO_BASE_URL", raising=False)
    result, output = run(ip, "%lasso config", capsys)
    assert result.success and "embedded engine" in output
    assert "widget          on" in output
