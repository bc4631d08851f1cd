"""The ``/api/v1`` routes, one ``APIRouter`` per resource, gathered by ``api_router()``."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from ..errors import error_responses
from . import export, files, rows, schemas, tables

__all__ = ["PREFIX", "api_router", "route_methods"]

PREFIX = "/api/v1"
_ROUTERS = (schemas.router, files.router, tables.router, export.router, rows.router)


def api_router() -> APIRouter:
    # Every route may answer with the envelope on these codes; declared so the OpenAPI document
    # (fuzzed with schemathesis) matches what the server really sends.
    api = APIRouter(prefix=PREFIX, responses=error_responses(400, 401, 404, 409, 413, 422))
    for router in _ROUTERS:
        api.include_router(router)
    return api


def route_methods() -> list[tuple[str, re.Pattern[str], set[str]]]:
    """(path, path regex, methods) of every API route, for the Allow header of wrong-method answers.
    Read from the resource routers: FastAPI includes routers lazily, so the router
    ``api_router()`` returns does not list the routes themselves."""
    out = []
    for router in _ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                path = PREFIX + route.path
                out.append((path, compile_path(path)[0], route.methods))
    return out
