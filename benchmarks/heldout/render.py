"""Byte-level writers shared by the templates: PDFs with a Unicode font and pinned dates,
xlsx/docx with fixed zip timestamps and properties, xls, CSV text and a small PNG picture,
so that running the generator twice gives the same bytes."""

from __future__ import annotations

import csv
import io
import random
import re
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

PINNED = datetime(2025, 3, 1, 9, 0, 0)
STAMP = PINNED.strftime("%Y-%m-%dT%H:%M:%SZ")

# Debian's fonts-dejavu-core; PDFs need a Unicode font for "€", "✓", "µ" and narrow spaces.
FONT_DIRS = [
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
    Path("/Library/Fonts"),
]


def _font(name: str) -> str:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    raise SystemExit(
        f"the PDF documents need the DejaVu fonts ({name}); install them "
        "(Debian: apt-get install fonts-dejavu-core) and run again"
    )


def new_pdf(orientation: str = "P", header: str | None = None, footer: str | None = None) -> Any:
    """An A4 FPDF with the fonts registered; ``header`` is printed atop every page, ``footer``
    (with ``{page}`` and ``{pages}``) at its foot, as office software prints them."""
    from fpdf import FPDF

    class Printed(FPDF):  # type: ignore[misc]
        def header(self) -> None:
            if header:
                self.set_font("Sans", size=8)
                self.cell(0, 6, header, new_x="LMARGIN", new_y="NEXT")
                self.ln(2)
                self.set_font("Sans", size=9)

        def footer(self) -> None:
            if footer:
                self.set_y(-12)
                self.set_font("Sans", size=8)
                text = footer.replace("{page}", str(self.page_no())).replace("{pages}", "{nb}")
                self.cell(0, 6, text, align="C")
                self.set_font("Sans", size=9)

    pdf = Printed(orientation=orientation, format="A4")
    pdf.set_creation_date(PINNED)
    pdf.set_producer("Office Print Server 4.2")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("Sans", "", _font("DejaVuSans.ttf"))
    pdf.add_font("Sans", "B", _font("DejaVuSans-Bold.ttf"))
    pdf.add_font("Mono", "", _font("DejaVuSansMono.ttf"))
    pdf.add_font("Mono", "B", _font("DejaVuSansMono-Bold.ttf"))
    pdf.set_font("Sans", size=9)
    return pdf


def pdf_bytes(pdf: Any) -> bytes:
    return bytes(pdf.output())


def fixed_zip(data: bytes) -> bytes:
    """The same archive with every member dated ``PINNED`` (writers stamp the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=PINNED.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" when saving
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + STAMP.encode(), data)
            dst.writestr(member, data)
    return out.getvalue()


def xlsx_bytes(workbook: Any) -> bytes:
    workbook.properties.creator = "Microsoft Excel"
    workbook.properties.created = workbook.properties.modified = PINNED
    workbook.properties.lastModifiedBy = None
    buf = io.BytesIO()
    workbook.save(buf)
    return fixed_zip(buf.getvalue())


def docx_bytes(document: Any) -> bytes:
    props = document.core_properties
    props.author = props.last_modified_by = "Sales Office"
    props.created = props.modified = PINNED
    props.revision = 1
    buf = io.BytesIO()
    document.save(buf)
    return fixed_zip(buf.getvalue())


def xls_bytes(workbook: Any) -> bytes:
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def csv_text(rows: list[list[str]], delimiter: str = ",", quote_all: bool = False) -> str:
    buf = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n", quoting=quoting)
    writer.writerows(rows)
    return buf.getvalue()


def png_picture(rng: random.Random, width: int = 320, height: int = 240) -> bytes:
    """A photo-like picture without any text: coloured boxes on a gradient."""
    boxes = [
        (rng.randrange(width), rng.randrange(height), rng.randint(20, 120), rng.randint(20, 90),
         (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        for _ in range(6)
    ]  # fmt: skip
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            pixel = (200 - y // 3, 210 - x // 4, 230)
            for bx, by, bw, bh, colour in boxes:
                if bx <= x < bx + bw and by <= y < by + bh:
                    pixel = colour
            raw.extend(max(0, c) for c in pixel)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def truncated(data: bytes, keep: float = 0.45) -> bytes:
    """A damaged copy: the first part of a file, as an interrupted download leaves it."""
    return data[: int(len(data) * keep)]
