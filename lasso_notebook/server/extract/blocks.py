"""Product blocks in running text (Word, PDF, plain text, e-mails): a repeated heading style or
blank lines start each block, its lines give the fields (``Label: value``, prices, availability,
``Name (CODE)``). Also single product lines between prose (``Drill (AX1): $9.00, in stock``)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .coerce import is_measure
from .listing import labelled_code, split_name_price, without_qualifier
from .values import (
    field_of_label,
    find_price,
    is_prose,
    is_sku_like,
    split_label,
    stock_of,
)

__all__ = ["Paragraph", "product_line", "read_blocks", "read_lines"]

_SPLIT = re.compile(r"\s+(?:[—–|·•=@→]|-+>|=>)\s+|\s+-{1,2}\s+|\t+|\s{3,}|;\s+|\s*/\s+(?=[A-Z$€£])")
_BULLET = re.compile(r"^\s*(?:[-*•·▪◦‣]|\d{1,3}[.)]|\(\d{1,3}\))\s+")
_CODE_IN_PARENS = re.compile(r"^(?P<name>.+?)\s*[(\[](?P<code>[A-Za-z0-9][A-Za-z0-9\-_./]{2,24})[)\]]\s*$")  # fmt: skip
_AFTER_CODE = re.compile(r"(?<=\)):\s+")  # "Name (CODE): $9.00"
# "AX-100: Acme Drill" / "AX-100 – Acme Drill": a code leading the name.
_CODE_FIRST = re.compile(r"^(?P<code>[A-Za-z0-9][A-Za-z0-9\-_./]{2,24})(?::|\s+[-–—])\s+(?P<name>\S.*)$")  # fmt: skip
_NUMBERING = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*•])\s+")


@dataclass
class Paragraph:
    """A paragraph of a document: its text and its style (``heading`` level 1-6 from the
    document's heading styles, or 0; ``bold``/``size`` where the format tells)."""

    text: str
    heading: int = 0
    bold: bool = False
    size: float = 0.0
    line: int | None = None
    page: int | None = None


def _style(p: Paragraph) -> tuple[int, bool, float] | None:
    if p.heading:
        return (p.heading, False, 0.0)
    if p.bold and len(p.text) <= 120 and not find_price(p.text):
        return (0, True, round(p.size))
    return None


class _Fields:
    """Collects one record's fields from text segments."""

    def __init__(self) -> None:
        self.record: dict[str, Any] = {}
        self.prices: list[tuple[bool, str, str | None]] = []
        self.plain: list[str] = []

    def put(self, key: str, value: Any) -> None:
        if value not in (None, "", []) and self.record.get(key) in (None, "", []):
            self.record[key] = value

    def segment(self, text: str) -> None:
        text = text.strip().strip(",;").strip()
        if not text:
            return
        price = find_price(text) or find_price(without_qualifier(text))  # "8,90 € pro Stück"
        if price is not None:
            self.prices.append((False, price.text, price.currency))
            return
        stock = stock_of(text)
        if stock is not None:
            self.put("in_stock", stock)
            return
        label = split_label(text)
        if label is not None:
            fieldname, _name, value = label
            if fieldname in ("price", "list price"):
                found = find_price(value, loose=True)
                if found is not None:
                    self.prices.append((fieldname == "list price", found.text, found.currency))
                    return
            if fieldname == "in_stock":
                self.put("in_stock", stock_of(value, short_words=True))
            elif fieldname == "tags":
                tags = [t.strip().lstrip("#") for t in re.split(r"[,;|]", value) if t.strip()]
                self.put("tags", tags)
            elif fieldname == "name":
                self.put("name", _name_and_code(value, self))
            else:
                self.put(fieldname, value)
            return
        self.plain.append(text)

    def finish(self, title: str | None) -> dict[str, Any]:
        if title:
            self.put("name", _name_and_code(title, self))
        plain = [p for p in self.plain if not is_prose(p) and len(p) <= 150]
        if "sku" not in self.record:
            # A lone code among the plain pieces is the SKU, unless it is all there is to name
            # the product by.
            code = next((p for p in plain if is_sku_like(p.strip("()[]"))), None)
            if code is not None and (self.record.get("name") or len(plain) >= 2):
                self.record["sku"] = code.strip("()[]")
                self.plain.remove(code)
                plain.remove(code)
        if not self.record.get("name") and plain:
            self.put("name", _name_and_code(plain[0], self))
            self.plain.remove(plain[0])
        if self.prices:
            ordered = sorted(self.prices, key=lambda p: p[0])
            self.put("price", ordered[0][1])
            self.put("currency", ordered[0][2] or next((c for _, _, c in self.prices if c), None))  # fmt: skip
        if self.plain and "description" not in self.record:
            prose = [p for p in self.plain if p != self.record.get("name")]
            if prose:
                self.record["description"] = " ".join(prose)
        return self.record


def _name_and_code(text: str, fields: _Fields) -> str:
    """``Acme Drill (AX100)`` -> name ``Acme Drill``, sku ``AX100``."""
    text = _NUMBERING.sub("", text).strip()
    match = _CODE_IN_PARENS.match(text)
    if match and is_sku_like(match.group("code")):
        fields.put("sku", match.group("code"))
        return match.group("name").strip().rstrip(":-–—").strip()
    labelled = labelled_code(text)  # "Drill (Art.-Nr. 4711-20)"
    if labelled is not None:
        fields.put("sku", labelled[1])
        return labelled[0]
    lead = _CODE_FIRST.match(text)
    if lead and is_sku_like(lead.group("code")) and re.search(r"\d", lead.group("code")):
        fields.put("sku", lead.group("code"))
        return lead.group("name").strip()
    return text


def _split_labels(part: str) -> list[str]:
    """``Artikelnummer: ECH-9 Merk: Echo`` -> one piece per known label."""
    words = list(re.finditer(r"\S+", part))
    cuts = []
    for k, word in enumerate(words):
        if not word.group().endswith((":", "：")) or k == 0:
            continue
        for n in (3, 2, 1):
            if k - n + 1 >= 1 and field_of_label(" ".join(w.group() for w in words[k - n + 1 : k + 1])):  # fmt: skip
                cuts.append(words[k - n + 1].start())
                break
    if not cuts or ":" not in part[: cuts[0]]:
        return [part]
    bounds = [0, *cuts, len(part)]
    return [part[a:b].strip() for a, b in itertools.pairwise(bounds) if part[a:b].strip()]


def _split(line: str) -> list[str]:
    line = _BULLET.sub("", line.strip())
    if len(re.findall(r"\s/\s", line)) >= 2:
        # Spaced slashes used over and over separate fields ("Saw / ref. S-1 / 9,50 €"); a
        # single one may be part of a name ("Black / White").
        line = re.sub(r"\s+/\s+", " | ", line)
    parts = [q for p in _SPLIT.split(line) if p and p.strip() for q in _split_labels(p)]
    out: list[str] = []
    for part in parts:
        # "Name (CODE): $129.00, in stock" -> the name, then the typed pieces after ": " / ", "
        for piece in _AFTER_CODE.split(part):
            # "Name: USD 57.95 (in stock)": a colon before a price separates like a dash,
            # unless the label is a product field ("Price: $9").
            label = split_label(piece)
            known = label is not None and field_of_label(label[1]) is not None
            for named in [piece] if known else split_name_price(piece.strip()):
                out.extend(p for p in _comma_pieces(named) if p.strip())
    return out


def _typed(text: str) -> bool:
    return bool(
        find_price(text) or stock_of(text) is not None or split_label(text) or is_sku_like(text)
    )


def _comma_pieces(part: str) -> list[str]:
    """``Acme Drill, Item no. AX-100, $129.00, in stock``: a comma starts a new piece when
    what follows is a price, availability, label or code; other commas stay in the text."""
    chunks = re.split(r",\s+", part)
    out = [chunks[0]]
    for chunk in chunks[1:]:
        # A size after "Name (CODE)" or after a typed field is a field of its own: the name
        # is closed ("Drill (AX1), 30 x 40 cm, $9"); right after the name it is part of it
        # ("Anvil, 12 kg").
        closed = is_measure(chunk) and (
            _CODE_IN_PARENS.match(out[-1]) is not None or (len(out) > 1 and _typed(out[-1]))
        )
        if closed or _typed(chunk.rstrip(".")):
            out.append(chunk.rstrip("."))
        else:
            out[-1] += ", " + chunk
    return out


def product_line(line: str) -> dict[str, Any] | None:
    """The record of one product line (a name and a price, SKU or availability), else
    ``None``."""
    segments = _split(line) if line.strip() else []
    if len(segments) < 2 or is_prose(segments[0]):
        return None
    fields = _Fields()
    first, *rest = segments
    label = split_label(first)
    if label is None and not find_price(first) and stock_of(first) is None and not is_sku_like(first):  # fmt: skip
        title: str | None = first
    else:
        title = None
        rest = segments
    for segment in rest:
        fields.segment(segment)
    record = fields.finish(title)
    typed = any(k in record for k in ("price", "sku", "in_stock"))
    return record if record.get("name") and typed else None


def read_lines(lines: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Product lines among other text (an e-mail's prose, greetings, notes): the records of
    the lines that are products, and the other lines (notes, for a currency statement)."""
    records, notes = [], []
    for line in lines:
        record = product_line(line)
        if record is None:
            if line.strip():
                notes.append(line.strip())
            continue
        records.append(record)
    return records, notes


def _blocks_by_style(paragraphs: Sequence[Paragraph]) -> list[list[Paragraph]] | None:
    styles = Counter(s for p in paragraphs if (s := _style(p)) is not None)
    repeated = [s for s, n in styles.items() if n >= 2]
    if not repeated:
        return None
    # The deepest repeated heading style leads the blocks (a document title is level 1, once).
    lead = max(repeated, key=lambda s: (s[0], styles[s]))
    blocks: list[list[Paragraph]] = []
    for p in paragraphs:
        if _style(p) == lead:
            blocks.append([p])
        elif blocks and (_style(p) is None or _style(p) > lead):  # type: ignore[operator]
            blocks[-1].append(p)
        elif blocks and _style(p) is not None:
            blocks.append([])  # a higher heading (a section) ends the block
    return [b for b in blocks if b]


def _blocks_by_blank_lines(paragraphs: Sequence[Paragraph]) -> list[list[Paragraph]]:
    blocks: list[list[Paragraph]] = [[]]
    for p in paragraphs:
        if not p.text.strip():
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append(p)
    return [b for b in blocks if b]


def read_blocks(paragraphs: Sequence[Paragraph]) -> tuple[list[dict[str, Any]], list[str]]:
    """The product records of a document made of blocks, and its other paragraphs (notes).
    Returns no records unless two or more blocks are products (a name and a price or SKU)."""
    blocks = _blocks_by_style(paragraphs) or _blocks_by_blank_lines(paragraphs)
    records: list[dict[str, Any]] = []
    used: set[int] = set()
    for block in blocks:
        record = _read_block(block)
        if record is not None:
            record["_line"] = block[0].line
            record["_page"] = block[0].page
            records.append(record)
            used.update(id(p) for p in block)
    notes = [p.text for p in paragraphs if id(p) not in used and p.text.strip()]
    if len(records) < 2:
        return [], [p.text for p in paragraphs if p.text.strip()]
    return records, notes


def _read_block(block: list[Paragraph]) -> dict[str, Any] | None:
    fields = _Fields()
    first = block[0]
    title = None
    lines = [p.text for p in block]
    if _style(first) is not None or (split_label(first.text) is None and not find_price(first.text)):  # fmt: skip
        title, lines = first.text.strip(), lines[1:]
    if title and is_prose(title):
        return None
    for line in lines:
        if is_prose(line) and not split_label(line):
            fields.plain.append(line.strip())
            continue
        for segment in _split(line) or [line]:
            fields.segment(segment)
    record = fields.finish(title)
    if not record.get("name") or not any(k in record for k in ("price", "sku")):
        return None
    return record
