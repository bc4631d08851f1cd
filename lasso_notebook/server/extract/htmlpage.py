"""How an HTML page is read, first fit wins: schema.org products, product tables, repeated
product blocks, the page's own product, then glue-free text lines; when nothing fits, the error
says what was tried and what the page looked like."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .dom import Element, Page, load_page, segments, strip_chrome
from .errors import ExtractionError
from .page import describe, find_units, is_related, page_currency, read_unit, single_product
from .source import Item, Located, Step
from .structured import StructuredProduct, read_structured
from .values import field_of_label, is_prose

__all__ = ["read_html", "visible_lines"]

#: Record keys a reader knows but a product schema should not see as columns of their own.
_INTERNAL = ("mpn", "offer url")
TableReader = Callable[[str], "list[Item] | None"]


def _located(record: dict[str, Any], line: int | None) -> Located:
    data = {k: v for k, v in record.items() if k not in _INTERNAL and v not in (None, "", [])}
    return Located(data, {"line": line} if line else None)


def _page_product(page: Page, products: list[StructuredProduct]) -> list[StructuredProduct]:
    """On a single product page only the page's own product counts: the one named like its
    H1 (or og:title), not the related products a shop also marks up."""
    if len(products) <= 1:
        return products
    h1 = next(iter(page.root.iter("h1")), None)
    title = " ".join(
        ("".join(h1.itertext()) if h1 is not None else page.og.get("og:title", "")).split()
    )
    own = [p for p in products if p.record.get("name") and p.record["name"] == title]
    if own and (page.og.get("og:type", "").lower() == "product" or len(own) == 1):
        others = [p for p in products if p not in own]
        if all(p.element is None or is_related(p.element) for p in others) or page.og.get("og:type", "").lower() == "product":  # fmt: skip
            return own[:1]
    return [p for p in products if p.element is None or not is_related(p.element)] or products


_FILLED = ("brand", "tags", "in_stock", "sku", "price", "currency", "url")


def _fill_from_page(
    page: Page, products: list[StructuredProduct], records: list[dict[str, Any]]
) -> None:
    """What the page prints adds to what its structured data leaves out (a vendor line, tag
    chips, a stock badge): the page's own product on a product page, else the product block
    holding each microdata item or named like it."""
    if not any(not r.get(k) and r.get(k) is not False for r in records for k in _FILLED):
        return
    if len(records) == 1:
        shown = single_product(page)
        found = {0: shown} if shown is not None and shown.get("name") == records[0].get("name") else {}  # fmt: skip
    else:
        found = {}
        units = find_units(page)
        by_name = {u.record.get("name"): u.record for u in units}
        by_url = {u.record.get("url"): u.record for u in units}
        for n, (product, record) in enumerate(zip(products, records, strict=True)):
            match = by_url.get(record.get("url")) or by_name.get(record.get("name"))
            if match is None and product.element is not None and product.element.getparent() is not None:  # fmt: skip
                match = read_unit([product.element], page.url)
            if match is not None and match.get("name") == record.get("name"):
                found[n] = match
    for n, shown in found.items():
        for key in _FILLED:
            if records[n].get(key) in (None, "", []) and shown.get(key) not in (None, "", []):
                records[n][key] = shown[key]


def _key_value(table: Element) -> bool:
    """A specification table: rows of two cells, a label and its value (``<th>SKU</th>
    <td>AX1</td>``), read as ``label: value`` pairs of the page, not as product rows."""
    rows = [r for r in table.iter("tr") if len([c for c in r if c.tag in ("td", "th")]) > 0]
    if len(rows) < 1:
        return True
    pairs = 0
    for row in rows:
        cells = [c for c in row if c.tag in ("td", "th")]
        if len(cells) != 2:
            return False
        text = " ".join("".join(cells[0].itertext()).split())
        header_cell = cells[0].tag == "th" and cells[1].tag == "td"
        if header_cell or field_of_label(text.rstrip(":")) or text.endswith(":"):
            pairs += 1
    return pairs >= max(1, len(rows) * 0.8)


def _has_data_table(page: Page) -> bool:
    """Whether the page has a table other than layout or specification tables."""
    return any(not _key_value(t) for t in page.root.iter("table"))


def visible_lines(page: Page) -> list[str]:
    """The page's text as lines: one per block element, the separate elements of a line
    joined by `` — `` so a line listing's fields stay apart (prose keeps its spaces)."""
    lines: list[str] = []
    current: list[str] = []
    block = None
    for seg in segments(page.root):
        owner = seg.element
        while owner is not None and owner.tag in _INLINE:
            owner = owner.getparent()
        if owner is not block and current:
            lines.append(_join(current))
            current = []
        block = owner
        current.append(seg.text)
    if current:
        lines.append(_join(current))
    return lines


