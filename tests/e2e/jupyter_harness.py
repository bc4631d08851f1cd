"""Harness for the browser tests: a Jupyter server (JupyterLab or Notebook 7) in isolated
directories on a free loopback port, notebook files written for a scenario, and a page object
that opens a notebook, runs its cells and finds their outputs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Locator, Page, expect

__all__ = [
    "CHROMIUM_ARGS",
    "JupyterServer",
    "NotebookPage",
    "ProgressSample",
    "distinct_values",
    "doc_screenshot",
    "find_chromium",
    "read_progress",
    "sample_progress",
    "write_notebook",
]

REPO = Path(__file__).resolve().parents[2]
#: The venv's Python runs the server, so the kernel and the lab extensions come from the venv.
PYTHON = sys.executable

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]

# Settings that keep the UI quiet and deterministic: no news/update toasts, and every cell
# rendered in the DOM (JupyterLab 4 otherwise virtualises cells outside the viewport).
_USER_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def find_chromium() -> str | None:
    """Debian's chromium (``LASSO_CHROMIUM`` overrides the path); None when absent."""
    candidate = os.environ.get("LASSO_CHROMIUM") or "/usr/bin/chromium"
    if Path(candidate).is_file() and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_notebook(path: Path, cells: Sequence[str]) -> Path:
    """Write a python3 notebook whose code cells are ``cells`` (markdown if prefixed ``md:``)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for source in cells:
        if source.startswith("md:"):
            nb.cells.append(nbformat.v4.new_markdown_cell(source[3:].lstrip()))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@dataclass
class JupyterServer:
    """A Jupyter server process; ``app`` is ``"lab"`` (JupyterLab) or ``"notebook"`` (Notebook 7).

    Every per-user directory (config, data, runtime, IPython, the engine's data) lives under
    ``home``; the venv's sys-prefix paths stay on the search path, so the ``python3`` kernelspec
    and the ipywidgets / anywidget extensions installed there are found.
    """

    app: str
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> Path:
        return self.home / "root"

    @property
    def log_path(self) -> Path:
        return self.home / f"jupyter-{self.app}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("JUPYTER", "LASSO_", "IPYTHON"))
        }
        env.update(
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            IPYTHONDIR=str(self.home / "ipython"),
            JUPYTER_PLATFORM_DIRS="0",
            LASSO_NOTEBOOK_DATA_DIR=str(self.home / "lasso-data"),
            # Venv bin first, so a kernel started by name finds this interpreter.
            PATH=f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def _write_settings(self) -> None:
        settings = self.home / "config" / "lab" / "user-settings"
        for rel, content in _USER_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content), encoding="utf-8")

    def start(self, timeout: float = 90.0) -> JupyterServer:
        for sub in ("root", "config", "data", "runtime", "ipython", "lasso-data"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        self._write_settings()
        self.port = free_port()
        args = [
            PYTHON,
            "-m",
            "jupyter",
            self.app,
            "--no-browser",
            "--ServerApp.token=",
            "--ServerApp.password=",
            "--ServerApp.ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.terminals_enabled=False",
            "--ServerApp.disable_check_xsrf=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            args, cwd=self.root, env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter {self.app} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError):
                self.api("GET", "/api/status", timeout=2)
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"jupyter {self.app} did not answer in {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Terminate (the server shuts its kernels down), then kill if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (each holds an embedded engine): keeps a 2-core machine responsive."""
        with contextlib.suppress(OSError, urllib.error.URLError):
            for session in self.api("GET", "/api/sessions"):
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class NotebookPage:
    """A notebook opened in the browser: JupyterLab (``/lab/tree/…``) or Notebook 7
    (``/notebooks/…``); both use the same notebook widgets and CSS classes."""

    def __init__(self, page: Page, server: JupyterServer, name: str, ui: str = "lab") -> None:
        self.page = page
        self.server = server
        self.name = name
        self.ui = ui

    @property
    def notebook(self) -> Locator:
        return self.page.locator(".jp-Notebook").first

    def open(self, timeout: float = 90_000) -> NotebookPage:
        """Load the notebook and wait until its kernel runs, is idle and this page is
        connected to it."""
        self._accept_kernel_dialogs()
        # ``reset`` drops the saved workspace, so earlier tests' notebooks are not reopened.
        path = f"/lab/tree/{self.name}?reset" if self.ui == "lab" else f"/notebooks/{self.name}"
        self.page.goto(self.server.url + path, wait_until="domcontentloaded")
        expect(self.cells.first).to_be_visible(timeout=timeout)
        self.wait_kernel_idle(timeout)
        return self

    def _accept_kernel_dialogs(self) -> None:
        # JupyterLab sometimes asks "Select Kernel" although the notebook names its kernel (when
        # the kernelspecs arrive late on a busy machine). The preselected choice is the
        # notebook's own kernel: accept it whenever the dialog gets in the way of an action.
        if getattr(self.page, "_lasso_kernel_dialog_handler", False):
            return
        dialog = self.page.locator(".jp-Dialog").filter(has_text="Select Kernel")
        self.page.add_locator_handler(
            dialog, lambda found: found.locator(".jp-mod-accept").first.click()
        )
        self.page._lasso_kernel_dialog_handler = True  # type: ignore[attr-defined]

    def kernel_model(self) -> dict[str, Any] | None:
        """The server's view of this notebook's kernel (``execution_state``, ``connections``)."""
        for session in self.server.api("GET", "/api/sessions"):
            if session.get("path") == self.name and session.get("kernel"):
                return dict(session["kernel"])
        return None

    def wait_kernel_idle(self, timeout: float = 90_000) -> None:
        """Until the server reports this notebook's kernel idle with a client connected. (The
        toolbar's indicator says "idle" before any kernel exists, so it cannot be trusted.)"""
        dialog = self.page.locator(".jp-Dialog").filter(has_text="Select Kernel")
        deadline = time.monotonic() + timeout / 1000
        kernel: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            if dialog.count() and dialog.first.is_visible():
                dialog.first.locator(".jp-mod-accept").first.click()
            kernel = self.kernel_model()
            if kernel and kernel.get("execution_state") == "idle" and kernel.get("connections"):
                return
            self.page.wait_for_timeout(250)
        raise AssertionError(f"kernel of {self.name} not ready in {timeout / 1000} s: {kernel}")

    @property
    def cells(self) -> Locator:
        return self.notebook.locator(".jp-Cell")

    def cell(self, index: int) -> Locator:
        return self.cells.nth(index)

    def outputs(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-OutputArea-output")

    def prompt(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-InputArea-prompt")

    def run_all(self) -> None:
        """Run ▸ Run All Cells, through the menu bar as a user would."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).first.click()
        self.page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()

    def run_cell(self, index: int) -> None:
        """Select a cell (command mode) and press Shift+Enter."""
        self.cell(index).locator(".jp-InputArea-prompt").click()
        self.page.keyboard.press("Shift+Enter")

    def wait_executed(self, index: int, timeout: float = 60_000) -> None:
        """Until the cell's prompt shows an execution count (``[3]:``), i.e. it finished."""
        expect(self.prompt(index)).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout)

    def expect_no_error(self, index: int) -> None:
        """The cell's outputs hold no error (fail fast with its text rather than time out
        waiting for a widget that will never come)."""
        errors = self.cell(index).locator('[data-mime-type="application/vnd.jupyter.stderr"]')
        if errors.count():
            raise AssertionError(f"cell {index} failed:\n{errors.first.inner_text()[-2000:]}")

    def progress_widgets(self, index: int) -> Locator:
        return self.cell(index).locator(".lasso-progress")


@dataclass
class ProgressSample:
    t: float
    state: str | None
    value: int | None
    status: str
    rows: str
    #: Whatever the caller's ``extra`` callable returned at the same moment.
    extra: Any = None


def read_progress(widget: Locator) -> ProgressSample:
    """One snapshot of a progress widget (``.lasso-progress``), read in a single round trip."""
    data = widget.evaluate(
        """(root) => ({
            state: root.dataset.state ?? null,
            value: root.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow'),
            status: root.querySelector('.lasso-progress__status')?.textContent ?? '',
            rows: root.querySelector('.lasso-progress__rows')?.textContent ?? '',
        })"""
    )
    value = data["value"]
    return ProgressSample(
        t=time.monotonic(),
        state=data["state"],
        value=int(value) if value not in (None, "") else None,
        status=data["status"],
        rows=data["rows"],
    )


def sample_progress(
    widget: Locator,
    until: Callable[[ProgressSample], bool],
    timeout: float = 60.0,
    interval: float = 0.1,
    extra: Callable[[], Any] | None = None,
) -> list[ProgressSample]:
    """Read the widget every ``interval`` s until ``until(sample)`` or ``timeout`` s; returns
    every sample (the samples are the evidence; the pauses only pace the reading)."""
    samples: list[ProgressSample] = []
    deadline = time.monotonic() + timeout
    while True:
        sample = read_progress(widget)
        if extra is not None:
            sample.extra = extra()
        samples.append(sample)
        if until(sample):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(
                f"progress widget did not reach the expected state in {timeout} s; "
                f"last samples: {samples[-5:]}"
            )
        time.sleep(interval)


def distinct_values(samples: Sequence[ProgressSample]) -> list[int]:
    """The bar values seen, in order, without repeats."""
    seen: list[int] = []
    for sample in samples:
        if sample.value is not None and (not seen or sample.value != seen[-1]):
            seen.append(sample.value)
    return seen


DOCS_IMG = REPO / "docs" / "img"
#: README screenshots must stay small.
MAX_SCREENSHOT_BYTES = 100_000


def doc_screenshot(element: Locator, name: str) -> Path | None:
    """With ``LASSO_UPDATE_SCREENSHOTS=1``, save an element screenshot as ``docs/img/<name>``
    (the README shows these); otherwise do nothing. Fails if the PNG gets too big."""
    if os.environ.get("LASSO_UPDATE_SCREENSHOTS") != "1":
        return None
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    path = DOCS_IMG / name
    element.scroll_into_view_if_needed()
    element.screenshot(path=str(path), animations="disabled", caret="hide")
    with contextlib.suppress(ImportError):  # Pillow (a dev dependency) makes it ~3x smaller
        from PIL import Image

        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)
    size = path.stat().st_size
    assert size < MAX_SCREENSHOT_BYTES, f"{path} is {size} bytes; keep README images small"
    return path


@contextlib.contextmanager
def running_server(app: str, home: Path, extra_env: dict[str, str]) -> Iterator[JupyterServer]:
    server = JupyterServer(app=app, home=home, extra_env=extra_env).start()
    try:
        yield server
    finally:
        server.stop()
