"""What makes two extractions the same: ``fingerprint`` hashes everything that determines a
table's rows (the server, a one-way hash of the key, the schema id and its columns, the source
content, the two contexts) into one digest. It keeps no key and no source text: only hashes.
The table name and the webhook are not part of it (they do not change the rows)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._plan import SubmitPlan
    from .models import Schema

__all__ = ["Fingerprint", "backend_identity", "fingerprint", "key_fingerprint"]

#: Changing what is hashed (or how) must change this, so old entries can never match.
VERSION = "lasso_notebook reuse v1"
_KEY_DOMAIN = b"lasso_notebook key fingerprint v1\x00"
_READ_BYTES = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    """An extraction's identity: ``digest`` (hex sha256) and the kind and number of sources,
    which the index keeps to find a table whose create response was lost."""

    digest: str
    source_kind: str  # "text" | "files" | "urls"
    source_count: int


def key_fingerprint(key: str | None) -> str:
    """A one-way, domain-separated hash of an API key (a prefix of it: enough to tell keys
    apart, useless to recover one). Keys are long random strings, so it cannot be guessed back."""
    if not key:
        return "no key"
    return hashlib.sha256(_KEY_DOMAIN + key.encode("utf-8")).hexdigest()[:32]


def backend_identity(base_url: str, engine_data_dir: Path | None) -> str:
    """The server a table lives on. The embedded engine listens on a new port in every kernel,
    but its tables live in its data dir: that folder, not the URL, identifies it, so a kernel
    restart still reuses."""
    if engine_data_dir is not None:
        return f"embedded engine in {engine_data_dir}"
    return base_url.rstrip("/")


def fingerprint(
    plan: SubmitPlan, schema: Schema, *, backend: str, key_fingerprint: str
) -> Fingerprint:
    """Hash what determines the rows. Files are read (in 1 MiB pieces) to hash their bytes, so
    this can take a while for big files: call it off the event loop."""
    source: dict[str, Any]
    if plan.text is not None:
        kind, count = "text", 1
        source = {"text": _sha256(plan.text.encode("utf-8"))}
    elif plan.files is not None:
        kind, count = "files", len(plan.files)
        source = {"files": [[name, _content_digest(content)] for name, content in plan.files]}
    else:
        urls = list(plan.urls or [])
        kind, count = "urls", len(urls)
        source = {"urls": urls}
    payload = {
        "version": VERSION,
        "server": backend,
        "key": key_fingerprint,
        "schema_id": schema.id,
        # Every attribute of every column, unknown ones included: a changed schema is a new
        # extraction, whatever changed.
        "columns": _sha256(_canonical([column.to_dict() for column in schema.columns])),
        "source": source,
        # Blank and absent contexts mean the same to the server.
        "additional_context": plan.context or None,
        "enhancement_context": plan.enhance or None,
    }
    return Fingerprint(_sha256(_canonical(payload)), kind, count)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content_digest(content: str | bytes | Path) -> str:
    if isinstance(content, bytes):
        return _sha256(content)
    digest = hashlib.sha256()
    with Path(content).open("rb") as handle:
        while chunk := handle.read(_READ_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
