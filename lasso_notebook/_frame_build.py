"""Rows → typed DataFrame: ``RowColumns`` gathers rows column by column as they arrive (no dict
per row is kept), and ``frame_from_columns`` converts each column to the dtype its schema type
maps to, freeing the column's raw values as it goes (a big table is never held twice).
"""

from __future__ import annotations

import json
import logging
import math
import operator
import re
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._validation import frame_attrs
from .errors import UnparsedValuesWarning
from .models import Column, Table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LOCATION_COLUMN",
    "META_COLUMNS",
    "SOURCE_COLUMN",
    "RowColumns",
    "build_frame",
    "dtype_for",
    "frame_from_columns",
    "location_text",
    "meta_frame",
    "table_sources",
    "unique_labels",
    "unparsed_summary",
    "warn_unparsed",
]

log = logging.getLogger("lasso_notebook")

#: Columns added with ``meta=True`` (prefixed so they cannot clash with schema keys).
META_COLUMNS = ("_row_id", "_validation_status", "_validation_errors")
#: The file name, URL or "text" each row came from: in every frame that combines several
#: sources (a batch, a multi-file table), and with ``meta=True``.
SOURCE_COLUMN = "_source"
#: Where in its source a row was found ("sheet Preise, row 7", "page 3", "line 12"): with
#: ``meta=True`` only.
LOCATION_COLUMN = "_source_location"

_TEXT_TYPES = frozenset({"text", "url", "email", "richtext", "image"})
_LIST_TYPES = frozenset({"tags", "images"})
_STR_OR_NONE = frozenset({str, type(None)})
#: d.m.y and d.m.yyyy (optionally followed by a time): the day comes first.
_DOTTED_DATE = re.compile(r"\s*\d{1,2}\.\d{1,2}\.\d{2,4}\b")
_BOOL_OR_NONE = frozenset({bool, type(None)})


# --------------------------------------------------------------------------------------------
# Gathering


