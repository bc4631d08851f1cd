"""Benchmark 2: completion detection — median delay from the server marking a table completed to
the client noticing, and status requests per table: lasso_notebook jobs (adaptive polling; ten
jobs on one client are polled together, their listing requests counted as a share per table)
vs the SDK's ``wait_for_completion(interval_s=3)``, both watching the same tables at once.

Run: ``.venv/bin/python benchmarks/bench_polling.py`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

TABLES = 10
PACE = 0.3  # seconds per progress step; small tables take fewer steps (1–5 s in all)
STAGGER = 0.37  # start offsets, so completions fall at different points of the SDK's cycle


def catalog(n: int) -> str:
    lines = ["name,sku,price"] + [f"Item {i},S{i},{i}.5" for i in range(n)]
    return "\n".join(lines)


def main() -> None:
    from lasso import LassoClient as SdkLasso

    from lasso_notebook import Lasso
    from lasso_notebook._poller import poller_for
    from lasso_notebook.jobs import TableJob, resolve_schema

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_frames import start_engine

    with tempfile.TemporaryDirectory() as data_dir:
        engine, base_url, key = start_engine(
            data_dir, "--pace", str(PACE), "--workers", str(TABLES)
        )
        try:
            client = Lasso(api_key=key, base_url=base_url)
            schema = resolve_schema(client, "Products")
            ours: list[tuple[TableJob, str]] = []
            sdk_results: dict[str, tuple[float, int]] = {}
            threads: list[threading.Thread] = []

            def sdk_watch(table_id: str) -> None:
                sdk = SdkLasso(api_key=key, base_url=base_url)
                count = [0]
                sdk._http.event_hooks["request"].append(
                    lambda _r: count.__setitem__(0, count[0] + 1)
                )
                sdk.tables.wait_for_completion(table_id, interval_s=3)
                sdk_results[table_id] = (time.time(), count[0])
                sdk.close()

            for i in range(TABLES):
                table = client.tables.create(
                    schema_id=schema.id,
                    name=f"poll {i}",
                    source_text=catalog(3 + 2 * i),  # 3..21 rows: 3..16 steps, varied durations
                )
                ours.append((TableJob(client=client, table_id=table.id, progress=False), table.id))
                thread = threading.Thread(target=sdk_watch, args=(table.id,))
                thread.start()
                threads.append(thread)
                time.sleep(STAGGER)
            for job, _ in ours:
                job.wait(timeout=120)
            for thread in threads:
                thread.join(timeout=120)
            # The jobs share one client, polled together: its listings are shared by them all.
            listings = poller_for(client.async_client).listings

            ours_delay, sdk_delay, ours_req, sdk_req, took = [], [], [], [], []
            for job, table_id in ours:
                table = client.tables.get(table_id)
                assert table.status == "completed"
                done_at = _epoch(table.updated_at)
                took.append(done_at - _epoch(table.created_at))
                assert job.terminal_seen_at is not None
                ours_delay.append(job.terminal_seen_at - done_at)
                # + the GET that attached, + a share of the listings
                ours_req.append(job.requests + 1 + listings / TABLES)
                seen, count = sdk_results[table_id]
                sdk_delay.append(seen - done_at)
                sdk_req.append(count)
        finally:
            engine.terminate()
            engine.wait(timeout=10)

    print(f"{TABLES} tables taking {min(took):.1f}–{max(took):.1f} s, watched by both at once")
    print(
        f"lasso_notebook job:          median delay {statistics.median(ours_delay) * 1000:6.0f} ms"
        f" (max {max(ours_delay) * 1000:.0f}) · {statistics.mean(ours_req):.1f} status "
        "requests per table"
    )
    print(
        f"SDK wait_for_completion(3):  median delay {statistics.median(sdk_delay) * 1000:6.0f} ms"
        f" (max {max(sdk_delay) * 1000:.0f}) · {statistics.mean(sdk_req):.1f} status "
        "requests per table"
    )
    print(
        f"ratio: noticed {statistics.median(sdk_delay) / statistics.median(ours_delay):.1f}× "
        f"sooner with {statistics.mean(ours_req) / statistics.mean(sdk_req):.1f}× the requests"
    )


def _epoch(value: Any) -> float:
    assert isinstance(value, datetime)
    return value.timestamp()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
