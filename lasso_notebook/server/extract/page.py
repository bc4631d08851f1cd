"""Products of a page without a product table: repeated sibling blocks (cards, list items,
grid cells; 3+ of one shape) read one record each, else the page's own product (H1 and what
stands near it, teasers left out); ``describe`` says what a page held when nothing was found."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .blocks import product_line
from .dom import Element, Page, Segment, element_text, hint_words, resolve, segments
from .values import (
    currency_note,
    field_of_label,
    find_price,
    is_prose,
    is_sku_like,
    split_label,
    stock_of,
)

__all__ = [
    "Unit",
    "describe",
    "find_units",
    "is_related",
    "page_currency",
    "read_unit",
    "single_product",
]

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: Class-name words -> field, the first match wins (compare-at prices before prices).
_FIELD_HINTS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (name, frozenset(words.split()))
    for name, words in (
        ("ignore", "rating ratings review reviews stars btn button cta wishlist quickview "
         "swatch swatches compareproduct addtocart quantity qty"),
        ("compare", "compare compareat was old regular strike strikethrough original msrp rrp "
         "uvp listprice crossed before pricewas priceold"),
        ("price", "price prices amount cost money preis prix precio prijs saleprice "
         "currentprice finalprice"),
        ("sku", "sku skus productcode itemcode itemnumber itemno partnumber partno artno artnr "
         "articlenumber articleno ref reference mpn"),
        ("brand", "vendor brand manufacturer maker designer marke hersteller marque merk marca"),
        ("in_stock", "stock availability inventory instock stockstatus badge status lager "
         "availabilitystatus"),
        ("tags", "tag tags chip chips pill pills keyword keywords topic topics"),
        ("name", "title name productname producttitle heading headline"),
        ("description", "desc description summary excerpt subtitle"),
    )
)  # fmt: skip
_RELATED_WORDS = {
    "related", "recommended", "recommendations", "recommendation", "upsell", "upsells",
    "crosssell", "similar", "recently", "recentlyviewed", "alsobought", "alsolike", "youmay",
}  # fmt: skip
_RELATED_TEXT = re.compile(
    r"related|you may also|you might also|also like|also bought|also viewed|recently viewed"
    r"|similar|recommended|frequently bought|complete the look|ähnlich|könnte .* gefallen"
    r"|auch gekauft|zuletzt angesehen|empfohlen|similaires|vous aimerez|aussi aimer"
    r"|gerelateerd|vergelijkbare|ook interessant|relacionad|similares|también te",
    re.I,
)
_STATE_CLASS = re.compile(
    r"^(?:is|has)-|--|^(?:active|selected|current|first|last|odd|even|hidden|visible|sold"
    r"|soldout|sold-out|sale|on-sale|new|featured|out-of-stock|in-stock|available|disabled"
    r"|unavailable|loaded|lazy)$|\d",
    re.I,
)
_SKIP_REPEAT = {"tr", "tbody", "thead", "table", "td", "th", "option", "br", "hr", "img", "source"}


@dataclass
class Unit:
    """One product block: its elements (one card, or a heading and the siblings after it)."""

    elements: list[Element]
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def product_like(self) -> bool:
        r = self.record
        return bool(r.get("name")) and (r.get("price") is not None or bool(r.get("sku")))


# -- reading one block ---------------------------------------------------------------------
def _hint_field(element: Element) -> str | None:
    attrib = element.attrib
    if not attrib:
        return None
    key = tuple(
        (k, v)
        for k, v in attrib.items()
        if k in ("class", "id", "itemprop") or k.startswith("data-")
    )
    if not key:
        return None
    found = _HINTS.get(key, False)
    if found is False:
        words = hint_words(element)
        found = next((name for name, vocabulary in _FIELD_HINTS if words & vocabulary), None)
        if len(_HINTS) < 20_000:
            _HINTS[key] = found
    return found  # type: ignore[return-value]


#: Field hints by the names an element carries: a page repeats the same names in every card.
_HINTS: dict[tuple[tuple[str, str], ...], str | bool | None] = {}


def _hint_field_of_word(name: str) -> str | None:
    words = {w for w in re.split(r"[^a-z0-9]+", name.lower()) if w}
    words.add(re.sub(r"[^a-z0-9]+", "", name.lower()))
    return next((f for f, vocabulary in _FIELD_HINTS if words & vocabulary), None)


def _claims(elements: Iterable[Element]) -> list[tuple[str, Element]]:
    """``(field, element)`` for the class-named and heading elements of a block: an element
    whose descendants name another field is not claimed; its descendants are looked at. The
    block's own element is never claimed (its data attributes describe the whole block)."""
    found: list[tuple[str, Element]] = []
    roots = list(elements)
    stack = roots[::-1]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue
        hint = _hint_field(element)
        if element in roots and element.tag not in _HEADINGS:
            hint = None
        if hint is None and element.tag in _HEADINGS:
            hint = "name"
        if hint is not None:
            inner = {_hint_field(d) for d in element.iterdescendants() if isinstance(d.tag, str)}
            inner -= {None, hint, "ignore"}
            if hint == "name":
                inner -= {"description"}
            if not inner:
                found.append((hint, element))
                continue
        stack.extend(list(element)[::-1])
    return found


