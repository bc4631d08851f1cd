"""Accuracy report of the embedded extractor: runs every catalog fixture (a file plus its
``.expected.json``) through ``extract`` and prints field-level precision and recall.

Run: ``python -m lasso_notebook.server.eval [FIXTURE_DIR]`` (default
``tests/fixtures/catalogs`` of the repository). Exit status 1 when a fixture scores below
``--threshold`` (0.95)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .extract import ExtractionError, Source, extract

__all__ = ["DEFAULT_DIR", "Score", "evaluate", "main", "score_rows"]

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "catalogs"


@dataclass
class Score:
    fixture: str
    expected: int  # non-null expected field values
    extracted: int  # non-null extracted field values (of the evaluated fields)
    correct: int
    rows_expected: int
    rows_extracted: int
    seconds: float
    error: str | None = None

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 0.0


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return not isinstance(b, bool) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def score_rows(
    fixture: str,
    expected: list[dict[str, Any]],
    extracted: list[dict[str, Any]],
    fields: list[str],
    key: str = "sku",
) -> Score:
    """Field-level counts. Rows are paired by ``key`` (then by position for the rest); an
    extracted value counts as correct only when it equals the expected value of its row."""
    by_key = {r.get(key): r for r in extracted if _present(r.get(key))}
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    used: set[int] = set()
    leftovers = []
    for row in expected:
        match = by_key.get(row.get(key))
        if match is not None and id(match) not in used:
            used.add(id(match))
            pairs.append((row, match))
        else:
            leftovers.append(row)
    unpaired = [r for r in extracted if id(r) not in used]
    for row in leftovers:
        pairs.append((row, unpaired.pop(0) if unpaired else None))
    pairs.extend((None, r) for r in unpaired)
    exp_n = ext_n = ok = 0
    for want, got in pairs:
        for field in fields:
            w = (want or {}).get(field)
            g = (got or {}).get(field)
            exp_n += _present(w)
            ext_n += _present(g)
            ok += _present(w) and _present(g) and _same(w, g)
    return Score(fixture, exp_n, ext_n, ok, len(expected), len(extracted), 0.0)


def evaluate(folder: Path = DEFAULT_DIR) -> list[Score]:
    scores = []
    for spec_path in sorted(folder.glob("*.expected.json")):
        spec = json.loads(spec_path.read_text())
        path = folder / spec["file"]
        start = time.perf_counter()
        source = Source(path=path, filename=path.name)
        error = None
        try:
            rows = [
                r["data"]
                for r in extract(
                    source, spec["columns"], spec.get("additional_context"), lambda _f: None
                )
            ]
        except ExtractionError as exc:
            rows, error = [], exc.message
        score = score_rows(spec["file"], spec["rows"], rows, spec["fields"])
        score.seconds = time.perf_counter() - start
        score.error = error
        scores.append(score)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--threshold", type=float, default=0.95)
    args = parser.parse_args(argv)
    scores = evaluate(args.folder)
    if not scores:
        print(f"no *.expected.json fixtures in {args.folder}", file=sys.stderr)
        return 1
    print(f"{'fixture':<24} {'rows':>9} {'fields':>7} {'precision':>9} {'recall':>7} {'ms':>6}")
    failed = False
    for s in scores:
        low = min(s.precision, s.recall) < args.threshold
        failed |= low
        print(
            f"{s.fixture:<24} {s.rows_extracted:>4}/{s.rows_expected:<4} {s.expected:>7} "
            f"{s.precision:>9.3f} {s.recall:>7.3f} {s.seconds * 1000:>6.0f}"
            + ("  << below threshold" if low else "")
            + (f"  ({s.error})" if s.error else "")
        )
    total_ok = sum(s.correct for s in scores)
    precision = total_ok / max(1, sum(s.extracted for s in scores))
    recall = total_ok / max(1, sum(s.expected for s in scores))
    print(
        f"{'all':<24} {'':>9} {sum(s.expected for s in scores):>7} {precision:>9.3f} {recall:>7.3f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
