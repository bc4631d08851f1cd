"""Re-running the example notebooks costs nothing: the four notebooks in ``notebooks/`` are
executed top to bottom with nbclient (as "Run All" does), twice, against one engine process and
one client data dir (so the second run can reuse). Reports, per run, the tables the engine
created and the wall time; the target is 0 tables in the second run and at most a third of the
first run's time.

The engine is paced (``--pace``, seconds per progress step, default 5): the notebooks' small
tables then take 10-30 s each, as an extraction really costs waiting (a hosted one takes
minutes), instead of the unpaced engine's few milliseconds. What the second run still spends is
starting four kernels and reading the rows. Already in the first run, 03's form reuses the
table 01 extracted from the same listing.

Run: ``.venv/bin/python benchmarks/bench_rerun.py [--pace 5]``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted((HERE.parent / "notebooks").glob("*.ipynb"))


def table_count(base_url: str, key: str) -> int:
    response = httpx.get(
        f"{base_url}/tables",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["pagination"]["total"])


def run_notebooks(env: dict[str, str], workdir: Path) -> list[tuple[str, float]]:
    """Execute each notebook in a fresh kernel, one after the other; (name, seconds) each."""
    timings = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=300,
            startup_timeout=60,
            resources={"metadata": {"path": str(workdir)}},
        )
        started = time.perf_counter()
        client.execute(env=env)
        timings.append((path.stem, time.perf_counter() - started))
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pace", type=float, default=5.0, help="engine seconds per step")
    args = parser.parse_args(argv or [])

    sys.path.insert(0, str(HERE))
    from bench_frames import start_engine

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine, base_url, key = start_engine(str(root / "engine"), "--pace", str(args.pace))
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LASSO_")}
            env.update(
                LASSO_BASE_URL=base_url,
                LASSO_API_KEY=key,
                # The client's data dir: where the reuse index lives, shared by both runs.
                LASSO_NOTEBOOK_DATA_DIR=str(root / "client"),
                IPYTHONDIR=str(root / "ipython"),
                PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            )
            print(
                f"{len(NOTEBOOKS)} notebooks, one engine process (pace {args.pace:g} s/step), "
                "one client data dir for both runs"
            )
            results = []
            for run in (1, 2):
                workdir = root / f"run{run}"
                workdir.mkdir()
                before = table_count(base_url, key)
                started = time.perf_counter()
                timings = run_notebooks(env, workdir)
                wall = time.perf_counter() - started
                created = table_count(base_url, key) - before
                results.append((created, wall))
                per = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings)
                print(f"run {run}: {created} tables created, {wall:.1f} s wall ({per})")
        finally:
            engine.terminate()
            engine.wait(timeout=30)

    (_, first_wall), (second_tables, second_wall) = results
    ratio = second_wall / first_wall
    met = second_tables == 0 and ratio <= 1 / 3
    print(
        f"second run: {second_tables} tables, {ratio:.2f}x the first run's time "
        f"(target: 0 tables, at most 0.33x) -> {'met' if met else 'NOT MET'}"
    )
    if not met:
        raise RuntimeError("re-running the notebooks was not free enough")


if __name__ == "__main__":
    main(sys.argv[1:])