@dataclass
class _Prices:
    """Price candidates of a block: the sale price wins over a compare-at or struck one."""

    found: list[tuple[bool, str, str | None]] = field(default_factory=list)  # (compare, num, cur)

    def add(self, text: str, compare: bool, loose: bool = False) -> bool:
        price = find_price(text, loose=loose)
        if price is None:
            return False
        self.found.append((compare, price.text, price.currency))
        return True

    def best(self) -> tuple[str | None, str | None]:
        ordered = sorted(self.found, key=lambda p: p[0])  # stable: first non-compare price
        if not ordered:
            return None, None
        _compare, number, currency = ordered[0]
        currency = currency or next((c for _, _, c in self.found if c), None)
        return number, currency


def _tags(element: Element) -> list[str]:
    parts = [element_text(c) for c in element if isinstance(c.tag, str) and element_text(c)]
    texts = parts if len(parts) >= 2 else [element_text(element)]
    tags = []
    for text in texts:
        label = split_label(text)
        if label and label[0] == "tags":
            text = label[2]
        for tag in re.split(r"\s*[,;|]\s*|\s+(?=#)", text):
            tag = tag.strip().lstrip("#").strip()
            if tag:
                tags.append(tag)
    return tags


_BARE_CURRENCY = re.compile(r"^(?:[$€£¥]|US\$|USD|EUR|GBP|CHF)$")


def _join_currency(segs: list[Segment]) -> list[Segment]:
    """``<span>$</span><span>1,099.00</span>``: a bare currency sign joins its number."""
    out: list[Segment] = []
    for seg in segs:
        if out and _BARE_CURRENCY.match(out[-1].text) and seg.text[:1].isdigit():
            out[-1] = Segment(f"{out[-1].text}{seg.text}", seg.element, seg.struck)
        elif out and _BARE_CURRENCY.match(seg.text) and out[-1].text[-1:].isdigit():
            out[-1] = Segment(f"{out[-1].text} {seg.text}", out[-1].element, out[-1].struck)
        else:
            out.append(seg)
    return out


def _linkable(href: str | None) -> bool:
    return bool(href) and not href.lstrip().startswith(("#", "javascript:", "mailto:", "tel:", "data:"))  # type: ignore[union-attr]  # fmt: skip


def _within(node: Element, roots: set[Element]) -> bool:
    return node in roots or any(a in roots for a in node.iterancestors())


