"""Batches through the embedded engine over loopback HTTP: ``submit_batch`` splits 23 files into
tables of at most 10, keeps every good file's rows exactly once in one typed DataFrame with a
``_source`` column, names the failed files with their reasons (display, ``failures``, attrs);
``per_file``; ``strict``; bounded concurrency; a re-run reuses the completed tables and retries
only the failed files; ``submit()`` refuses more than 10 sources, naming ``submit_batch()``."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from transports import CountingTransport

import lasso_notebook as ln
from lasso_notebook import BatchFailedError, InvalidRequestError, Lasso, submit, submit_batch
from lasso_notebook._batch_plan import split
from lasso_notebook.errors import JobDetachedError

BAD = ("bad_05.pdf", "bad_17.pdf")


def _exports(path: str) -> str:
    """Every table's export counts as ``export``."""
    return "export" if path.endswith("/export") else path


@pytest.fixture
def transport() -> CountingTransport:
    return CountingTransport(_exports)


@pytest.fixture
def client(
    engine: Any, transport: CountingTransport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Lasso]:
    # A reuse index of this test's own: what one test extracted is never reused by another.
    monkeypatch.setenv("LASSO_NOTEBOOK_DATA_DIR", str(tmp_path / "index"))
    with Lasso(api_key=engine.api_key, base_url=engine.base_url, transport=transport) as lasso:
        yield lasso


def catalog_csv(tag: str, n: int = 3) -> str:
    return "name,sku,price\n" + "".join(f"{tag} item {i},{tag}-{i},{i}.25\n" for i in range(n))


@pytest.fixture
def catalogs(tmp_path: Path) -> list[Path]:
    """23 files: 21 small CSVs of 3 rows and 2 damaged PDFs, in two different tables."""
    folder = tmp_path / "catalogs"
    folder.mkdir()
    paths = []
    for i in range(23):
        name = f"bad_{i:02d}.pdf" if f"bad_{i:02d}.pdf" in BAD else f"cat_{i:02d}.csv"
        path = folder / name
        if name in BAD:
            path.write_bytes(b"%PDF-1.4\n% damaged: no objects, no trailer\n")
        else:
            path.write_text(catalog_csv(f"C{i:02d}"))
        paths.append(path)
    groups = split([p.name for p in paths])
    assert len(groups) > 2 and all(len(g) <= 10 for g in groups)
    holding_bad = [g for g in groups if any(paths[i].name in BAD for i in g)]
    assert len(holding_bad) == 2  # each bad file in a table of its own: two retries later
    return paths


def good_of(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.name not in BAD]


