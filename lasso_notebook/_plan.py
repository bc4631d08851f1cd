"""What ``submit()`` checks before any request and what a job will create: ``SubmitPlan``
(the schema, one source, the options) built by ``make_plan``, and its steps on the runtime
thread: ``upload_files`` and ``create_from`` (``create_table`` runs schema resolution and both;
jobs go through ``_reuse.create_or_reuse``, which may skip them)."""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ._resources import validation_message
from ._schemas import aresolve_schema
from .errors import InvalidRequestError
from .models import CreateTableRequest, Schema, Table

if TYPE_CHECKING:
    from .client import AsyncLasso

__all__ = [
    "MAX_SOURCES",
    "FileSpec",
    "SubmitPlan",
    "check_files",
    "create_from",
    "create_table",
    "make_plan",
    "upload_files",
]

log = logging.getLogger("lasso_notebook")

FileSpec = str | os.PathLike[str] | bytes | tuple[str, bytes]

#: Files or URLs one table takes (the API's limit); more make a batch (``submit_batch``).
MAX_SOURCES = 10


def check_files(files: FileSpec | Sequence[FileSpec]) -> list[tuple[str, str | bytes | Path]]:
    """Local checks of ``files=``: paths must exist; bytes need a name to upload under.

    The upload checks paths too, but only when it runs, after the schema lookup and earlier
    uploads: a job refuses a missing file before any request."""
    if isinstance(files, (str, os.PathLike, bytes)) or (
        isinstance(files, tuple) and len(files) == 2 and isinstance(files[1], bytes)
    ):
        files = [files]  # type: ignore[list-item]
    checked: list[tuple[str, str | bytes | Path]] = []
    for item in files:  # type: ignore[union-attr]
        if isinstance(item, (str, os.PathLike)):
            path = Path(item).expanduser()
            if not path.is_file():
                raise InvalidRequestError(_not_a_file(path))
            checked.append((path.name, path))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            name = str(item[0]).strip()
            if not name:
                raise InvalidRequestError("a (name, bytes) file needs a file name")
            checked.append((name, item[1]))
        elif isinstance(item, bytes):
            checked.append(("upload.bin", item))
        else:
            raise InvalidRequestError(
                f"cannot upload a {type(item).__name__}; pass paths or (name, bytes) tuples"
            )
    if not checked:
        raise InvalidRequestError("files= is empty; give at least one file")
    return checked


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be uploaded, and what to pass instead (folders and patterns are
    not expanded by the API, only by the magic's ``--file``)."""
    if path.is_dir():
        return (
            f"files: {str(path)!r} is a folder; pass its files, e.g. "
            f"files=sorted(Path({str(path)!r}).glob('*.pdf'))"
        )
    if glob.has_magic(str(path)):
        return (
            f"no such file: {str(path)!r}; patterns are not expanded here, pass "
            f"files=sorted(glob.glob({str(path)!r}))"
        )
    return f"no such file: {str(path)!r} (in {os.getcwd()}); check the path"


#: Wire field → ``submit()`` parameter, so a refusal names what the caller actually passed.
_FIELD_NAMES = (
    ("source_text", "text"),
    ("file_urls", "urls"),
    ("file_ids", "files"),
    ("webhook_url", "webhook"),
    ("schema_id", "schema"),
)


@dataclass(frozen=True)
class SubmitPlan:
    """What ``submit()`` checked and the job will create: the schema, one source, options."""

    schema: str | Schema
    name: str
    text: str | None = None
    files: list[tuple[str, str | bytes | Path]] | None = None
    urls: list[str] | None = None
    context: str | None = None
    enhance: str | None = None
    webhook: str | None = None


def make_plan(
    schema: str | Schema,
    name: str | None,
    *,
    text: str | None,
    files: FileSpec | Sequence[FileSpec] | None,
    urls: str | Sequence[str] | None,
    context: str | None,
    enhance: str | None,
    webhook: str | None,
) -> SubmitPlan:
    """Check a ``submit()`` call without any request; ``InvalidRequestError`` says what to fix."""
    given = [k for k, v in (("text", text), ("files", files), ("urls", urls)) if v is not None]
    if len(given) != 1:
        got = "none" if not given else " and ".join(given)
        raise InvalidRequestError(
            f"give exactly one source: text=, files= or urls= (got {got}); keep one"
        )
    if isinstance(urls, str):
        urls = [urls]
    checked_files = check_files(files) if files is not None else None
    for kind, given_sources in (("files", checked_files), ("URLs", urls)):
        if given_sources is not None and len(given_sources) > MAX_SOURCES:
            raise InvalidRequestError(
                f"a table takes at most {MAX_SOURCES} {kind} (got {len(given_sources)}); "
                "lasso_notebook.submit_batch() splits them into several tables and returns "
                "one DataFrame"
            )
    if name is None:
        name = f"notebook extraction {datetime.now():%Y-%m-%d %H:%M:%S}"
    schema_ref = schema.id if isinstance(schema, Schema) else schema
    try:
        CreateTableRequest(
            schema_id=schema_ref if isinstance(schema_ref, str) else "",
            name=name,
            source_text=text,
            file_ids=[f"pending-{i}" for i in range(len(checked_files))]
            if checked_files is not None
            else None,
            file_urls=list(urls) if urls is not None else None,
            additional_context=context,
            enhancement_context=enhance,
            webhook_url=webhook,
        )
    except ValidationError as exc:
        message = validation_message(exc)
        for wire, param in _FIELD_NAMES:
            message = message.replace(wire, param)
        raise InvalidRequestError(message) from None
    return SubmitPlan(
        schema=schema,
        name=name,
        text=text,
        files=checked_files,
        urls=list(urls) if urls is not None else None,
        context=context,
        enhance=enhance,
        webhook=webhook,
    )


async def create_table(
    client: AsyncLasso, plan: SubmitPlan, on_upload: Callable[[str, int, int], None]
) -> Table:
    """Resolve the schema, upload the files (``on_upload(name, number, total)`` before each)
    and create the table."""
    schema = await aresolve_schema(client, plan.schema)
    file_ids = await upload_files(client, plan, on_upload)
    return await create_from(client, plan, schema, file_ids)


async def upload_files(
    client: AsyncLasso, plan: SubmitPlan, on_upload: Callable[[str, int, int], None]
) -> list[str] | None:
    """Upload the plan's files, if any (``on_upload(name, number, total)`` before each);
    their file ids."""
    if plan.files is None:
        return None
    file_ids = []
    total = len(plan.files)
    for number, (filename, content) in enumerate(plan.files, 1):
        on_upload(filename, number, total)
        log.debug("uploading %s (%d/%d)", filename, number, total)
        uploaded = await client.files.upload(content, filename=filename)
        file_ids.append(uploaded.id)
    return file_ids


async def create_from(
    client: AsyncLasso, plan: SubmitPlan, schema: Schema, file_ids: list[str] | None
) -> Table:
    """``POST /tables`` for the plan (its files uploaded already)."""
    return await client.tables.create(
        schema_id=schema.id,
        name=plan.name,
        file_ids=file_ids,
        file_urls=plan.urls,
        source_text=plan.text,
        additional_context=plan.context,
        enhancement_context=plan.enhance,
        webhook_url=plan.webhook,
    )
