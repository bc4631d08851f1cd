"""Runs evaluation cases through a real embedded engine over loopback HTTP: loads the case
files of a folder, creates one table per case with the client (uploaded files or source text),
waits for it, reads its rows and extraction report, and scores them."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ._eval_score import Score, score_rows

__all__ = ["Case", "load_cases", "reported_failures", "run_cases"]

#: Longest wait for one table; a table still running then is scored as failed.
TABLE_TIMEOUT = 120.0


@dataclass
class Case:
    name: str
    category: str
    group: str
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    fields: list[str]
    key: str = "sku"
    files: list[Path] = field(default_factory=list)
    text: str | None = None
    additional_context: str | None = None
    expect_failed_files: list[str] = field(default_factory=list)


def load_cases(folder: Path, group: str = "") -> list[Case]:
    """Every ``*.expected.json`` of ``folder``: the catalog-fixture format (``file``) and the
    held-out format (``case``, ``category``, ``files`` or ``text``, ``key``, ``expect_failed_files``)."""
    cases = []
    for path in sorted(folder.glob("*.expected.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        files = spec.get("files") or ([spec["file"]] if spec.get("file") else [])
        name = spec.get("case") or spec["file"]
        failed = spec.get("expect_failed_files") or []
        cases.append(
            Case(
                name=name,
                category=spec.get("category") or Path(files[0]).suffix.lstrip(".") or "text",
                group=spec.get("group") or group,
                columns=spec["columns"],
                rows=spec["rows"],
                fields=spec["fields"],
                key=spec.get("key") or "sku",
                files=[folder / f for f in files],
                text=spec.get("text"),
                additional_context=spec.get("additional_context"),
                expect_failed_files=[PurePosixPath(f).name for f in failed],
            )
        )
    return cases


def _name_of(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        for key in ("source", "file", "filename", "name"):
            if isinstance(entry.get(key), str):
                return entry[key]
    return None


def reported_failures(report: Any) -> set[str]:
    """File names the extraction report names as failed: ``failed_files`` (names or objects
    with ``source``/``file``/``filename``/``name``) and ``sources`` entries that carry an
    ``error``."""
    names: set[str] = set()
    if not isinstance(report, dict):
        return names
    for entry in report.get("failed_files") or []:
        if (name := _name_of(entry)) is not None:
            names.add(PurePosixPath(name).name)
    for source in report.get("sources") or []:
        if isinstance(source, dict) and source.get("error") and (name := _name_of(source)):
            names.add(PurePosixPath(name).name)
    return names


def failed_files_check(expected: list[str], report: Any) -> str:
    got = reported_failures(report)
    want = set(expected)
    if not want and not got:
        return "-"
    missing, unexpected = sorted(want - got), sorted(got - want)
    parts = [f"missing: {', '.join(missing)}"] * bool(missing)
    parts += [f"unexpected: {', '.join(unexpected)}"] * bool(unexpected)
    return "; ".join(parts) or "ok"


class _Runner:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.schemas: dict[str, str] = {}

    def schema_for(self, columns: list[dict[str, Any]]) -> str:
        fingerprint = json.dumps(columns, sort_keys=True)
        if fingerprint not in self.schemas:
            schema = self.client.schemas.create(f"eval {len(self.schemas) + 1}", columns)
            self.schemas[fingerprint] = schema.id
        return self.schemas[fingerprint]

    def run(self, case: Case) -> Score:
        from ..errors import LassoError

        started = time.perf_counter()
        rows: list[dict[str, Any]] = []
        error: str | None = None
        report: Any = None
        try:
            table = self.create(case)
            table = self.client.tables.wait_for_completion(
                table.id, interval_s=0.02, timeout_s=TABLE_TIMEOUT
            )
            report = table.get("extraction_report")
            if table.phase == "completed":
                rows = [dict(row.data) for row in self.client.tables.iter_rows(table.id)]
            else:
                error = table.error_message or f"table ended {table.status}"
        except LassoError as exc:  # a refused upload or create, a wait that timed out
            error = f"{type(exc).__name__}: {exc}"
        score = score_rows(case.name, case.rows, rows, case.fields, case.key)
        score.seconds = time.perf_counter() - started
        score.error = error
        score.category = case.category
        score.group = case.group
        score.failed_files = failed_files_check(case.expect_failed_files, report)
        return score

    def create(self, case: Case) -> Any:
        schema_id = self.schema_for(case.columns)
        common = {
            "schema_id": schema_id,
            "name": case.name,
            "additional_context": case.additional_context,
        }
        if case.text is not None:
            return self.client.tables.create(**common, source_text=case.text)
        file_ids = [self.client.files.upload(path).id for path in case.files]
        return self.client.tables.create(**common, file_ids=file_ids)


def run_cases(cases: list[Case], *, workers: int = 2) -> list[Score]:
    """Score every case through a fresh embedded engine in a temporary data dir."""
    from .. import Lasso
    from . import serve

    if not cases:
        return []
    with (
        tempfile.TemporaryDirectory(prefix="lasso-eval-") as tmp,
        serve(port=0, data_dir=tmp, workers=workers) as engine,
    ):
        client = Lasso(api_key=engine.api_key, base_url=engine.base_url, max_retries=0)
        try:
            runner = _Runner(client)
            return [runner.run(case) for case in cases]
        finally:
            client.close()
