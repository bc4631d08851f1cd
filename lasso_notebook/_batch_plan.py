"""How a batch splits its sources into tables: ``plan_batch`` checks every file or URL before any
request and cuts them into ``Chunk``s of at most 10 (or one per file), by the sources' names
alone, so the same files give the same tables and a new file changes only the one it falls in."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._plan import MAX_SOURCES, FileSpec, SubmitPlan, check_files, make_plan
from .errors import InvalidRequestError
from .models import Schema

__all__ = ["BOUNDARY_ONE_IN", "Chunk", "plan_batch", "split"]

#: A table ends after a source whose name hashes to 0 modulo this (or at ``MAX_SOURCES``):
#: tables of about 6 sources on average, cut at the same places whatever comes before.
BOUNDARY_ONE_IN = 8
#: The API's limit on table names.
_NAME_LIMIT = 255


@dataclass(frozen=True)
class Chunk:
    """One table of a batch: its number (1-based), the names of its sources (file names or
    URLs, as rows name them in ``_source``) and the plan that creates it."""

    number: int
    sources: list[str]
    plan: SubmitPlan


def _ends_chunk(name: str) -> bool:
    return hashlib.sha256(name.encode("utf-8")).digest()[0] % BOUNDARY_ONE_IN == 0


def split(names: Sequence[str], *, per_file: bool = False) -> list[list[int]]:
    """Positions of ``names`` grouped into tables, in order: one each with ``per_file``; all
    in one when they fit (``MAX_SOURCES``: the table ``submit()`` would make, so either
    reuses the other's); else a group ends after a name that hashes to a boundary, or at
    ``MAX_SOURCES`` names.

    Content-defined cuts (as rsync and backup tools cut files into blocks) keep every other
    group the same when a name is added or removed: fixed groups of 10 would shift every group
    after it, and a re-run would extract them all again."""
    if per_file:
        return [[i] for i in range(len(names))]
    if len(names) <= MAX_SOURCES:
        return [list(range(len(names)))] if names else []
    groups: list[list[int]] = []
    current: list[int] = []
    for i, name in enumerate(names):
        current.append(i)
        if len(current) == MAX_SOURCES or _ends_chunk(name):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _file_items(files: FileSpec | Sequence[FileSpec]) -> list[FileSpec]:
    if isinstance(files, (str, os.PathLike, bytes)) or (
        isinstance(files, tuple) and len(files) == 2 and isinstance(files[1], bytes)
    ):
        return [files]  # type: ignore[list-item]
    return list(files)  # type: ignore[arg-type]


def _same_file_once(items: list[FileSpec]) -> list[FileSpec]:
    """A path given twice (or by two spellings) is uploaded once."""
    seen: set[object] = set()
    kept: list[FileSpec] = []
    for item in items:
        key: object = item
        if isinstance(item, (str, os.PathLike)):
            key = Path(item).expanduser().resolve()
        elif isinstance(item, tuple):
            key = item
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def chunk_name(name: str, number: int, count: int, sources: list[str], per_file: bool) -> str:
    """``Q1 catalogs (2/4)``, or with one file per table ``Q1 catalogs (2/40: b.pdf)``; a
    batch of one table is named as the batch."""
    if count == 1 and not per_file:
        return name[:_NAME_LIMIT]
    suffix = f" ({number}/{count}: {sources[0]})" if per_file else f" ({number}/{count})"
    head = name[: max(1, _NAME_LIMIT - len(suffix))]
    return (head + suffix)[:_NAME_LIMIT]


def plan_batch(
    schema: str | Schema,
    name: str,
    *,
    files: FileSpec | Sequence[FileSpec] | None,
    urls: str | Sequence[str] | None,
    per_file: bool,
    context: str | None,
    enhance: str | None,
    webhook: str | None,
) -> list[Chunk]:
    """Check every source and option (no request) and cut the sources into tables;
    ``InvalidRequestError`` says what to fix."""
    if (files is None) == (urls is None):
        got = "both" if files is not None else "neither"
        raise InvalidRequestError(
            f"submit_batch() takes files= or urls= (got {got}); give one of them"
        )
    if files is not None:
        items: list[FileSpec] | list[str] = _same_file_once(_file_items(files))
        names = [entry_name for entry_name, _content in check_files(items)]
    else:
        given = [urls] if isinstance(urls, str) else list(urls or [])
        items = list(dict.fromkeys(given))
        names = [str(url) for url in items]
    if not items:
        raise InvalidRequestError(f"{'files' if files is not None else 'urls'}= is empty")
    groups = split(names, per_file=per_file)
    chunks = []
    for number, group in enumerate(groups, 1):
        sources = [names[i] for i in group]
        picked = [items[i] for i in group]
        plan = make_plan(
            schema,
            chunk_name(name, number, len(groups), sources, per_file),
            text=None,
            files=picked if files is not None else None,  # type: ignore[arg-type]
            urls=picked if urls is not None else None,  # type: ignore[arg-type]
            context=context,
            enhance=enhance,
            webhook=webhook,
        )
        chunks.append(Chunk(number, sources, plan))
    return chunks
