"""Request bodies of the engine's API (pydantic models, hence their OpenAPI schemas) and
``patch_fields``, which turns a partial update body into the fields to store."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from ..models import COLUMN_TYPES, Column, CreateTableRequest

__all__ = [
    "BulkDelete",
    "BulkUpdate",
    "ColumnIn",
    "RowUpdate",
    "RowsCreate",
    "SchemaCreate",
    "SchemaGenerate",
    "SchemaUpdate",
    "TableCreate",
    "TableUpdate",
    "patch_fields",
]

KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}$"
# Headers a webhook delivery sets itself, or that frame the HTTP message: a custom auth header
# by one of these names would forge the engine's own headers or break the request.
RESERVED_WEBHOOK_HEADERS = (
    "Host",
    "Content-Length",
    "Content-Type",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Upgrade",
    "Expect",
)
RESERVED_WEBHOOK_PREFIX = "X-Lasso-"  # X-Lasso-Event, X-Lasso-Signature, X-Lasso-Delivery-Id
NOT_BLANK = r"\S"  # unanchored, as in JSON Schema: "contains a non-space character"
_ColumnType = Literal[COLUMN_TYPES]  # type: ignore[valid-type]


class ColumnIn(BaseModel):
    # Unknown attributes are ignored, not refused: clients round-trip columns they read back.
    model_config = ConfigDict(extra="ignore")

    key: str = Field(pattern=KEY_PATTERN, description="Machine key used inside row data")
    label: str | None = Field(default=None, max_length=200)
    type: _ColumnType = "text"
    required: StrictBool = False
    description: str | None = Field(default=None, max_length=2000)
    enum_values: list[str] | None = None
    format: str | None = Field(
        default=None,
        max_length=40,
        description="number columns: 'integer' says the values are whole numbers "
        "(lasso_notebook types such a column Int64, other number columns Float64); other "
        "formats are ignored",
    )

    @field_validator("format", mode="before")
    @classmethod
    def _format_spelling(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _enum_needs_values(self) -> ColumnIn:
        if self.type == "enum" and not self.enum_values:
            raise ValueError(f"column {self.key!r} is an enum: give its enum_values")
        return self

    def stored(self) -> dict[str, Any]:
        col = Column(**self.model_dump(exclude_none=True))  # shared model fills the label
        out: dict[str, Any] = {
            "key": col.key,
            "label": col.label,
            "type": col.type,
            "required": col.required,
        }
        if col.description:
            out["description"] = col.description
        if col.enum_values is not None:
            out["enum_values"] = col.enum_values
        if self.format == "integer" and col.type == "number":
            out["format"] = self.format
        return out


def _check_columns(columns: list[ColumnIn] | None) -> list[ColumnIn] | None:
    if columns is not None:
        keys = [c.key for c in columns]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"column keys must be unique; repeated: {', '.join(dupes)}")
    return columns


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


class SchemaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, pattern=NOT_BLANK)
    description: str | None = Field(default=None, max_length=5000)
    is_default: StrictBool = False
    columns: list[ColumnIn] = Field(min_length=1, max_length=500)

    _name = field_validator("name")(_not_blank)
    _cols = field_validator("columns")(_check_columns)


class SchemaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, pattern=NOT_BLANK)
    description: str | None = Field(default=None, max_length=5000)
    is_default: StrictBool | None = None
    columns: list[ColumnIn] | None = Field(default=None, min_length=1, max_length=500)

    _name = field_validator("name")(_not_blank)
    _cols = field_validator("columns")(_check_columns)


class SchemaGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_data: str = Field(min_length=1, description="Only the first 5,000 characters are used")
    name: str | None = Field(default=None, max_length=200)


class TableCreate(CreateTableRequest):
    """``POST /tables``; the shared request model's rules plus optional webhook auth headers."""

    schema_id: str = Field(pattern=NOT_BLANK)
    name: str = Field(max_length=500, pattern=NOT_BLANK)
    webhook_auth_header_name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9-]{1,100}$",
        description="Header sent with every delivery; not a reserved one ("
        + ", ".join(RESERVED_WEBHOOK_HEADERS)
        + f", {RESERVED_WEBHOOK_PREFIX}*)",
    )
    webhook_auth_header_value: str | None = Field(default=None, max_length=4000)

    @field_validator("webhook_auth_header_name")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value is None:
            return value
        reserved = {name.lower() for name in RESERVED_WEBHOOK_HEADERS}
        if value.lower() in reserved or value.lower().startswith(RESERVED_WEBHOOK_PREFIX.lower()):
            raise ValueError(
                f"{value!r} is reserved; the delivery's own and HTTP framing headers are "
                f"reserved: {', '.join(RESERVED_WEBHOOK_HEADERS)} and {RESERVED_WEBHOOK_PREFIX}*"
            )
        return value


class TableUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=500, pattern=NOT_BLANK)
    enhancement_context: str | None = None
    schema_id: str | None = None

    _name = field_validator("name")(_not_blank)


class RowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]


class RowsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class BulkUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    row_ids: list[str] = Field(min_length=1, max_length=10_000)
    column_key: str
    value: Any


class BulkDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    row_ids: list[str] = Field(min_length=1, max_length=10_000)


def patch_fields(body: BaseModel, *, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a partial update sends: an explicit null clears a ``nullable`` field and is
    ignored for the others; ``name`` is stored stripped."""
    fields: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in nullable:
            continue
        fields[name] = value.strip() if name == "name" and value is not None else value
    return fields
