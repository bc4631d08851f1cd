"""Schemas from the notebook: ``create_schema(name, columns)`` takes a dict, a list of column
specs (dicts or ``"key:type"`` strings), a pydantic model class or an example DataFrame, checks
every column before anything is sent (errors name the column), and is safe to re-run: the same
name with the same columns returns the schema that exists.

Column spec strings (also what ``%lasso schema create`` takes)::

    name                      a text column (the type defaults to text)
    price:number              key:type
    qty:integer               a number column of whole numbers (Int64 in DataFrames)
    sku:text!                 a trailing ! makes the column required
    "release date:date"       a label with spaces: key release_date, label "release date"
    category:enum(Power Tools|Garden)   an enum and its values, separated by |
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import difflib
import enum
import re
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._schemas import as_async_client
from .errors import InvalidRequestError
from .models import COLUMN_TYPES, Column, Schema

if TYPE_CHECKING:
    import pandas as pd

    from .client import AsyncLasso, Lasso

__all__ = [
    "KEY_PATTERN",
    "ColumnSpec",
    "acreate_schema",
    "create_schema",
    "ensure_schema",
    "normalize_columns",
    "parse_spec",
]

#: Column keys: a letter or digit, then letters, digits or ``_`` (at most 100): what both the
#: hosted API and the embedded engine accept, and a clean DataFrame column name.
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{0,99}$")
MAX_COLUMNS = 500
#: Other spellings of the twelve types (``integer`` also marks the column as whole numbers).
TYPE_ALIASES = {
    "string": "text",
    "str": "text",
    "float": "number",
    "decimal": "number",
    "int": "integer",
    "bool": "boolean",
    "datetime": "date",
    "list": "tags",
    "link": "url",
    "html": "richtext",
    "markdown": "richtext",
    "dict": "json",
    "object": "json",
}
_SPEC = re.compile(
    r"^(?P<name>[^:]+?)\s*(?::\s*(?P<type>[A-Za-z_]+)\s*(?:\((?P<values>.*)\))?)?\s*(?P<req>!)?$",
    re.DOTALL,
)
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: A column as this module passes it around: the documented column fields.
ColumnSpec = dict[str, Any]


# --------------------------------------------------------------------------- one column


def _where(column: Any) -> str:
    return f"column {column!r}"


def key_for(name: str) -> str:
    """A label as a key: ``"Release date"`` → ``release_date``; a valid key stays as it is."""
    name = name.strip()
    if KEY_PATTERN.match(name):
        return name
    return re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_")[:100]


def _type_of(given: Any, where: str) -> tuple[str, str | None]:
    """(column type, format) for a type name, or InvalidRequestError naming the column."""
    name = str(given or "text").strip().lower()
    name = TYPE_ALIASES.get(name, name)
    if name == "integer":
        return "number", "integer"
    if name in COLUMN_TYPES:
        return name, None
    close = difflib.get_close_matches(name, [*COLUMN_TYPES, "integer"], n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}" if close else ""
    raise InvalidRequestError(
        f"{where}: unknown type {given!r}{hint}? Types: {', '.join(COLUMN_TYPES)} (and integer)"
    )


def parse_spec(text: str) -> ColumnSpec:
    """One ``"key:type"`` spec (see the module docstring) as a column dict."""
    found = _SPEC.match(str(text).strip())
    if not found or not found["name"].strip():
        raise InvalidRequestError(
            f"column spec {text!r} is not NAME:TYPE (e.g. price:number, sku:text!, "
            "category:enum(A|B))"
        )
    spec: ColumnSpec = {"label": found["name"].strip(), "type": found["type"] or "text"}
    if found["req"]:
        spec["required"] = True
    if found["values"] is not None:
        spec["enum_values"] = [v.strip() for v in found["values"].split("|") if v.strip()]
    return spec


def _column(spec: Any, where: str) -> ColumnSpec:
    """One column spec (dict, ``Column`` or string) checked and normalized."""
    if isinstance(spec, Column):
        spec = spec.model_dump(exclude_none=True)
    if isinstance(spec, str):
        spec = parse_spec(spec)
    if not isinstance(spec, Mapping):
        raise InvalidRequestError(
            f"{where}: give a column as a dict, a Column or a 'key:type' string, "
            f"not a {type(spec).__name__}"
        )
    unknown = set(spec) - {
        "key",
        "label",
        "type",
        "required",
        "enum_values",
        "description",
        "format",
    }
    if unknown:
        raise InvalidRequestError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; a column has key, label, "
            "type, required, enum_values and description"
        )
    label = str(spec.get("label") or "").strip()
    key = str(spec.get("key") or "").strip() or key_for(label)
    name = key or label
    where = _where(name) if name else where
    if not key:
        raise InvalidRequestError(f"{where}: give it a key (letters, digits and _)")
    if not KEY_PATTERN.match(key):
        raise InvalidRequestError(
            f"{where}: the key {key!r} must start with a letter or digit and hold only letters, "
            f"digits and _ (at most 100), e.g. {key_for(key) or 'price'!r}"
        )
    kind, fmt = _type_of(spec.get("type"), where)
    if spec.get("format") is not None:
        if str(spec["format"]).lower() not in ("integer", "int") or kind != "number":
            raise InvalidRequestError(
                f"{where}: format {spec['format']!r} is not known; only number columns take "
                "format 'integer'"
            )
        fmt = "integer"
    required = spec.get("required", False)
    if not isinstance(required, bool):
        raise InvalidRequestError(f"{where}: required must be True or False, not {required!r}")
    column: ColumnSpec = {"key": key, "label": label or key, "type": kind, "required": required}
    if len(column["label"]) > 200:
        raise InvalidRequestError(f"{where}: the label is longer than 200 characters")
    values = spec.get("enum_values")
    if kind == "enum":
        if not values or isinstance(values, str) or not all(str(v).strip() for v in values):
            raise InvalidRequestError(
                f"{where}: an enum column needs its values, e.g. enum_values=['S', 'M', 'L'] "
                "or 'size:enum(S|M|L)'"
            )
        column["enum_values"] = list(dict.fromkeys(str(v).strip() for v in values))
    elif values:
        raise InvalidRequestError(f"{where}: enum_values only apply to enum columns")
    description = spec.get("description")
    if description:
        if len(str(description)) > 2000:
            raise InvalidRequestError(f"{where}: the description is longer than 2000 characters")
        column["description"] = str(description)
    if fmt:
        column["format"] = fmt
    return column


# --------------------------------------------------------------------------- python types


def _is_subclass(value: Any, names: tuple[str, ...]) -> bool:
    return isinstance(value, type) and any(c.__name__ in names for c in value.__mro__)


def column_for_type(annotation: Any, where: str) -> ColumnSpec:
    """A Python / pydantic annotation as a column type (``required`` left to the caller)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        metadata = " ".join(type(m).__name__ for m in args[1:])
        if "UrlConstraints" in metadata:
            return {"type": "url"}
        return column_for_type(args[0], where)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return column_for_type(inner[0], where)
    if origin is typing.Literal:
        return {
            "type": "enum",
            "enum_values": [str(a.value if isinstance(a, enum.Enum) else a) for a in args],
        }
    if origin in (list, set, tuple, frozenset, Sequence):
        return {"type": "tags"}
    if origin in (dict, Mapping):
        return {"type": "json"}
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return {"type": "enum", "enum_values": [str(m.value) for m in annotation]}
        if issubclass(annotation, bool):
            return {"type": "boolean"}
        if issubclass(annotation, int):
            return {"type": "number", "format": "integer"}
        if issubclass(annotation, (float, decimal.Decimal)):
            return {"type": "number"}
        if issubclass(annotation, (dt.date, dt.datetime)):
            return {"type": "date"}
        if _is_subclass(annotation, ("AnyUrl", "Url", "_BaseUrl")):
            return {"type": "url"}
        if _is_subclass(annotation, ("EmailStr", "NameEmail")):
            return {"type": "email"}
        if issubclass(annotation, str):
            return {"type": "text"}
        if issubclass(annotation, (list, set, tuple, frozenset)):
            return {"type": "tags"}
        if issubclass(annotation, dict) or _is_subclass(annotation, ("BaseModel",)):
            return {"type": "json"}
    raise InvalidRequestError(
        f"{where}: cannot tell the column type of {getattr(annotation, '__name__', annotation)!r}; "
        "give this column as {'key': ..., 'type': ...}"
    )


