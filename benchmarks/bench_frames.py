"""Benchmark 1: a completed 100,000-row × 9-column table (the Products schema, extracted from a
CSV file) into a DataFrame — lasso_notebook (a fresh ``attach``-style job's ``result()``: one
streamed json export, typed columns) vs the official SDK's ``tables.results_as_dataframe``
(1,000 sequential pages, untyped), same engine, same run, alternating. Measured twice: straight
over loopback, and through a proxy adding a 20 ms round trip per request (a hosted API's
latency). Also, once per scenario: lasso_notebook reading the rows listing instead (``meta=True``,
8 pages at a time), and the engine's export GET alone (bytes only).

Run: ``.venv/bin/python benchmarks/bench_frames.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = 100_000
ROUNDS = 3
#: Added round-trip time of the "hosted" scenario (seconds).
RTT = 0.020


def start_engine(data_dir: str, *extra: str) -> tuple[subprocess.Popen[str], str, str]:
    """The engine in its own process, so its CPU does not compete with the client's GIL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lasso_notebook.server",
            "--port",
            "0",
            "--data-dir",
            data_dir,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base_url = key = ""
    assert process.stdout is not None
    for line in process.stdout:
        line = line.strip()
        if line.startswith("LASSO_BASE_URL="):
            base_url = line.split("=", 1)[1]
        elif line.startswith("LASSO_API_KEY="):
            key = line.split("=", 1)[1]
        if base_url and key:
            break
    return process, base_url, key


async def _latency_proxy(upstream_port: int, rtt: float) -> None:
    """A TCP relay that delays every chunk by rtt/2 each way without limiting throughput."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    writer.close()
                    return
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + rtt / 2, data))
            if not data:
                break
        await sender

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(
            pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True
        )

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def start_proxy(base_url: str, rtt: float) -> tuple[subprocess.Popen[str], str]:
    """The proxy in its own process; returns it and the base URL that goes through it."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    process = subprocess.Popen(
        [sys.executable, __file__, "--proxy", str(parts.port), str(rtt)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, base_url.replace(f":{parts.port}", f":{port}", 1)


def products_csv(rows: int) -> bytes:
    """A catalog CSV for the Products schema: every one of its 9 columns filled."""
    lines = ["name,sku,brand,price,currency,in_stock,release_date,tags,url"]
    lines += [
        f"Widget {i},W{i:06d},Acme,{i % 500}.99,EUR,{'yes' if i % 3 else 'no'},"
        f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},tools;garden,https://shop.test/w/{i}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def make_table(client: Any, rows: int = ROWS) -> str:
    """A completed Products table of ``rows`` rows, extracted from an uploaded CSV file."""
    schema = next(s for s in client.schemas.list(limit=100).data if s.name == "Products")
    upload = client.files.upload(products_csv(rows), "catalog.csv")
    table = client.tables.create(schema_id=schema.id, name=f"bench {rows}", file_ids=[upload.id])
    table = client.tables.wait_for_completion(table.id, interval_s=0.5, timeout_s=1800)
    assert table.status == "completed" and table.total_rows == rows, table
    return table.id


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def compare(table_id: str, base_url: str, key: str) -> dict[str, Any]:
    import httpx
    from lasso import LassoClient as SdkLasso

    from lasso_notebook import Lasso
    from lasso_notebook.jobs import TableJob

    client = Lasso(api_key=key, base_url=base_url)
    sdk = SdkLasso(api_key=key, base_url=base_url)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(ROUNDS):  # alternating, so drift hits both sides alike
        # A fresh job each round (attach() would reuse the finished one and its frame).
        took, df = timed(
            lambda: TableJob(client=client, table_id=table_id, progress=False).result()
        )
        ours.append(took)
        assert len(df) == ROWS and df.index.is_unique
        took, sdk_df = timed(lambda: sdk.tables.results_as_dataframe(table_id))
        theirs.append(took)
        assert len(sdk_df) == ROWS
    paging, paged = timed(
        lambda: TableJob(client=client, table_id=table_id, progress=False, meta=True).result()
    )
    assert len(paged) == ROWS
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as raw:
        export, body = timed(
            lambda: raw.get(f"/tables/{table_id}/export", params={"format": "json"}).content
        )
    sdk.close()
    client.close()
    return {
        "ours": statistics.median(ours),
        "sdk": statistics.median(theirs),
        "paging": paging,
        "export": export,
        "export_mb": len(body) / 1e6,
        "df": df,
        "sdk_df": sdk_df,
    }


def main() -> None:
    from lasso_notebook import Lasso

    with tempfile.TemporaryDirectory() as data_dir:
        engine, base_url, key = start_engine(data_dir)
        proxy = None
        try:
            took, table_id = timed(lambda: make_table(Lasso(api_key=key, base_url=base_url)))
            print(
                f"made a {ROWS:,}-row × 9-column table (CSV upload → completed) in {took:.1f} s; "
                f"{ROUNDS} alternating rounds each"
            )
            proxy, far_url = start_proxy(base_url, RTT)
            results = [
                ("loopback", compare(table_id, base_url, key)),
                (f"+{RTT * 1000:.0f} ms RTT", compare(table_id, far_url, key)),
            ]
        finally:
            for process in (proxy, engine):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=10)

    for label, r in results:
        print(
            f"[{label:>11}] lasso_notebook {r['ours']:6.2f} s · SDK results_as_dataframe "
            f"{r['sdk']:6.2f} s · ratio {r['sdk'] / r['ours']:4.1f}× (medians) · "
            f"lasso_notebook via the rows listing (meta=True) {r['paging']:5.2f} s · "
            f"export GET alone {r['export']:5.2f} s ({r['export_mb']:.1f} MB, "
            f"{r['sdk'] / r['export']:.0f}× faster than the SDK's pages)"
        )
    df, sdk_df = results[0][1]["df"], results[0][1]["sdk_df"]
    print("lasso_notebook dtypes:", ", ".join(f"{k}={v}" for k, v in df.dtypes.items()))
    print("SDK dtypes:           ", ", ".join(f"{k}={v}" for k, v in sdk_df.dtypes.items()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--proxy"]:
        asyncio.run(_latency_proxy(int(sys.argv[2]), float(sys.argv[3])))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        main()
