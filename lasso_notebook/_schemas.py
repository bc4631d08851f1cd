"""Schema resolution for jobs, magics and forms: an id or an exact name (case-insensitive) → the
full ``Schema``, with close candidates named when it is unknown or ambiguous.
"""

from __future__ import annotations

import difflib

from . import _runtime
from .client import AsyncLasso, Lasso, default_client
from .errors import BadRequestError, InvalidRequestError, NotFoundError, UnprocessableEntityError
from .models import Schema

__all__ = ["aresolve_schema", "as_async_client", "resolve_before_submit", "resolve_schema"]


def as_async_client(client: Lasso | AsyncLasso | None) -> AsyncLasso:
    """The async client behind ``client`` (``None``: the default client)."""
    if client is None:
        client = default_client()
    return client.async_client if isinstance(client, Lasso) else client


async def aresolve_schema(client: AsyncLasso, schema: str | Schema) -> Schema:
    """The full schema for an id or an exact name (case-insensitive). Unknown or ambiguous
    names raise ``InvalidRequestError`` listing the close candidates."""
    if isinstance(schema, Schema):
        return schema
    wanted = (schema or "").strip() if isinstance(schema, str) else ""
    if not wanted:
        raise InvalidRequestError("schema must not be blank; pass a schema id or exact name")
    try:
        return await client.schemas.get(wanted)  # the client quotes it as one path segment
    except (NotFoundError, BadRequestError, UnprocessableEntityError):
        pass  # not an id: try it as a name
    summaries = [s async for s in await client.schemas.list(limit=100)]
    folded = wanted.casefold()
    exact = [s for s in summaries if s.name.strip().casefold() == folded]
    if len(exact) == 1:
        return await client.schemas.get(exact[0].id)
    if exact:
        ids = ", ".join(s.id for s in exact)
        raise InvalidRequestError(
            f"schema name {wanted!r} is ambiguous: {len(exact)} schemas have it ({ids}); "
            "pass one of these ids instead"
        )
    by_folded = {s.name.casefold(): s for s in summaries}
    close = difflib.get_close_matches(folded, list(by_folded), n=5, cutoff=0.5)
    close += [n for n in by_folded if folded in n and n not in close][: 5 - len(close)]
    message = f"unknown schema {wanted!r} (neither an id nor a schema name)"
    if close:
        hints = ", ".join(f"{by_folded[n].name!r} ({by_folded[n].id})" for n in close)
        message += f"; did you mean {hints}?"
    elif summaries:
        names = ", ".join(repr(s.name) for s in summaries[:10])
        message += f"; available: {names}" + (" …" if len(summaries) > 10 else "")
    else:
        message += "; this account has no schemas yet"
    raise InvalidRequestError(message)


def resolve_schema(client: Lasso | AsyncLasso | None, schema_id_or_name: str | Schema) -> Schema:
    """Blocking ``aresolve_schema`` for cells, magics and forms (``client=None``: default)."""
    return _runtime.run_sync(aresolve_schema(as_async_client(client), schema_id_or_name))


def resolve_before_submit(client: Lasso | AsyncLasso | None, schema: str | Schema) -> str | Schema:
    """``submit()``'s schema, resolved now on the caller's thread, so an unknown name raises
    ``InvalidRequestError`` (with the close candidates) before a job exists. On the runtime
    thread (a done-callback) a blocking look-up would deadlock: the job resolves it there."""
    if isinstance(schema, Schema) or _runtime.in_runtime_thread():
        return schema
    return resolve_schema(client, schema)
