"""Benchmark 3: 200 concurrent background jobs (each with its progress widget) on one runtime
thread — the CPU that thread uses, the status requests sent, how late a finished table is noticed,
and how late a trivial call on the main thread runs while they poll. Side by side in one run:
the jobs polled together (one listing of the active tables per cycle, ``_poller``) and the same
poller with grouping switched off (every table polled on its own schedule, as before).

Run: ``.venv/bin/python benchmarks/bench_concurrency.py`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

JOBS = 200
WINDOW = 15.0  # seconds measured while the jobs run
TICK = 0.005  # the main thread asks to run a trivial call every 5 ms


def main_thread_lateness(seconds: float) -> list[float]:
    """How late (s) a trivial call scheduled TICK ahead actually finishes, repeatedly."""
    late: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        time.sleep(TICK)
        sum(range(50))  # the trivial call: needs the GIL back, like any cell code
        late.append(time.perf_counter() - start - TICK)
    return late


def thread_cpu(ident: int | None) -> float:
    assert ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


def ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if q >= 100:
        return max(values) * 1000
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


def run(grouped: bool) -> dict[str, Any]:
    from bench_frames import start_engine

    from lasso_notebook import Lasso, _poller, _runtime
    from lasso_notebook.jobs import resolve_schema, submit

    _poller.GROUP_FROM = 4 if grouped else 10**9
    with tempfile.TemporaryDirectory() as data_dir:
        # The engine in its own process: only the client's own cost lands in this one.
        engine, base_url, key = start_engine(data_dir, "--pace", "0.4", "--workers", "8")
        try:
            client = Lasso(api_key=key, base_url=base_url)
            schema = resolve_schema(client, "Products")
            text = "name,sku,price\n" + "\n".join(f"Item {i},S{i},{i}.5" for i in range(40))
            started = time.perf_counter()
            jobs = [
                submit(schema, f"concurrent {i}", text=text, client=client, progress="widget")
                for i in range(JOBS)
            ]
            while any(job.id is None and not job.done() for job in jobs):
                time.sleep(0.05)
            created = time.perf_counter() - started
            time.sleep(1.0)  # past every job's first poll: the steady state is measured
            poller = _poller.poller_for(client.async_client)
            runtime_ident = _runtime._thread.ident if _runtime._thread else None
            cpu0, wall0 = thread_cpu(runtime_ident), time.perf_counter()
            requests0 = poller.listings + poller.reads
            done0 = {id(job) for job in jobs if job.done()}
            busy = main_thread_lateness(WINDOW)
            cpu = thread_cpu(runtime_ident) - cpu0
            wall = time.perf_counter() - wall0
            requests = poller.listings + poller.reads - requests0
            listings = poller.listings
            finished = [job for job in jobs if job.done() and id(job) not in done0]
            delays = [
                job.terminal_seen_at - job.table.updated_at.timestamp()
                for job in finished
                if job.terminal_seen_at is not None and job.table and job.table.updated_at
            ]
            running = sum(job.phase.value == "running" for job in jobs)
            for job in jobs:
                job.detach()
            client.close()
        finally:
            engine.terminate()
            engine.wait(timeout=10)
    return {
        "created": created,
        "wall": wall,
        "cpu": cpu,
        "requests": requests,
        "listings": listings,
        "finished": len(finished),
        "running": running,
        "delays": delays,
        "busy": busy,
    }


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    baseline = main_thread_lateness(3.0)
    results = [("each table on its own", run(grouped=False)), ("polled together", run(True))]
    print(
        f"{JOBS} jobs with widgets, engine --pace 0.4 --workers 8; {WINDOW:.0f} s measured "
        "after creation (engine in another process)"
    )
    for label, r in results:
        print(
            f"[{label:>21}] runtime thread {100 * r['cpu'] / r['wall']:5.1f}% of one core · "
            f"{r['requests'] / r['wall']:5.1f} status requests/s · finished in window "
            f"{r['finished']}, noticed after median {ms(r['delays'], 50):.0f} ms "
            f"(max {ms(r['delays'], 100):.0f}) · main-thread call late p50/p99 "
            f"{ms(r['busy'], 50):.2f}/{ms(r['busy'], 99):.2f} ms"
        )
    print(f"idle main-thread call late p50/p99 {ms(baseline, 50):.2f}/{ms(baseline, 99):.2f} ms")
    (_, off), (_, on) = results
    print(
        f"ratio: {off['cpu'] / off['wall'] / max(on['cpu'] / on['wall'], 1e-9):.1f}× less "
        f"runtime-thread CPU, {off['requests'] / max(on['requests'], 1):.1f}× fewer requests"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