_INLINE = {
    "a", "span", "b", "strong", "i", "em", "small", "s", "del", "ins", "u", "mark", "sup",
    "sub", "abbr", "code", "label", "time", "data", "font", "q", "cite", "bdi", "bdo",
}  # fmt: skip


def _join(parts: list[str]) -> str:
    text = " ".join(parts)
    return text if len(parts) == 1 or is_prose(text) else " — ".join(parts)


def read_html(text: str, tables: TableReader, label: str = "the page") -> Iterator[Item]:
    """The items of an HTML page (see the module docstring); ``tables`` reads the page's
    tables through the grid stage and returns ``None`` when no table holds products;
    ``label`` names the page in the error."""
    page = load_page(text)
    yield Step(0.1)
    products = _page_product(page, read_structured(page.root, page.url))
    if products:
        single = len(products) == 1 and page.url is not None
        records = [dict(p.record) for p in products]
        strip_chrome(page)
        _fill_from_page(page, products, records)
        for product, record in zip(products, records, strict=True):
            if single and (page.og.get("og:type", "").lower() == "product" or not record.get("url")):  # fmt: skip
                record["url"] = page.url
            line = product.element.sourceline if product.element is not None else None
            yield _located(record, line)
        return
    found = tables(text) if _has_data_table(page) else None
    if found is not None:
        yield from found
        return
    strip_chrome(page)
    yield Step(0.3)
    units = find_units(page)
    yield Step(0.6)
    records = [(u.record, u.elements[0].sourceline) for u in units]
    if not records:
        own = single_product(page, [e for u in units for e in u.elements])
        if own is not None:
            h1 = next(iter(page.root.iter("h1")), None)
            records = [(own, h1.sourceline if h1 is not None else None)]
    if records:
        bare = any(r.get("price") is not None and not r.get("currency") for r, _ in records)
        currency = page_currency(page) if bare else None
        for n, (record, line) in enumerate(records, 1):
            if currency and record.get("price") is not None and not record.get("currency"):
                record["currency"] = currency
            yield _located(record, line)
            if n % 200 == 0:
                yield Step(0.6 + 0.4 * n / len(records))
        return
    lines = visible_lines(page)
    if lines:
        from .records import parse_text

        try:
            items = parse_text("\n".join(lines))
        except ExtractionError:
            items = []
        # Records of two or more fields (listings, "Key: value" blocks): a page's lines read
        # as a one-column list are its headings and prose, not products.
        if any(isinstance(i, dict) and sum(1 for v in i.values() if v) >= 2 for i in items):
            yield from items
            return
    raise ExtractionError(_nothing_found(page, label))


def _nothing_found(page: Page, label: str) -> str:
    return (
        f"Found no products in {label}: no product data (JSON-LD, microdata, RDFa), no product "
        f"table, no repeated product blocks and no product of its own; {describe(page)}."
    )


def strip_tags(text: str) -> str:
    """Plain text of a small HTML fragment (an e-mail's HTML part), lines kept."""
    page = load_page(text)
    strip_chrome(page)
    return "\n".join(visible_lines(page)) or re.sub(r"<[^>]+>", " ", text)
