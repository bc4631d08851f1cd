"""The four-field error envelope: ``ApiError`` for handlers to raise, and the exception handlers
that turn every failure (unknown route, wrong method, bad input, crash) into that envelope."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("lasso_notebook.server")

AUTH_MESSAGE = "Missing or invalid Authorization header. Use: Bearer lasso_..."

# HTTP status -> documented error_type (docs/architecture.md §6). 413 is not in the documented
# table; it is a "malformed request" in spirit, hence invalid_request. There is no 405: the
# contract maps "HTTP method not supported" to 400 invalid_request, so the engine answers that.
_TYPES = {
    400: "invalid_request",
    401: "unauthenticated",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "invalid_request",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ErrorBody(BaseModel):
    """The documented error envelope (for the OpenAPI document)."""

    status_code: int
    error_type: str
    message: str
    request_id: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring the envelope for these status codes."""
    return {code: {"model": ErrorBody, "description": _TYPES.get(code, "error")} for code in codes}


class ApiError(Exception):
    """Raised by handlers; rendered as the envelope with a fresh request id."""

    def __init__(self, status_code: int, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.error_type = error_type or _TYPES.get(status_code, "invalid_request")


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def error_response(
    status_code: int,
    message: str,
    error_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = str(uuid.uuid4())
    body = {
        "status_code": status_code,
        "error_type": error_type or _TYPES.get(status_code, "invalid_request"),
        "message": message,
        "request_id": request_id,
    }
    return JSONResponse(
        body, status_code=status_code, headers={**(headers or {}), "X-Request-Id": request_id}
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = (
        [str(p) for p in loc[1:]]
        if loc and loc[0] in ("body", "query", "path", "header")
        else [str(p) for p in loc]
    )
    return ".".join(parts)


def validation_message(errors: list[dict[str, Any]]) -> str:
    """A short human sentence for pydantic errors, e.g. ``Missing required field: name``."""
    messages: list[str] = []
    for err in errors[:5]:
        loc = tuple(err.get("loc") or ())
        field = _field_name(loc)
        kind = err.get("type", "")
        msg = str(err.get("msg", "invalid value"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if kind == "missing":
            where = "query parameter" if loc[:1] == ("query",) else "field"
            messages.append(f"Missing required {where}: {field}")
        elif kind in ("json_invalid", "json_type"):
            messages.append(f"Request body is not valid JSON ({msg})")
        elif not field:
            messages.append(msg[:1].upper() + msg[1:])
        else:
            where = "query parameter" if loc[:1] == ("query",) else "field"
            messages.append(f"Invalid {where} '{field}': {msg}")
    if len(errors) > 5:
        messages.append(f"and {len(errors) - 5} more problems")
    return "; ".join(messages) or "Invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.message, exc.error_type)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404:
            return error_response(404, f"No such endpoint: {request.method} {request.url.path}")
        if exc.status_code != 405:
            return error_response(exc.status_code, str(exc.detail), headers=headers)
        # A wrong method is 400 invalid_request (docs/architecture.md §6), not 405; the Allow
        # header and the message still say which methods the path takes.
        allowed = _allowed_methods(request) or headers.get("Allow", "")
        if allowed:
            headers["Allow"] = allowed
        message = f"Method {request.method} is not supported on {request.url.path}"
        if allowed:
            message += f"; allowed: {allowed}"
        return error_response(400, message, "invalid_request", headers=headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # Never leak internals (paths, SQL) to the caller; the log has the traceback.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "Internal server error; see the engine log for details")


def _allowed_methods(request: Request) -> str:
    """Every method of the API routes matching the request's path, e.g. ``GET, POST``; Starlette
    names only the first matching route's methods."""
    matches = [
        (path, route_methods)
        for path, path_regex, route_methods in getattr(request.app.state, "route_methods", ())
        if path_regex.match(request.url.path)
    ]
    # The most literal path wins: /schemas/generate over /schemas/{schema_id}.
    fewest = min((path.count("{") for path, _ in matches), default=0)
    methods = {
        method
        for path, route_methods in matches
        if path.count("{") == fewest
        for method in route_methods
    }
    return ", ".join(sorted(methods))