class _Reader:
    """Builds one record from a block's claims and its remaining text segments."""

    def __init__(self, base: str | None) -> None:
        self.base = base
        self.record: dict[str, Any] = {}
        self.prices = _Prices()
        self.tags: list[str] = []
        self.sku_guess: str | None = None
        self.plain: list[Segment] = []

    def put(self, key: str, value: Any) -> None:
        if value not in (None, "", []) and self.record.get(key) in (None, "", []):
            self.record[key] = value

    def labelled(self, fieldname: str, label: str, value: str) -> None:
        if fieldname in ("price", "list price"):
            if not self.prices.add(value, fieldname == "list price", loose=True):
                self.put(label, value)
        elif fieldname == "in_stock":
            self.put("in_stock", stock_of(value, short_words=True))
        elif fieldname == "tags":
            self.tags.extend(t.strip().lstrip("#") for t in re.split(r"[,;|]", value) if t.strip())
        elif fieldname == "currency":
            self.put("currency", value)
        else:
            self.put(fieldname, value)

    def claimed(self, hint: str, element: Element) -> None:
        text = element_text(element, [d for d in element.iterdescendants() if _hint_field(d) == "ignore"])  # fmt: skip
        if not text:
            return
        if hint in ("price", "compare"):
            texts = _join_currency(list(segments(element)))
            added = False
            for seg in texts:
                compare = hint == "compare" or seg.struck or _hint_field(seg.element) == "compare"
                added = self.prices.add(seg.text, compare) or added
            if not added:
                self.prices.add(text, hint == "compare", loose=True)
            return
        label = split_label(text)
        if hint == "in_stock":
            stock = stock_of(label[2] if label else text, short_words=label is not None)
            self.put("in_stock", stock)
            return
        if hint == "tags":
            self.tags.extend(_tags(element))
            return
        if (
            label
            and label[0] in ("sku", "brand", "ean", "mpn")
            and hint in ("sku", "brand", "name")
        ):
            self.labelled(label[0], label[1], label[2])
            return
        if hint == "sku":
            self.put("sku", text.split()[-1] if len(text.split()) > 1 and not label else text)
        elif hint == "name" and self.record.get("name"):
            self.plain.append(Segment(text, element))
        else:
            self.put(hint, text)

    def free(self, segs: list[Segment]) -> None:
        """Segments no class name claimed: labels, prices, availability, codes, plain text."""
        segs = _join_currency(segs)
        i = 0
        while i < len(segs):
            seg = segs[i]
            text = seg.text
            nxt = segs[i + 1].text if i + 1 < len(segs) else None
            bare = text.rstrip(":： ").strip()
            known = field_of_label(bare) if len(bare) <= 30 else None
            is_label = text.endswith((":", "：")) or seg.element.tag in ("dt", "th", "label")
            cell = seg.element.tag in ("dt", "th") and len(bare) <= 40
            if nxt is not None and is_label and (known or cell):
                self.labelled(known or bare, bare, nxt)
                i += 2
                continue
            label = split_label(text)
            if find_price(text) is not None:
                self.prices.add(text, seg.struck or _hint_field(seg.element) == "compare")
            elif (stock := stock_of(text)) is not None:
                self.put("in_stock", stock)
            elif label is not None:
                self.labelled(*label)
            elif text.startswith("#") and all(w.startswith("#") for w in text.split()):
                self.tags.extend(w.lstrip("#") for w in text.split() if w.lstrip("#"))
            elif is_sku_like(text) and self.sku_guess is None:
                self.sku_guess = text
            else:
                self.plain.append(seg)
            i += 1

    def links(self, elements: list[Element], name_element: Element | None) -> None:
        anchors = [a for el in elements for a in el.iter("a") if _linkable(a.get("href"))]
        if name_element is not None:
            around = [a for a in anchors if a is name_element or name_element in a.iterancestors() or a in name_element.iterancestors() or a in name_element.iterdescendants()]  # fmt: skip
            anchors = around + anchors
        if anchors:
            self.put("url", resolve(self.base, anchors[0].get("href")))
        for el in elements:
            for img in el.iter("img"):
                src = (
                    img.get("src") or img.get("data-src") or (img.get("srcset") or "").split(" ")[0]
                )
                if src and not src.startswith("data:"):
                    self.put("image", resolve(self.base, src))
                    return


