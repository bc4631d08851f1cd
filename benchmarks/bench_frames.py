"""Benchmark 1: a completed 20,000-row × 8-column table into a DataFrame — lasso_notebook
(a fresh ``attach``-style job's ``result()``: concurrent pages, typed columns) vs the official SDK's
``tables.results_as_dataframe`` (sequential pages, untyped), same engine, same run, alternating. Measured twice: straight over
loopback, and through a proxy adding a 20 ms round trip per request (a hosted API's latency).

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

ROWS = 20_000
ROUNDS = 5
#: Added round-trip time of the "hosted" scenario (seconds).
RTT = 0.020

COLUMNS = [
    {"key": "name", "label": "Name", "type": "text"},
    {"key": "sku", "label": "SKU", "type": "text"},
    {"key": "price", "label": "Price", "type": "number"},
    {"key": "stock", "label": "Stock", "type": "number"},
    {"key": "in_stock", "label": "In stock", "type": "boolean"},
    {"key": "released", "label": "Released", "type": "date"},
    {"key": "size", "label": "Size", "type": "enum", "enum_values": ["S", "M", "L"]},
    {"key": "url", "label": "URL", "type": "url"},
]


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


def make_table(client: Any) -> str:
    schema = client.schemas.create(name="bench 8 columns", columns=COLUMNS)
    lines = ["name,sku,price,stock,in_stock,released,size,url"]
    lines += [
        f"Product {i},SKU-{i:06d},{i % 997}.99,{i % 50},{'yes' if i % 3 else 'no'},"
        f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},{'SML'[i % 3]},https://shop.test/p/{i}"
        for i in range(ROWS)
    ]
    table = client.tables.create(
        schema_id=schema.id, name="bench 20k", source_text="\n".join(lines)
    )
    table = client.tables.wait_for_completion(table.id, interval_s=0.5, timeout_s=600)
    assert table.status == "completed" and table.total_rows == ROWS, table
    return table.id


def compare(table_id: str, base_url: str, key: str) -> tuple[float, float, Any, Any]:
    from lasso import LassoClient as SdkLasso

    from lasso_notebook import Lasso
    from lasso_notebook.jobs import TableJob

    client = Lasso(api_key=key, base_url=base_url)
    sdk = SdkLasso(api_key=key, base_url=base_url)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(ROUNDS):  # alternating, so drift hits both sides alike
        t = time.perf_counter()
        # A fresh job each round (attach() would reuse the finished one and its frame).
        df = TableJob(client=client, table_id=table_id, progress=False).result()
        ours.append(time.perf_counter() - t)
        assert len(df) == ROWS and df.index.is_unique
        t = time.perf_counter()
        sdk_df = sdk.tables.results_as_dataframe(table_id)
        theirs.append(time.perf_counter() - t)
        assert len(sdk_df) == ROWS
    sdk.close()
    client.close()
    return statistics.median(ours), statistics.median(theirs), df, sdk_df


def main() -> None:
    from lasso_notebook import Lasso

    with tempfile.TemporaryDirectory() as data_dir:
        engine, base_url, key = start_engine(data_dir)
        proxy = None
        try:
            started = time.perf_counter()
            table_id = make_table(Lasso(api_key=key, base_url=base_url))
            print(
                f"made a {ROWS:,}-row × {len(COLUMNS)}-column table in "
                f"{time.perf_counter() - started:.1f} s; {ROUNDS} alternating rounds each"
            )
            proxy, far_url = start_proxy(base_url, RTT)
            results = [
                ("loopback", *compare(table_id, base_url, key)),
                (f"+{RTT * 1000:.0f} ms RTT", *compare(table_id, far_url, key)),
            ]
        finally:
            for process in (proxy, engine):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=10)

    for label, ours, theirs, _df, _sdk_df in results:
        print(
            f"[{label:>11}] lasso_notebook {ours:6.3f} s · SDK results_as_dataframe "
            f"{theirs:6.3f} s · ratio {theirs / ours:4.1f}× (medians)"
        )
    df, sdk_df = results[0][3], results[0][4]
    print("lasso_notebook dtypes:", ", ".join(f"{k}={v}" for k, v in df.dtypes.items()))
    print("SDK dtypes:           ", ", ".join(f"{k}={v}" for k, v in sdk_df.dtypes.items()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--proxy"]:
        asyncio.run(_latency_proxy(int(sys.argv[2]), float(sys.argv[3])))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        main()