class RowColumns:
    """Rows as one list of values per column key, in row order.

    ``add_flat`` takes flat rows (``{key: value}``, the export's shape), ``add_rows`` row
    objects of the rows listing (their ``data`` plus ``row_index`` and the meta fields). A key
    first seen late gets ``None`` for the rows before it. ``row_index`` is None when the rows
    are known to be numbered 0..n-1 in order (the export of a table without gaps).
    """

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}
        self.count = 0
        self.row_index: list[int] | None = None
        #: ``_row_id`` / ``_validation_status`` / ``_validation_errors`` per row, when read.
        self.meta: dict[str, list[Any]] | None = None
        #: Where each row came from (file name, URL or "text"): from the rows' ``source``
        #: objects (the rows listing), or given to ``extend``. None when nobody said.
        self.source: list[str | None] | None = None
        #: Where in its source each row was found, as ``location_text`` words (rows listing).
        self.location: list[str | None] | None = None
        #: Rows of several tables were combined here (``extend``): the frame always names
        #: each row's source.
        self.combined = False

    def add_flat(self, rows: list[Any]) -> None:
        """Append a batch of flat rows; anything but a JSON object is a ``ValueError``."""
        if not rows:
            return
        if not all(type(row) is dict for row in rows):
            raise ValueError("a row is not a JSON object")
        values = self.values
        keys = set().union(*rows)
        for key in keys.difference(values):
            values[key] = [None] * self.count
        if len(values) > 1 and len(keys) == len(values) and set(map(len, rows)) == {len(keys)}:
            # Every row has every key (the usual export): transposed in C, one pass.
            picked = zip(*map(operator.itemgetter(*values), rows), strict=True)
            for column, taken in zip(values.values(), picked, strict=True):
                column.extend(taken)
        else:
            for key, column in values.items():
                column.extend([row.get(key) for row in rows])
        self.count += len(rows)

    def add_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append row objects (``row_index``, ``data``, ``id``, validation fields), in order."""
        if self.row_index is None:
            if self.count:
                raise ValueError("row objects cannot follow flat rows")
            self.row_index = []
            self.meta = {name: [] for name in META_COLUMNS}
        assert self.meta is not None
        self.add_flat([row.get("data") or {} for row in rows])
        self.row_index.extend(int(row["row_index"]) for row in rows)
        self.meta["_row_id"].extend(row.get("id") for row in rows)
        self.meta["_validation_status"].extend(row.get("validation_status") for row in rows)
        self.meta["_validation_errors"].extend(row.get("validation_errors") for row in rows)
        origins = [row.get("source") for row in rows]
        if self.source is None:
            if not any(isinstance(origin, dict) for origin in origins):
                return  # a server without provenance: nothing to keep
            before = self.count - len(rows)
            self.source, self.location = [None] * before, [None] * before
        assert self.location is not None
        self.source.extend(_file_of(origin) for origin in origins)
        words: dict[tuple[Any, ...], str | None] = {}  # rows of one page share one string
        for origin in origins:
            key = _location_key(origin)
            text = words.get(key, "")
            if text == "":
                text = words[key] = location_text(origin)
            self.location.append(text)

    def extend(self, other: RowColumns, *, source: str | None = None) -> None:
        """Append ``other``'s rows, which it gives up (a batch builds one frame from several
        tables this way). ``source`` names where rows came from when ``other`` does not say
        (``_source``). The combined rows are numbered by position; meta columns are kept
        only if both sides have them."""
        for key in other.values.keys() - self.values.keys():
            self.values[key] = [None] * self.count
        for key, column in self.values.items():
            column.extend(other.values.pop(key, None) or [None] * other.count)
        if self.meta is not None and other.meta is not None and self.count:
            for name, column in self.meta.items():
                column.extend(other.meta[name])
        else:
            self.meta = other.meta if not self.count else None
        theirs = other.source if other.source is not None else [None] * other.count
        if source is not None:
            theirs = [name if name is not None else source for name in theirs]
        self.source = (self.source if self.source is not None else [None] * self.count) + theirs
        places = other.location if other.location is not None else [None] * other.count
        self.location = (
            self.location if self.location is not None else [None] * self.count
        ) + places
        self.combined = True
        self.row_index = None
        self.count += other.count
        other.values, other.meta, other.count = {}, None, 0
        other.source = other.location = None

    def take(self, positions: Sequence[int]) -> RowColumns:
        """A new ``RowColumns`` of the rows at ``positions``, in that order (their row
        numbers and every per-row list come along)."""
        picked = RowColumns()
        picked.values = {key: [column[i] for i in positions] for key, column in self.values.items()}
        picked.count = len(positions)
        if self.row_index is not None:
            picked.row_index = [self.row_index[i] for i in positions]
        if self.meta is not None:
            picked.meta = {
                name: [column[i] for i in positions] for name, column in self.meta.items()
            }
        if self.source is not None:
            picked.source = [self.source[i] for i in positions]
        if self.location is not None:
            picked.location = [self.location[i] for i in positions]
        picked.combined = self.combined
        return picked

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]]) -> RowColumns:
        data = cls()
        data.add_rows(rows)
        return data

    def row(self, position: int) -> dict[str, Any]:
        """The flat row at ``position`` (for spot checks)."""
        return {key: column[position] for key, column in self.values.items()}


def _file_of(origin: Any) -> str | None:
    if not isinstance(origin, dict):
        return None
    name = origin.get("file")
    return str(name) if name not in (None, "") else None


def _location_key(origin: Any) -> tuple[Any, ...]:
    if not isinstance(origin, dict):
        return ()
    return (origin.get("sheet"), origin.get("page"), origin.get("line"))


def location_text(origin: Any) -> str | None:
    """A row's ``source`` object (rows listing) in words, with what is known: ``"sheet
    Preise, row 7"``, ``"page 3, line 12"``, ``"page 3"``, ``"line 12"``; None when it
    names no place (a web page, a Word document)."""
    if not isinstance(origin, dict):
        return None
    sheet, page, line = origin.get("sheet"), origin.get("page"), origin.get("line")
    parts = []
    if sheet not in (None, ""):
        parts.append(f"sheet {sheet}")
    if page is not None:
        parts.append(f"page {page}")
    if line is not None:
        # A spreadsheet's line is a row of its sheet.
        parts.append(f"{'row' if sheet not in (None, '') else 'line'} {line}")
    return ", ".join(parts) or None


# --------------------------------------------------------------------------------------------
# Conversion


def is_integer_column(column: Column) -> bool:
    """The schema says integer: a column ``type`` of ``"integer"`` (a type some API revisions
    use), or a ``number`` column with ``format: "integer"`` (what ``create_schema`` writes for
    ``int`` fields). Every other number column is ``Float64``, whatever its values, so two
    tables of one schema always concatenate without a dtype change."""
    if column.type == "integer":
        return True
    fmt = column.get("format")
    return column.type == "number" and isinstance(fmt, str) and fmt.lower() in ("integer", "int")


def dtype_for(column: Column) -> str:
    """The pandas dtype a column type maps to (number: ``Float64``, ``Int64`` only when the
    schema says integer, see ``is_integer_column``)."""
    kind = column.type
    if kind in ("number", "integer"):
        return "Int64" if is_integer_column(column) else "Float64"
    if kind == "boolean":
        return "boolean"
    if kind == "date":
        return "datetime64[us]"
    if kind in _TEXT_TYPES:
        return "string"
    if kind == "enum":
        return "category"
    return "object"


class _Problems:
    """Values that did not fit their column's type: kept out of the frame (NA), reported."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}

    def add(self, key: str, indexes: Sequence[int], values: Sequence[Any]) -> None:
        if not indexes:
            return
        self.by_key[key] = {
            "count": len(indexes),
            "rows": list(indexes[:20]),
            "examples": [_short(v) for v in values[:5]],
        }


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


