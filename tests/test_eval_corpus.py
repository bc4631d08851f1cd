"""The held-out corpus and the ``make eval`` harness: the generator reproduces the committed
ground truth byte for byte, every case file is well-formed, scoring pairs rows and counts
non-product rows, and the harness scores real engine tables (failed ones included)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from lasso_notebook.server._eval_run import (
    failed_files_check,
    load_cases,
    reported_failures,
    run_cases,
)
from lasso_notebook.server.eval import DEFAULT_DIR, HELDOUT_DIR, Totals, main, score_rows

ROOT = Path(__file__).resolve().parents[1]
TABLE_FORMATS = {".csv", ".tsv", ".xlsx", ".xls", ".pdf", ".docx", ".html", ".txt", ".md"}


def test_generator_reproduces_the_committed_corpus(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.heldout.generate", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    committed = sorted(p.relative_to(HELDOUT_DIR) for p in HELDOUT_DIR.rglob("*") if p.is_file())
    generated = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert generated == committed  # the same cases and documents
    specs = [p for p in committed if p.name.endswith(".expected.json")]
    assert len(specs) >= 65
    for rel in specs:
        assert (out / rel).read_bytes() == (HELDOUT_DIR / rel).read_bytes(), rel


def test_every_heldout_case_is_well_formed() -> None:
    specs = [json.loads(p.read_text()) for p in sorted(HELDOUT_DIR.glob("*.expected.json"))]
    groups = Counter(s["group"] for s in specs)
    assert groups["tables"] >= 40 and groups["beyond-tables"] >= 25
    categories = {g: {s["category"] for s in specs if s["group"] == g} for g in groups}
    assert not categories["tables"] & categories["beyond-tables"]
    suffixes = {Path(f).suffix for s in specs if s["group"] == "tables" for f in s.get("files", [])}
    assert suffixes >= TABLE_FORMATS
    for spec in specs:
        name = spec["case"]
        keys = [c["key"] for c in spec["columns"]]
        assert spec["rows"] and set(spec["fields"]) <= set(keys) and "name" in spec["fields"], name
        assert ("text" in spec) != ("files" in spec), name
        for f in spec.get("files", []):
            assert (HELDOUT_DIR / f).is_file(), (name, f)
        assert set(spec["expect_failed_files"]) <= set(spec.get("files", [])), name
        pairing = [row.get(spec["key"]) for row in spec["rows"]]
        assert all(pairing) and len(set(pairing)) == len(pairing), name
        assert all(set(row) == set(spec["fields"]) for row in spec["rows"]), name
        assert spec["traps"], name
    multi = [s for s in specs if s["expect_failed_files"]]
    assert len(multi) >= 4 and all(len(s["files"]) > len(s["expect_failed_files"]) for s in multi)


def test_score_rows_counts_non_product_rows_and_f1() -> None:
    expected = [
        {"sku": "A1", "name": "Drill", "price": 10.0},
        {"sku": "B2", "name": "Saw", "price": 20.0},
        {"sku": "C3", "name": "Plane", "price": 30.0},
    ]
    extracted = [
        {"sku": "A1", "name": "Drill", "price": 10.0},
        {"sku": "b2x", "name": "Saw", "price": 21.0},  # paired by name, wrong sku and price
        {"sku": None, "name": "Total", "price": 60.0},  # agrees with nothing: a non-product row
    ]
    s = score_rows("doc", expected, extracted, ["sku", "name", "price"])
    assert (s.expected, s.extracted, s.correct, s.non_product_rows) == (9, 8, 4, 1)
    assert s.precision == 4 / 8 and s.recall == 4 / 9
    assert abs(s.f1 - 2 * (4 / 8) * (4 / 9) / (4 / 8 + 4 / 9)) < 1e-12
    # An expected empty value must come out empty: a guessed SKU costs precision.
    guess = score_rows("doc", [{"name": "Hose 25 m", "sku": None}], [{"name": "Hose 25 m", "sku": "25 m"}], ["name", "sku"], key="name")  # fmt: skip
    assert (guess.expected, guess.extracted, guess.correct) == (1, 2, 1)
    totals = Totals.of([s, guess])
    assert (totals.correct, totals.extracted, totals.non_product_rows) == (5, 10, 1)
    assert totals.precision == 0.5 and totals.f1 > 0


def test_failed_files_are_read_from_the_extraction_report() -> None:
    report = {
        "failed_files": ["photo.png", {"filename": "x/empty.csv", "error": "empty"}],
        "sources": [{"source": "a.csv", "rows": 3}, {"file": "bad.pdf", "error": "damaged"}],
    }
    assert reported_failures(report) == {"photo.png", "empty.csv", "bad.pdf"}
    assert failed_files_check(["photo.png", "empty.csv", "bad.pdf"], report) == "ok"
    assert failed_files_check(["photo.png", "gone.pdf"], report) == (
        "missing: gone.pdf; unexpected: bad.pdf, empty.csv"
    )
    assert failed_files_check([], None) == "-"


MINI_COLUMNS = [
    {"key": "name", "label": "Name", "type": "text"},
    {"key": "sku", "label": "SKU", "type": "text"},
    {"key": "price", "label": "Price", "type": "number"},
]


def _case(folder: Path, name: str, **spec: object) -> None:
    base = {
        "case": name,
        "category": "mini",
        "group": "tables",
        "columns": MINI_COLUMNS,
        "additional_context": None,
        "fields": ["name", "sku", "price"],
        "key": "sku",
        "expect_failed_files": [],
        "traps": ["mini"],
    }
    (folder / f"{name}.expected.json").write_text(json.dumps(base | spec))


def test_harness_scores_engine_tables_and_failed_ones_without_crashing(tmp_path: Path) -> None:
    heldout = tmp_path / "heldout"
    (heldout / "bad").mkdir(parents=True)
    (heldout / "bad" / "empty.csv").write_bytes(b"")
    rows = [{"name": "Drill", "sku": "D1", "price": 5.0}, {"name": "Saw", "sku": "S1", "price": 7.5}]  # fmt: skip
    _case(heldout, "good", text="Product,SKU,Price\nDrill,D1,5.00\nSaw,S1,7.50\n", rows=rows)
    _case(heldout, "bad", files=["bad/empty.csv"], rows=rows, expect_failed_files=["bad/empty.csv"])  # fmt: skip
    bad, good = run_cases(load_cases(heldout))  # cases load in name order
    assert (good.case, good.recall, good.precision, good.non_product_rows) == ("good", 1.0, 1.0, 0)
    assert good.failed_files == "-" and good.error is None
    assert bad.recall == 0.0 and bad.rows_extracted == 0
    assert bad.error is not None and "empty" in bad.error
    assert bad.failed_files == "ok"  # the engine names the failed file in its report

    # The CLI: the DEV set gates, the held-out set (here failing) never does.
    report = tmp_path / "figures.json"
    dev = tmp_path / "dev"
    dev.mkdir()
    _case(dev, "dev-good", text="Product,SKU,Price\nDrill,D1,5.00\nSaw,S1,7.50\n", rows=rows)
    argv = ["--dev-dir", str(dev), "--heldout-dir", str(heldout), "--json", str(report)]
    assert main(argv) == 0
    figures = json.loads(report.read_text())
    assert figures["heldout"]["overall"]["documents"] == 2
    assert figures["heldout"]["categories"]["mini"]["failed_tables"] == 1
    assert figures["dev"]["overall"]["f1"] == 1.0
    _case(dev, "dev-bad", text="Product,SKU,Price\nDrill,D1,5.00\n", rows=rows)
    assert main([*argv, "--set", "dev"]) == 1


def test_dev_set_cases_keep_loading_in_the_fixture_format() -> None:
    cases = load_cases(DEFAULT_DIR, group="dev")
    assert len(cases) >= 15
    assert all(c.files and c.files[0].is_file() and c.key == "sku" for c in cases)
    assert {c.category for c in cases} >= {"csv", "pdf", "xlsx", "docx", "html"}