def _from_model(model: type) -> list[ColumnSpec]:
    fields = getattr(model, "model_fields", None) or {}
    columns = []
    for name, info in fields.items():
        column = column_for_type(info.annotation, f"field {name!r}")
        column["key"] = name
        if info.title:
            column["label"] = info.title
        if info.description:
            column["description"] = info.description
        column["required"] = bool(info.is_required())
        columns.append(column)
    return columns


def _from_dataclass(cls: type) -> list[ColumnSpec]:
    hints = typing.get_type_hints(cls)
    columns = []
    for field in dataclasses.fields(cls):
        column = column_for_type(hints.get(field.name, field.type), f"field {field.name!r}")
        column["key"] = field.name
        no_default = field.default is dataclasses.MISSING
        column["required"] = no_default and field.default_factory is dataclasses.MISSING
        columns.append(column)
    return columns


# --------------------------------------------------------------------------- DataFrames


def _from_frame(df: pd.DataFrame) -> list[ColumnSpec]:
    import pandas as pd

    columns = []
    for name in df.columns:
        values = df[name]
        dtype = values.dtype
        where = _where(name)
        column: ColumnSpec
        if pd.api.types.is_bool_dtype(dtype):
            column = {"type": "boolean"}
        elif pd.api.types.is_integer_dtype(dtype):
            column = {"type": "number", "format": "integer"}
        elif pd.api.types.is_numeric_dtype(dtype):
            column = {"type": "number"}
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            column = {"type": "date"}
        elif isinstance(dtype, pd.CategoricalDtype):
            column = {"type": "enum", "enum_values": [str(c) for c in dtype.categories]}
        else:
            column = _from_objects(values.dropna().tolist(), where)
        column["label"] = str(name)
        columns.append(column)
    return columns