_BOOLS: dict[Any, bool] = {
    **dict.fromkeys((True, "true", "yes", "y", "1", "t"), True),
    **dict.fromkeys((False, "false", "no", "n", "0", "f"), False),
}


def _convert(column: Column, values: list[Any], index: Sequence[int], problems: _Problems) -> Any:
    import numpy as np
    import pandas as pd

    kind = column.type
    key = column.key
    # The set of value types decides whether the per-value Python path is needed at all: a
    # clean column (the common case) converts in C.
    types = set(map(type, values))
    if kind in ("number", "integer"):
        raw = pd.Series(values, dtype=object)
        if bool in types:
            # Booleans are not numbers here, whatever Python thinks.
            raw = raw.where(~raw.map(lambda v: isinstance(v, bool)), "not-a-number")
        if str in types:
            raw = raw.where(raw != "", None)
        floats = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
        del raw
        if is_integer_column(column):
            # An integer column holds whole numbers only: 2.5 does not fit, like "free".
            whole = np.isnan(floats) | ((floats == np.floor(floats)) & (np.abs(floats) < 2**53))
            floats = np.where(whole, floats, np.nan)
        bad = np.isnan(floats)
        if bad.any():
            bad = bad & np.array([not _is_missing(v) for v in values], dtype=bool)
        _report(problems, key, bad, index, values)
        return pd.array(floats, dtype="Float64").astype(dtype_for(column))
    if kind == "boolean":
        if types <= _BOOL_OR_NONE:
            return pd.array(values, dtype="boolean")
        out: list[Any] = []
        bad = np.zeros(len(values), dtype=bool)
        for i, value in enumerate(values):
            if _is_missing(value):
                out.append(None)
                continue
            key_ = value.strip().lower() if isinstance(value, str) else value
            try:
                out.append(_BOOLS[key_])
            except (KeyError, TypeError):
                out.append(None)
                bad[i] = True
        _report(problems, key, bad, index, values)
        return pd.array(out, dtype="boolean")
    if kind == "date":
        if types <= _STR_OR_NONE:
            raw = pd.Series(values, dtype=object)
            raw = raw.where(raw.str.strip() != "", None)
        else:
            raw = pd.Series(
                [v if isinstance(v, str) and v.strip() else None for v in values], dtype=object
            )
        parsed = pd.to_datetime(raw, errors="coerce", utc=True, format="ISO8601")
        retry = parsed.isna().to_numpy() & raw.notna().to_numpy()
        if retry.any():
            # Not ISO 8601 ("March 10, 2025"): one value at a time through dateutil, which
            # reads a/b/y month first unless a part above 12 says otherwise; d.m.y is day first
            # wherever it is written (dateutil alone would read 10.03.2025 as October 3).
            for i in np.flatnonzero(retry):
                value = raw.iloc[i]
                dotted = _DOTTED_DATE.match(value) is not None
                parsed.iloc[i] = pd.to_datetime(value, errors="coerce", utc=True, dayfirst=dotted)
        del raw
        bad = parsed.isna().to_numpy()
        if bad.any():
            bad = bad & np.array([not _is_missing(v) for v in values], dtype=bool)
        _report(problems, key, bad, index, values)
        return parsed.dt.tz_localize(None).astype("datetime64[us]").to_numpy()
    if kind in _TEXT_TYPES:
        if types <= _STR_OR_NONE:
            return pd.array(values, dtype="string")
        return pd.array([_text(v) for v in values], dtype="string")
    if kind == "enum":
        categories = list(dict.fromkeys(str(v) for v in column.enum_values or []))
        texts = [None if _is_missing(v) else _text(v) for v in values]
        if not categories:
            categories = sorted({t for t in texts if t is not None})
        allowed = set(categories)
        bad = np.array([t is not None and t not in allowed for t in texts], dtype=bool)
        _report(problems, key, bad, index, values)
        return pd.Categorical([t if t in allowed else None for t in texts], categories=categories)
    array = np.empty(len(values), dtype=object)
    if kind in _LIST_TYPES:
        if types <= {list, type(None)}:
            array[:] = values
            return array
        for i, value in enumerate(values):
            if value is None:
                array[i] = None
            elif isinstance(value, list):
                array[i] = value
            elif isinstance(value, str) and value.strip().startswith("["):
                try:
                    decoded = json.loads(value)
                except ValueError:
                    decoded = [value]
                array[i] = decoded if isinstance(decoded, list) else [value]
            else:
                array[i] = [value]
        return array
    array[:] = values  # json and types this version does not know: as the server sent them
    return array


