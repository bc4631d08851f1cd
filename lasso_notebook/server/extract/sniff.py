"""File type from the first bytes (magic numbers): a wrong or missing extension (a URL such
as ``/catalog?id=3``, an upload named ``export``) must not decide how a file is read."""

from __future__ import annotations

import zipfile
from pathlib import Path

__all__ = ["EXTENSION_OF_TYPE", "sniff"]

#: MIME type -> extension, for downloads and uploads without a usable name.
EXTENSION_OF_TYPE = {
    "text/csv": ".csv", "application/csv": ".csv", "text/tab-separated-values": ".tsv",
    "text/plain": ".txt", "text/markdown": ".md", "text/html": ".html",
    "application/xhtml+xml": ".html", "application/json": ".json",
    "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl", "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc", "image/png": ".png", "image/jpeg": ".jpg",
    "image/webp": ".webp", "image/gif": ".gif", "image/tiff": ".tif", "image/bmp": ".bmp",
    "application/zip": ".zip", "message/rfc822": ".eml",
}  # fmt: skip


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def sniff(path: Path) -> str | None:
    """The extension the content proves (``.pdf``, ``.xlsx`` ...), ``.encrypted-office`` for a
    password-protected Office file, or ``None`` for text and unknown content."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if head.startswith(b"%PDF-") or head[:1024].find(b"%PDF-") >= 0:
        return ".pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError):
            return ".zip"
        if any(n.startswith("word/") for n in names):
            return ".docx"
        if any(n.startswith("xl/") for n in names):
            return ".xlsx"
        if any(n.startswith("ppt/") for n in names):
            return ".pptx"
        return ".zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: legacy Office
        if _utf16("EncryptionInfo") in head or _utf16("EncryptedPackage") in head:
            return ".encrypted-office"
        if _utf16("WordDocument") in head:
            return ".doc"
        return ".xls"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ".gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return ".webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return ".tif"
    if head.startswith(b"BM") and len(head) > 26 and head[6:10] == b"\x00\x00\x00\x00":
        return ".bmp"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")):
        return ".zip"
    return None
