"""A batch's one DataFrame: the rows of its tables moved into one ``RowColumns`` (``extend``: no
second copy), in the order of the batch's sources, each source's rows from the newest completed
table that read it; one validation summary over them all; the frame typed as any table's."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._batch_table import error_text
from ._failures import FileFailure
from ._frame_build import RowColumns
from ._validation import MAX_REASONS, MAX_SAMPLES, Tally
from .frames import TableFrames
from .models import Column, Table

if TYPE_CHECKING:
    from ._batch_table import BatchTable

__all__ = ["Contribution", "assemble", "batch_attrs", "combine", "merge_summaries"]


@dataclass
class Contribution:
    """The rows one completed table of a batch gives: ``keep`` names the sources whose rows
    come from it (a later table that read a source again supersedes it)."""

    table: Table
    columns: list[Column]
    data: RowColumns
    sources: list[str]
    keep: list[str] = field(default_factory=list)

    def row_sources(self) -> list[str | None]:
        """Each row's source: as the rows said, or the table's one source."""
        if self.data.source is not None:
            return list(self.data.source)
        only = self.sources[0] if len(self.sources) == 1 else None
        return [only] * self.data.count


def _pieces(order: list[str], parts: list[Contribution]) -> list[tuple[Contribution, RowColumns]]:
    """What one chunk of the batch adds, in its sources' order: a table taken whole when it
    alone supplies the chunk (the usual case), else the rows of each source cut from the
    table that supplies it."""
    if len(parts) == 1 and parts[0].keep == parts[0].sources:
        return [(parts[0], parts[0].data)]
    pieces = []
    for name in order:
        for part in parts:
            if name in part.keep:
                positions = [i for i, s in enumerate(part.row_sources()) if s == name]
                if positions:
                    pieces.append((part, part.data.take(positions)))
    return pieces


def combine(
    chunks: Sequence[tuple[list[str], list[Contribution]]],
) -> tuple[RowColumns, list[Column] | None, dict[str, Any] | None]:
    """The chunks' rows as one ``RowColumns`` (each chunk's given up as it is moved), the
    columns of the first table, and the validation summary of all rows (None when a part of
    them has none: a server that does not validate)."""
    combined = RowColumns()
    columns: list[Column] | None = None
    summaries: list[tuple[Mapping[str, Any], int]] = []
    tally = Tally()
    known = True
    for order, parts in chunks:
        for part, data in _pieces(order, parts):
            if columns is None:
                columns = part.columns
            offset = combined.count
            statuses = data.meta["_validation_status"] if data.meta is not None else None
            if statuses is not None and any(s is not None for s in statuses):
                assert data.meta is not None
                for i, (status, errors) in enumerate(
                    zip(statuses, data.meta["_validation_errors"], strict=True)
                ):
                    tally.add(status, errors, offset + i)
            elif isinstance(part.table.get("validation_summary"), Mapping):
                # Rows from the export (no validation fields): a table taken whole, so its
                # own summary counts exactly these rows.
                summaries.append((part.table.get("validation_summary"), offset))
            else:
                known = False
            # A table of one source read from the export: its rows do not say, the table does.
            combined.extend(data, source=part.sources[0] if len(part.sources) == 1 else None)
        for part in parts:  # rows of superseded sources are dropped with the tables' data
            part.data = RowColumns()
    if not known:
        return combined, columns, None
    if tally.rows:
        summaries.insert(0, (tally.summary(), 0))
    return combined, columns, merge_summaries(summaries)


def merge_summaries(parts: Sequence[tuple[Mapping[str, Any], int]]) -> dict[str, Any]:
    """Validation summaries of several tables as one (``{rows, valid, warning, error,
    reasons}``): counts added, reasons merged by column, severity and reason, their row
    indexes moved by each table's ``offset`` in the combined frame."""
    totals = {"rows": 0, "valid": 0, "warning": 0, "error": 0}
    reasons: dict[tuple[str, str, str], dict[str, Any]] = {}
    for summary, offset in parts:
        for key in totals:
            totals[key] += int(summary.get(key) or 0)
        for item in summary.get("reasons") or []:
            if not isinstance(item, Mapping):
                continue
            slot = (str(item.get("column")), str(item.get("severity")), str(item.get("reason")))
            entry = reasons.setdefault(
                slot,
                {
                    "column": slot[0],
                    "severity": slot[1],
                    "reason": slot[2],
                    "count": 0,
                    "samples": [],
                    "rows": [],
                },
            )
            entry["count"] += int(item.get("count") or 0)
            for sample in item.get("samples") or []:
                if len(entry["samples"]) < MAX_SAMPLES and sample not in entry["samples"]:
                    entry["samples"].append(sample)
            entry["rows"].extend(offset + int(r) for r in item.get("rows") or [])
    ranked = sorted(
        reasons.values(),
        key=lambda e: (e["severity"] != "error", -e["count"], e["column"], e["reason"]),
    )
    for entry in ranked:
        entry["rows"] = sorted(entry["rows"])[:20]
    return {**totals, "reasons": ranked[:MAX_REASONS]}


