"""Images: OCR with a local ``tesseract`` binary when one is installed, else a clear failure.
The recognised text is parsed like any other text (listings, ``Key: value``, tables)."""

from __future__ import annotations

import shutil
import subprocess

from ..errors import ExtractionError
from ..records import parse_text
from ..source import Record, Source

__all__ = ["OCR_TIMEOUT", "read_image"]

OCR_TIMEOUT = 120.0


def read_image(source: Source) -> list[Record]:
    binary = shutil.which("tesseract")
    if binary is None:
        raise ExtractionError(
            f"{source.label} is an image, and OCR is not available in the embedded engine (no "
            "local 'tesseract' found). Install tesseract, upload a PDF with selectable text or "
            "a spreadsheet, or use the hosted Lasso API."
        )
    try:
        done = subprocess.run(
            [binary, str(source.path), "stdout", "--psm", "6"],
            capture_output=True,
            timeout=OCR_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(
            f"OCR of {source.label} took longer than {OCR_TIMEOUT:.0f} s."
        ) from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise ExtractionError(f"OCR could not read {source.label}: {reason[0]}")
    text = done.stdout.decode("utf-8", "replace")
    if not text.strip():
        raise ExtractionError(f"OCR found no text in {source.label}.")
    return parse_text(text)