def _report(
    problems: _Problems, key: str, bad: Any, index: Sequence[int], values: Sequence[Any]
) -> None:
    positions = [int(i) for i in bad.nonzero()[0]] if bad.any() else []
    problems.add(key, [index[i] for i in positions], [values[i] for i in positions])


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat().replace("+00:00", "Z")


def unique_labels(columns: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """Key → column name for ``labels=True``, from (key, label) pairs; a repeated label gets
    its key appended."""
    names: dict[str, str] = {}
    seen: set[str] = set()
    for key, label in columns:
        name = label or key
        if name in seen:
            name = f"{name} ({key})"
        seen.add(name)
        names[key] = name
    return names


def _frame_index(data: RowColumns) -> pd.Index:
    """``row_index`` as the frame's index: a RangeIndex when the rows are numbered 0..n-1."""
    import numpy as np
    import pandas as pd

    if data.row_index is None:
        return pd.RangeIndex(data.count, name="row_index")
    numbers = np.asarray(data.row_index, dtype="int64")
    if len(numbers) == 0 or (numbers[0] == 0 and bool(np.all(np.diff(numbers) == 1))):
        return pd.RangeIndex(len(numbers), name="row_index")
    return pd.Index(numbers, dtype="int64", name="row_index")


def _meta_arrays(data: RowColumns) -> dict[str, Any]:
    import pandas as pd

    if data.meta is None:
        raise ValueError("meta columns need rows read from the rows listing")
    return {
        "_row_id": pd.array(data.meta["_row_id"], dtype="string"),
        "_validation_status": pd.array(data.meta["_validation_status"], dtype="string"),
        "_validation_errors": pd.Series(data.meta["_validation_errors"], dtype=object).to_numpy(),
    }


def table_sources(table: Table | None) -> list[str]:
    """The sources a table was made from, as rows name them in ``source.file``: file names,
    URLs, or ``["text"]``; [] when the table does not say."""
    if table is None:
        return []
    if table.source_type == "text":
        return ["text"]
    names: list[str] = []
    for entry in table.files:
        if table.source_type == "urls":
            name = entry.get("url") or entry.get("path") or entry.get("name")
        else:
            name = entry.get("name") or entry.get("path")
        if name:
            names.append(str(name))
    return names


def _one_source(table: Table | None) -> str | None:
    names = table_sources(table)
    return names[0] if len(names) == 1 else None


def _provenance_arrays(
    data: RowColumns, fallback: str | None, *, source: bool, location: bool
) -> dict[str, Any]:
    """``_source`` (rows that do not say get ``fallback``: a single-source table's one source)
    and ``_source_location``, as string arrays."""
    import pandas as pd

    arrays: dict[str, Any] = {}
    if source:
        names = data.source if data.source is not None else [None] * data.count
        if fallback is not None and (data.source is None or None in names):
            names = [fallback if name is None else name for name in names]
        arrays[SOURCE_COLUMN] = pd.array(names, dtype="string")
    if location:
        places = data.location if data.location is not None else [None] * data.count
        arrays[LOCATION_COLUMN] = pd.array(places, dtype="string")
    return arrays


def meta_frame(
    data: RowColumns,
    index: pd.Index,
    *,
    source: bool = True,
    table: Table | None = None,
) -> pd.DataFrame:
    """The columns ``meta=True`` adds, on ``index``: ``_source`` (unless the frame shows it
    anyway: ``source=False``), ``_source_location``, the row id and the validation fields."""
    import pandas as pd

    arrays = _provenance_arrays(data, _one_source(table), source=source, location=True)
    arrays.update(_meta_arrays(data))
    return pd.DataFrame(arrays, index=index, copy=False)


def frame_from_columns(
    data: RowColumns,
    columns: Sequence[Column | dict[str, Any]],
    *,
    table: Table | None = None,
    labels: bool = False,
    meta: bool = False,
    provenance: bool = False,
    consume: bool = False,
) -> pd.DataFrame:
    """A DataFrame from gathered rows and the table's columns.

    Column order is the schema's; names are keys (``labels=True``: labels); the index is
    ``row_index``. Values that do not fit their type become NA and are listed in
    ``df.attrs["lasso"]["unparsed"]``. Keys no column describes are appended as object
    columns. Then ``_source`` (the file, URL or "text" of each row) when the frame combines
    several sources (``provenance``, or rows ``extend``-ed from several tables) or with
    ``meta``; ``meta=True`` also adds ``_source_location``, the row id and the validation
    columns (rows read from the listing only). ``consume=True`` empties ``data`` column by
    column while converting, so the raw values and the frame never both exist in full.
    """
    import pandas as pd

    cols = [c if isinstance(c, Column) else Column.model_validate(c) for c in columns]
    cols = list({c.key: c for c in reversed(cols)}.values())[::-1]  # first of a duplicate key
    known = {c.key for c in cols}
    cols += [Column(key=key, type="json") for key in data.values if key not in known]

    index = _frame_index(data)
    positions: Sequence[int] = data.row_index if data.row_index is not None else range(data.count)
    problems = _Problems()
    arrays: dict[str, Any] = {}
    for column in cols:
        key = column.key
        values = data.values.pop(key, None) if consume else data.values.get(key)
        if values is None:
            values = [None] * data.count
        arrays[key] = _convert(column, values, positions, problems)
        del values
    show_source = provenance or data.combined or meta
    arrays.update(_provenance_arrays(data, _one_source(table), source=show_source, location=meta))
    if meta:
        arrays.update(_meta_arrays(data))
    frame = pd.DataFrame(arrays, index=index, copy=False)
    del arrays
    if labels:
        frame = frame.rename(columns=unique_labels((c.key, c.label) for c in cols))
    if problems.by_key:
        log.info(
            "lasso_notebook: values that do not fit their column type were set to NA: %s",
            ", ".join(f"{k} ({v['count']})" for k, v in problems.by_key.items()),
        )
    frame.attrs["lasso"] = {
        "table_id": table.id if table else None,
        "name": table.name if table else None,
        "schema_id": table.schema_id if table else None,
        "status": table.status if table else None,
        "total_rows": table.total_rows if table else data.count,
        "rows": data.count,
        "created_at": _iso(table.created_at) if table else None,
        "updated_at": _iso(table.updated_at) if table else None,
        "fetched_at": _iso(datetime.now(timezone.utc)),
        "columns": [{"key": c.key, "label": c.label, "type": c.type} for c in cols],
        # validation, unparsed (the server's and this conversion's), extraction_report
        **frame_attrs(_validation_rows(data, positions), table, problems.by_key),
    }
    return frame


def build_frame(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column | dict[str, Any]],
    *,
    table: Table | None = None,
    labels: bool = False,
    meta: bool = False,
) -> pd.DataFrame:
    """A DataFrame from row objects of the rows listing (``row_index``, ``data``, ``id``, …)
    and the table's columns; see ``frame_from_columns``."""
    return frame_from_columns(
        RowColumns.from_rows(rows), columns, table=table, labels=labels, meta=meta, consume=True
    )


