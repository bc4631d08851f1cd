"""Pydantic wire models for the Lasso extraction flow: tables, schemas, columns, files, rows,
pages, the error envelope and the validated create-table request.

Every model keeps unknown fields (the API grows, docs/architecture.md §6) and supports dict-style
reads (``table["status"]``) so the official SDK's examples run unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "CreateTableRequest",
    "ErrorEnvelope",
    "File",
    "Page",
    "Pagination",
    "Phase",
    "Row",
    "Schema",
    "SchemaSummary",
    "Table",
    "TableSummary",
    "is_http_url",
    "phase_of",
]

#: The twelve documented column types. Other strings are kept as they are (newer API revisions
#: add types such as ``runnable`` or ``file``), never rejected.
COLUMN_TYPES = (
    "text",
    "number",
    "url",
    "email",
    "date",
    "boolean",
    "richtext",
    "enum",
    "tags",
    "image",
    "images",
    "json",
)


class Phase(str, enum.Enum):
    """A table's status reduced to what a client acts on, whatever vocabulary the server uses."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (Phase.COMPLETED, Phase.FAILED, Phase.CANCELLED)


# Both vocabularies: the published docs (queued/processing/completed/failed) and the newer
# OpenAPI revision (…_for_processing, …_by_worker, error, cancelled).
_PHASES = {
    "queued": Phase.PENDING,
    "queued_for_processing": Phase.PENDING,
    "pending": Phase.PENDING,
    "processing": Phase.RUNNING,
    "processing_by_worker": Phase.RUNNING,
    "completed": Phase.COMPLETED,
    "failed": Phase.FAILED,
    "error": Phase.FAILED,
    "cancelled": Phase.CANCELLED,
    "canceled": Phase.CANCELLED,
}


def phase_of(status: str | None) -> Phase:
    """Normalize a raw status. An unknown status counts as still running, never as done."""
    return _PHASES.get((status or "").strip().lower(), Phase.RUNNING)


class LassoModel(BaseModel):
    """Base for every wire object: keeps unknown fields and reads like a dict."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_take_defaults(cls, data: Any) -> Any:
        # Nullable fields come back as explicit null (docs/architecture.md §6), also ones the
        # examples only ever show filled in (``label``, ``required``, ``is_edited``...): a null
        # where the model has a non-null default means that default, not an unreadable response.
        if not isinstance(data, dict):
            return data
        dropped = [
            name
            for name, field in cls.model_fields.items()
            if name in data
            and data[name] is None
            and not field.is_required()
            and (field.default is not None or field.default_factory is not None)
        ]
        return {k: v for k, v in data.items() if k not in dropped} if dropped else data

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        extra = self.__pydantic_extra__ or {}
        if key in extra:
            return extra[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (
            key in type(self).model_fields or key in (self.__pydantic_extra__ or {})
        )

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        return list(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The object as plain JSON-able data, unknown fields included."""
        return self.model_dump(mode="json")


class Column(LassoModel):
    key: str
    label: str = ""
    type: str = "text"
    required: bool = False
    description: str | None = None
    enum_values: list[str] | None = None

    @model_validator(mode="after")
    def _default_label(self) -> Column:
        if not self.label:
            self.label = self.key
        return self


class Schema(LassoModel):
    id: str
    name: str
    description: str | None = None
    is_default: bool = False
    columns: list[Column] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SchemaSummary(LassoModel):
    """An item of ``GET /schemas``: the columns are replaced by their count."""

    id: str
    name: str
    description: str | None = None
    is_default: bool = False
    columns_count: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class File(LassoModel):
    id: str
    filename: str
    size: int = 0
    content_type: str | None = None
    created_at: datetime | None = None


class _StatusMixin:
    status: str

    @property
    def phase(self) -> Phase:
        return phase_of(self.status)

    @property
    def is_terminal(self) -> bool:
        return self.phase.is_terminal


class TableSummary(_StatusMixin, LassoModel):
    """An item of ``GET /tables``."""

    id: str
    name: str = ""
    status: str = "queued"
    total_rows: int = 0
    schema_id: str | None = None
    created_at: datetime | None = None


