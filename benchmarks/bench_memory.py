"""Benchmark 4: peak memory of reading a 400,000-row × 9-column table (the Products schema,
extracted from a 40 MB CSV) into a DataFrame, against the size of that DataFrame
(``memory_usage(deep=True)``): lasso_notebook's job (streamed export → columns → frame) and, side by
side in the same run, the ``lasso-ai`` SDK's ``results_as_dataframe``.

Each read runs in a fresh child process, so nothing of one read is left in the next. The child
imports everything and reads a small table once by the same path (a kernel that has used the
library before), resets the kernel's peak-RSS mark (``/proc/self/clear_refs``), notes its RSS,
reads the big table, and reports the peak RSS (``VmHWM``) minus that baseline. RSS is what the
operating system charges the kernel: Python objects, numpy buffers, the HTTP client's buffers and
the allocator's fragmentation included, which a tracemalloc peak would leave out. (The tracemalloc
peak is printed too, from a separate child, as a cross-check.)

Run: ``.venv/bin/python benchmarks/bench_memory.py`` (or ``make bench``). Linux only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = 400_000
WARM_ROWS = 200


def _status(field: str) -> int:
    """A ``/proc/self/status`` size in bytes (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def child(kind: str, base_url: str, key: str, table_id: str, warm_id: str) -> None:
    """Read ``table_id`` the ``kind`` way, print the figures as JSON (in a fresh process)."""
    import gc
    import tracemalloc

    def read(table: str) -> Any:
        if kind == "sdk":
            return sdk.tables.results_as_dataframe(table)
        return TableJob(client=client, table_id=table, progress=False).result()

    if kind == "sdk":
        from lasso import LassoClient

        sdk = LassoClient(api_key=key, base_url=base_url)
    else:
        from lasso_notebook import Lasso
        from lasso_notebook.jobs import TableJob

        client = Lasso(api_key=key, base_url=base_url)
    read(warm_id)  # imports, connection pool, runtime thread: what a used kernel already has
    gc.collect()
    traced = kind.endswith("+tracemalloc")
    if traced:
        tracemalloc.start()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak RSS mark starts again from the current RSS
    baseline = _status("VmRSS")
    started = time.perf_counter()
    df = read(table_id)
    seconds = time.perf_counter() - started
    peak = _status("VmHWM") - baseline
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else None
    print(
        json.dumps(
            {
                "rows": len(df),
                "seconds": seconds,
                "peak": peak,
                "after": _status("VmRSS") - baseline,
                "traced_peak": traced_peak,
                "frame": int(df.memory_usage(deep=True).sum()),
            }
        )
    )


def measure(kind: str, base_url: str, key: str, table_id: str, warm_id: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, base_url, key, table_id, warm_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from bench_frames import make_table, start_engine

    from lasso_notebook import Lasso

    with tempfile.TemporaryDirectory() as data_dir:
        engine, base_url, key = start_engine(data_dir)
        try:
            client = Lasso(api_key=key, base_url=base_url)
            started = time.perf_counter()
            table_id = make_table(client, ROWS)
            warm_id = make_table(client, WARM_ROWS)
            made = time.perf_counter() - started
            client.close()
            results = [
                ("lasso_notebook", measure("ours", base_url, key, table_id, warm_id)),
                ("lasso-ai SDK", measure("sdk", base_url, key, table_id, warm_id)),
                ("lasso_notebook", measure("ours+tracemalloc", base_url, key, table_id, warm_id)),
            ]
        finally:
            engine.terminate()
            engine.wait(timeout=10)

    mb = 1e6
    print(f"made a {ROWS:,}-row × 9-column table (40 MB CSV → completed) in {made:.0f} s")
    for label, r in results[:2]:
        assert r["rows"] == ROWS
        print(
            f"[{label:>14}] frame {r['frame'] / mb:6.1f} MB (memory_usage(deep=True)) · peak RSS "
            f"+{r['peak'] / mb:6.1f} MB = {r['peak'] / r['frame']:.2f}× the frame · RSS after "
            f"+{r['after'] / mb:6.1f} MB · {r['seconds']:.1f} s"
        )
    traced = results[2][1]
    print(
        f"[lasso_notebook] tracemalloc peak {traced['traced_peak'] / mb:.1f} MB = "
        f"{traced['traced_peak'] / traced['frame']:.2f}× the frame (separate child, traced)"
    )
    ours, sdk = results[0][1], results[1][1]
    print(f"ratio: the SDK's peak is {sdk['peak'] / ours['peak']:.1f}× lasso_notebook's")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        child(*sys.argv[2:7])
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        main()
