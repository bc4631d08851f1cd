"""Values as people read them in listings: durations (``1.2 s``, ``3 min``), timestamps in one
format and local time, sizes (``228 MiB``), and ``tidy`` which turns a listing's DataFrame into
exactly that, with empty cells instead of NaN / None."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TIMESTAMP_FORMAT", "duration_text", "size_text", "tidy", "timestamp_text"]

#: Every timestamp a listing shows, in the machine's local time.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, dict, tuple)) else False
    except (TypeError, ValueError):
        return False


def duration_text(seconds: Any) -> str:
    """``0.4 s``, ``1.2 s``, ``42 s``, ``3 min``, ``3 min 5 s``, ``1 h 2 min``; "" if unknown."""
    if _missing(seconds):
        return ""
    try:
        seconds = float(seconds)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(seconds) or seconds < 0:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def timestamp_text(value: Any) -> str:
    """A timestamp (ISO text or datetime; naive means UTC, as the API sends) as local time in
    ``TIMESTAMP_FORMAT``; "" if missing or unreadable."""
    if _missing(value) or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value  # not a timestamp after all: shown as sent
    if not isinstance(value, datetime):
        return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone().strftime(TIMESTAMP_FORMAT)


def size_text(size: int | None) -> str:
    """``812 bytes``, ``3.4 KiB``, ``228 MiB``, ``1.2 GiB``."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            if unit == "bytes":
                return f"{int(value)} bytes"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def tidy(
    df: pd.DataFrame,
    *,
    timestamps: tuple[str, ...] = ("created_at", "updated_at"),
    durations: tuple[str, ...] = ("elapsed",),
) -> pd.DataFrame:
    """A listing for reading: timestamp and duration columns as text, and every missing value
    an empty cell (a column of whole numbers with gaps shows its numbers without ``.0``)."""
    import pandas as pd

    out = df.copy()
    for column in out.columns:
        values = out[column]
        if column in timestamps:
            out[column] = [timestamp_text(v) for v in values]
        elif column in durations:
            out[column] = [duration_text(v) for v in values]
        elif values.isna().any():
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                numbers = values.dropna()
                whole = bool((numbers == numbers.round()).all())
                out[column] = [
                    "" if _missing(v) else (int(v) if whole else v) for v in values.tolist()
                ]
            else:
                out[column] = ["" if _missing(v) else v for v in values.tolist()]
    return out
