"""Writes the held-out corpus: every template of Part A (tables) and Part B (beyond tables)
rendered a fixed number of times, each case from its own seeded random generator, into
``benchmarks/heldout/corpus/`` (documents in ``<case>/``, truth in ``<case>.expected.json``).

Run from the repository root: ``.venv/bin/python -m benchmarks.heldout.generate [--out DIR]``
(``make heldout``). The same seed gives the same files; ``--seed`` draws a fresh corpus from the
same templates (a second blind sample: ``--seed S --out /tmp/heldout-S``, then
``python -m lasso_notebook.server.eval --set heldout --heldout-dir /tmp/heldout-S``)."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from .beyond_cases import TEMPLATES as BEYOND
from .case import Case
from .tables_cases import TEMPLATES as TABLES

SEED = "lasso-heldout-2025"
DEFAULT_OUT = Path(__file__).resolve().parent / "corpus"

Template = Callable[[random.Random, str], Case]


def plan() -> list[tuple[str, Template]]:
    """(case name, template) for every case, in a fixed order."""
    out: list[tuple[str, Template]] = []
    for prefix, templates in (("t", TABLES), ("b", BEYOND)):
        for template, count in templates:
            stem = template.__name__.removesuffix("_case").replace("_", "-")
            out += [(f"{prefix}-{stem}-{n}", template) for n in range(1, count + 1)]
    return out


def build(seed: str = SEED) -> list[Case]:
    cases = []
    for name, template in plan():
        # One generator per case, seeded by its name: adding a case changes no other.
        cases.append(template(random.Random(f"{seed}:{name}"), name))
    return cases


def write(cases: list[Case], out: Path) -> None:
    if out.exists():
        for old in out.iterdir():
            if old.is_dir():
                shutil.rmtree(old)
            elif old.name.endswith(".expected.json"):
                old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for case in cases:
        case.write(out)


def summary(cases: list[Case]) -> str:
    by_category = Counter(c.category for c in cases)
    by_format = Counter(
        Path(name).suffix.lower() or "(none)" for c in cases for name, _ in c.files
    ) + Counter("(inline text)" for c in cases if c.text is not None)
    traps = Counter(t for c in cases for t in c.traps)
    lines = [f"{len(cases)} cases, {sum(len(c.rows) for c in cases)} expected rows"]
    lines.append("categories: " + ", ".join(f"{k} {v}" for k, v in sorted(by_category.items())))
    lines.append("formats: " + ", ".join(f"{k} {v}" for k, v in sorted(by_format.items())))
    lines.append("traps: " + ", ".join(f"{k} {v}" for k, v in sorted(traps.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", default=SEED, help="another seed draws a fresh corpus")
    args = parser.parse_args(argv)
    cases = build(args.seed)
    write(cases, args.out)
    print(summary(cases))
    print(f"wrote {len(cases)} cases to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
