"""``UploadInbox``: the files on their way from the browser to the kernel. It owns the records,
reassembles each file from its chunks in a private temp dir (under its own lock), and deletes
the bytes as soon as they are not needed any more."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["CHUNK_BYTES", "IncomingFile", "UploadInbox", "format_bytes", "safe_filename"]

log = logging.getLogger("lasso_notebook")

#: The protocol's ceiling for one file chunk (bytes); the browser sends at most this much.
CHUNK_BYTES = 1024 * 1024

_FID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def format_bytes(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            if unit == "bytes":
                return f"{n} bytes"
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"  # pragma: no cover


def safe_filename(name: str) -> str:
    # Only the last path component, no control characters: the name becomes a temp file name.
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:200] or "upload.bin"


@dataclass
class IncomingFile:
    """A file on its way from the browser: reassembled in a temp file, byte by byte."""

    fid: str
    name: str
    size: int
    mime: str
    path: Path
    received: int = 0
    status: str = "sending"  # sending | received | uploading | uploaded | error
    error: str = ""
    file_id: str = ""
    #: False once the bytes were deleted (uploaded for a table: they live on the server now).
    on_disk: bool = True
    sha256: Any = field(default_factory=hashlib.sha256)
    handle: Any = None

    def public(self) -> dict[str, Any]:
        return {
            "fid": self.fid,
            "name": self.name,
            "size": self.size,
            "received": self.received,
            "status": self.status,
            "error": self.error,
            "file_id": self.file_id,
        }


ChunkOutcome = Literal["ack", "refused", "gone"]


class UploadInbox:
    """The incoming files of one form, keyed by the browser's file id (``fid``).

    The methods take what the ``file_*`` messages carry and say what to answer; sending the
    answer and publishing ``public()`` into the widget's state is the widget's job.
    """

    def __init__(self, prefix: str = "lasso-form-") -> None:
        self._lock = threading.RLock()
        self._files: dict[str, IncomingFile] = {}
        self.directory = Path(tempfile.mkdtemp(prefix=prefix))
        weakref.finalize(self, shutil.rmtree, self.directory, True)

    # -- reading -------------------------------------------------------------------------------

    def public(self) -> list[dict[str, Any]]:
        """The records as the widget's ``files`` trait shows them."""
        with self._lock:
            return [incoming.public() for incoming in self._files.values()]

    def snapshot(self) -> dict[str, IncomingFile]:
        with self._lock:
            return dict(self._files)

    # -- the browser's messages ----------------------------------------------------------------

    def start(self, fid: str, name: str, size: Any, mime: str, *, limit: int, busy: bool) -> str:
        """``file_start``: "" when accepted, else the sentence saying why the file is refused.
        Every start gets an answer, so the browser never waits for one that will not come;
        a refused start keeps no record (a repeated id leaves the first one's record alone)."""
        if not fid or not _FID.fullmatch(fid):
            log.warning("SubmitForm: file_start with a bad id %r", fid[:80])
            return "The browser sent a file without a valid id; add it again."
        safe = safe_filename(name)
        refused = ""
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            refused = f'"{safe}": the browser sent no valid size.'
        elif size > limit:
            # The browser refuses this already; the kernel does not rely on it.
            refused = (
                f'"{safe}" is {format_bytes(size)}; the limit is {format_bytes(limit)} per file.'
            )
        elif busy:
            refused = "A job is running; add files after it finished."
        with self._lock:
            if fid in self._files:
                log.warning("SubmitForm: file_start repeated for id %r", fid)
                return f'"{safe}": this file id is already in use; add the file again.'
            if not refused and any(i.name == safe for i in self._files.values()):
                refused = f'"{safe}" is already in the list.'
            if refused:
                return refused
            folder = self.directory / fid
            try:
                folder.mkdir()
                handle = (folder / safe).open("wb")
            except OSError as exc:  # a full or vanished temp dir: say so, keep nothing
                shutil.rmtree(folder, ignore_errors=True)
                return f'"{safe}" cannot be stored in the kernel ({exc.strerror or exc}).'
            incoming = IncomingFile(fid, safe, size, mime, folder / safe, handle=handle)
            self._files[fid] = incoming
        return ""

    def chunk(self, fid: str, offset: Any, data: bytes) -> tuple[ChunkOutcome, int, str]:
        """``file_chunk``: append ``data`` at ``offset``. Returns the outcome, the bytes
        received so far and, when refused, why: "ack"; "refused" when the transfer broke (the
        file is marked); "gone" when the kernel no longer expects bytes for ``fid`` (removed
        or already ended), so the browser stops sending instead of waiting for an ack."""
        with self._lock:
            incoming = self._files.get(fid)
            if incoming is None or incoming.status != "sending":
                return "gone", 0, "The kernel no longer expects this file; add it again."
            problem = ""
            if offset != incoming.received:
                problem = f"chunk at byte {offset} arrived, expected byte {incoming.received}"
            elif len(data) > CHUNK_BYTES:
                problem = f"a chunk of {len(data)} bytes exceeds the 1 MiB chunk limit"
            elif incoming.received + len(data) > incoming.size:
                problem = f"more bytes than the announced {incoming.size}"
            else:
                try:
                    incoming.handle.write(data)
                except OSError as exc:  # disk full: a broken transfer, not a silent stall
                    problem = f"the kernel could not write it: {exc.strerror or exc}"
            if problem:
                self._fail(incoming, f"Transfer broken ({problem}); remove and add it again.")
                return "refused", incoming.received, incoming.error
            incoming.sha256.update(data)
            incoming.received += len(data)
            return "ack", incoming.received, ""

    def end(self, fid: str, digest: Any) -> bool:
        """``file_end``: check the size and the checksum; True when the record changed."""
        with self._lock:
            incoming = self._files.get(fid)
            if incoming is None or incoming.status != "sending":
                return False
            self._close_handle(incoming)
            if incoming.received != incoming.size:
                self._fail(
                    incoming,
                    f"Only {incoming.received} of {incoming.size} bytes arrived; add it again.",
                )
            elif digest and str(digest).lower() != incoming.sha256.hexdigest():
                self._fail(incoming, "The bytes arrived damaged (checksum); add it again.")
            else:
                incoming.status = "received"
            return True

    def remove(self, fid: str) -> bool:
        """``file_remove``: forget the file and delete its bytes; True when it was known."""
        with self._lock:
            incoming = self._files.pop(fid, None)
            if incoming is None:
                return False
            self._delete(incoming)
            return True

    def fail(self, fid: str, message: str) -> bool:
        """Mark a file still being sent as broken (the kernel failed handling one of its
        messages); True when it was."""
        with self._lock:
            incoming = self._files.get(fid)
            if incoming is None or incoming.status != "sending":
                return False
            self._fail(incoming, message)
            return True

    # -- the job's side ------------------------------------------------------------------------

    def move(self, fids: Iterable[str], old: tuple[str, ...], new: str) -> bool:
        """Set status ``new`` on those of ``fids`` whose status is in ``old``; True on change."""
        changed = False
        with self._lock:
            for fid in fids:
                incoming = self._files.get(fid)
                if incoming is not None and incoming.status in old and incoming.status != new:
                    incoming.status = new
                    changed = True
        return changed

    def discard_data(self, fids: Iterable[str]) -> None:
        """Delete the bytes of ``fids`` (uploaded: the server has them) and keep the records."""
        with self._lock:
            for fid in fids:
                incoming = self._files.get(fid)
                if incoming is not None and incoming.on_disk:
                    self._delete(incoming)

    def clear(self) -> None:
        """Forget every file and delete its bytes (the form starts over)."""
        with self._lock:
            for incoming in self._files.values():
                self._delete(incoming)
            self._files.clear()

    def close(self) -> None:
        self.clear()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _close_handle(incoming: IncomingFile) -> None:
        if incoming.handle is not None:
            with contextlib.suppress(OSError):
                incoming.handle.close()
            incoming.handle = None

    def _delete(self, incoming: IncomingFile) -> None:
        self._close_handle(incoming)
        shutil.rmtree(incoming.path.parent, ignore_errors=True)
        incoming.on_disk = False

    def _fail(self, incoming: IncomingFile, message: str) -> None:
        self._close_handle(incoming)
        incoming.status = "error"
        incoming.error = message
