"""The data dir gives space back: deleted tables and rows shrink the database, deleted files
leave the disk, leftovers of interrupted work are swept at start, older data dirs are
migrated, and the engine reports how many bytes its data dir takes."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

ROWS = 20_000


def client(engine: Any) -> httpx.Client:
    return httpx.Client(
        base_url=engine.base_url, headers={"Authorization": f"Bearer {engine.api_key}"}, timeout=60
    )


def extract_table(api: httpx.Client, rows: int = ROWS, name: str = "big") -> dict[str, Any]:
    schema_id = next(s["id"] for s in api.get("/schemas").json()["data"] if s["is_default"])
    text = "name,sku,price\n" + "".join(f"Item {i},S{i:06d},{i}\n" for i in range(rows))
    table = api.post(
        "/tables", json={"name": name, "schema_id": schema_id, "source_text": text}
    ).json()
    deadline = time.monotonic() + 60
    while table["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, table
        time.sleep(0.02)
        table = api.get(f"/tables/{table['id']}").json()
    assert table["status"] == "completed" and table["total_rows"] == rows, table
    return table


def database_bytes(data_dir: Path) -> int:
    """The database file and its WAL."""
    return sum(
        p.stat().st_size for p in data_dir.glob("engine.sqlite3*") if p.name != "engine.sqlite3-shm"
    )


def walked_size(data_dir: Path) -> int:
    return sum(p.lstat().st_size for p in data_dir.rglob("*") if p.is_file())


def test_deleting_a_table_removes_its_rows_and_shrinks_the_database(engine: Any) -> None:
    with client(engine) as api:
        kept = extract_table(api, rows=100, name="kept")
        before = database_bytes(engine.data_dir)
        table = extract_table(api)
        grown = database_bytes(engine.data_dir)
        assert grown - before > ROWS * 50  # the rows really take room
        assert api.delete(f"/tables/{table['id']}").status_code == 204
        after = database_bytes(engine.data_dir)
        assert api.get(f"/tables/{table['id']}/rows").status_code == 404
        assert api.get(f"/tables/{kept['id']}/rows").json()["pagination"]["total"] == 100
    with sqlite3.connect(engine.data_dir / "engine.sqlite3") as db:
        assert db.execute(
            "SELECT COUNT(*) FROM rows WHERE table_id = ?", (table["id"],)
        ).fetchone() == (0,)
    # Given back to the file system, not only marked free inside the file.
    assert after - before < (grown - before) // 10, (before, grown, after)


def test_deleting_many_rows_shrinks_the_database_too(engine: Any) -> None:
    with client(engine) as api:
        table = extract_table(api)
        grown = database_bytes(engine.data_dir)
        ids = [
            r["id"]
            for page in range(1, ROWS // 100 + 1)
            for r in api.get(
                f"/tables/{table['id']}/rows", params={"limit": 100, "page": page}
            ).json()["data"]
        ]
        assert len(set(ids)) == ROWS
        for start in range(0, ROWS, 10_000):  # the most one request may name
            response = api.post(
                f"/tables/{table['id']}/rows/bulk-delete",
                json={"row_ids": ids[start : start + 10_000]},
            )
            assert response.json()["deleted_count"] == 10_000
        assert api.get(f"/tables/{table['id']}").json()["total_rows"] == 0
    assert database_bytes(engine.data_dir) < grown // 4


def test_deleting_a_file_removes_its_bytes(engine: Any) -> None:
    payload = b"name,price\n" + b"".join(b"Item %d,%d\n" % (i, i) for i in range(50_000))
    with client(engine) as api:
        before = engine.data_dir_size()
        upload = api.post("/files", files={"file": ("big.csv", payload, "text/csv")}).json()
        stored = engine.data_dir / "files" / upload["id"]
        assert stored.read_bytes() == payload
        assert engine.data_dir_size() - before >= len(payload)
        assert api.delete(f"/files/{upload['id']}").status_code == 204
        assert not stored.exists()
        assert engine.data_dir_size() - before < len(payload) // 10
        assert api.get("/files").json()["pagination"]["total"] == 0


def test_the_engine_reports_its_data_dir_size(engine_factory: Any, tmp_path: Path) -> None:
    engine = engine_factory(data_dir=tmp_path / "data")
    with client(engine) as api:
        extract_table(api, rows=2000)
        api.post("/files", files={"file": ("a.csv", b"name\nA\n" * 1000)})
        size = engine.data_dir_size()
        assert size == walked_size(engine.data_dir) and size > 100_000
    engine.stop()
    assert engine.data_dir_size() == walked_size(engine.data_dir)  # also once stopped


def test_an_older_data_dir_is_migrated_and_keeps_working(
    engine_factory: Any, tmp_path: Path
) -> None:
    first = engine_factory(data_dir=tmp_path)
    with client(first) as api:
        table = extract_table(api)
        row = api.get(f"/tables/{table['id']}/rows", params={"limit": 1}).json()["data"][0]
    first.stop()
    # As a data dir of an earlier release: no incremental vacuum, none of the later columns,
    # random row ids.
    with sqlite3.connect(tmp_path / "engine.sqlite3", isolation_level=None) as db:
        for column in ("extraction_report", "status_note", "resume_state"):
            db.execute(f"ALTER TABLE tables DROP COLUMN {column}")
        db.execute("UPDATE rows SET id = 'row_0123456789abcdef01234567' WHERE id = ?", (row["id"],))
        db.execute("PRAGMA auto_vacuum=NONE")
        db.execute("VACUUM")
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (0,)

    second = engine_factory(data_dir=tmp_path)
    with sqlite3.connect(tmp_path / "engine.sqlite3") as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # converted: incremental
    with client(second) as api:
        old = api.get(f"/tables/{table['id']}/rows/row_0123456789abcdef01234567")
        assert old.status_code == 200 and old.json()["data"] == row["data"]
        assert api.get(f"/tables/{table['id']}").json()["total_rows"] == ROWS
        fresh = extract_table(api, rows=10, name="fresh")  # new columns, new row ids
        assert "extraction_report" in api.get(f"/tables/{fresh['id']}").json()
        grown = database_bytes(tmp_path)
        assert api.delete(f"/tables/{table['id']}").status_code == 204
    assert database_bytes(tmp_path) < grown // 4


def test_row_ids_are_short_and_never_reused(engine: Any) -> None:
    with client(engine) as api:
        table = extract_table(api, rows=3)
        rows = api.get(f"/tables/{table['id']}/rows").json()["data"]
        ids = [r["id"] for r in rows]
        assert all(i.startswith("row_") and len(i) <= 16 for i in ids) and len(set(ids)) == 3
        last = ids[-1]
        assert api.delete(f"/tables/{table['id']}/rows/{last}").status_code == 204
        added = api.post(f"/tables/{table['id']}/rows", json={"rows": [{"name": "x"}]}).json()
        assert added["data"][0]["id"] not in ids  # the deleted row's id is not handed out again
        other = extract_table(api, rows=3, name="other")
        other_ids = [r["id"] for r in api.get(f"/tables/{other['id']}/rows").json()["data"]]
        assert not set(other_ids) & {*ids, added["data"][0]["id"]}
        # A row is reached through its own table only.
        assert api.get(f"/tables/{other['id']}/rows/{ids[0]}").status_code == 404


def test_leftovers_of_interrupted_work_are_swept_at_start(
    engine_factory: Any, tmp_path: Path
) -> None:
    first = engine_factory(data_dir=tmp_path)
    with client(first) as api:
        upload = api.post("/files", files={"file": ("a.csv", b"name\nA\n")}).json()
        done = extract_table(api, rows=10)
    first.stop()
    files, downloads = tmp_path / "files", tmp_path / "downloads"
    old = time.time() - 7200
    leftovers = [
        files / ".file_0123.part",  # an upload cut off by a crash
        files / "file_0123",  # stored, but the engine died before registering it
        downloads / done["id"] / "0",  # a finished table's download
        downloads / "tbl_gone" / "0",  # a deleted table's download
    ]
    recent = files / ".file_4567.part"  # maybe another engine's upload in progress
    for path in [*leftovers, recent]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
    for path in leftovers[:2]:
        os.utime(path, (old, old))
    os.utime(files / upload["id"], (old, old))  # old, but registered: the user's file

    engine_factory(data_dir=tmp_path)
    assert not any(path.exists() for path in leftovers)
    assert not (downloads / done["id"]).exists()
    assert recent.exists() and (files / upload["id"]).read_bytes() == b"name\nA\n"
