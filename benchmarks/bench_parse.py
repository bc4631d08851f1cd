"""Benchmark 5: parsing a 100,000-row json export (the Products schema, 19 MB) — the incremental
parser fed 64 KB pieces as they would arrive, into columns (``FlatRowsParser``): one object per
line (the embedded engine's layout, orjson per block of lines) and any other layout (ijson's C
backend, here the same rows on one line) — against ``json.loads`` / ``orjson.loads`` of the whole
body into a list of dicts. Time (best of 3) and tracemalloc peak (the body itself not counted: it
is never whole in memory when streamed). No network, no engine.

Run: ``.venv/bin/python benchmarks/bench_parse.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROWS = 100_000
CHUNK = 65_536


def rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"Widget {i}",
            "sku": f"W{i:06d}",
            "brand": "Acme",
            "price": i % 500 + 0.99,
            "currency": "EUR",
            "in_stock": bool(i % 3),
            "release_date": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "tags": ["tools", "garden"],
            "url": f"https://shop.test/w/{i}",
        }
        for i in range(n)
    ]


def streamed(body: bytes) -> Callable[[], Any]:
    from lasso_notebook._export_stream import FlatRowsParser
    from lasso_notebook._frame_build import RowColumns

    def parse() -> Any:
        sink = RowColumns()
        parser = FlatRowsParser(sink)
        for start in range(0, len(body), CHUNK):
            parser.feed(body[start : start + CHUNK])
        parser.close()
        assert sink.count == ROWS
        return sink

    return parse


def measure(fn: Callable[[], Any]) -> tuple[float, int]:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
        del result
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return best, peak


def main() -> None:
    import orjson

    data = rows(ROWS)
    per_line = b"[\n" + b",\n".join(orjson.dumps(r) for r in data) + b"\n]\n"
    one_line = orjson.dumps(data)
    del data
    cases = [
        ("json.loads, whole body → list of dicts", lambda: json.loads(per_line)),
        ("orjson.loads, whole body → list of dicts", lambda: orjson.loads(per_line)),
        ("streamed, one object per line (orjson) → columns", streamed(per_line)),
        ("streamed, any layout (ijson yajl2_c) → columns", streamed(one_line)),
    ]
    print(f"{ROWS:,} rows × 9 columns, {len(per_line) / 1e6:.1f} MB; fed in 64 KB pieces")
    baseline = None
    for label, fn in cases:
        seconds, peak = measure(fn)
        baseline = baseline or seconds
        print(
            f"{label:<50} {seconds:6.3f} s ({baseline / seconds:4.1f}× json.loads) · "
            f"peak {peak / 1e6:6.1f} MB"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
