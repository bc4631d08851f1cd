"""The submit form's preview of a finished table: the first rows of the DataFrame as short plain
text cells, with each column's label and type from the schema. Numbers are formatted alike per
column (as many decimals as the column's values need, two for money), booleans as ✓ / ✗."""

from __future__ import annotations

import decimal
import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PREVIEW_CELL_CHARS", "PREVIEW_ROWS", "cell_text", "number_format", "preview_of"]

PREVIEW_ROWS = 10
#: Longest text shown in one preview cell; the full value is in ``form.df``.
PREVIEW_CELL_CHARS = 200
#: Most decimals a preview shows (the DataFrame keeps every digit).
MAX_DECIMALS = 6
#: Column keys or labels that hold amounts of money: shown with two decimals.
MONEY = re.compile(
    r"price|cost|amount|total|msrp|rrp|fee|charge|subtotal|tax|vat|discount|preis|prix|precio"
    r"|betrag|kosten",
    re.IGNORECASE,
)


def preview_of(df: pd.DataFrame, columns: list[dict[str, Any]]) -> dict[str, Any]:
    """``{columns: [{key, label, type}], rows: [{index, cells}], total_rows}`` for the first
    ``PREVIEW_ROWS`` rows; ``columns`` are the schema's (key, label, type) where known."""
    types = {c["key"]: c["type"] for c in columns}
    labels = {c["key"]: c["label"] for c in columns}
    head = df.head(PREVIEW_ROWS)
    formats = [
        _column_format(head[col], str(col), str(labels.get(col, col))) for col in head.columns
    ]
    return {
        "columns": [
            {"key": str(col), "label": str(labels.get(col, col)), "type": types.get(col, "")}
            for col in head.columns
        ],
        "rows": [
            {
                "index": cell_text(index),
                "cells": [fmt(v) for fmt, v in zip(formats, row, strict=True)],
            }
            for index, row in zip(head.index, head.itertuples(index=False, name=None), strict=True)
        ],
        "total_rows": len(df),
    }


def _column_format(values: pd.Series, key: str, label: str) -> Callable[[Any], str]:
    """How to show the cells of one column: numbers alike, booleans as marks, else as text."""
    import pandas as pd

    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _mark
    if pd.api.types.is_numeric_dtype(dtype):
        money = bool(MONEY.search(key) or MONEY.search(label))
        return number_format([v for v in values.tolist() if not _missing(v)], money=money)
    return cell_text


def number_format(numbers: list[Any], *, money: bool = False) -> Callable[[Any], str]:
    """A formatter showing every one of ``numbers`` with the same decimals: as many as the most
    precise needs (at most ``MAX_DECIMALS``), and at least two for money (``89.50``,
    ``129.00``); a column of whole numbers stays whole (``3``)."""
    places = max((_decimals(n) for n in numbers), default=0)
    if money:
        places = max(places, 2)

    def show(value: Any) -> str:
        if _missing(value):
            return ""
        number = float(value)
        if not math.isfinite(number):
            return str(number)
        return f"{number:.{places}f}"

    return show


def _decimals(number: Any) -> int:
    try:
        exponent = decimal.Decimal(repr(float(number))).normalize().as_tuple().exponent
    except (ValueError, decimal.InvalidOperation):
        return 0
    return min(MAX_DECIMALS, max(0, -exponent)) if isinstance(exponent, int) else 0


def _mark(value: Any) -> str:
    if _missing(value):
        return ""
    return "✓" if bool(value) else "✗"


def _missing(value: Any) -> bool:
    try:
        import pandas as pd

        return value is None or (
            not isinstance(value, (list, dict, tuple)) and bool(pd.isna(value))
        )
    except (TypeError, ValueError):
        return False


def cell_text(value: Any) -> str:
    """A DataFrame cell as short plain text for the preview."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        text = _mark(value)
    elif isinstance(value, (list, tuple)):
        text = ", ".join(cell_text(item) for item in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime):  # pandas Timestamps too: dates show without 00:00:00
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        text = value.date().isoformat() if midnight else value.isoformat(sep=" ")
    else:
        text = str(value)
    return text if len(text) <= PREVIEW_CELL_CHARS else text[: PREVIEW_CELL_CHARS - 1] + "…"
