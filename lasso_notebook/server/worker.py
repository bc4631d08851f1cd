"""Table lifecycle: a bounded pool of worker threads claims queued tables, runs the extractor
off the event loop, writes rows and progress in batches, and ends each table completed or
failed. A heartbeat thread keeps leases fresh and re-queues tables of engines that ended; a
re-queued table resumes after the rows it already has."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._validation import Tally
from ._liveness import engine_gone, forget_engine
from .extract import ExtractedRow, ExtractionError, Source, extract
from .extract.sniff import sniff
from .fetch import fetch_url
from .store import Store

__all__ = ["WorkerPool"]

log = logging.getLogger("lasso_notebook.server")

HEARTBEAT_EVERY = 2.0
#: A processing table whose engine sent no heartbeat for this long is re-queued: the backstop
#: for engines whose end the data dir's engine locks cannot show (see ``_liveness``).
STALE_AFTER = 15.0
WRITE_BATCH = 1000
#: Zip-based documents (xlsx, docx) whose parts unpack to more than this are refused unread,
#: and so are those above ``MAX_INFLATED_SMALL`` that unpack more than ``MAX_RATIO`` times
#: their size: a zip bomb must cost neither memory nor an hour of parsing.
MAX_INFLATED = 1 << 30
MAX_INFLATED_SMALL = 100 << 20
MAX_RATIO = 50
#: Text sources (CSV, TXT, Markdown, HTML ...) with a longer line are refused unread: header and
#: delimiter detection scan a line many times while holding the GIL, so one 50 MB line would
#: stall the API for seconds and the worker for a minute. JSON is exempt (minified JSON is one
#: line by nature, and its parser is a single fast C call).
MAX_LINE_BYTES = 8 << 20
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".geojson")


def check_container(source: Source) -> None:
    """Refuse a zip bomb by the sizes its central directory declares (Python's zipfile, which
    every reader here uses, never inflates a member past its declared size)."""
    if source.path is None or not zipfile.is_zipfile(source.path):
        return
    try:
        with zipfile.ZipFile(source.path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # the reader reports a damaged file in its own words
    packed = max(1, source.path.stat().st_size)
    if inflated > MAX_INFLATED or (inflated > MAX_INFLATED_SMALL and inflated > MAX_RATIO * packed):
        raise ExtractionError(
            f"{source.label} unpacks to {inflated >> 20} MB from {packed >> 20 or '<1'} MB "
            "(a zip bomb?); it is not read. Save the document again, or split it."
        )


def check_lines(source: Source) -> None:
    """Refuse a text file with a line longer than ``MAX_LINE_BYTES`` (one C-speed pass)."""
    path = source.path
    if path is None or sniff(path) is not None:
        return  # inline text, or a binary format with its own reader
    name = (source.filename or path.name).lower()
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        if name.endswith(_JSON_SUFFIXES) or head[:1] in (b"[", b"{"):
            return
        fh.seek(0)
        longest = current = 0  # current: length of the line still open at the chunk's end
        while (chunk := fh.read(1 << 20)) and longest <= MAX_LINE_BYTES:
            parts = chunk.split(b"\n")
            current += len(parts[0])
            if len(parts) > 1:
                longest = max(longest, current, max(map(len, parts[1:-1]), default=0))
                current = len(parts[-1])
            longest = max(longest, current)
    if longest > MAX_LINE_BYTES:
        raise ExtractionError(
            f"{source.label} has a line longer than {MAX_LINE_BYTES >> 20} MB: it is not a table "
            "this engine reads (text sources are read line by line)."
        )


def _human_failure(exc: BaseException, label: str) -> str | None:
    """A clear reason for the failures a hostile or damaged document causes in any reader."""
    if isinstance(exc, RecursionError):
        return f"{label} is nested too deeply to read (a hostile or damaged document?)."
    if isinstance(exc, MemoryError):
        return f"{label} needs more memory than the engine has to read it; split it."
    if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
        return f"{label} is damaged (its compressed content cannot be unpacked)."
    return None


class _Abort(Exception):
    """The run must stop quietly: engine stopping, or the table was deleted / taken over."""


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


class _Run:
    """One table's extraction: buffers rows, writes them with progress, applies ``pace``.

    A table re-queued after an interruption (engine stopped or crashed) resumes: it keeps the
    ``resume_rows`` rows already written, and since extraction is deterministic the run reads
    the same records again and skips that many before writing. ``progress`` and
    ``total_rows`` therefore never go down for a client.
    """

    def __init__(self, pool: WorkerPool, job: dict[str, Any]) -> None:
        self.pool = pool
        self.job = job
        self.buffer: list[ExtractedRow] = []
        self.skip: int = job.get("resume_rows", 0)  # records written by an earlier run
        self.total = self.skip
        self.progress: int = job.get("progress", 0)
        self.files: list[dict[str, Any]] | None = None
        self.last_step = time.monotonic()
        self.label = "the source"  # of the source being read, for failure messages
        self.validation = Tally()  # the table's validation_summary, counted as rows are written

    def begin_source(self, index: int, source: Source) -> None:
        """A source was opened. A fetched URL may say something else when fetched again for
        a resumed run: its digest is kept before its first row is written, and a changed one
        drops the rows read from it, with a ``status_note`` saying so."""
        self.label = source.label
        if self.job["source_type"] != "urls" or source.path is None:
            return  # inline text and uploaded files never change
        digest = _digest(source.path)
        known = self.job.get("source_digests", {}).get(str(index))
        if known == digest:
            return
        store, table_id, engine_id = self.pool.store, self.job["id"], self.pool.engine_id
        if self.skip:  # rows from this source on were read from other content: drop them
            keep = self.total - self.skip
            note = (
                f"Extraction resumed at row {keep:,} after an interruption: {source.label} "
                "changed since, so its rows were extracted again."
            )
            if not store.restart_rows_at(table_id, engine_id, keep, note):
                raise _Abort
            self.total, self.skip = keep, 0
        if not store.note_source(table_id, engine_id, index, digest):
            raise _Abort

    def write(self) -> None:
        if self.pool.stopping.is_set():
            raise _Abort
        self.validation.add_rows(self.buffer)
        ok = self.pool.store.write_progress(
            self.job["id"], self.pool.engine_id, self.buffer, self.progress, self.files
        )
        if not ok:
            raise _Abort
        self.total += len(self.buffer)
        self.buffer = []
        self.files = None

    def add(self, row: ExtractedRow) -> None:
        if self.skip:
            # Written by an earlier run (the same record, extraction is deterministic): counted
            # again so the validation summary covers every row, not only this run's.
            self.skip -= 1
            self.validation.add(row.get("validation_status"), row.get("validation_errors"))
            return
        self.buffer.append(row)
        if len(self.buffer) >= WRITE_BATCH:
            self.write()

    def step(self, overall: float) -> None:
        catching_up = self.skip > 0  # re-reading rows that are written: nothing to show
        # Never report 100 before the table is really completed.
        self.progress = max(self.progress, min(99, int(overall * 100)))
        self.write()
        if self.pool.pace > 0 and not catching_up:
            wait = self.last_step + self.pool.pace - time.monotonic()
            if wait > 0 and self.pool.stopping.wait(wait):
                raise _Abort
        self.last_step = time.monotonic()


class WorkerPool:
    def __init__(
        self,
        store: Store,
        data_dir: Path,
        engine_id: str,
        *,
        workers: int,
        pace: float,
        max_download_bytes: int,
        on_finished: Callable[[dict[str, Any]], None],
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.files_dir = data_dir / "files"
        self.downloads_dir = data_dir / "downloads"
        self.engine_id = engine_id
        self.workers = max(1, workers)
        self.pace = max(0.0, pace)
        self.max_download_bytes = max_download_bytes
        self.on_finished = on_finished
        self.stopping = threading.Event()
        self._wake = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        # Tables a crashed or stopped engine left processing are taken back before the first
        # claim: at once when its lock shows it ended, after STALE_AFTER otherwise.
        self.requeue_orphans()
        self.store.requeue_stale(self.engine_id, STALE_AFTER)
        for n in range(self.workers):
            thread = threading.Thread(
                target=self._loop, name=f"lasso-engine-worker-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._heartbeat, name="lasso-engine-heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)

    def notify(self) -> None:
        """A table was queued: wake one idle worker now instead of at its next poll."""
        self._wake.release()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        for _ in range(self.workers):
            self._wake.release()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def requeue_orphans(self) -> int:
        """Re-queue the tables of other engines on this data dir that have ended (their lock
        is free: crashed, killed, or stopped without giving a table back); returns how many
        engines were found gone."""
        gone = self.store.requeue_gone(
            self.engine_id, lambda owner: engine_gone(self.data_dir, owner)
        )
        for owner in gone:
            log.info("engine %s ended; its tables were re-queued", owner)
            forget_engine(self.data_dir, owner)
        return len(gone)

    # -- threads --------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        while not self.stopping.wait(HEARTBEAT_EVERY):
            try:
                self.store.heartbeat(self.engine_id)
                requeued = self.requeue_orphans()
                requeued += self.store.requeue_stale(self.engine_id, STALE_AFTER)
                if requeued:
                    for _ in range(self.workers):
                        self.notify()
            except Exception:  # a locked/closing database must not kill the heartbeat
                log.exception("engine heartbeat failed")

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                job = self.store.claim_next_table(self.engine_id)
            except Exception:
                if self.stopping.is_set():
                    return
                log.exception("could not claim a table")
                job = None
            if job is None:
                # Poll too: tables queued by another engine on the same data dir, or re-queued.
                self._wake.acquire(timeout=1.0)
                continue
            self._run(job)

    # -- one table ------------------------------------------------------------------------
    def _sources(self, job: dict[str, Any], run: _Run) -> list[Callable[[], Source]]:
        if job["source_type"] == "text":
            return [lambda: Source(text=job["source_text"] or "")]
        makers: list[Callable[[], Source]] = []
        for n, ref in enumerate(job["source_refs"]):
            if job["source_type"] == "files":

                def make(ref: dict[str, Any] = ref) -> Source:
                    path = self.files_dir / ref["file_id"]
                    if not path.exists():
                        raise ExtractionError(
                            f"The uploaded file {ref['filename']!r} ({ref['file_id']}) was deleted "
                            "before extraction; upload it again and create a new table."
                        )
                    return Source(
                        path=path, filename=ref["filename"], content_type=ref.get("content_type")
                    )

            else:

                def make(ref: dict[str, Any] = ref, n: int = n) -> Source:
                    folder = self.downloads_dir / job["id"]
                    folder.mkdir(parents=True, exist_ok=True)
                    source = fetch_url(ref["url"], folder / str(n), self.max_download_bytes)
                    # Rows of a URL source name the URL (row provenance), not the file fetched.
                    source = dataclasses.replace(source, origin=ref["url"])
                    files = [dict(f) for f in job["files"]]
                    if n < len(files):
                        files[n]["name"] = source.filename
                        files[n]["size"] = source.path.stat().st_size if source.path else 0
                    job["files"] = files
                    run.files = files  # written with the next progress step
                    return source

            makers.append(make)
        return makers

    def _read_source(
        self, job: dict[str, Any], run: _Run, make: Callable[[], Source], index: int, count: int
    ) -> dict[str, Any]:
        """Extract one source of the table into ``run``; returns its report entry, with
        ``status`` "failed" and the reason in ``error`` when the source could not be read (the
        rows it gave before failing are kept)."""
        ref = (job["source_refs"] or [{}])[index] if job["source_type"] != "text" else {}
        entry: dict[str, Any] = {"source": ref.get("filename") or ref.get("url") or "text"}
        first_index = run.total + len(run.buffer)
        try:
            source = make()
            run.begin_source(index, source)
            check_container(source)
            check_lines(source)

            def progress(fraction: float) -> None:
                run.step((index + max(0.0, min(1.0, fraction))) / count)

            for row in extract(
                source, job["columns"], job["additional_context"], progress, report=entry
            ):
                run.add(row)
            fill = entry.pop("fill", None)
            if fill:
                run.write()
                self.store.fill_missing(job["id"], self.engine_id, first_index, fill)
            entry.update(status="ok", error=None)
        except _Abort:
            raise
        except ExtractionError as exc:
            entry.update(status="failed", error=exc.message)
        except Exception as exc:  # MemoryError and RecursionError included
            message = _human_failure(exc, run.label)
            if message is None:
                log.exception("extraction of %s (%s) crashed", job["id"], entry["source"])
                message = (
                    f"Extraction failed unexpectedly ({type(exc).__name__}); see the engine log."
                )
            else:
                log.warning("extraction of %s failed: %s", job["id"], message)
            entry.update(status="failed", error=message)
        entry.pop("fill", None)
        return entry

    def _run(self, job: dict[str, Any]) -> None:
        run = _Run(self, job)
        finished: dict[str, Any] | None = None
        try:
            makers = self._sources(job, run)
            entries = [
                self._read_source(job, run, make, index, len(makers))
                for index, make in enumerate(makers)
            ]
            run.write()
            report = _table_report(entries, run.total)
            failed = [e for e in entries if e["status"] == "failed"]
            if run.total == 0:
                if len(entries) == 1 and failed:
                    message = failed[0]["error"]
                elif failed:
                    reasons = "; ".join(f"{e['source']}: {e['error']}" for e in failed)
                    message = (
                        f"No rows could be extracted from any of the {len(entries)} sources: "
                        f"{reasons}"
                    )
                else:
                    message = "No rows could be extracted from the source."
                finished = self._safe(
                    self.store.finish_table, job["id"], self.engine_id, "failed", message, report
                )
            else:
                self.store.record_validation(job["id"], self.engine_id, run.validation.summary())
                finished = self.store.finish_table(
                    job["id"], self.engine_id, "completed", None, report
                )
        except _Abort:
            if self.stopping.is_set():
                self._safe(self.store.requeue, job["id"], self.engine_id)
        except ExtractionError as exc:  # a source list that cannot be read at all
            finished = self._safe(
                self.store.finish_table, job["id"], self.engine_id, "failed", exc.message
            )
        except Exception:
            log.exception("extraction of %s crashed", job["id"])
            message = "Extraction failed unexpectedly; see the engine log."
            finished = self._safe(
                self.store.finish_table, job["id"], self.engine_id, "failed", message
            )
        finally:
            shutil.rmtree(self.downloads_dir / job["id"], ignore_errors=True)
        if finished is not None:
            try:
                self.on_finished(finished)
            except Exception:
                log.exception("could not queue the webhook for %s", job["id"])

    def _safe(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception:
            log.exception("store update failed")
            return None


def _table_report(entries: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    """The table's ``extraction_report``: rows written, rows skipped by reason over all
    sources, the files that failed and why, and each source's own entry."""
    skipped: dict[str, int] = {}
    for entry in entries:
        for reason, n in (entry.get("skipped") or {}).items():
            skipped[reason] = skipped.get(reason, 0) + n
    return {
        "rows": rows,
        "skipped": skipped,
        "failed_files": [
            {"source": e["source"], "file": e["source"], "reason": e["error"]}
            for e in entries
            if e.get("status") == "failed"
        ],
        "sources": entries,
    }