def read_unit(
    elements: list[Element],
    base: str | None,
    *,
    skip: Iterable[Element] = (),
    title: str | None = None,
) -> dict[str, Any]:
    """The product record of one block (see the module docstring); ``skip``: subtrees left out
    (teasers); ``title``: the name when the caller knows it (a product page's H1)."""
    reader = _Reader(base)
    skipped = set(skip)
    claims = [(h, e) for h, e in _claims(elements) if not _within(e, skipped)]
    if title:
        reader.put("name", title)
    name_element = None
    for hint, element in claims:
        if hint == "name" and name_element is None and not title:
            name_element = element
        if hint != "ignore":
            reader.claimed(hint, element)
    taken = {e for _, e in claims} | skipped
    free = [s for el in elements for s in segments(el) if not _within(s.element, taken)]
    reader.free(free)
    record = reader.record
    if not claims and len(free) <= 4 and not (record.get("name") and (record.get("price") or record.get("sku"))):  # fmt: skip
        line = product_line(" — ".join(s.text for s in free))
        if line is not None:  # <li>Acme Drill (AX1): $9.00, in stock</li>
            reader.record = record = line
            reader.prices = _Prices()
    if not record.get("name"):
        anchors = [a for el in elements for a in el.iter("a") if element_text(a)]
        if anchors and not find_price(element_text(anchors[0])):
            reader.put("name", element_text(anchors[0]))
            name_element = anchors[0]
        else:
            plain = [p.text for p in reader.plain if not is_prose(p.text) and len(p.text) <= 150]
            reader.put("name", plain[0] if plain else None)
    if "sku" not in record and reader.sku_guess and reader.sku_guess not in str(record.get("name")):
        record["sku"] = reader.sku_guess
    price, currency = reader.prices.best()
    reader.put("price", price)
    reader.put("currency", currency)
    if reader.tags:
        record["tags"] = list(dict.fromkeys(reader.tags))
    reader.links(elements, name_element)
    for element in elements:  # <div class="card" data-sku="AX1" data-price="10.00">
        for key, value in element.attrib.items():
            hint = _hint_field_of_word(key[5:]) if key.startswith("data-") else None
            if hint in ("sku", "brand", "name") and value.strip():
                reader.put(hint, value.strip())
            elif hint == "price" and record.get("price") is None:
                found = find_price(value, loose=True)
                if found is not None:
                    reader.put("price", found.text)
                    reader.put("currency", found.currency)
    if not record.get("brand") and name_element is not None:
        reader.put("brand", _vendor_line(elements, name_element, reader.plain))
    if isinstance(record.get("brand"), str):
        record["brand"] = re.sub(r"^(?:by|von|par|door|por)\s+", "", record["brand"], flags=re.I)
    return record


_BADGES = re.compile(
    r"^(?:new|sale|hot|top|bestseller|best seller|limited|exclusive|online only|neu|angebot"
    r"|nouveau|promo|nieuw|actie|nuevo|oferta|-?\d+\s?%.*)$",
    re.I,
)


def _vendor_line(elements: list[Element], name: Element, plain: list[Segment]) -> str | None:
    """A card's vendor printed without a class name: the one short plain line above the
    title (``<p class="text-xs">Echo</p><h3>Echo CS-590 …</h3>``)."""
    nodes = [e for root in elements for e in root.iter()]  # kept alive: ids stay theirs
    order = {id(el): n for n, el in enumerate(nodes)}
    at = order.get(id(name))
    if at is None:
        return None
    above = [p for p in plain if order.get(id(p.element), at) < at]
    if len(above) != 1:
        return None
    text = above[0].text
    if len(text.split()) > 4 or is_prose(text) or _BADGES.match(text) or find_price(text):
        return None
    return text


# -- finding repeated blocks ---------------------------------------------------------------
def _signature(element: Element) -> tuple[str, str]:
    classes = [c for c in (element.get("class") or "").split() if not _STATE_CLASS.search(c)]
    return element.tag, classes[0] if classes else ""


def _heading_blocks(parent: Element, children: list[Element]) -> Iterator[list[list[Element]]]:
    """Heading-led blocks among a parent's children: ``<h3>``, then its paragraphs, ..."""
    for level in _HEADINGS[1:]:
        starts = [i for i, c in enumerate(children) if c.tag == level]
        if len(starts) < 3:
            continue
        blocks = []
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(children)
            block = children[start:end]
            stop = next((i for i, c in enumerate(block[1:], 1) if c.tag in _HEADINGS[: _HEADINGS.index(level)]), None)  # fmt: skip
            blocks.append(block[:stop] if stop else block)
        yield blocks


def _candidates(root: Element) -> Iterator[tuple[tuple[str, str], list[list[Element]]]]:
    for parent in root.iter():
        if not isinstance(parent.tag, str) or parent.tag in _SKIP_REPEAT:
            continue
        children = [c for c in parent if isinstance(c.tag, str) and c.tag not in _SKIP_REPEAT]
        if len(children) < 3:
            continue
        groups: dict[tuple[str, str], list[Element]] = {}
        for child in children:
            groups.setdefault(_signature(child), []).append(child)
        for signature, members in groups.items():
            if len(members) >= 3:
                yield signature, [[m] for m in members]
        for blocks in _heading_blocks(parent, children):
            yield ("heading", blocks[0][0].tag), blocks