def test_a_23_file_batch_keeps_every_good_row_once_and_names_both_failures(
    client: Lasso, transport: CountingTransport, catalogs: list[Path]
) -> None:
    job = submit_batch("Products", files=catalogs, client=client, progress="widget", name="q1")
    df = job.result(timeout=120)
    good = good_of(catalogs)
    groups = split([p.name for p in catalogs])
    # One table per group, each file uploaded once.
    assert transport.counts["POST /tables"] == len(groups)
    assert transport.counts["POST /files"] == 23

    # Every good file's rows, exactly once, in the order of the files; typed as any table.
    assert len(df) == 3 * len(good) and df["sku"].is_unique
    assert sorted(df["sku"]) == sorted(f"C{p.stem[-2:]}-{i}" for p in good for i in range(3))
    assert list(dict.fromkeys(df["_source"])) == [p.name for p in good]
    assert df.groupby("_source").size().to_dict() == {p.name: 3 for p in good}
    assert all(
        sku.startswith(f"C{src[4:6]}-") for sku, src in zip(df["sku"], df["_source"], strict=True)
    )
    single = submit("Products", "one", files=[good[0]], client=client, progress=False).result()
    assert df.drop(columns="_source").dtypes.equals(single.dtypes)
    assert str(df["_source"].dtype) == "string" and df.columns[-1] == "_source"
    assert isinstance(df.index, pd.RangeIndex) and df.index[-1] == len(df) - 1

    # Both failures, by name and reason: job.failures, the display, the attrs.
    failures = {f.source: f for f in job.failures}
    assert set(failures) == set(BAD)
    for failure in failures.values():
        assert "PDF" in failure.reason and failure.table_id in job.ids
    text = repr(job)
    assert "2 of 23 files failed: bad_05.pdf (could not be read as a PDF" in text
    assert "bad_17.pdf (" in text and f"{len(groups)} of {len(groups)} tables done" in text
    widget = job.widget
    assert widget is not None and widget.phase == "completed"
    assert widget.status == f"{len(groups)} of {len(groups)} tables done · 2 files failed"
    assert widget.error_message.startswith("2 of 23 files failed: bad_05.pdf (")
    assert widget.total_rows == len(df) and widget.validation == f"{len(df)} rows, all valid"

    lasso = df.attrs["lasso"]
    assert lasso["batch"] == "q1" and lasso["sources"] == 23 and lasso["rows"] == len(df)
    assert [t["sources"] for t in lasso["tables"]] == [
        [catalogs[i].name for i in group] for group in groups
    ]
    assert all(t["status"] == "completed" and t["id"].startswith("tbl_") for t in lasso["tables"])
    assert sum(t["rows"] for t in lasso["tables"]) == len(df)
    assert {f["source"] for f in lasso["failures"]} == set(BAD)
    assert lasso["validation"]["rows"] == len(df) and lasso["validation"]["error"] == 0


def test_a_rerun_reuses_completed_tables_and_retries_only_the_failed_files(
    client: Lasso, transport: CountingTransport, catalogs: list[Path]
) -> None:
    first = submit_batch("Products", files=catalogs, client=client, progress=False).result()
    made, uploaded = transport.counts["POST /tables"], transport.counts["POST /files"]

    again = submit_batch("Products", files=catalogs, client=client, progress=False)
    second = again.result(timeout=120)
    # Two new tables, one per bad file (each alone), and only the bad files uploaded.
    assert transport.counts["POST /tables"] - made == 2
    assert transport.counts["POST /files"] - uploaded == 2
    retries = [t for t in again.jobs if t.retry]
    assert sorted(s for t in retries for s in t.sources) == sorted(BAD)
    assert all(t.reused for t in again.jobs if not t.retry)
    assert not any(t.reused for t in retries)
    assert again.reuse_message.startswith(f"reused {len(again.jobs) - 2} of {len(again.jobs)}")
    # The same frame; the bad files still failed, now named by their retry tables.
    pd.testing.assert_frame_equal(second, first)
    assert {f.source: f.table_id for f in again.failures} == {t.sources[0]: t.id for t in retries}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "site"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def test_a_url_that_failed_and_works_again_gets_its_rows_on_the_rerun(
    client: Lasso, transport: CountingTransport, site: tuple[str, Path]
) -> None:
    base, root = site
    for tag in ("u1", "u2"):
        (root / f"{tag}.csv").write_text(catalog_csv(tag.upper()))
    urls = [f"{base}/u1.csv", f"{base}/later.csv", f"{base}/u2.csv"]  # later.csv: 404 for now
    first = submit_batch("Products", urls=urls, client=client, progress=False)
    df = first.result(timeout=60)
    assert list(dict.fromkeys(df["_source"])) == [urls[0], urls[2]]
    (failure,) = first.failures
    assert failure.source == urls[1] and "404" in failure.reason

    (root / "later.csv").write_text(catalog_csv("LA", 2))
    made = transport.counts["POST /tables"]
    second = submit_batch("Products", urls=urls, client=client, progress=False)
    df2 = second.result(timeout=60)
    assert transport.counts["POST /tables"] - made == 1  # the one URL, in a table of its own
    assert second.failures == []
    # Each URL's rows once, in the order given: the reused table's, then the retry's.
    assert list(df2["_source"]) == [urls[0]] * 3 + [urls[1]] * 2 + [urls[2]] * 3
    assert df2["sku"].is_unique and len(df2) == 8


