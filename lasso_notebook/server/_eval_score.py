"""Field-level scoring of extracted rows against expected rows: pairing, per-document counts
(precision, recall, F1, non-product rows) and micro-averaged totals over many documents."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Score", "Totals", "score_rows"]

Row = dict[str, Any]


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class Score:
    """One document's counts. ``expected``/``extracted`` count non-empty field values of the
    scored fields; ``correct`` those extracted equal to the expected value of their row."""

    case: str
    expected: int
    extracted: int
    correct: int
    rows_expected: int
    rows_extracted: int
    non_product_rows: int = 0  # extracted rows paired with no expected row
    seconds: float = 0.0
    error: str | None = None  # why the table failed, if it did
    category: str = ""
    group: str = ""
    failed_files: str = "-"  # "-" (none expected or reported), "ok", "missing: …", "unexpected: …"

    @property
    def fixture(self) -> str:  # the name earlier versions of this report used
        return self.case

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 0.0

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class Totals:
    """Micro-averaged counts of several documents (every field value weighs the same)."""

    documents: int = 0
    expected: int = 0
    extracted: int = 0
    correct: int = 0
    non_product_rows: int = 0
    failed_tables: int = 0

    @classmethod
    def of(cls, scores: Iterable[Score]) -> Totals:
        totals = cls()
        for s in scores:
            totals.documents += 1
            totals.expected += s.expected
            totals.extracted += s.extracted
            totals.correct += s.correct
            totals.non_product_rows += s.non_product_rows
            totals.failed_tables += s.error is not None
        return totals

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 0.0

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"precision": self.precision, "recall": self.recall, "f1": self.f1}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return not isinstance(b, bool) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _norm(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _pair_by(
    field: str, wanted: list[Row], pool: list[Row], pairs: list[tuple[Row, Row]]
) -> tuple[list[Row], list[Row]]:
    """Pair rows with equal ``field`` values; returns what is left on both sides."""
    index: dict[Any, Row] = {}
    for row in pool:
        value = row.get(field)
        if _present(value) and not isinstance(value, (list, dict)):
            index.setdefault(_norm(value), row)
    taken: set[int] = set()
    left: list[Row] = []
    for row in wanted:
        value = row.get(field)
        match = index.get(_norm(value)) if _present(value) and not isinstance(value, (list, dict)) else None  # fmt: skip
        if match is not None and id(match) not in taken:
            taken.add(id(match))
            pairs.append((row, match))
        else:
            left.append(row)
    return left, [r for r in pool if id(r) not in taken]


def score_rows(
    case: str, expected: list[Row], extracted: list[Row], fields: list[str], key: str = "sku"
) -> Score:
    """Field-level counts. Rows are paired by ``key``, then by name, then by position among the
    rows still unpaired; a positional pair that agrees on no scored value is no pair. An
    extracted row left unpaired is a non-product row (a total, a heading, a note...).
    A field whose expected value is empty must come out empty: a value there counts against
    precision."""
    pairs: list[tuple[Row, Row]] = []
    wanted, pool = _pair_by(key, expected, extracted, pairs)
    if key != "name":
        wanted, pool = _pair_by("name", wanted, pool, pairs)
    unpaired_expected: list[Row] = []
    for row in wanted:
        candidate = pool[0] if pool else None
        agrees = candidate is not None and any(
            _present(row.get(f)) and _same(row.get(f), candidate.get(f)) for f in fields
        )
        if candidate is not None and agrees:
            pairs.append((row, pool.pop(0)))
        else:
            unpaired_expected.append(row)
    all_pairs: list[tuple[Row | None, Row | None]] = [*pairs]
    all_pairs += [(row, None) for row in unpaired_expected]
    all_pairs += [(None, row) for row in pool]
    exp_n = ext_n = ok = 0
    for want, got in all_pairs:
        for field in fields:
            w = (want or {}).get(field)
            g = (got or {}).get(field)
            exp_n += _present(w)
            ext_n += _present(g)
            ok += _present(w) and _present(g) and _same(w, g)
    return Score(case, exp_n, ext_n, ok, len(expected), len(extracted), len(pool))
