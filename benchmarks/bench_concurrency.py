"""Benchmark 3: 200 concurrent background jobs (each with its progress widget) on one runtime
thread — the CPU that thread uses, and how late a trivial call on the main thread runs while they
poll, against the same measurement with no jobs.

Run: ``.venv/bin/python benchmarks/bench_concurrency.py`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

JOBS = 200
WINDOW = 10.0  # seconds measured while the jobs run
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


def main() -> None:
    from lasso_notebook import Lasso, _runtime
    from lasso_notebook.jobs import resolve_schema, submit

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_frames import start_engine

    with tempfile.TemporaryDirectory() as data_dir:
        # The engine in its own process: only the client's own cost lands in this one.
        engine, base_url, key = start_engine(data_dir, "--pace", "0.4", "--workers", "8")
        try:
            client = Lasso(api_key=key, base_url=base_url)
            schema = resolve_schema(client, "Products")
            baseline = main_thread_lateness(3.0)

            text = "name,sku,price\n" + "\n".join(f"Item {i},S{i},{i}.5" for i in range(40))
            started = time.perf_counter()
            jobs = [
                submit(schema, f"concurrent {i}", text=text, client=client, progress="widget")
                for i in range(JOBS)
            ]
            while any(job.id is None and not job.done() for job in jobs):
                time.sleep(0.05)
            created = time.perf_counter() - started
            runtime_ident = _runtime._thread.ident if _runtime._thread else None
            cpu0, polls0, wall0 = (
                thread_cpu(runtime_ident),
                sum(j.requests for j in jobs),
                time.perf_counter(),
            )
            busy = main_thread_lateness(WINDOW)
            cpu = thread_cpu(runtime_ident) - cpu0
            wall = time.perf_counter() - wall0
            polls = sum(j.requests for j in jobs) - polls0
            finished = sum(job.done() for job in jobs)
            running = sum(job.phase.value == "running" for job in jobs)
            for job in jobs:
                job.detach()
        finally:
            engine.terminate()
            engine.wait(timeout=10)

    def ms(values: list[float], q: float) -> float:
        return (
            statistics.quantiles(values, n=100)[int(q) - 1] * 1000
            if q < 100
            else max(values) * 1000
        )

    print(
        f"{JOBS} jobs submitted (schema resolved, tables created) in {created:.1f} s; "
        f"measured {wall:.1f} s with {running} processing, {finished} finished, the rest queued"
    )
    print(
        f"runtime thread CPU: {cpu:.2f} s in {wall:.1f} s = {100 * cpu / wall:.1f}% of one core;"
        f" {polls / wall:.0f} status polls/s ({1000 * cpu / max(polls, 1):.2f} ms CPU per poll,"
        " widget updates included)"
    )
    print(
        f"main-thread trivial call, lateness p50/p99/max: "
        f"idle {ms(baseline, 50):.2f}/{ms(baseline, 99):.2f}/{ms(baseline, 100):.2f} ms · "
        f"with {JOBS} jobs {ms(busy, 50):.2f}/{ms(busy, 99):.2f}/{ms(busy, 100):.2f} ms"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
