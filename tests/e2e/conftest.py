"""Fixtures for the browser tests: one chromium and one JupyterLab server for the session, a
fresh page per test (screenshot into ``tests/e2e/artifacts/`` when the test fails), and a
Notebook 7 server started only for the test that needs it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_harness import (
    CHROMIUM_ARGS,
    JupyterServer,
    find_chromium,
    running_server,
)

ARTIFACTS = Path(__file__).parent / "artifacts"
#: Seconds per progress step of the embedded engine: small, but enough to watch the bar move.
ENGINE_PACE = os.environ.get("LASSO_E2E_PACE", "0.25")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
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


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _server_env() -> dict[str, str]:
    return {"LASSO_ENGINE_PACE": ENGINE_PACE}


@pytest.fixture(scope="session")
def jupyter_lab(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: str
) -> Iterator[JupyterServer]:
    """JupyterLab shared by the session; kernels are shut down after each test."""
    with running_server("lab", tmp_path_factory.mktemp("jupyterlab"), _server_env()) as server:
        yield server


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
