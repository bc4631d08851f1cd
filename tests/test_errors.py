"""The error tree: envelope → exception class, non-JSON bodies, and messages that help."""

from __future__ import annotations

import httpx
import pytest

from lasso_notebook import errors
from lasso_notebook.models import Table


def _response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://x/api/v1/t"), **kwargs)


@pytest.mark.parametrize(
    ("status", "cls", "error_type"),
    [
        (400, errors.BadRequestError, "invalid_request"),
        (401, errors.AuthenticationError, "unauthenticated"),
        (402, errors.InsufficientCreditsError, "insufficient_credits"),
        (403, errors.PermissionDeniedError, "forbidden"),
        (404, errors.NotFoundError, "not_found"),
        (409, errors.ConflictError, "conflict"),
        (422, errors.UnprocessableEntityError, "validation_error"),
        (429, errors.RateLimitError, "rate_limited"),
        (500, errors.InternalServerError, "internal_error"),
        (503, errors.InternalServerError, "service_unavailable"),
    ],
)
def test_envelope_maps_to_one_class_per_status(status: int, cls: type, error_type: str) -> None:
    envelope = {
        "status_code": status,
        "error_type": error_type,
        "message": "Table not found",
        "request_id": "req-123",
        "retryable": True,
    }
    exc = errors.from_response(_response(status, json=envelope))
    assert type(exc) is cls
    assert isinstance(exc, errors.APIStatusError) and isinstance(exc, errors.LassoError)
    assert (exc.status_code, exc.error_type, exc.message, exc.request_id) == (
        status,
        error_type,
        "Table not found",
        "req-123",
    )
    assert exc.body["retryable"] is True  # unknown envelope fields are kept


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (502, b"<html><body>Bad gateway</body></html>", errors.InternalServerError, "Bad Gateway"),
        (404, b"no such thing", errors.NotFoundError, "no such thing"),
        (429, b"", errors.RateLimitError, "Too Many Requests"),
        (418, b"{}", errors.APIStatusError, "I'm a Teapot"),
    ],
)
def test_non_json_bodies_still_map_to_the_right_class(
    status: int, body: bytes, cls: type, message: str
) -> None:
    exc = errors.from_response(_response(status, content=body))
    assert type(exc) is cls
    assert exc.status_code == status
    assert message.lower() in exc.message.lower()
    assert "<html" not in str(exc)


def test_401_tells_the_user_what_to_check() -> None:
    exc = errors.from_response(
        _response(
            401,
            json={
                "status_code": 401,
                "error_type": "unauthenticated",
                "message": "Missing or invalid Authorization header. Use: Bearer lasso_...",
            },
        )
    )
    assert "LASSO_API_KEY" in str(exc)


def test_table_failed_and_wait_timeout_carry_the_table() -> None:
    table = Table(id="tbl_9", name="Q1", status="failed", error_message="PDF is encrypted")
    failed = errors.TableFailedError(table)
    assert failed.table is table and failed.error_message == "PDF is encrypted"
    assert "tbl_9" in str(failed) and "PDF is encrypted" in str(failed)
    timeout = errors.WaitTimeoutError("still processing", table)
    assert isinstance(timeout, TimeoutError) and timeout.table is table


def test_embedded_default_without_the_server_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import sys

    import lasso_notebook.server as server
    from lasso_notebook import Lasso

    monkeypatch.setattr(server, "_embedded", None)
    for name in ("LASSO_API_KEY", "LASSO_BASE_URL", "LASSO_ENGINE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "data"))
    # As if installed without the extra: the engine module and uvicorn cannot be imported.
    monkeypatch.delitem(sys.modules, "lasso_notebook.server.engine", raising=False)
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(errors.EngineStartError) as info:
        Lasso()
    text = str(info.value)
    assert "lasso-notebook[server]" in text and "LASSO_API_KEY" in text and "\n" not in text
