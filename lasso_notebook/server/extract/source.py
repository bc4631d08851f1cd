"""What the extractor reads from: the ``Source`` of one table input, the markers readers
interleave with their records (``Step`` progress, ``Skip`` for a row that is not a product,
``Note`` for a line of text around a table), located records, and text decoding for files."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ExtractionError

__all__ = [
    "MAX_TEXT_BYTES",
    "SECTION",
    "TITLE",
    "Item",
    "Linked",
    "Located",
    "Note",
    "Record",
    "Skip",
    "Source",
    "Step",
    "detect_encoding",
    "iter_text_lines",
    "read_text_file",
]

Record = dict[str, Any]
TITLE = "_title"  # pseudo-header: the untitled first line of a "Key: value" block
SECTION = "_section"  # pseudo-header: the section heading a table row stands under
#: Text files larger than this are refused rather than loaded into memory.
MAX_TEXT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One thing to extract from: inline ``text``, or a stored file at ``path``."""

    text: str | None = None
    path: Path | None = None
    filename: str | None = None
    content_type: str | None = None
    #: What its rows name as ``source.file``: the URL of a fetched source (default: the
    #: file name, else "text").
    origin: str | None = None

    @property
    def label(self) -> str:
        return repr(self.filename) if self.filename else "the text"


@dataclass(frozen=True)
class Step:
    """Progress marker a reader yields between records: ``fraction`` of the source read.

    ``page`` marks the end of a slow unit of work (a PDF page): it is always reported, while
    other steps are reported only when they cross the next 1/STEPS boundary.
    """

    fraction: float
    page: bool = False


@dataclass(frozen=True)
class Skip:
    """A candidate row that is not a product: ``reason`` (total, section, header, note, empty)
    and a short ``sample`` of its text for the extraction report."""

    reason: str
    sample: str = ""


@dataclass(frozen=True)
class Note:
    """A line of text around a table (title, note above, below or beside it, prose): read for
    document-wide facts such as "Alle Preise in EUR"."""

    text: str


class Located(dict):  # type: ignore[type-arg]
    """A record that knows where it was read: ``where`` holds ``sheet``, ``page`` and
    ``line`` (1-based) where known."""

    __slots__ = ("where",)

    def __init__(self, data: Any = (), where: dict[str, Any] | None = None) -> None:
        super().__init__(data)
        self.where = where


#: What readers yield: records (plain or located) and markers.
Item = Record | Step | Skip | Note


def detect_encoding(path: Path) -> str:
    """utf-8 (BOM or not), utf-16 with a BOM, else cp1252. Scans the file in chunks, so a
    stray byte deep in a big file is found before any row is produced, in bounded memory."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _check_text(source: Source, path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        raise ExtractionError(f"{source.label} is empty (0 bytes): there is nothing to extract.")
    if size > MAX_TEXT_BYTES:
        raise ExtractionError(
            f"{source.label} is {size // (1024 * 1024)} MB; text sources are limited to "
            f"{MAX_TEXT_BYTES // (1024 * 1024)} MB."
        )
    with path.open("rb") as fh:
        head = fh.read(8192)
    if b"\x00" in head and head[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise ExtractionError(f"{source.label} is not readable text (it looks like a binary file).")
    return size


def read_text_file(source: Source) -> str:
    """The whole file as text (for formats that need the document at once: JSON, markdown)."""
    assert source.path is not None
    _check_text(source, source.path)
    encoding = detect_encoding(source.path)
    # cp1252 leaves five bytes undefined: never fail on them, the rest of the file is fine.
    return source.path.read_bytes().decode(encoding, errors="replace").lstrip("\ufeff")


def iter_text_lines(source: Source) -> tuple[Iterator[str], Any]:
    """Stream a text file line by line; returns the lines and a callable giving the fraction
    of bytes read so far (for honest progress on big files)."""
    assert source.path is not None
    size = _check_text(source, source.path)
    encoding = detect_encoding(source.path)
    done = [0]

    def lines() -> Iterator[str]:
        if encoding == "utf-16":  # rare; not line-splittable as bytes
            text = source.path.read_bytes().decode("utf-16")  # type: ignore[union-attr]
            done[0] = size
            yield from text.splitlines(keepends=True)
            return
        with source.path.open("rb") as fh:  # type: ignore[union-attr]
            first = True
            for raw in fh:
                done[0] += len(raw)
                line = raw.decode(encoding, errors="replace")
                if first:
                    line, first = line.lstrip("\ufeff"), False
                yield line

    return lines(), lambda: done[0] / size


class Linked(str):
    """Cell text that carried links or images (HTML ``<a>``/``<img>``, markdown, Word):
    text columns take the text, url/image columns take ``urls``."""

    urls: tuple[str, ...]

    def __new__(cls, text: str, urls: tuple[str, ...] | list[str] = ()) -> Linked:
        obj = super().__new__(cls, text)
        obj.urls = tuple(urls)
        return obj
