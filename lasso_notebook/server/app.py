"""``create_app``: the engine's FastAPI application — the ``/api/v1`` routers, key auth and
body-size middleware, and the handlers that answer every error with the envelope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from .._version import __version__
from .errors import AUTH_MESSAGE, error_response, install_error_handlers
from .routes import api_router, route_methods

if TYPE_CHECKING:
    from .engine import Engine
    from .store import Store

__all__ = ["create_app"]

MAX_JSON_BODY = 64 * 1024 * 1024


class _AuthMiddleware:
    """Authenticates every ``/api/v1`` request before routing, so a caller without a valid key
    learns nothing (not even which routes exist), and refuses oversized JSON bodies early."""

    def __init__(self, app: Callable[..., Awaitable[None]], store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v1"):
            headers = dict(scope["headers"])
            auth = headers.get(b"authorization", b"").decode("latin-1").strip()
            scheme, _, token = auth.partition(" ")
            token = token.strip()
            owner = None
            if scheme.lower() == "bearer" and token.startswith("lasso_") and len(token) <= 200:
                owner = self.store.owner_for_key(token)
            if owner is None:
                response = error_response(401, AUTH_MESSAGE, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
            length = headers.get(b"content-length", b"")
            is_upload = scope["path"].rstrip("/") == "/api/v1/files"  # limited by its own size
            if not is_upload and length.isdigit() and int(length) > MAX_JSON_BODY:
                response = error_response(
                    413, f"Request body too large (limit {MAX_JSON_BODY} bytes)"
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["owner"] = owner
        await self.app(scope, receive, send)


def create_app(engine: Engine) -> FastAPI:
    """The app over ``engine``'s store and workers. Building it (and its OpenAPI document)
    touches neither the store nor the disk."""
    app = FastAPI(
        title="lasso_notebook embedded engine",
        version=__version__,
        description="A local, Lasso-compatible extraction API (paths under /api/v1).",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    # What the routes reach through their Depends helpers (routes/_common.py).
    app.state.engine = engine
    app.state.store = engine.store
    install_error_handlers(app)
    app.add_middleware(_AuthMiddleware, store=engine.store)

    @app.get("/", include_in_schema=False)
    def root() -> dict[str, Any]:
        return {
            "service": "lasso_notebook embedded engine",
            "version": __version__,
            "api": "/api/v1",
        }

    app.include_router(api_router())
    app.state.route_methods = route_methods()  # for the Allow header of wrong-method answers
    return app
