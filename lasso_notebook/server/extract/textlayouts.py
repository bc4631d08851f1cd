"""Texts that are not delimited tables, as items for the extractor: printed fixed-width reports
(a grid for the grid stage), e-mails (a ruled, markdown or pasted spreadsheet table in the new
message, else its product lines, else its text parsed as any text, else the forwarded or
quoted message below it), and loose product lines or blocks between prose. Also the ``.eml``
reader."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from .blocks import Paragraph, product_line, read_blocks, read_lines
from .errors import ExtractionError
from .fixedwidth import looks_like_report, read_report
from .grid import GridRow, grid_items
from .layout import Grid
from .listing import lead_codes, trailing_charges
from .mail import earlier_message, message_lines, read_eml
from .source import Item, Located, Note, Skip, Source, Step
from .values import is_prose

__all__ = [
    "describe_text",
    "grid_to_items",
    "loose_items",
    "mail_items",
    "read_eml_file",
    "report_items",
]


def located(record: dict[str, Any], line: int | None = None, page: int | None = None) -> Located:
    where = {k: v for k, v in (("page", page), ("line", line)) if v}
    data = {k: v for k, v in record.items() if not k.startswith("_") and v not in (None, "", [])}
    return Located(data, where or None)


def grid_to_items(grids: Iterable[Grid]) -> Iterator[Item]:
    """A layout reader's grids through the grid stage: notes first (a currency statement in a
    report header), then the header and the rows with their line and page."""
    for grid in grids:
        for note in grid.notes:
            yield Note(note)
        rows = [GridRow(list(grid.header), None, "header")]
        for row in grid.rows:
            where = {k: v for k, v in (("page", row.page), ("line", row.line)) if v}
            rows.append(GridRow(row.cells, where or None))
        yield from grid_items(rows)


def report_items(text: str) -> list[Item] | None:
    """A printed report's items, or ``None`` when the text has no report columns."""
    lines = text.splitlines()
    if not looks_like_report(lines):
        return None
    grid = read_report(text)
    if grid is None:
        return None
    items = list(grid_to_items([grid]))
    return items if any(isinstance(i, dict) for i in items) else None


def _delimited(lines: list[str]) -> bool:
    """Every line splits into the same number (2+) of fields on one delimiter: CSV, not prose."""
    for delimiter in (",", ";", "\t", "|"):
        counts = Counter(line.count(delimiter) for line in lines)
        count, lines_with = counts.most_common(1)[0]
        if count >= 2 and lines_with >= 0.9 * len(lines):
            return True
    return False


def loose_items(text: str) -> list[Item] | None:
    """Product lines between prose (two or more), else blank-line product blocks (two or
    more), with the other lines as notes; ``None`` when the text holds neither."""
    lines = text.splitlines()
    filled = [line for line in lines if line.strip()]
    if not filled or _delimited(filled):
        return None
    numbered = message_lines(text)  # a pasted e-mail: no quoted message, no signature
    records, notes = read_lines([line for _, line in numbered])
    if len(records) >= 2:
        return _product_lines(notes, list(_pair_lines(numbered, records)))
    blocks, notes = read_blocks([Paragraph(line, line=n) for n, line in enumerate(lines, 1)])
    if len(blocks) >= 2:
        return [*(Note(n) for n in notes), *(located(r, r.get("_line")) for r in blocks)]
    return None


def _product_lines(notes: list[str], pairs: list[tuple[int, dict[str, Any]]]) -> list[Item]:
    """The items of product lines among notes: codes leading every name are SKUs ("GH-201
    Garden Hose: $40.25"), totals and charges closing the list ("Shipping – $5.00") are
    skipped as totals."""
    lead_codes([r for _, r in pairs])
    charges = trailing_charges([r for _, r in pairs])
    items: list[Item] = [Note(n) for n in notes]
    items += [Skip("total", str(r.get("name"))) for _, r in pairs if id(r) in charges]
    items += [located(r, number) for number, r in pairs if id(r) not in charges]
    return items


def _pair_lines(numbered: list[tuple[int, str]], records: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:  # fmt: skip
    """Pairs each product-line record with its line number (records come in line order)."""
    pending = iter(records)
    current = next(pending, None)
    for number, line in numbered:
        if current is None:
            return
        if product_line(line) == current:
            yield number, current
            current = next(pending, None)


def mail_items(text: str) -> list[Item]:
    """The items of an e-mail: its new message's product lines (prose, greeting, signature
    and quoted earlier messages left out), else the message text parsed as any text."""
    from .records import parse_text

    numbered = message_lines(text)
    from .records import delimited_block, has_markdown_table, parse_csv, parse_markdown
    from .ruled import has_ruled_table, parse_ruled

    message = [line for _, line in numbered]
    if has_ruled_table(message):
        # A ruled table pasted into the message ("+----+" rules): its rows, the prose notes.
        ruled = parse_ruled("\n".join(message))
        if ruled is not None:
            return ruled
    if has_markdown_table(message):
        # A markdown table in the message: read as one, not as spaced report columns.
        return parse_markdown("\n".join(message))
    block = delimited_block(message)
    if block is not None:
        # Rows pasted from a spreadsheet (tabs, ";"): a table under its header, every
        # column kept; the prose around are notes.
        start, end, delimiter = block
        table = parse_csv("\n".join(message[start:end]), delimiter)
        around = [*message[:start], *message[end:]]
        return [*(Note(line.strip()) for line in around if line.strip()), *table]
    report = report_items("\n".join(line for _, line in numbered))
    if report is not None:  # a small table laid out with spaces between the paragraphs
        return report
    records, notes = read_lines([line for _, line in numbered])
    if records:
        return _product_lines(notes, list(_pair_lines(numbered, records)))
    body = "\n".join(line for _, line in numbered).strip()
    earlier = earlier_message(text, numbered[-1][0] if numbered else 0)
    if not body and not earlier:
        raise ExtractionError("The e-mail has no message text (only quotes or a signature).")
    try:
        if not body:
            raise ExtractionError("The e-mail has no message text.")
        return parse_text(body)
    except ExtractionError:
        # "See the prices below" over a forwarded or quoted message: the products are there.
        if not earlier:
            raise
        return parse_text(earlier)


def read_eml_file(source: Source) -> Iterator[Item]:
    """A ``.eml`` message: its plain-text body as an e-mail, else its HTML body as a page."""
    assert source.path is not None
    mail = read_eml(source.path.read_bytes())
    yield Step(0.2)
    if mail.text and mail.text.strip():
        yield from mail_items(mail.text)
    elif mail.html:
        from .html import parse_html

        yield from parse_html(mail.html, source.label)
    else:
        raise ExtractionError(
            f"{source.label} is an e-mail without a text or HTML body (attachments are not read)."
        )
    yield Step(1.0)


def describe_text(lines: list[str]) -> str:
    """What a text looks like, in a few words: ``the text is 3 lines of prose``, ``the text
    has 12 lines, starting with 'Price list'`` (a short first line is quoted, never a long one)."""
    filled = [line.strip() for line in lines if line.strip()]
    if not filled:
        return "the text is empty"
    prose = sum(1 for line in filled if is_prose(line) or len(line.split()) >= 5)
    count = f"{len(filled)} line{'s' if len(filled) != 1 else ''}"
    if prose == len(filled):
        return f"the text is {count} of prose"
    first = filled[0]
    if len(first) <= 40 and len(first.split()) <= 6:
        return f"the text has {count}, starting with '{first}'"
    return f"the text has {count}, {prose} of them prose"
