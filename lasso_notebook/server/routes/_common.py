"""What every resource router shares: the ``Depends`` helpers that reach the engine, its store
and the caller's owner id through ``request.app.state``, paging, and table lookups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..engine import Engine
from ..errors import ApiError, not_found
from ..store import ACTIVE_STATUSES, Store

_bearer = HTTPBearer(auto_error=False, description="Bearer lasso_... (the engine prints its key)")


# The helpers are async (and trivial) so FastAPI calls them on the event loop instead of
# sending each one to the thread pool.
async def current_owner(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> str:
    """The owner the auth middleware found for the request's key (``Security`` documents the
    bearer scheme in OpenAPI; the middleware has already refused requests without a key)."""
    return request.state.owner


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


Owner = Annotated[str, Depends(current_owner)]
StoreDep = Annotated[Store, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]

PageQuery = Query(1, ge=1, description="1-based page number")
LimitQuery = Query(25, ge=1, le=100, description="Items per page (1-100)")


def page_of(items: list[dict[str, Any]], page: int, limit: int, total: int) -> dict[str, Any]:
    return {"data": items, "pagination": {"page": page, "limit": limit, "total": total}}


def table_or_404(store: Store, owner: str, table_id: str) -> dict[str, Any]:
    table = store.get_table(owner, table_id)
    if table is None:
        raise not_found("Table")
    return table


def schema_or_422(store: Store, owner: str, schema_id: str) -> dict[str, Any]:
    schema = store.get_schema(owner, schema_id)
    if schema is None:
        raise ApiError(422, f"Unknown schema_id {schema_id!r}: use an id from GET /schemas")
    return schema


def refuse_while_active(status: str, progress: int, action: str) -> None:
    """Row writes and export answer 409 ``conflict`` until the table is completed or failed
    (a free choice, docs/architecture.md §6): the rows are still being written."""
    if status in ACTIVE_STATUSES:
        raise ApiError(409, f"Table is still {status} ({progress}%); {action} once it is completed")


def writable_columns(store: Store, owner: str, table_id: str) -> list[dict[str, Any]]:
    """The table's columns, when its rows may be changed (not while extracting)."""
    state = store.table_status(owner, table_id)
    if state is None:
        raise not_found("Table")
    refuse_while_active(*state, "change its rows")
    return store.table_columns(owner, table_id) or []
