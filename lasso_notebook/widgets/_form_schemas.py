"""The submit form's schema picker: loading the schema list (and a schema asked for by id or
name), the selection, and the selected schema's columns. A mixin of ``SubmitForm``, which
declares the traits it fills (``schemas``, ``schemas_status``, ``schemas_message``,
``schema_id``, ``schema_preview``); the network work runs on the runtime thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import weakref
from typing import TYPE_CHECKING, Any

from .. import _runtime
from ..errors import LassoError, NotFoundError
from ._form_rules import describe

if TYPE_CHECKING:
    from ..client import AsyncLasso

__all__ = ["MAX_SCHEMAS", "SchemaPicker", "refresh_open_pickers"]

log = logging.getLogger("lasso_notebook")

#: The most schemas listed in the picker (pages of 100).
MAX_SCHEMAS = 1000

# Pickers that have loaded their list once (so they have a client): reloaded when a schema is
# created from the notebook, so it can be picked without a click on the refresh button.
_open_pickers: weakref.WeakSet[SchemaPicker] = weakref.WeakSet()


def refresh_open_pickers() -> None:
    """A schema was created: every form that shows a schema list reloads it."""
    for picker in list(_open_pickers):
        if getattr(picker, "comm", None) is None:  # closed
            _open_pickers.discard(picker)
            continue
        try:
            picker._load_schemas()
        except Exception:
            log.exception("SubmitForm: could not reload the schemas")


class SchemaPicker:
    """Schema loading for a widget with the picker's traits, ``client``, ``_lock``,
    ``_wanted_schema``, ``_schemas_future`` and ``_set_errors``."""

    schemas: Any
    schemas_status: Any
    schemas_message: Any
    schema_id: Any
    schema_preview: Any
    client: Any
    _lock: Any
    _wanted_schema: str | None
    _schemas_future: Any

    def _async_api(self) -> AsyncLasso:
        # Called on the caller's thread: ``default_client()`` may start the embedded engine,
        # which blocks and prints a notice; both belong in the cell, not the runtime thread.
        return self.client.async_client

    def _load_schemas(self) -> concurrent.futures.Future[None]:
        try:
            api = self._async_api()  # outside the lock: it may take a while the first time
        except Exception as exc:  # no client (the engine did not start…): the picker says why
            if not isinstance(exc, LassoError):
                log.error("SubmitForm: no client for the schemas", exc_info=exc)
            with self.hold_sync():
                self.schemas_status = "error"
                self.schemas_message = f"Could not load the schemas: {describe(exc)}"
            failed: concurrent.futures.Future[None] = concurrent.futures.Future()
            failed.set_result(None)
            return failed
        with self._lock:
            previous = self._schemas_future
            self.set_trait("schemas_status", "loading")
            self.set_trait("schemas_message", "")
            if previous is not None and not previous.done():
                # The load in flight may have listed the schemas before the change that asks
                # for this one (a schema created just now): list them again once it is done.
                self._schemas_future = _runtime.spawn(self._fetch_after(previous, api))
            else:
                self._schemas_future = _runtime.spawn(self._fetch_schemas(api))
            _open_pickers.add(self)
            return self._schemas_future

    async def _fetch_after(
        self, previous: concurrent.futures.Future[None], api: AsyncLasso
    ) -> None:
        with contextlib.suppress(Exception):  # its failure was shown by its own load
            await asyncio.wrap_future(previous)
        await self._fetch_schemas(api)

    async def _fetch_schemas(self, api: AsyncLasso) -> None:
        items: list[dict[str, Any]] = []
        try:
            async for summary in await api.schemas.list(limit=100):
                items.append(
                    {
                        "id": summary.id,
                        "name": summary.name,
                        "description": summary.description or "",
                        "columns_count": summary.columns_count,
                        "is_default": bool(summary.is_default),
                    }
                )
                if len(items) >= MAX_SCHEMAS:
                    break
        except Exception as exc:  # whatever it is, the picker must not spin forever
            if not isinstance(exc, LassoError):
                log.error("SubmitForm: loading the schemas failed", exc_info=exc)
            with self.hold_sync():
                self.schemas_status = "error"
                self.schemas_message = f"Could not load the schemas: {describe(exc)}"
            return
        wanted, self._wanted_schema = self._wanted_schema, None
        chosen = self.schema_id
        if wanted:
            match = next((s for s in items if s["id"] == wanted), None) or next(
                (s for s in items if s["name"] == wanted), None
            )
            if match is None:
                # Not listed (yet): it may still be a valid id; ask for it directly.
                try:
                    schema = await api.schemas.get(wanted)
                except NotFoundError:
                    self._set_errors(
                        {"schema": f"No schema with the id or name {wanted!r}; choose one."}
                    )
                except LassoError as exc:
                    self._set_errors({"schema": describe(exc)})
                else:
                    match = {
                        "id": schema.id,
                        "name": schema.name,
                        "description": schema.description or "",
                        "columns_count": len(schema.columns),
                        "is_default": bool(schema.is_default),
                    }
                    items.append(match)
            if match is not None:
                chosen = match["id"]
        elif not chosen:
            default = next((s for s in items if s["is_default"]), None)
            chosen = default["id"] if default else (items[0]["id"] if len(items) == 1 else "")
        with self.hold_sync():
            self.schemas = items
            self.schemas_status = "ready"
            self.schemas_message = ""
            if chosen != self.schema_id:
                self.schema_id = chosen
        if chosen and self.schema_preview.get("schema_id") != chosen:
            await self._fetch_columns(api, chosen)

    def _schema_name(self, schema_id: str) -> str:
        for schema in self.schemas:
            if schema.get("id") == schema_id:
                return str(schema.get("name") or schema_id)
        return ""

    def _select_schema(self, schema_id: str) -> None:
        if schema_id != self.schema_id:
            self.schema_id = schema_id
        if self.errors.get("schema"):
            self._set_errors({k: v for k, v in self.errors.items() if k != "schema"}, merge=False)
        if schema_id:
            try:
                api = self._async_api()
            except Exception as exc:
                self.schema_preview = {
                    "schema_id": schema_id,
                    "status": "error",
                    "message": describe(exc),
                }
                return
            _runtime.spawn(self._fetch_columns(api, schema_id))

    async def _fetch_columns(self, api: AsyncLasso, schema_id: str) -> None:
        self.schema_preview = {"schema_id": schema_id, "status": "loading", "columns": []}
        try:
            schema = await api.schemas.get(schema_id)
        except Exception as exc:
            preview = {"schema_id": schema_id, "status": "error", "message": describe(exc)}
        else:
            preview = {
                "schema_id": schema_id,
                "status": "ready",
                "description": schema.description or "",
                "columns": [
                    {
                        "key": c.key,
                        "label": c.label or c.key,
                        "type": c.type,
                        "description": c.description or "",
                    }
                    for c in schema.columns
                ],
            }
        if self.schema_id == schema_id:  # the user may have picked another one meanwhile
            self.schema_preview = preview
