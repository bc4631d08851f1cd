"""Fixtures for the browser tests: one chromium and one JupyterLab server shared by the e2e
tests (released when the run moves on to other tests), a fresh page per test (screenshot into
``tests/e2e/artifacts/`` when the test fails), and a Notebook 7 server started only for the
test that needs it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_harness import CHROMIUM_ARGS, JupyterServer, find_chromium, running_server

ARTIFACTS = Path(__file__).parent / "artifacts"
#: Seconds per progress step of the embedded engine: small, but enough to watch the bar move.
ENGINE_PACE = os.environ.get("LASSO_E2E_PACE", "0.25")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts() -> None:
    """Artifacts describe this run's failures only: drop the previous run's."""
    if ARTIFACTS.is_dir():
        for old in ARTIFACTS.iterdir():
            if old.is_file():
                old.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        message = "chromium not found (install Debian's chromium, or set LASSO_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so browser tests may not be skipped")
        pytest.skip(message)
    return path


class _Shared:
    """The browser and the JupyterLab server shared by consecutive e2e tests, started on first
    use and released as soon as the run leaves the e2e tests. Playwright's sync API keeps an
    event loop running in the main thread while it is active, which would break any later
    test that calls ``asyncio.run()``; the server's kernels would only cost memory."""

    def __init__(self) -> None:
        self.playwright: Any = None
        self.browser: Any = None
        self.lab: JupyterServer | None = None

    def get_browser(self, chromium: str) -> Any:
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=chromium, args=CHROMIUM_ARGS
            )
        return self.browser

    def get_lab(self, home: Path) -> JupyterServer:
        if self.lab is None:
            self.lab = JupyterServer(app="lab", home=home, extra_env=_server_env()).start()
        return self.lab

    def release(self) -> None:
        lab, self.lab = self.lab, None
        if lab is not None:
            lab.stop()
        browser, self.browser = self.browser, None
        playwright, self.playwright = self.playwright, None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_SHARED = _Shared()


def _is_e2e(item: pytest.Item | None) -> bool:
    return item is not None and Path(__file__).parent in Path(str(item.fspath)).parents


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the test's own fixtures (its page, its context) are torn down first
    if not _is_e2e(nextitem):
        _SHARED.release()


@pytest.fixture(scope="session", autouse=True)
def _release_shared() -> Iterator[None]:
    yield
    _SHARED.release()  # also on an interrupted run


@pytest.fixture
def browser(chromium_path: str) -> Any:
    """The shared chromium (launched on first use)."""
    return _SHARED.get_browser(chromium_path)


def _server_env() -> dict[str, str]:
    return {"LASSO_ENGINE_PACE": ENGINE_PACE}


@pytest.fixture
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> JupyterServer:
    """The shared JupyterLab (started on first use); kernels are shut down after each test."""
    if _SHARED.lab is None:
        return _SHARED.get_lab(tmp_path_factory.mktemp("jupyterlab"))
    return _SHARED.lab


@pytest.fixture
def notebook7(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: str
) -> Iterator[JupyterServer]:
    """``jupyter notebook`` (Notebook 7), only for the test that asks for it."""
    with running_server("notebook", tmp_path_factory.mktemp("notebook7"), _server_env()) as server:
        yield server


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page; on failure a full-page screenshot and the browser
    console go to ``tests/e2e/artifacts/``."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
            try:
                page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                console.append(f"[harness] screenshot failed: {exc}")
            (ARTIFACTS / f"{stem}.console.txt").write_text("\n".join(console), encoding="utf-8")
        context.close()


@pytest.fixture
def lab(jupyter_lab: JupyterServer, request: pytest.FixtureRequest) -> Iterator[JupyterServer]:
    """The shared JupyterLab; after the test its kernels stop, and on failure its log is kept."""
    yield jupyter_lab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
        (ARTIFACTS / f"{stem}.jupyter.log").write_text(jupyter_lab.log_tail(400), encoding="utf-8")
    jupyter_lab.shutdown_kernels()