class Table(_StatusMixin, LassoModel):
    id: str
    name: str = ""
    schema_id: str | None = None
    status: str = "queued"
    progress: int = 0
    total_rows: int = 0
    source_type: str | None = None
    additional_context: str | None = None
    enhancement_context: str | None = None
    error_message: str | None = None
    files: list[dict[str, Any]] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("files", mode="before")
    @classmethod
    def _file_names_as_objects(cls, value: Any) -> Any:
        # Some revisions list a table's sources as bare names or URLs instead of objects.
        if isinstance(value, list):
            return [{"name": v, "path": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("progress", mode="before")
    @classmethod
    def _clamp_progress(cls, value: Any) -> int:
        try:
            return max(0, min(100, round(float(value))))
        except (TypeError, ValueError):
            return 0

    @field_validator("total_rows", mode="before")
    @classmethod
    def _rows_not_null(cls, value: Any) -> int:
        return 0 if value is None else value


class Row(LassoModel):
    id: str
    row_index: int
    data: dict[str, Any] = Field(default_factory=dict)
    validation_status: str | None = None
    validation_errors: Any = None
    enhancement_status: Any = None
    is_edited: bool = False
    created_at: datetime | None = None


class Pagination(LassoModel):
    page: int = 1
    limit: int = 25
    total: int = 0

    @property
    def is_last(self) -> bool:
        """The documented stop rule: ``page * limit >= total``."""
        return self.page * self.limit >= self.total


T = TypeVar("T")


class Page(LassoModel, Generic[T]):
    """One page of a paginated list. The client's list methods return a subclass whose
    iteration walks the following pages too."""

    data: list[T] = Field(default_factory=list)
    pagination: Pagination = Field(default_factory=Pagination)

    def __len__(self) -> int:
        return len(self.data)

    def page_items(self) -> Iterator[T]:
        return iter(self.data)


class ErrorEnvelope(LassoModel):
    status_code: int
    error_type: str
    message: str
    request_id: str = ""


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host (what the API accepts as a source)."""
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "http://[::1"
        return False


class CreateTableRequest(LassoModel):
    """The body of ``POST /tables``, validated before any network call.

    Exactly one source: ``file_ids``, ``file_urls`` or ``source_text``.
    """

    model_config = ConfigDict(extra="forbid")

    schema_id: str
    name: str
    file_ids: list[str] | None = None
    file_urls: list[str] | None = None
    source_text: str | None = None
    additional_context: str | None = None
    enhancement_context: str | None = None
    webhook_url: str | None = None

    @field_validator("schema_id", "name")
    @classmethod
    def _not_blank(cls, value: str, info: Any) -> str:
        if not value or not value.strip():
            raise ValueError(f"{info.field_name} must not be blank")
        return value

    @field_validator("file_urls")
    @classmethod
    def _urls_are_http(cls, urls: list[str] | None) -> list[str] | None:
        if urls is not None:
            bad = [url for url in urls if not is_http_url(url)]
            if bad:
                raise ValueError(
                    f"file_urls must be http(s) URLs; fix or remove {', '.join(map(repr, bad))}"
                )
        return urls

    @field_validator("webhook_url")
    @classmethod
    def _webhook_is_http(cls, url: str | None) -> str | None:
        if url is not None and not is_http_url(url):
            raise ValueError(f"webhook_url must be an http(s) URL, got {url!r}")
        return url

    @model_validator(mode="after")
    def _exactly_one_source(self) -> CreateTableRequest:
        given = [
            field
            for field, value in (
                ("file_ids", self.file_ids),
                ("file_urls", self.file_urls),
                ("source_text", self.source_text),
            )
            if value is not None
        ]
        if len(given) != 1:
            found = "none" if not given else " and ".join(given)
            raise ValueError(
                "give exactly one source: file_ids, file_urls or source_text "
                f"(got {found}); keep one and drop the others"
            )
        if self.source_text is not None and not self.source_text.strip():
            raise ValueError("source_text must not be blank; paste the text to extract from")
        if self.file_ids is not None and not self.file_ids:
            raise ValueError("file_ids must list at least one uploaded file id")
        if self.file_urls is not None and not self.file_urls:
            raise ValueError("file_urls must list at least one URL")
        return self

    def to_body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)
