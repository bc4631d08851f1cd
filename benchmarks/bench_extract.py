"""Extractor scale benchmark: a 100,000-row CSV and a 50-page PDF (one table per page), each
timed through the extractor alone and end to end through the embedded engine (upload, create,
completed), with the peak memory of the extraction; then a page of 2,000 product cards and a
printed report of 20,000 rows, each against a CSV of the same products in the same process.
Prints figures, asserts nothing.
Run: ``.venv/bin/python benchmarks/bench_extract.py [--rows N] [--pages N] [--cards N]
[--report-rows N]``."""

from __future__ import annotations

import argparse
import gc
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import httpx

from lasso_notebook.server import serve
from lasso_notebook.server.extract import Source, extract
from lasso_notebook.server.store import PRODUCTS_COLUMNS


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


def write_pdf(path: Path, pages: int, rows_per_page: int = 25) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=8)
    n = 0
    for page in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Acme catalog - page {page + 1}", new_x="LMARGIN", new_y="NEXT")
        with pdf.table(col_widths=(60, 25, 25, 25, 20)) as table:
            table.row(["Product", "SKU", "Brand", "Price", "In stock"])
            for _ in range(rows_per_page):
                table.row([f"Widget {n} deluxe", f"W{n:06d}", "Acme", f"${n % 500}.99", "yes"])
                n += 1
    pdf.output(str(path))


def write_products_csv(path: Path, rows: int) -> None:
    """The products of the card page and the report, as a CSV: the baseline of both."""
    with path.open("w") as fh:
        fh.write("Item #,Product,Brand,On hand,Unit price\n")
        for i in range(rows):
            fh.write(f'W{i:06d},Widget {i} deluxe,Acme,{i % 7},"{i % 5000:,}.99"\n')


def write_cards(path: Path, cards: int) -> None:
    """A collection page: site header, navigation and footer around ``cards`` product cards."""
    items = []
    for i in range(cards):
        stock = "In stock" if i % 7 else "Sold out"
        items.append(
            f'<li class="grid__item"><div class="card"><a href="/p/w{i}"><img src="/i/{i}.jpg"></a>'
            f'<p class="card__vendor">Acme</p><h3 class="card__title"><a href="/p/w{i}">'
            f"Widget {i} deluxe</a></h3><span>SKU: W{i:06d}</span>"
            f'<span class="price">${i % 5000:,}.99</span><span class="badge">{stock}</span>'
            f'<ul class="tags"><li class="tag">tools</li><li class="tag">garden</li></ul></div></li>'
        )
    path.write_text(
        '<!DOCTYPE html><html><head><link rel="canonical" href="https://shop.example.com/all">'
        '</head><body><header class="site-header"><nav><ul><li><a href="/">Home</a></li>'
        '<li><a href="/tools">Tools</a></li><li><a href="/cart">Cart</a></li></ul></nav></header>'
        f'<main><h1>All products</h1><ul class="grid">{"".join(items)}</ul></main>'
        "<footer><p>About us</p></footer></body></html>"
    )


def write_report(path: Path, rows: int, per_page: int = 55) -> None:
    """A printed ERP report: page header, dashed ruler, rows, CONTINUED, end-of-report line."""
    lines: list[str] = []
    for i in range(rows):
        if i % per_page == 0:
            if i:
                lines += ["", "CONTINUED", "\f"]
            lines += [
                f"ACME DISTRIBUTION          ITEM PRICE LIST          PAGE {i // per_page + 1:>5}",
                "RUN DATE: 03/15/2024                              CURRENCY: USD",
                "",
                "ITEM NO    DESCRIPTION                    ON HAND    UNIT PRICE",
                "---------- ------------------------------ -------- ------------",
            ]
        lines.append(f"W{i:06d}    {f'Widget {i} deluxe':<30} {i % 7:>8} {i % 5000:>9,}.99")
    lines += ["", "*** END OF REPORT ***"]
    path.write_text("\n".join(lines) + "\n")


def extract_only(path: Path) -> tuple[float, float, int, float, int]:
    """Wall and CPU seconds, rows, peak traced MB (a second, traced run), progress calls.
    CPU time is printed too: on a shared machine the wall time depends on the neighbours."""
    calls = [0]

    def progress(_f: float) -> None:
        calls[0] += 1

    source = Source(path=path, filename=path.name)
    start, cpu = time.perf_counter(), time.process_time()
    count = sum(1 for _ in extract(source, PRODUCTS_COLUMNS, None, progress))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    gc.collect()
    tracemalloc.start()
    for _ in extract(source, PRODUCTS_COLUMNS, None, lambda _f: None):
        pass
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, cpu, count, peak, calls[0]


