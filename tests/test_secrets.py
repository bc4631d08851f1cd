"""The API key never leaks: the example notebooks run with a recognisable key (DEBUG logging
of lasso_notebook, httpx and httpcore on, a 401 and a failed table provoked at the end), and the
key is found nowhere in the saved notebook (outputs, widget state, metadata), nor in the
engine's log or files, nor in the client's reuse index."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: Recognisable in any fragment: the canary sits in the middle, where a masked key never shows.
CANARY = "LEAKCANARY"
KEY = "lasso_" + CANARY + "0123456789abcdef" * 3 + "tail"
#: Another key with the canary, unknown to the engine: sent once for the 401.
WRONG_KEY = "lasso_" + CANARY + "ffff" * 12 + "nope"

pytestmark = pytest.mark.kernel

LOGGING_CELL = """\
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, force=True)
for name in ("lasso_notebook", "httpx", "httpcore"):
    logging.getLogger(name).setLevel(logging.DEBUG)
"""
# Cells appended to every notebook: each error path that could echo a key.
PROVOKE = [
    "import lasso_notebook\n%load_ext lasso_notebook\n%lasso config",
    "print(repr(lasso_notebook.default_client()), lasso_notebook.default_client().masked_key)",
    # A failed table: the server's reason, shown by the magic and kept by the job.
    "%%lasso_table failed_df --schema Products --no-widget\nnothing here is a table\n",
    "print(lasso_notebook.jobs()[-1], repr(lasso_notebook.jobs()[-1].error))",
    # A 401: the refused key travels in the request; it must not come back in any text.
    "import os\n"
    "good = os.environ['LASSO_API_KEY']\n"
    "os.environ['LASSO_API_KEY'] = os.environ['SECRETS_TEST_WRONG_KEY']\n"
    "%lasso tables",
    "try:\n"
    "    lasso_notebook.Lasso().tables.list()\n"
    "except lasso_notebook.AuthenticationError as exc:\n"
    "    print(repr(exc), exc)\n"
    "lasso_notebook.Lasso().tables.list()  # the full traceback, too",
    "os.environ['LASSO_API_KEY'] = good",
]


def instrumented(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(LOGGING_CELL))
    for source in PROVOKE:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["raises-exception"]  # nbclient lets these cells fail
        nb.cells.append(cell)
    return nb


@pytest.fixture(scope="module")
def keyed_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    engine = serve(port=0, data_dir=tmp_path_factory.mktemp("secrets-engine"))
    engine.add_key(KEY)
    yield engine
    engine.stop()


def kernel_env(workdir: Path, engine: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LASSO_API_KEY=KEY,
        SECRETS_TEST_WRONG_KEY=WRONG_KEY,  # read by a cell: no key is ever in a cell's source
        LASSO_BASE_URL=engine.base_url,
        # No embedded engine may start here; only the reuse index lives in it.
        LASSO_NOTEBOOK_DATA_DIR=str(workdir / "lasso-data"),
        IPYTHONDIR=str(workdir / "ipython"),
        JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("LASSO_ENGINE_PACE", None)
    return env


def test_engine_add_key_is_validated_and_idempotent(keyed_engine: Any) -> None:
    import httpx

    assert keyed_engine.add_key(KEY) == KEY  # already there: nothing changes
    for bad in ("", "lasso_short", "sk-" + "a" * 40, KEY + "\n"):
        with pytest.raises(ValueError):
            keyed_engine.add_key(bad)
    response = httpx.get(
        f"{keyed_engine.base_url}/schemas", headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["data"]] == ["Products"]  # its own data


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_never_shows_the_key(
    path: Path,
    keyed_engine: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The engine runs in this process: its log (and uvicorn's) is caught here.
    for name in ("lasso_notebook", "uvicorn", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    nb = instrumented(path)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        startup_timeout=60,
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=kernel_env(tmp_path, keyed_engine))
    saved = tmp_path / path.name
    nbformat.write(nb, saved)
    text = saved.read_text()

    # The instrumentation really ran: debug logs, the failed table and both 401s are there.
    assert "HTTP Request: GET" in text  # httpx's DEBUG/INFO lines reached the outputs
    assert "('failed_df') failed: " in text  # the failed table's message was shown
    assert "401" in text and "AuthenticationError" in text
    assert "lasso_…tail" in text  # the masked form is what %lasso config and repr show
    # The keyed engine was used, not an embedded one: the data dir holds the reuse index only.
    data = tmp_path / "lasso-data"
    assert {p.name for p in data.iterdir()} <= {
        "reuse-index.sqlite3",
        "reuse-index.sqlite3-wal",
        "reuse-index.sqlite3-shm",
    }

    assert CANARY not in text, _around(text, CANARY)
    for record in caplog.records:
        assert CANARY not in record.getMessage()
    for file in [*keyed_engine.data_dir.rglob("*"), *data.iterdir()]:
        if file.is_file():
            assert CANARY.encode() not in file.read_bytes(), file  # only key hashes are kept


def _around(text: str, needle: str) -> str:
    at = text.find(needle)
    return text[max(0, at - 300) : at + 100]