def test_per_file_makes_one_table_per_file(
    client: Lasso, transport: CountingTransport, tmp_path: Path
) -> None:
    paths = []
    for tag in ("a", "b", "c"):
        paths.append(tmp_path / f"{tag}.csv")
        paths[-1].write_text(catalog_csv(tag.upper(), 2))
    with pytest.raises(InvalidRequestError, match="rate_limit_budget must be a positive"):
        submit_batch("Products", files=paths, client=client, rate_limit_budget=0)
    job = submit_batch(
        "Products",
        files=paths,
        per_file=True,
        client=client,
        progress=False,
        name="pf",
        rate_limit_budget=30,
    )
    df = job.result(timeout=60)
    assert {t.rate_limit_budget for t in job.jobs} == {30}  # each table's polls get it
    assert [t.sources for t in job.jobs] == [["a.csv"], ["b.csv"], ["c.csv"]]
    assert [t.name for t in job.jobs] == ["pf (1/3: a.csv)", "pf (2/3: b.csv)", "pf (3/3: c.csv)"]
    assert list(df["_source"]) == ["a.csv"] * 2 + ["b.csv"] * 2 + ["c.csv"] * 2
    # One source per table: each read with one export (no per-row provenance needed).
    assert transport.counts["GET export"] == 3 and transport.counts["POST /tables"] == 3


def test_a_text_mode_batch_prints_its_final_line_once(
    client: Lasso, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [tmp_path / "t.csv"]
    paths[0].write_text(catalog_csv("T", 2))
    job = submit_batch("Products", files=paths, per_file=True, client=client, progress="text")
    job.wait(timeout=60)
    job.result()  # the batch is finished: nothing is printed again
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "1 of 1 table done · 2 rows" in lines[0]
    assert lines[1] == "2 rows, all valid"


def test_strict_fails_on_any_failed_file_and_keeps_the_good_rows_reachable(
    client: Lasso, catalogs: list[Path]
) -> None:
    job = submit_batch("Products", files=catalogs, client=client, progress=False, strict=True)
    with pytest.raises(BatchFailedError) as info:
        job.result(timeout=120)
    assert {f.source for f in info.value.failures} == set(BAD)
    assert "2 of 23 files failed: bad_05.pdf" in str(info.value) and "(strict)" in str(info.value)
    assert job.df is None
    kept = job.frame()
    assert kept is not None and len(kept) == 3 * len(good_of(catalogs))


def test_a_batch_where_every_table_failed_raises_and_has_no_frame(
    client: Lasso, tmp_path: Path
) -> None:
    paths = [tmp_path / "x.pdf", tmp_path / "y.pdf"]
    for path in paths:
        path.write_bytes(b"%PDF-1.4 nothing here")
    job = submit_batch("Products", files=paths, per_file=True, client=client, progress=False)
    with pytest.raises(BatchFailedError, match=r"no table completed; 2 of 2 files failed: x\.pdf"):
        job.result(timeout=60)
    assert job.frame() is None and {f.source for f in job.failures} == {"x.pdf", "y.pdf"}


def test_tables_run_at_most_max_concurrent_at_once(
    engine: Any, client: Lasso, tmp_path: Path
) -> None:
    engine.workers.pace = 0.02  # each table takes a moment, so they would overlap
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"f{i}.csv")
        paths[-1].write_text(catalog_csv(f"F{i}", 2))
    job = submit_batch(
        "Products", files=paths, per_file=True, client=client, progress=False, max_concurrent=2
    )
    job.result(timeout=60)
    spans = [(t.started, t.finished_at) for t in job.jobs]
    assert all(start is not None and end is not None for start, end in spans)
    overlaps = [sum(1 for s, e in spans if s <= start < e) for start, _ in spans]  # type: ignore[operator]
    assert max(overlaps) == 2  # bounded, and the bound was used
    with pytest.raises(InvalidRequestError, match="max_concurrent"):
        submit_batch("Products", files=paths, client=client, max_concurrent=0)