def end_to_end(path: Path, content_type: str) -> tuple[float, int, int]:
    """Seconds from upload to completed through the engine, rows, distinct progress values."""
    with tempfile.TemporaryDirectory() as data, serve(0, data) as engine:
        headers = {"Authorization": f"Bearer {engine.api_key}"}
        with httpx.Client(base_url=engine.base_url, headers=headers, timeout=60) as api:
            schema = api.get("/schemas").json()["data"][0]["id"]
            start = time.perf_counter()
            with path.open("rb") as fh:
                file_id = api.post("/files", files={"file": (path.name, fh, content_type)}).json()
            table = api.post(
                "/tables", json={"name": "bench", "schema_id": schema, "file_ids": [file_id["id"]]}
            ).json()
            seen: set[int] = set()
            stop = threading.Event()
            while not stop.is_set():
                now = api.get(f"/tables/{table['id']}").json()
                seen.add(now["progress"])
                if now["status"] in ("completed", "failed"):
                    break
                time.sleep(0.02)
            seconds = time.perf_counter() - start
            if now["status"] != "completed":
                raise RuntimeError(now["error_message"])
            return seconds, now["total_rows"], len(seen)


def layouts(tmp: Path, cards: int, report_rows: int) -> None:
    """A card page and a printed report against CSVs of the same products (same process)."""
    cases = [
        (f"{cards:,}-card page", write_cards, cards, "cards.html", "text/html"),
        (
            f"{report_rows:,}-row printed report",
            write_report,
            report_rows,
            "report.txt",
            "text/plain",
        ),
    ]
    for label, write, rows, name, content_type in cases:
        path, baseline = tmp / name, tmp / f"{name}.csv"
        write(path, rows)
        write_products_csv(baseline, rows)
        s, cpu, n, peak, calls = extract_only(path)
        _s, bcpu, _n, bpeak, _ = extract_only(baseline)
        print(
            f"{label} ({path.stat().st_size / 1e6:.1f} MB): extract {s:.2f} s, {cpu:.2f} s CPU, "
            f"{n:,} rows, peak traced memory {peak:.1f} MB, {calls} progress calls; the same "
            f"rows as CSV: {bcpu:.2f} s CPU, {bpeak:.1f} MB ({cpu / bcpu:.1f}x the CPU)"
        )
        s, n, steps = end_to_end(path, content_type)
        print(f"{label}: engine upload->completed {s:.2f} s, {n:,} rows, {steps} progress values")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--report-rows", type=int, default=20_000)
    parser.add_argument("--only-layouts", action="store_true", help="only the cards and report")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        layouts(Path(tmp), args.cards, args.report_rows)
    if args.only_layouts:
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "big.csv"
        write_csv(csv_path, args.rows)
        mb = csv_path.stat().st_size / 1e6
        s, cpu, n, peak, calls = extract_only(csv_path)
        print(
            f"CSV {args.rows:,} rows ({mb:.1f} MB): extract {s:.2f} s, {cpu:.2f} s CPU "
            f"({n / cpu:,.0f} rows per CPU s), "
            f"peak traced memory {peak:.1f} MB, {calls} progress calls"
        )
        s, n, steps = end_to_end(csv_path, "text/csv")
        print(
            f"CSV {args.rows:,} rows: engine upload->completed {s:.2f} s, {n:,} rows, "
            f"{steps} distinct progress values seen"
        )
        pdf_path = Path(tmp) / "big.pdf"
        write_pdf(pdf_path, args.pages)
        s, cpu, n, peak, calls = extract_only(pdf_path)
        print(
            f"PDF {args.pages} pages: extract {s:.2f} s, {cpu:.2f} s CPU "
            f"({cpu / args.pages * 1000:.0f} ms CPU/page), "
            f"{n:,} rows, peak traced memory {peak:.1f} MB, {calls} progress calls"
        )
        s, n, steps = end_to_end(pdf_path, "application/pdf")
        print(
            f"PDF {args.pages} pages: engine upload->completed {s:.2f} s, {n:,} rows, "
            f"{steps} distinct progress values seen"
        )


if __name__ == "__main__":
    main()
