"""Data-dir size benchmark: a ~50 MB CSV uploaded and extracted by the embedded engine, then
the table and the file deleted; prints the data dir's size (database, WAL, uploaded files)
after each step and the time each took. Prints figures, asserts nothing.
Run: ``.venv/bin/python benchmarks/bench_storage.py [--rows N]``."""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx

from lasso_notebook.server import serve


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as fh:
        fh.write("Product Name,Item #,Manufacturer,Unit Price,Currency,Availability,Released,")
        fh.write("Keywords,Product URL\n")
        for i in range(rows):
            fh.write(
                f'Widget {i} deluxe,W{i:06d},Acme,"${i % 5000:,}.99",USD,'
                f"{'In stock' if i % 3 else 'Out of stock'},{i % 12 + 1:02d}/{i % 28 + 1:02d}/2024,"
                f'"tools; garden",https://shop.example.com/w/{i}\n'
            )


def sizes(data_dir: Path) -> str:
    """The data dir's total and its parts, in MB."""
    parts = {"database": 0, "WAL": 0, "files": 0, "other": 0}
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        size = path.stat().st_size
        if path.name == "engine.sqlite3":
            parts["database"] += size
        elif path.name == "engine.sqlite3-wal":
            parts["WAL"] += size
        elif path.parent.name == "files":
            parts["files"] += size
        else:
            parts["other"] += size
    total = sum(parts.values())
    detail = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in parts.items())
    return f"{total / 1e6:6.1f} MB ({detail})"


def per_row(database: Path, rows: int) -> str:
    """Bytes per row of the rows table and each of its indexes (SQLite's dbstat table)."""
    db = sqlite3.connect(database)
    try:
        found = db.execute(
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE '%rows%'"
            " GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    except sqlite3.OperationalError:  # SQLite built without dbstat
        return "(dbstat not available)"
    finally:
        db.close()
    return ", ".join(f"{name} {size / rows:.0f}" for name, size in found)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=380_000, help="CSV rows (~50 MB by default)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "catalog.csv"
        write_csv(csv_path, args.rows)
        data_dir = Path(tmp) / "data"
        with serve(0, data_dir) as engine:
            headers = {"Authorization": f"Bearer {engine.api_key}"}
            with httpx.Client(base_url=engine.base_url, headers=headers, timeout=300) as api:
                schema = api.get("/schemas").json()["data"][0]["id"]
                print(f"CSV {args.rows:,} rows, {csv_path.stat().st_size / 1e6:.1f} MB")
                print(f"  empty engine:          {sizes(data_dir)}")
                start = time.perf_counter()
                with csv_path.open("rb") as fh:
                    upload = api.post("/files", files={"file": ("catalog.csv", fh, "text/csv")})
                file_id = upload.json()["id"]
                table = api.post(
                    "/tables", json={"name": "bench", "schema_id": schema, "file_ids": [file_id]}
                ).json()
                while table["status"] not in ("completed", "failed"):
                    time.sleep(0.1)
                    table = api.get(f"/tables/{table['id']}").json()
                took = time.perf_counter() - start
                print(f"  extracted ({took:.1f} s):  {sizes(data_dir)}")
                print(f"  bytes per row: {per_row(data_dir / 'engine.sqlite3', args.rows)}")
                start = time.perf_counter()
                api.delete(f"/tables/{table['id']}").raise_for_status()
                took = time.perf_counter() - start
                print(f"  table deleted ({took:.1f} s): {sizes(data_dir)}")
                api.delete(f"/files/{file_id}").raise_for_status()
                print(f"  file deleted:          {sizes(data_dir)}")
                if hasattr(engine, "data_dir_size"):
                    print(f"  engine.data_dir_size(): {engine.data_dir_size() / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
