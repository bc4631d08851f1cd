"""The submit form's preview of a finished table: the first rows of the DataFrame as short plain
text cells, with each column's label and type from the schema."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PREVIEW_CELL_CHARS", "PREVIEW_ROWS", "cell_text", "preview_of"]

PREVIEW_ROWS = 10
#: Longest text shown in one preview cell; the full value is in ``form.df``.
PREVIEW_CELL_CHARS = 200


def preview_of(df: pd.DataFrame, columns: list[dict[str, Any]]) -> dict[str, Any]:
    """``{columns: [{key, label, type}], rows: [{index, cells}], total_rows}`` for the first
    ``PREVIEW_ROWS`` rows; ``columns`` are the schema's (key, label, type) where known."""
    types = {c["key"]: c["type"] for c in columns}
    labels = {c["key"]: c["label"] for c in columns}
    head = df.head(PREVIEW_ROWS)
    return {
        "columns": [
            {"key": str(col), "label": str(labels.get(col, col)), "type": types.get(col, "")}
            for col in head.columns
        ],
        "rows": [
            {"index": cell_text(index), "cells": [cell_text(v) for v in row]}
            for index, row in zip(head.index, head.itertuples(index=False, name=None), strict=True)
        ],
        "total_rows": len(df),
    }


def cell_text(value: Any) -> str:
    """A DataFrame cell as short plain text for the preview."""
    try:
        import pandas as pd

        if value is None or (not isinstance(value, (list, dict, tuple)) and pd.isna(value)):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, (list, tuple)):
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
