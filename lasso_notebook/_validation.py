"""Validation at a glance: rows valid / with warnings / with errors and the top reasons per
column (``Tally``, from rows' validation fields; the engine keeps the same summary per table),
the values the server set to null (``server_unparsed``), and both the summary and an
``extraction_report`` as one line each for widgets, text lines and magics."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._failures import FileFailure, failure_line

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_REASONS",
    "Tally",
    "frame_attrs",
    "keep_valid",
    "outcome_lines",
    "reason_of",
    "report_line",
    "server_unparsed",
    "summarize_rows",
    "summary_line",
]

#: Reasons kept in a summary (most frequent first, errors before warnings).
MAX_REASONS = 20
#: Sample values kept per reason, each at most ``SAMPLE_CHARS`` long.
MAX_SAMPLES = 3
#: Row indexes kept per reason (what ``df.attrs["lasso"]["unparsed"]`` lists).
MAX_ROWS = 20
SAMPLE_CHARS = 60
#: Reasons named in the one-line form.
LINE_REASONS = 3

# A Python-repr'd value at the start of a message: 'free' is not a number.
_LEADING_VALUE = re.compile(
    r"""^(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s+(?:is\s+)?(?P<rest>.+)$"""
)
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w.])")
_Q = r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
#: Notes the engine writes about values it fixed, in words that group across rows.
_FIXES = (
    (re.compile(rf"^kept the number .+ from {_Q}$"), "number taken from longer text"),
    (re.compile(r"^read the quantity (?P<value>.+) as (?:yes|no)$"), "quantity read as yes/no"),
    (re.compile(rf"^added https?:(?://)? to (?:{_Q}|(?P<list>.+))$"), "https:// added"),
    (re.compile(rf"^read {_Q} as .+$"), "matched to an allowed value"),
)


def _unquote(literal: str) -> str:
    if "\\" not in literal:
        return literal[1:-1]  # no escapes: the common case, without a parser
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return literal[1:-1]
    return value if isinstance(value, str) else str(value)


def _clip(text: str) -> str:
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…"


def reason_of(message: str) -> tuple[str, str | None]:
    """A validation message as (reason shared by many rows, the row's value if it names one):
    ``"'free' is not a number"`` → ``("not a number", "free")``; ``"required value is
    missing"`` stays as it is. Messages of other servers fall back to their text with quoted
    values and numbers replaced by "…", so rows with different values still group."""
    message = " ".join(str(message).split())
    for pattern, reason in _FIXES:
        fixed = pattern.match(message)
        if fixed:
            value = fixed.groupdict().get("value")
            value = _unquote(value) if value and value[:1] in "'\"" else value
            return reason, _clip(value or fixed.groupdict().get("list") or "")
    found = _LEADING_VALUE.match(message)
    if found:
        return found["rest"], _clip(_unquote(found["value"]))
    before, colon, after = message.partition(": ")
    if colon and after:
        return before, _clip(after)
    quoted = _QUOTED.search(message)
    reason = _NUMBER.sub("…", _QUOTED.sub("…", message))
    return reason, _clip(_unquote(quoted.group())) if quoted else None


def _severity(issue: Mapping[str, Any], row_status: Any) -> str:
    """An issue's severity; one that gives none takes its row's (a row marked ``warning`` has
    only warnings)."""
    given = issue.get("severity")
    if given in ("warning", "error"):
        return str(given)
    return "warning" if row_status == "warning" else "error"


class Tally:
    """Counts rows by validation status and their issues by (column, severity, reason), with a
    few sample values and the first row indexes per reason. ``summary()`` is the shape both the
    engine (a table's ``validation_summary``) and ``df.attrs["lasso"]["validation"]`` carry."""

    def __init__(self) -> None:
        self.rows = 0
        self.statuses = {"valid": 0, "warning": 0, "error": 0}
        # (column, severity, reason) -> [count, samples, row indexes]
        self._reasons: dict[tuple[str, str, str], list[Any]] = {}

    def add(self, status: Any, errors: Any, index: int | None = None) -> None:
        """Count one row; ``index`` is its ``row_index`` (default: rows counted so far, for
        rows added in order from the first)."""
        if index is None:
            index = self.rows
        self.rows += 1
        self.statuses[status if status == "warning" or status == "error" else "valid"] += 1
        if not errors or not isinstance(errors, list):
            return  # the common case, kept cheap: the engine counts every row it writes
        for issue in errors:
            if not isinstance(issue, Mapping):
                continue
            column = str(issue.get("column_key") or issue.get("column") or "")
            severity = _severity(issue, status)
            reason, sample = reason_of(str(issue.get("message") or "invalid value"))
            entry = self._reasons.setdefault((column, severity, reason), [0, [], []])
            entry[0] += 1
            if sample is not None and len(entry[1]) < MAX_SAMPLES and sample not in entry[1]:
                entry[1].append(sample)
            if len(entry[2]) < MAX_ROWS and (not entry[2] or entry[2][-1] != index):
                entry[2].append(index)

    def add_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        add = self.add
        for row in rows:
            add(row.get("validation_status"), row.get("validation_errors"), row.get("row_index"))

    def summary(self) -> dict[str, Any]:
        """``{rows, valid, warning, error, reasons: [{column, severity, reason, count,
        samples}]}``: errors before warnings, most frequent first, at most ``MAX_REASONS``."""
        ranked = sorted(
            self._reasons.items(), key=lambda item: (item[0][1] != "error", -item[1][0], item[0])
        )
        return {
            "rows": self.rows,
            **self.statuses,
            "reasons": [
                {
                    "column": column,
                    "severity": severity,
                    "reason": reason,
                    "count": count,
                    "samples": list(samples),
                    "rows": list(rows),
                }
                for (column, severity, reason), (count, samples, rows) in ranked[:MAX_REASONS]
            ],
        }


def summarize_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The summary of rows from the rows listing; None when they carry no validation fields
    (rows from the export, or a server that does not validate)."""
    if not any("validation_status" in row or "validation_errors" in row for row in rows):
        return None
    tally = Tally()
    tally.add_rows(rows)
    return tally.summary()


def server_unparsed(
    rows: Sequence[Mapping[str, Any]] | None, summary: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Values the server could not read and stored as null, per column, in the shape of
    ``df.attrs["lasso"]["unparsed"]`` (``count``, ``rows``, ``examples``, ``reasons``): from the
    rows' ``validation_errors`` when they have them (with row indexes), else from a summary
    (counts and samples only). An error that names no value ("required value is missing")
    is not an unread value."""
    found: dict[str, dict[str, Any]] = {}

    def note(column: str, reason: str, sample: str, count: int, row: int | None) -> None:
        entry = found.setdefault(column, {"count": 0, "rows": [], "examples": [], "reasons": []})
        entry["count"] += count
        if row is not None and len(entry["rows"]) < 20:
            entry["rows"].append(row)
        if len(entry["examples"]) < 5 and sample not in entry["examples"]:
            entry["examples"].append(sample)
        if reason not in entry["reasons"]:
            entry["reasons"].append(reason)

    if rows is not None and any("validation_errors" in row for row in rows):
        for row in rows:
            errors = row.get("validation_errors")
            if not errors or not isinstance(errors, list):
                continue
            for issue in errors:
                if not isinstance(issue, Mapping):
                    continue
                if _severity(issue, row.get("validation_status")) == "warning":
                    continue
                reason, sample = reason_of(str(issue.get("message") or ""))
                if sample is not None:
                    column = str(issue.get("column_key") or "")
                    note(column, reason, sample, 1, row.get("row_index"))
        return found
    for item in (summary or {}).get("reasons") or []:
        if item.get("severity") == "error" and item.get("samples"):
            for n, sample in enumerate(item["samples"]):
                note(item["column"], item["reason"], sample, 0 if n else item["count"], None)
            entry = found[item["column"]]
            entry["rows"] = sorted({*entry["rows"], *(item.get("rows") or [])})[:MAX_ROWS]
    return found


def merge_unparsed(
    client: Mapping[str, Mapping[str, Any]], server: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The values that did not fit, whoever found them: the server (stored null, with a
    reason) or this client (a value that does not fit the column's dtype)."""
    merged: dict[str, dict[str, Any]] = {
        k: {**v, "reasons": list(v.get("reasons", []))} for k, v in server.items()
    }
    for key, problem in client.items():
        entry = merged.setdefault(key, {"count": 0, "rows": [], "examples": [], "reasons": []})
        entry["count"] += problem["count"]
        entry["rows"] = sorted({*entry["rows"], *problem["rows"]})[:20]
        entry["examples"] = list(dict.fromkeys([*entry["examples"], *problem["examples"]]))[:5]
        if "does not fit the column type" not in entry["reasons"]:
            entry["reasons"].append("does not fit the column type")
    return merged


def frame_attrs(
    rows: Sequence[Mapping[str, Any]],
    table: Any,
    client_problems: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """What a frame's ``df.attrs["lasso"]`` says about validation: ``validation`` (the summary,
    from the rows' fields when they have them, else the table's ``validation_summary``, else
    None), ``unparsed`` (values the server or this client could not read) and
    ``extraction_report`` (the server's, when it sent one)."""
    summary = summarize_rows(rows)
    from_rows = summary is not None
    if summary is None and table is not None:
        given = table.get("validation_summary")
        summary = dict(given) if isinstance(given, Mapping) else None
    report = table.get("extraction_report") if table is not None else None
    server = server_unparsed(rows if from_rows else None, summary)
    return {
        "validation": summary,
        "unparsed": merge_unparsed(client_problems, server),
        "extraction_report": report if isinstance(report, Mapping) else None,
    }


# --------------------------------------------------------------------------------------------
# One line each


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def summary_line(summary: Mapping[str, Any] | None) -> str:
    """``24 rows: 20 valid · 2 with warnings · 2 with errors — price: 3 values not a number
    ("free", "Q3 2025" …)``; "" without a summary."""
    if not summary or not summary.get("rows"):
        return ""
    rows = int(summary["rows"])
    warning, error = int(summary.get("warning") or 0), int(summary.get("error") or 0)
    if not warning and not error:
        return f"{_plural(rows, 'row')}, all valid"
    counts = [f"{int(summary.get('valid') or 0):,} valid"]
    if warning:
        counts.append(f"{warning:,} with warnings")
    if error:
        counts.append(f"{error:,} with errors")
    reasons = [_reason_text(item) for item in (summary.get("reasons") or [])[:LINE_REASONS]]
    more = len(summary.get("reasons") or []) - LINE_REASONS
    tail = "; ".join(reasons) + (f"; {more} more" if more > 0 else "")
    return f"{_plural(rows, 'row')}: " + " · ".join(counts) + (f" — {tail}" if tail else "")


def _reason_text(item: Mapping[str, Any]) -> str:
    """``price: 3 values not a number ("free", "Q3 2025" …)``, or for a reason that names no
    value ``sku: required value is missing (2 rows)``."""
    count = int(item.get("count") or 0)
    samples = [str(s) for s in item.get("samples") or []]
    column = item.get("column") or "(row)"
    if not samples:
        return f"{column}: {item.get('reason')} ({_plural(count, 'row')})"
    quoted = ", ".join(f'"{s}"' for s in samples)
    more = " …" if count > len(samples) else ""
    return f"{column}: {_plural(count, 'value')} {item.get('reason')} ({quoted}{more})"


def report_line(report: Mapping[str, Any] | None) -> str:
    """The notable part of an ``extraction_report`` in one line: rows skipped by reason,
    source columns left unmapped, files that failed; "" when there is nothing to say."""
    if not isinstance(report, Mapping):
        return ""
    sources = [s for s in report.get("sources") or [] if isinstance(s, Mapping)]
    parts: list[str] = []
    skipped = _skipped(report.get("skipped"), sources)
    if skipped:
        named = [
            f"{n} {_SKIP_WORDS.get(reason, (reason, reason))[n != 1]}"
            for reason, n in skipped.items()
            if reason
        ]
        detail = f" ({', '.join(named)})" if named else ""
        parts.append(f"{_plural(sum(skipped.values()), 'row')} skipped{detail}")
    unmapped = list(
        dict.fromkeys(
            str(name)
            for source in sources
            for name in source.get("unmapped_source_columns") or []
            if str(name).strip()
        )
    )
    if unmapped:
        shown = ", ".join(unmapped[:5]) + (
            f" and {len(unmapped) - 5} more" if len(unmapped) > 5 else ""
        )
        parts.append(f"not mapped: {shown}")
    failed = [f for f in report.get("failed_files") or [] if isinstance(f, Mapping)]
    if not failed:
        failed = [
            {"source": s.get("source"), "reason": s.get("error")}
            for s in sources
            if s.get("status") == "failed"
        ]
    # When every source failed, so did the table, and its error names them all already.
    if failed and len(failed) < len(sources):
        failures = [
            FileFailure(str(f.get("source") or "?"), str(f.get("reason") or "no reason given"))
            for f in failed
        ]
        parts.append(failure_line(failures, len(sources)))
    return " · ".join(parts)


#: The common skip reasons of an extraction report, in words (one, several).
_SKIP_WORDS = {
    "total": ("total", "totals"),
    "section": ("section heading", "section headings"),
    "header": ("repeated header", "repeated headers"),
    "note": ("note", "notes"),
    "empty": ("empty row", "empty rows"),
}


def _skipped(total: Any, sources: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Rows skipped by reason: the report's own totals, else the sources' added up (an older
    engine counts them per source as one number)."""
    if isinstance(total, Mapping):
        return {str(k): int(v) for k, v in total.items() if isinstance(v, int) and v > 0}
    counts: dict[str, int] = {}
    for source in sources:
        value = source.get("skipped")
        if isinstance(value, Mapping):
            for reason, n in value.items():
                if isinstance(n, int) and n > 0:
                    counts[str(reason)] = counts.get(str(reason), 0) + n
        elif isinstance(value, int) and value > 0:
            counts[""] = counts.get("", 0) + value
    return counts


# --------------------------------------------------------------------------------------------
# Keeping valid rows


def keep_valid(df: pd.DataFrame, statuses: pd.Series | None) -> pd.DataFrame:
    """``df`` without the rows whose validation status is ``error`` (rows with warnings are
    kept: their values were read, with a note). ``statuses`` is indexed like ``df``; without
    it (a server that does not validate) every row is kept."""
    if statuses is None:
        return df
    keep = (statuses.reindex(df.index) != "error").fillna(True).to_numpy(dtype=bool)
    if keep.all():
        return df
    kept = df[keep]
    lasso = dict(df.attrs.get("lasso") or {})
    lasso["dropped_error_rows"] = int((~keep).sum())
    lasso["unparsed"] = _unparsed_in(lasso.get("unparsed") or {}, set(kept.index))
    kept.attrs = {**df.attrs, "lasso": lasso}
    return kept


def _unparsed_in(unparsed: Mapping[str, Any], kept: set[Any]) -> dict[str, Any]:
    """The unread values still in the kept rows; an entry whose rows are not all known (more
    than the 20 listed, or a summary without rows) stays as it is."""
    result: dict[str, Any] = {}
    for key, problem in unparsed.items():
        rows = list(problem.get("rows") or [])
        if not rows or len(rows) != problem.get("count"):
            result[key] = problem
            continue
        left = [r for r in rows if r in kept]
        if left:
            result[key] = {**problem, "count": len(left), "rows": left}
    return result


def outcome_lines(table: Any, df: pd.DataFrame | None) -> tuple[str, str]:
    """(validation line, report line) of a finished job: from its frame's attrs once it has
    one, else from the table (a failed table may still have an extraction report)."""
    if df is not None:
        attrs = df.attrs.get("lasso") or {}
        return summary_line(attrs.get("validation")), report_line(attrs.get("extraction_report"))
    if table is None or not table.is_terminal:
        return "", ""
    return (
        summary_line(table.get("validation_summary")),
        report_line(table.get("extraction_report")),
    )
