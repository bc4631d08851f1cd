"""Embedded engine benchmark: create -> completed time for a 1,000-row CSV source, and
``GET /tables/{id}`` latency percentiles while 100 tables are submitted at once (the engine
extracts ``--workers`` of them at a time, default 2; the rest wait queued). Loopback only;
prints figures, asserts nothing. Run: ``.venv/bin/python benchmarks/bench_engine.py``."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time

import httpx

from lasso_notebook.server import serve


def make_csv(rows: int) -> str:
    lines = ["name,sku,brand,price,currency,in_stock,release_date,tags,url"]
    for i in range(rows):
        lines.append(
            f"Widget {i},W{i:05d},Acme,{i % 500}.99,EUR,{'yes' if i % 3 else 'no'},"
            f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},tools;garden,https://shop.test/w/{i}"
        )
    return "\n".join(lines) + "\n"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def wait_done(api: httpx.Client, table_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = api.get(f"/tables/{table_id}").json()
        if table["status"] in ("completed", "failed"):
            return table
        time.sleep(0.005)
    raise TimeoutError(table_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000, help="rows in the single-table source")
    parser.add_argument("--repeat", type=int, default=5, help="single-table runs")
    parser.add_argument("--tables", type=int, default=100, help="tables submitted at once")
    parser.add_argument("--table-rows", type=int, default=1000, help="rows per concurrent table")
    parser.add_argument("--pollers", type=int, default=2, help="threads polling GET /tables/{id}")
    parser.add_argument("--workers", type=int, default=2, help="engine extraction workers")
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory() as data_dir,
        serve(data_dir=data_dir, workers=args.workers) as engine,
    ):
        headers = {"Authorization": f"Bearer {engine.api_key}"}
        with httpx.Client(base_url=engine.base_url, headers=headers, timeout=60) as api:
            schema_id = next(
                s["id"] for s in api.get("/schemas").json()["data"] if s["name"] == "Products"
            )
            print(f"engine {engine.base_url} (workers={args.workers}, data dir on {data_dir})")

            # 1. create -> completed for one CSV source.
            text = make_csv(args.rows)
            times = []
            for n in range(args.repeat):
                start = time.perf_counter()
                created = api.post(
                    "/tables",
                    json={"name": f"single {n}", "schema_id": schema_id, "source_text": text},
                )
                done = wait_done(api, created.json()["id"])
                times.append(time.perf_counter() - start)
                assert done["status"] == "completed" and done["total_rows"] == args.rows, done
            print(
                f"\ncreate -> completed, {args.rows}-row CSV ({len(text) / 1024:.0f} KiB), {args.repeat} runs:"
                f"\n  median {statistics.median(times) * 1000:.0f} ms   min {min(times) * 1000:.0f} ms"
                f"   max {max(times) * 1000:.0f} ms   ({args.rows / statistics.median(times):,.0f} rows/s)"
            )

            # 2. GET latency while many tables are submitted: `workers` extract, the rest queue.
            text = make_csv(args.table_rows)
            start = time.perf_counter()
            ids = [
                api.post(
                    "/tables",
                    json={"name": f"bulk {i}", "schema_id": schema_id, "source_text": text},
                ).json()["id"]
                for i in range(args.tables)
            ]
            created_in = time.perf_counter() - start
            latencies: list[float] = []
            stop = threading.Event()
            lock = threading.Lock()

            def poll(offset: int) -> None:
                with httpx.Client(base_url=engine.base_url, headers=headers, timeout=60) as client:
                    i = offset
                    while not stop.is_set() and len(latencies) < 20_000:  # bounded
                        t0 = time.perf_counter()
                        client.get(f"/tables/{ids[i % len(ids)]}").raise_for_status()
                        with lock:
                            latencies.append(time.perf_counter() - t0)
                        i += 7

            pollers = [threading.Thread(target=poll, args=(n,)) for n in range(args.pollers)]
            for thread in pollers:
                thread.start()
            statuses = [wait_done(api, tid, timeout=600)["status"] for tid in ids]
            all_done = time.perf_counter() - start
            stop.set()
            for thread in pollers:
                thread.join()
            ms = [x * 1000 for x in latencies]
            print(
                f"\n{args.tables} tables x {args.table_rows} rows submitted at once "
                f"({args.workers} extracting, the rest queued; "
                f"created in {created_in:.2f} s, all finished after {all_done:.1f} s, "
                f"{statuses.count('completed')} completed, "
                f"{args.tables * args.table_rows / all_done:,.0f} rows/s):"
                f"\n  GET /tables/{{id}} from {args.pollers} pollers, {len(ms)} requests:"
                f"\n  p50 {percentile(ms, 50):.1f} ms   p95 {percentile(ms, 95):.1f} ms"
                f"   p99 {percentile(ms, 99):.1f} ms   max {max(ms):.1f} ms"
            )


if __name__ == "__main__":
    main()