def _validation_rows(data: RowColumns, positions: Sequence[int]) -> list[dict[str, Any]]:
    """The rows' validation fields as the validation summary reads them (none for rows read
    through the export: the table's own ``validation_summary`` stands in)."""
    if data.meta is None:
        return []
    statuses, errors = data.meta["_validation_status"], data.meta["_validation_errors"]
    if not any(s is not None for s in statuses) and not any(errors):
        return []  # a server that does not validate, or rows without the fields
    return [
        {"row_index": i, "validation_status": status, "validation_errors": errors}
        for i, status, errors in zip(
            positions, data.meta["_validation_status"], data.meta["_validation_errors"], strict=True
        )
    ]


def warn_unparsed(df: pd.DataFrame, owner: str) -> None:
    """Warn about values that did not fit their column type, named by ``owner`` (``table
    tbl_…``, ``batch 'q1'``), at the caller of the ``result()`` that calls this."""
    summary = unparsed_summary(df)
    if summary:
        warnings.warn(
            f"{owner}: {summary} (details in df.attrs['lasso']['unparsed'])",
            UnparsedValuesWarning,
            stacklevel=4,  # this function, the job's _frame(), its result(), the caller
        )


def unparsed_summary(df: pd.DataFrame) -> str:
    """``"3 values did not fit their column type and are NA: released (2), price (1)"``, or
    "" when every value fitted (read from ``df.attrs["lasso"]["unparsed"]``: values the server
    stored as null with a reason, and values that do not fit the column's dtype)."""
    unparsed = (df.attrs.get("lasso") or {}).get("unparsed") or {}
    if not unparsed:
        return ""
    count = sum(problem["count"] for problem in unparsed.values())
    columns = ", ".join(f"{key} ({problem['count']})" for key, problem in unparsed.items())
    if count == 1:
        return f"1 value did not fit its column type and is NA: {columns}"
    return f"{count} values did not fit their column type and are NA: {columns}"
