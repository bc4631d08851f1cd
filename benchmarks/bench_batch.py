"""Benchmark: 40 files into DataFrames — one ``submit_batch`` (tables of up to 10, or one per file,
4 in flight, one display) vs 40 sequential calls of the ``lasso-ai`` SDK (``files.upload`` →
``tables.create`` → ``wait_for_completion`` → ``results_as_dataframe``), same engine process,
same files, side by side in one run; then the batch run again (every table reused).

The engine runs in its own process with its default 2 workers, paced (``--pace``, seconds per
progress step; default 0.02: a file of 50 rows takes ~0.35 s, as an extraction takes time) so
the figures are not only client overhead. The SDK is measured with its default
``interval_s=3`` and with ``interval_s=0.5`` (a user who tuned it).

Run: ``.venv/bin/python benchmarks/bench_batch.py [--pace 0.02]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FILES = 40
ROWS = 50


def write_files(folder: Path) -> list[Path]:
    """40 small catalogs in three formats, 50 rows each, every SKU distinct."""
    paths = []
    for i in range(FILES):
        rows = [(f"Item {i}-{j}", f"S{i:02d}-{j:03d}", f"{(i * 7 + j) % 90 + 9}.{j % 100:02d}")
            for j in range(ROWS)]  # fmt: skip
        if i % 3 == 0:
            path = folder / f"catalog_{i:02d}.tsv"
            body = "name\tsku\tprice\n" + "".join(f"{n}\t{s}\t{p}\n" for n, s, p in rows)
        elif i % 3 == 1:
            path = folder / f"catalog_{i:02d}.json"
            items = ",".join(f'{{"name": "{n}", "sku": "{s}", "price": {p}}}' for n, s, p in rows)
            body = f'{{"products": [{items}]}}'
        else:
            path = folder / f"catalog_{i:02d}.csv"
            body = "name,sku,price\n" + "".join(f"{n},{s},{p}\n" for n, s, p in rows)
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def sdk_sequential(
    base_url: str, key: str, paths: list[Path], interval: float
) -> tuple[float, int]:
    """What a script with the official SDK does: one file after the other."""
    import pandas as pd
    from lasso import LassoClient

    sdk = LassoClient(api_key=key, base_url=base_url)
    schema_id = next(
        s["id"] for s in sdk.schemas.list(limit=100)["data"] if s["name"] == "Products"
    )
    started = time.perf_counter()
    frames = []
    for path in paths:
        upload = sdk.files.upload(str(path))
        table = sdk.tables.create(schema_id=schema_id, name=path.name, file_ids=[upload["id"]])
        done = sdk.tables.wait_for_completion(table["id"], interval_s=interval, timeout_s=600)
        assert done["status"] == "completed", done
        frames.append(sdk.tables.results_as_dataframe(table["id"]))
    rows = len(pd.concat(frames, ignore_index=True))
    took = time.perf_counter() - started
    sdk.close()
    return took, rows


def ours(client: Any, paths: list[Path], **options: Any) -> tuple[float, Any]:
    from lasso_notebook import submit_batch

    started = time.perf_counter()
    job = submit_batch("Products", files=paths, client=client, progress=False, **options)
    df = job.result(timeout=900)
    return time.perf_counter() - started, (job, df)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pace", type=float, default=0.02)
    args = parser.parse_args(argv if argv is not None else [])

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_frames import start_engine
    from bench_rerun import table_count

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # The reuse index of this run only (the re-run below is meant to reuse).
        os.environ["LASSO_NOTEBOOK_DATA_DIR"] = str(tmp_path / "client")
        from lasso_notebook import Lasso

        folder = tmp_path / "files"
        folder.mkdir()
        paths = write_files(folder)
        engine, base_url, key = start_engine(str(tmp_path / "engine"), "--pace", str(args.pace))
        try:
            client = Lasso(api_key=key, base_url=base_url)
            print(
                f"{FILES} files of {ROWS} rows (CSV, TSV, JSON); engine in its own process, "
                f"2 workers, --pace {args.pace}"
            )
            before = table_count(base_url, key)
            batch_s, (batch, df) = ours(client, paths)
            tables = table_count(base_url, key) - before
            assert len(df) == FILES * ROWS and not batch.failures, batch.failures
            print(f"  submit_batch (tables of ≤10):       {batch_s:6.2f} s  ({tables} tables)")

            sdk_fast_s, sdk_rows = sdk_sequential(base_url, key, paths, interval=0.5)
            assert sdk_rows == FILES * ROWS
            print(f"  SDK, 40 in a row, interval_s=0.5:   {sdk_fast_s:6.2f} s  (40 tables)")

            per_file_s, (per_file, df_pf) = ours(client, paths, per_file=True)
            assert len(df_pf) == FILES * ROWS and len(per_file.jobs) == FILES
            print(f"  submit_batch(per_file=True):        {per_file_s:6.2f} s  (40 tables)")

            sdk_s, sdk_rows = sdk_sequential(base_url, key, paths, interval=3)
            assert sdk_rows == FILES * ROWS
            print(f"  SDK, 40 in a row, interval_s=3:     {sdk_s:6.2f} s  (40 tables)")

            before = table_count(base_url, key)
            rerun_s, (rerun, df_again) = ours(client, paths)
            assert rerun.reused and df_again.equals(df)
            created = table_count(base_url, key) - before
            print(f"  submit_batch again (reused):        {rerun_s:6.2f} s  ({created} tables)")
            print(
                f"ratios: batch vs SDK(3 s) {sdk_s / batch_s:.1f}×, vs SDK(0.5 s) "
                f"{sdk_fast_s / batch_s:.1f}×; per-file batch vs SDK(3 s) "
                f"{sdk_s / per_file_s:.1f}×, vs SDK(0.5 s) {sdk_fast_s / per_file_s:.1f}×"
            )
            client.close()
        finally:
            engine.terminate()
            engine.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
