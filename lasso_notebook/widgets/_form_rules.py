"""The submit form's rules, free of widgets and I/O: what a valid request is (``validate``, the
same checks as form.js's ``validate``), how an error is worded (``describe``) and which field
an API refusal belongs next to (``field_for``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import APIConnectionError, APIStatusError, LassoError, TableMayExistError
from ..models import is_http_url

if TYPE_CHECKING:
    from ._uploads import IncomingFile

__all__ = ["SOURCES", "SOURCE_LABELS", "FormRequest", "describe", "field_for", "validate"]

SOURCES = ("text", "files", "urls")
SOURCE_LABELS = {"text": "Text", "files": "Files", "urls": "URLs"}


def url_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@dataclass
class FormRequest:
    """One validated submission, as the kernel understood it."""

    schema_id: str
    name: str
    source: str
    text: str | None = None
    urls: list[str] | None = None
    files: list[IncomingFile] = field(default_factory=list)
    context: str | None = None
    enhance: str | None = None
    webhook: str | None = None


def validate(
    values: dict[str, Any], incoming: Mapping[str, IncomingFile]
) -> tuple[FormRequest | None, dict[str, str]]:
    """Check what the browser sent (it checked already; the kernel never trusts it) against the
    files that reached the kernel. Returns the request, or None and ``{field: message}``."""

    def text(key: str) -> str:
        value = values.get(key, "")
        return value if isinstance(value, str) else ""

    errors: dict[str, str] = {}
    schema_id = text("schema_id").strip()
    name = text("name").strip()
    source = text("source")
    if not schema_id:
        errors["schema"] = "Choose a schema."
    if not name:
        errors["name"] = "Give the table a name."
    elif len(name) > 255:
        errors["name"] = f"The name is {len(name)} characters long; keep it under 256."
    if source not in SOURCES:
        errors["source"] = "Choose a source: Text, Files or URLs."
    source_text, urls = text("text"), url_lines(text("urls"))
    fids = values.get("files") if isinstance(values.get("files"), list) else []
    files = [incoming.get(str(fid)) for fid in fids]
    filled = [
        key
        for key, present in (("text", source_text.strip()), ("files", fids), ("urls", urls))
        if present
    ]
    if source == "text" and not source_text.strip():
        errors["text"] = "Paste the text to extract from."
    elif source == "files":
        if not fids:
            errors["files"] = "Add at least one file."
        elif any(f is None for f in files):
            errors["files"] = "A file is no longer available; add it again."
        elif any(f.status == "error" for f in files if f is not None):
            errors["files"] = "Remove the files marked with an error first."
        elif any(f.status == "sending" for f in files if f is not None):
            done = sum(1 for f in files if f is not None and f.status != "sending")
            errors["files"] = (
                f"Wait until every file has reached the kernel ({done} of {len(files)})."
            )
        elif any(not f.on_disk for f in files if f is not None):
            # Its bytes were deleted once the last table was created from them.
            errors["files"] = (
                "A file was uploaded for the last table and is no longer kept here; "
                "remove it and add it again."
            )
    elif source == "urls":
        bad = [url for url in urls if not is_http_url(url)]
        if not urls:
            errors["urls"] = "Enter at least one URL, one per line."
        elif bad:
            more = ", …" if len(bad) > 3 else ""
            errors["urls"] = f"Not an http(s) URL: {', '.join(bad[:3])}{more}"
    others = [key for key in filled if key != source]
    if others and source in SOURCES:
        names = " and ".join(SOURCE_LABELS[key] for key in others)
        errors["source"] = (
            f"Use exactly one source: the {names} tab also has content. Clear it, or switch to it."
        )
    webhook = text("webhook").strip()
    if webhook and not is_http_url(webhook):
        errors["webhook"] = "The webhook must be an http(s) URL."
    if errors:
        return None, errors
    request = FormRequest(
        schema_id=schema_id,
        name=name,
        source=source,
        text=source_text if source == "text" else None,
        urls=urls if source == "urls" else None,
        files=[f for f in files if f is not None] if source == "files" else [],
        context=text("context").strip() or None,
        enhance=text("enhance").strip() or None,
        webhook=webhook or None,
    )
    return request, {}


def describe(exc: BaseException) -> str:
    """A short user-facing sentence for an error (never a traceback, never the key)."""
    if isinstance(exc, TableMayExistError) and exc.recorded:
        # The form keeps what was entered: submitting it again finds that table.
        return (
            f"Lasso stopped answering while creating {exc.table_name!r}; the table may exist. "
            "Submit again once Lasso answers: the form attaches to that table instead of "
            "making another."
        )
    if isinstance(exc, APIStatusError):
        return f"{exc.message} ({exc.status_code} {exc.error_type})"
    if isinstance(exc, APIConnectionError):
        return f"Could not reach Lasso: {exc.message}"
    if isinstance(exc, LassoError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_FIELD_WORDS = (
    ("webhook", "webhook"),
    ("file_urls", "urls"),
    ("url", "urls"),
    ("source_text", "text"),
    ("file", "files"),
    ("enhancement", "enhance"),
    ("additional_context", "context"),
    ("schema", "schema"),
    ("name", "name"),
)


def field_for(exc: BaseException) -> str:
    """Which field an API refusal concerns, from its message; the top of the form otherwise."""
    if not isinstance(exc, (APIStatusError, LassoError)) or isinstance(exc, APIConnectionError):
        return "form"
    if isinstance(exc, APIStatusError) and exc.status_code not in (400, 404, 409, 422):
        return "form"
    message = str(getattr(exc, "message", exc)).lower()
    for word, field_name in _FIELD_WORDS:
        if re.search(rf"\b{word}", message):
            return field_name
    return "form"