def batch_frames(
    data: RowColumns,
    columns: list[Column],
    *,
    name: str,
    validation: dict[str, Any] | None,
    labels: bool,
    meta: bool,
) -> TableFrames:
    """The batch's frames from its combined rows (which they consume; CPU-bound: run it off
    the loop), typed as a table's; the attrs name the batch."""
    stand_in = Table(
        id="",
        name=name,
        status="completed",
        total_rows=data.count,
        validation_summary=validation,
    )
    frames = TableFrames.from_columns(
        data, columns, table=stand_in, labels=labels, meta=meta, provenance=True
    )
    frames.df.attrs["lasso"]["table_id"] = None
    return frames


def assemble(
    chunks: Sequence[Sequence[BatchTable]],
    *,
    name: str,
    labels: bool,
    meta: bool,
    failures: list[FileFailure],
    sources: int,
) -> TableFrames | None:
    """The batch's frames from its finished tables (``chunks``: each chunk's tables, oldest
    first), or None when no table completed. Each source's rows come from the newest
    completed table that read it; every table gives its rows up on the way."""
    parts_by_chunk: list[tuple[list[str], list[Contribution]]] = []
    for attempts in chunks:
        completed = [t for t in attempts if t.completed and t.data is not None]
        supplier = {source: t for t in completed for source in t.sources}
        parts = []
        for table in completed:
            keep = [s for s in table.sources if supplier.get(s) is table]
            if keep:
                assert table.table is not None and table.columns is not None
                assert table.data is not None
                parts.append(
                    Contribution(table.table, table.columns, table.data, table.sources, keep)
                )
        parts_by_chunk.append((list(attempts[0].sources), parts))
    data, columns, validation = combine(parts_by_chunk)
    for attempts in chunks:
        for table in attempts:
            table.data = None
    if columns is None:
        return None
    frames = batch_frames(data, columns, name=name, validation=validation, labels=labels, meta=meta)
    frames.df.attrs["lasso"].update(
        batch_attrs([t for attempts in chunks for t in attempts], failures, name, sources)
    )
    return frames


def batch_attrs(
    tables: Sequence[BatchTable], failures: list[FileFailure], name: str, sources: int
) -> dict[str, Any]:
    """What ``df.attrs["lasso"]`` says about a batch: its tables and its failed files."""
    first = next((t.table for t in tables if t.table is not None), None)
    return {
        "batch": name,
        "schema_id": first.schema_id if first is not None else None,
        "sources": sources,
        "tables": [
            {
                "id": table.id,
                "name": table.name,
                "sources": list(table.sources),
                "rows": table.total_rows,
                "status": table.table.status if table.table is not None else table.status,
                "reused": table.reused,
                "retry": table.retry,
                "error": error_text(table.error) or None,
            }
            for table in tables
        ],
        "failures": [dataclasses.asdict(failure) for failure in failures],
    }