def is_related(element: Element) -> bool:
    """Whether ``element`` sits in a related-products / recommendations section."""
    for node in (element, *element.iterancestors()):
        if hint_words(node) & _RELATED_WORDS:
            return True
        for sibling in (node.getprevious(), *(c for c in node if c.tag in _HEADINGS)):
            if sibling is not None and sibling.tag in _HEADINGS and _RELATED_TEXT.search(element_text(sibling)):  # fmt: skip
                return True
    return False


def find_units(page: Page) -> list[Unit]:
    """The page's product blocks: of all groups of 3+ same-shaped siblings, those of the shape
    that yields the most product-like records (a name and a price or SKU); groups in
    related-products sections are left out."""
    by_shape: dict[tuple[str, str], list[list[Unit]]] = {}
    for signature, blocks in _candidates(page.root):
        units = [Unit(block) for block in blocks]
        for unit in units:
            unit.record = read_unit(unit.elements, page.url)
        good = sum(u.product_like for u in units)
        if good >= 2 and good >= 0.6 * len(units):
            by_shape.setdefault(signature, []).append(units)
    if not by_shape:
        return []

    def weight(groups: list[list[Unit]]) -> tuple[int, int]:
        units = [u for g in groups for u in g if u.product_like]
        return len(units), sum(len(u.record) for u in units)

    best = max(by_shape.values(), key=weight)
    chosen = [g for g in best if not is_related(g[0].elements[0])] or []
    units = [u for g in chosen for u in g]
    # Same-shaped blocks nested in one another (rare): keep the innermost.
    holders = {id(a) for u in units for a in u.elements[0].iterancestors()}
    return [u for u in units if u.product_like and id(u.elements[0]) not in holders]


# -- a single product page -----------------------------------------------------------------
def single_product(page: Page, exclude: Iterable[Element] = ()) -> dict[str, Any] | None:
    """The page's own product when its H1 (or og:title on an og:type=product page) has a
    price or SKU near it outside ``exclude`` (repeated blocks) and related sections."""
    root = page.root
    h1 = next(iter(root.iter("h1")), None)
    is_product = page.og.get("og:type", "").lower() == "product"
    title = element_text(h1) if h1 is not None else None
    if not title and is_product:
        title = page.og.get("og:title") or page.title
    if not title:
        return None
    excluded = set(exclude)
    teasers = [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and (el in excluded or hint_words(el) & _RELATED_WORDS)
    ]
    teasers += [h.getparent() for h in root.iter(*_HEADINGS) if _RELATED_TEXT.search(element_text(h)) and h.getparent() is not None and h is not h1]  # fmt: skip
    teasers = [t for t in teasers if h1 is None or not (t is h1 or t in h1.iterancestors())]
    start = h1 if h1 is not None else root
    for region in (start, *start.iterancestors()):
        record = read_unit([region], page.url, skip=teasers, title=title)
        if record.get("price") is not None or record.get("sku"):
            break
    else:
        if not is_product:
            return None
    if page.url:
        record["url"] = page.url
    return record


def page_currency(page: Page) -> str | None:
    """A currency the page states apart from prices: ``product:price:currency``, a note."""
    for key in ("product:price:currency", "og:price:currency"):
        if page.og.get(key):
            return page.og[key].upper()
    for seg in segments(page.root):
        if len(seg.text) <= 200 and (found := currency_note(seg.text)):
            return found
    return None


# -- describing a page -------------------------------------------------------------------------
def describe(page: Page) -> str:
    """What the page's visible text looks like, e.g. ``starts with a heading 'About us' and 3
    paragraphs`` (never a quote of running text)."""
    root = page.root
    heading = next((element_text(h) for h in root.iter(*_HEADINGS) if element_text(h)), None)
    counts = {
        "paragraph": sum(1 for p in root.iter("p") if element_text(p)),
        "list item": sum(1 for li in root.iter("li") if element_text(li)),
        "link": sum(1 for a in root.iter("a") if element_text(a)),
        "image": sum(1 for _ in root.iter("img")),
    }
    parts = [f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items() if n][:3]
    if heading:
        short = heading if len(heading) <= 50 else heading[:47].rstrip() + "..."
        lead = f"the page's text starts with a heading '{short}'"
        return lead + (" and holds " + _and(parts) if parts else "")
    if parts:
        return "the page holds " + _and(parts) + " and no heading"
    return "the page has no visible text"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