def _from_objects(values: list[Any], where: str) -> ColumnSpec:
    """An object/string column by what its values are."""
    if values and all(isinstance(v, (list, tuple, set)) for v in values):
        return {"type": "tags"}
    if values and all(isinstance(v, dict) for v in values):
        return {"type": "json"}
    if values and all(isinstance(v, (dt.date, dt.datetime)) for v in values):
        return {"type": "date"}
    texts = [v for v in values if isinstance(v, str) and v.strip()]
    if texts and len(texts) == len(values):
        if all(_URL.match(v.strip()) for v in texts):
            return {"type": "url"}
        if all(_EMAIL.match(v.strip()) for v in texts):
            return {"type": "email"}
    return {"type": "text"}


# --------------------------------------------------------------------------- all columns


def normalize_columns(columns: Any) -> list[ColumnSpec]:
    """Any accepted form of ``columns`` as checked column dicts, in order; the first mistake
    raises ``InvalidRequestError`` naming its column."""
    if "pandas" in sys.modules and isinstance(columns, sys.modules["pandas"].DataFrame):
        raw: list[Any] = _from_frame(columns)
    elif isinstance(columns, type) and hasattr(columns, "model_fields"):
        raw = _from_model(columns)
    elif isinstance(columns, type) and dataclasses.is_dataclass(columns):
        raw = _from_dataclass(columns)
    elif isinstance(columns, Mapping):
        raw = []
        for key, value in columns.items():
            where = _where(key)
            if isinstance(value, str):
                spec = parse_spec(f"{key}:{value.strip()}") if value.strip() else {"label": key}
                spec["label"] = str(key)
            elif isinstance(value, Mapping):
                spec = {"label": str(key), **value}
            elif isinstance(value, type) or typing.get_origin(value) is not None:
                spec = {"label": str(key), **column_for_type(value, where)}
            else:
                raise InvalidRequestError(
                    f"{where}: give its type as a string ('number'), a Python type or a dict, "
                    f"not {value!r}"
                )
            raw.append(spec)
    elif isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
        raise InvalidRequestError(
            "columns: give a dict ({'name': 'text', 'price': 'number'}), a list of column specs, "
            "a pydantic model class or an example DataFrame"
        )
    else:
        raw = list(columns)
    checked = [_column(spec, f"column #{n}") for n, spec in enumerate(raw, 1)]
    if not checked:
        raise InvalidRequestError("columns: a schema needs at least one column")
    if len(checked) > MAX_COLUMNS:
        raise InvalidRequestError(f"columns: at most {MAX_COLUMNS} columns, got {len(checked)}")
    keys = [c["key"] for c in checked]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidRequestError(
            f"column keys must be unique; {', '.join(map(repr, repeated))} appear(s) more than "
            "once (two labels can make the same key: give one an explicit key)"
        )
    return checked


