"""Schemathesis against the engine's own OpenAPI document (valid and invalid requests to every
operation, through the real app and store): never a 5xx, every error in the four-field envelope,
responses as documented, and the engine healthy afterwards. A few examples per operation, the
same on every run, in ``make test``; ``LASSO_FUZZ_EXAMPLES`` random ones in ``make fuzz``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

#: Examples per operation: a few, the same on every run, in ``make test``; the fuzz profile's
#: count of fresh random ones in ``make fuzz`` (profiles: tests/conftest.py).
FUZZING = not settings.default.derandomize
EXAMPLES = settings.default.max_examples if FUZZING else 12
ENVELOPE = {"status_code", "error_type", "message", "request_id"}


@pytest.fixture(scope="module")
def fuzzed_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from lasso_notebook.server import serve

    handle = serve(port=0, data_dir=tmp_path_factory.mktemp("fuzz"), max_upload_bytes=64 * 1024)
    yield handle
    handle.stop()


def _openapi_document() -> dict[str, Any]:
    """The engine's OpenAPI document, as ``/openapi.json`` serves it. Built at import (the
    tests are made one per operation at collection) from an app over a stand-in engine: making
    the app and its document touches neither store nor disk."""
    from lasso_notebook.server.app import create_app

    stand_in = SimpleNamespace(store=None, data_dir=Path("unused"), max_upload_bytes=1)
    return create_app(stand_in).openapi()  # type: ignore[arg-type]


# schemathesis.pytest.from_fixture would load it lazily, but its lazy loader breaks on pytest 9
# (it renames nodes through ``Function._nodeid``, which pytest 9 removed).
schema = schemathesis.openapi.from_dict(_openapi_document())
# allow_extra_parameters=False: undeclared query parameters are ignored by design (as the hosted
# API does, so an older engine accepts a newer client's options); they are not "invalid data".
schema.config.generation.update(
    modes=["positive", "negative"], max_examples=EXAMPLES, allow_extra_parameters=False
)


@pytest.fixture(scope="module")
def engine_app(fuzzed_engine: Any) -> Any:
    from lasso_notebook.server.app import create_app

    # The real app over the served engine's store and workers: requests go through its ASGI
    # interface in-process, several times faster than loopback HTTP.
    return create_app(fuzzed_engine)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not FUZZING,
    database=settings.default.database,
)
def test_engine_api(case: Any, fuzzed_engine: Any, engine_app: Any) -> None:
    # positive_data_acceptance is left out on purpose: the request bodies carry cross-field
    # rules OpenAPI cannot state as FastAPI documents them (exactly one of source_text /
    # file_ids / file_urls; an enum column needs enum_values; generate needs a sample with
    # structure; ids must name existing schemas and files). Schema-valid requests breaking
    # them get a 422 envelope by design; every other check (no 5xx, status codes, content
    # types, response bodies against the declared envelope, Allow headers, invalid data
    # rejected) stays on. unsupported_method is left out too: it wants 405 for an undeclared
    # method, and the contract (docs/architecture.md §6) says 400 invalid_request; the engine's
    # answer (400 with an Allow header) is tested in test_server_api.py.
    # Set on the test's own copy of the schema, so the checks' probes (e.g. the same request
    # without the key) reach the same app.
    case.operation.schema.app = case.operation.app = engine_app
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzzed_engine.api_key}"},
        excluded_checks=[positive_data_acceptance, unsupported_method],
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == ENVELOPE, body
        assert body["status_code"] == response.status_code
        assert body["message"] and "Traceback" not in body["message"]


def test_engine_is_healthy_after_the_fuzzing(fuzzed_engine: Any) -> None:
    """Runs after the fuzzing (same module engine): it still answers fast and still extracts."""
    with httpx.Client(
        base_url=fuzzed_engine.base_url,
        headers={"Authorization": f"Bearer {fuzzed_engine.api_key}"},
        timeout=10,
    ) as api:
        start = time.perf_counter()
        schemas = api.get("/schemas", params={"limit": 100})
        assert schemas.status_code == 200 and time.perf_counter() - start < 2
        products = next(s for s in schemas.json()["data"] if s["name"] == "Products")
        created = api.post(
            "/tables",
            json={
                "name": "after fuzz",
                "schema_id": products["id"],
                "source_text": "name,price\nA,1\nB,2\n",
            },
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 20
        table = created.json()
        while table["status"] not in ("completed", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
            table = api.get(f"/tables/{table['id']}").json()
        assert table["status"] == "completed" and table["total_rows"] == 2, table
