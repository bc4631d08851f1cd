"""``%lasso schema NAME`` (one schema's columns as a DataFrame) and ``%lasso schema create NAME
COLUMN…`` (a schema from ``key:type`` specs, see ``_schema_builder``), with a line saying what
was created, or that the same schema existed already."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _runtime
from ._human import tidy
from ._magic_errors import MagicError
from ._schema_builder import ensure_schema
from ._schemas import as_async_client, resolve_schema

if TYPE_CHECKING:
    import pandas as pd

    from .client import Lasso
    from .models import Schema

__all__ = ["columns_frame", "join_specs", "schema_command"]

USAGE = (
    "%lasso schema NAME shows a schema's columns; %lasso schema create NAME COLUMN … makes one, "
    'e.g. %lasso schema create "Price list" sku:text! name price:number "release date:date" '
    "category:enum(Tools|Garden)"
)


def join_specs(tokens: list[str]) -> list[str]:
    """The magic line splits on spaces, also inside ``enum(Power Tools|Garden)``: put the
    pieces of a spec with an open parenthesis back together."""
    specs: list[str] = []
    for token in tokens:
        if specs and specs[-1].count("(") > specs[-1].count(")"):
            specs[-1] += " " + token
        else:
            specs.append(token)
    return specs


def columns_frame(schema: Schema) -> pd.DataFrame:
    """A schema's columns, one row each, in order."""
    import pandas as pd

    rows = [
        {
            "key": c.key,
            "label": c.label,
            "type": "integer" if str(c.get("format") or "").lower() == "integer" else c.type,
            "required": c.required,
            "enum_values": ", ".join(c.enum_values or []),
            "description": c.description or "",
        }
        for c in schema.columns
    ]
    df = tidy(
        pd.DataFrame(
            rows, columns=["key", "label", "type", "required", "enum_values", "description"]
        )
    )
    df.attrs["lasso"] = {"schema_id": schema.id, "name": schema.name}
    return df


def schema_command(client: Lasso, args: list[str], *, description: str | None) -> Any:
    """``%lasso schema …``: the columns of one schema, or ``create``."""
    if not args:
        raise MagicError(f"%lasso schema: {USAGE}")
    if args[0] == "create":
        return _create(client, args[1:], description)
    if len(args) > 1:
        raise MagicError(
            f"%lasso schema: one schema at a time; quote a name with spaces: "
            f'%lasso schema "{" ".join(args)}"'
        )
    return columns_frame(resolve_schema(client, args[0]))


def _create(client: Lasso, args: list[str], description: str | None) -> None:
    if len(args) < 2:
        raise MagicError(f"%lasso schema create: give a name and at least one column. {USAGE}")
    name, specs = args[0], join_specs(args[1:])
    schema, created = _runtime.run_sync(
        ensure_schema(as_async_client(client), name, specs, description=description)
    )
    columns = " ".join(_spec_of(c) for c in schema.columns)
    if created:
        print(f"created schema {schema.name!r} ({schema.id}): {columns}")
    else:
        print(f"schema {schema.name!r} ({schema.id}) exists with these columns; nothing changed")


def _spec_of(column: Any) -> str:
    """A column in the spec syntax it can be created with: ``sku:text!``."""
    kind = "integer" if str(column.get("format") or "").lower() == "integer" else column.type
    if kind == "enum":
        kind = f"enum({'|'.join(column.enum_values or [])})"
    name = column.key if column.label in ("", column.key) else f'"{column.label}"'
    return f"{name}:{kind}" + ("!" if column.required else "")