def _comparable(column: Column | ColumnSpec) -> tuple[Any, ...]:
    c = column.model_dump() if isinstance(column, Column) else dict(column)
    fmt = str(c.get("format") or "").lower()
    return (
        c["key"],
        c.get("label") or c["key"],
        c.get("type") or "text",
        bool(c.get("required")),
        tuple(c.get("enum_values") or ()),
        c.get("description") or "",
        "integer" if fmt in ("integer", "int") else "",
    )


def _differences(existing: list[Column], wanted: list[ColumnSpec]) -> str:
    have = {c.key: _comparable(c) for c in existing}
    want = {c["key"]: _comparable(c) for c in wanted}
    parts = []
    added = [k for k in want if k not in have]
    removed = [k for k in have if k not in want]
    changed = [k for k in want if k in have and want[k] != have[k]]
    if added:
        parts.append("new: " + ", ".join(added))
    if removed:
        parts.append("not in yours: " + ", ".join(removed))
    if changed:
        parts.append("different: " + ", ".join(changed))
    if not parts and list(have) != list(want):
        parts.append("same columns in another order")
    return "; ".join(parts)


async def acreate_schema(
    client: AsyncLasso,
    name: str,
    columns: Any,
    *,
    description: str | None = None,
    exist_ok: bool = True,
) -> Schema:
    """``create_schema`` for async code (see there)."""
    schema, _created = await ensure_schema(
        client, name, columns, description=description, exist_ok=exist_ok
    )
    return schema


async def ensure_schema(
    client: AsyncLasso,
    name: str,
    columns: Any,
    *,
    description: str | None = None,
    exist_ok: bool = True,
) -> tuple[Schema, bool]:
    """The schema, and whether it was created now (False: the same one existed)."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise InvalidRequestError("name: give the schema a name, e.g. 'Products'")
    if len(name) > 200:
        raise InvalidRequestError("name: at most 200 characters")
    wanted = normalize_columns(columns)
    folded = name.casefold()
    namesakes = [
        s async for s in await client.schemas.list(limit=100) if s.name.strip().casefold() == folded
    ]
    for summary in namesakes:
        existing = await client.schemas.get(summary.id)
        same = [_comparable(c) for c in existing.columns] == [_comparable(c) for c in wanted]
        if same and (description is None or (existing.description or "") == description):
            if not exist_ok:
                raise InvalidRequestError(
                    f"a schema named {existing.name!r} exists already ({existing.id}); "
                    "exist_ok=True returns it"
                )
            return existing, False
    if namesakes:
        first = await client.schemas.get(namesakes[0].id)
        what = _differences(first.columns, wanted) or "another description"
        raise InvalidRequestError(
            f"a schema named {first.name!r} exists already ({first.id}) with other columns "
            f"({what}). Choose another name, or change that schema: "
            f"Lasso().schemas.update({first.id!r}, columns=[...]) (tables made from it keep "
            "their own columns)"
        )
    schema = await client.schemas.create(name=name, columns=wanted, description=description)
    _schema_created()
    return schema, True


def create_schema(
    name: str,
    columns: Any,
    *,
    description: str | None = None,
    client: Lasso | AsyncLasso | None = None,
    exist_ok: bool = True,
) -> Schema:
    """Create a schema from ``columns``: a dict (``{"name": "text", "price": "number!"}``),
    a list of column specs (dicts with key / label / type / required / enum_values /
    description, or ``"key:type"`` strings), a pydantic model class (or a dataclass) whose
    fields become columns, or an example DataFrame whose dtypes give the types.

    Every column is checked before anything is sent: ``InvalidRequestError`` names the bad
    column. Re-running is safe: with ``exist_ok`` (the default) a schema of the same name and
    the same columns is returned instead of creating a second one; the same name with other
    columns is an error that says what differs and how to change that schema.
    """
    from . import _runtime

    aclient = as_async_client(client)
    return _runtime.run_sync(
        acreate_schema(aclient, name, columns, description=description, exist_ok=exist_ok)
    )


def _schema_created() -> None:
    """Open submit forms reload their schema list, so the new schema can be picked at once
    (only if the widgets were loaded: this must not import them)."""
    pickers = sys.modules.get("lasso_notebook.widgets._form_schemas")
    if pickers is not None:
        pickers.refresh_open_pickers()