def test_submit_refuses_more_than_10_sources_and_names_submit_batch(
    client: Lasso, transport: CountingTransport, catalogs: list[Path]
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        submit("Products", "too many", files=catalogs[:11], client=client, progress=False)
    assert "at most 10 files (got 11)" in str(info.value)
    assert "submit_batch()" in str(info.value)
    urls = [f"https://example.com/{i}.csv" for i in range(12)]
    with pytest.raises(InvalidRequestError, match=r"at most 10 URLs \(got 12\).*submit_batch"):
        submit("Products", "too many", urls=urls, client=client, progress=False)
    assert transport.counts["POST /files"] == transport.counts["POST /tables"] == 0


@pytest.mark.filterwarnings("ignore::lasso_notebook.UnparsedValuesWarning")
def test_meta_and_valid_only_batches_read_the_rows_listing(client: Lasso, tmp_path: Path) -> None:
    paths = [tmp_path / "m1.csv", tmp_path / "m2.csv"]
    paths[0].write_text(catalog_csv("M1", 2))
    paths[1].write_text("name,sku,price\nGood,G1,1.5\nBad,,oops\n")
    job = submit_batch("Products", files=paths, per_file=True, client=client, progress=False)
    plain = job.result(timeout=60)
    with pytest.raises(InvalidRequestError, match="meta=True"):
        job.result(meta=True)  # not read: the message says how (the tables are reused)
    full = submit_batch(
        "Products", files=paths, per_file=True, client=client, progress=False, meta=True
    ).result(timeout=60)
    assert list(full["_source_location"]) == ["line 2", "line 3", "line 2", "line 3"]
    assert full["_row_id"].notna().all() and len(full) == len(plain)
    assert list(full.drop(columns=["_source_location", "_row_id", "_validation_status",
                                   "_validation_errors"]).columns) == list(plain.columns)  # fmt: skip
    valid = submit_batch(
        "Products", files=paths, per_file=True, client=client, progress=False, valid_only=True
    ).result(timeout=60)
    errors = int((full["_validation_status"] == "error").sum())
    assert errors >= 1 and len(valid) == len(full) - errors


def test_wait_and_detach_work_for_batches(engine: Any, client: Lasso, tmp_path: Path) -> None:
    engine.workers.pace = 0.03
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"w{i}.csv")
        paths[-1].write_text(catalog_csv(f"W{i}", 2))
    job = submit_batch("Products", files=paths, per_file=True, client=client, progress=False)
    assert job in ln.wait() and job.done()  # no argument: every running job and batch
    assert len(job.df) == 6
    assert ln.wait(job) == [job]

    other = submit_batch(
        "Products", files=paths, per_file=True, client=client, progress=False, reuse=False
    )
    other.detach()
    with pytest.raises(JobDetachedError, match="running the batch again reuses them"):
        other.result(timeout=30)
    assert other.frame() is None


def test_the_split_is_stable_and_bounded() -> None:
    names = [f"catalog_{i:03d}.pdf" for i in range(60)]
    groups = split(names)
    assert [i for g in groups for i in g] == list(range(60)) and max(map(len, groups)) <= 10
    as_names = {tuple(names[i] for i in g) for g in groups}
    # One file added in the middle changes at most the table it falls in and the next.
    grown = [*names[:25], "catalog_new.pdf", *names[25:]]
    regrouped = {tuple(grown[i] for i in g) for g in split(grown)}
    assert len(as_names - regrouped) <= 2
    assert split(names[:10]) == [list(range(10))]  # what fits one table is one table
    assert split(names[:3], per_file=True) == [[0], [1], [2]]
