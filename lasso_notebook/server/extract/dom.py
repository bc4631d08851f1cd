"""HTML -> a clean lxml tree for the page readers: the page's addresses (canonical, base,
og:url), page chrome removed (scripts, site header, navigation, footer, cookie bars, carts ...),
and text as segments that never glue (every element boundary ends one)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from lxml import etree

__all__ = [
    "Element",
    "Page",
    "Segment",
    "element_text",
    "hint_words",
    "load_page",
    "parse_page",
    "resolve",
    "segments",
    "strip_chrome",
]

Element = Any  # lxml.etree._Element (untyped)

_DROP_TAGS = {
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
    "button", "select", "option", "input", "textarea", "dialog", "nav", "map", "audio", "video",
}  # fmt: skip
_PAGE_LEVEL = {"header", "footer", "aside"}
_CONTENT = {"main", "article"}
#: Class / id / role / aria words that mark chrome (compared with whole words of the names).
_CHROME_WORDS = {
    "cookie", "cookies", "consent", "gdpr", "newsletter", "subscribe", "breadcrumb",
    "breadcrumbs", "navbar", "navigation", "nav", "menu", "megamenu", "minicart", "basket",
    "cart", "skip", "announcement", "topbar", "search", "social", "share", "modal", "popup",
    "overlay", "sidebar", "filters", "filter", "facets", "facet", "pagination", "pager",
    "login", "signup", "account", "toolbar", "sorting", "sortby", "banner", "promo",
}  # fmt: skip
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "dialog", "alertdialog", "complementary"}  # fmt: skip
_CHROME_CLASSES = re.compile(r"^(?:site|global|page|main|top|bottom)?[-_]?(?:header|footer)$", re.I)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_WS = re.compile(r"\s+")


@dataclass
class Page:
    """A parsed page: ``root`` (chrome removed), ``url`` (canonical, else base, else og:url),
    the ``og`` meta properties and the H1 texts, read before chrome was removed."""

    root: Element
    url: str | None
    og: dict[str, str]
    title: str


@dataclass(frozen=True)
class Segment:
    """One piece of text between element boundaries and the element it belongs to;
    ``struck`` when inside ``<s>``/``<del>`` (a compare-at price)."""

    text: str
    element: Element
    struck: bool = False


def hint_words(element: Element) -> set[str]:
    """The lowercase words of an element's class, id, itemprop, role and ``data-*`` names and
    short values: ``product-card__vendor`` -> {product, card, vendor, productcardvendor ...}."""
    words: set[str] = set()
    attrib = element.attrib
    names = [attrib.get("class", ""), attrib.get("itemprop", ""), attrib.get("id", "")]
    for key, value in attrib.items():
        if key.startswith("data-"):
            names.append(key[5:])
            if len(value) <= 40 and not re.search(r"\d{3}|\s\S+\s", value):
                names.append(value)
    for name in names:
        for part in name.split():
            pieces = [w.lower() for w in _WORD_SPLIT.split(_CAMEL.sub(" ", part)) if w]
            words.update(pieces)
            if len(pieces) > 1:
                words.add("".join(pieces))
                words.update(a + b for a, b in itertools.pairwise(pieces))
    return words


def resolve(base: str | None, href: str | None) -> str | None:
    """``href`` made absolute against ``base``; ``None`` for empty, script and anchor links."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    return urljoin(base, href) if base else href


def _meta(tree: Element) -> tuple[str | None, dict[str, str]]:
    canonical = base = None
    og: dict[str, str] = {}
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = canonical or link.get("href").strip()
    for tag in tree.iter("base"):
        base = base or (tag.get("href") or "").strip() or None
    for meta in tree.iter("meta"):
        prop = (meta.get("property") or meta.get("name") or "").lower()
        if prop.startswith(("og:", "product:")) and meta.get("content") is not None:
            og.setdefault(prop, meta.get("content").strip())
    url = canonical or og.get("og:url") or base
    if canonical and base and not re.match(r"^[a-z]+://", canonical, re.I):
        url = urljoin(base, canonical)
    return url, og


_SOFT = {"cart", "filter", "share", "promo", "banner"}
_CHROME_ANY = re.compile("|".join(sorted(_CHROME_WORDS | {"header", "footer"})), re.I)


def _is_chrome(element: Element, inside_content: bool, depth: int) -> bool:
    """Whether ``element`` is chrome; ``depth`` counts elements below ``<body>``: class-named
    headers and footers are chrome only near the top (a card's ``div.header`` is not)."""
    tag = element.tag
    if tag in _DROP_TAGS:
        return True
    attrib = element.attrib
    if not attrib and tag not in _PAGE_LEVEL:
        return False  # most elements: no class, id, role or aria attribute to look at
    if tag == "form":
        return bool(hint_words(element) & {"search", "newsletter", "subscribe", "login", "signup"})
    if tag in _PAGE_LEVEL and not inside_content:
        return True
    role = (element.get("role") or "").lower()
    if role in _CHROME_ROLES and not (role == "complementary" and inside_content):
        return True
    if element.get("aria-hidden") == "true" and element.find(".//h1") is None:
        return True
    label = (element.get("aria-label") or "").lower()
    if any(w in label for w in ("breadcrumb", "cookie", "consent", "cart")):
        return True
    classes = (element.get("class") or "") + " " + (element.get("id") or "")
    if not _CHROME_ANY.search(classes):
        return False  # no chrome word anywhere in the names: skip splitting them
    if depth <= 4 and not inside_content and any(_CHROME_CLASSES.match(c) for c in classes.split()):
        return True
    words: set[str] = set()
    for name in classes.split():
        words.update(w.lower() for w in _WORD_SPLIT.split(_CAMEL.sub(" ", name)) if w)
    hit = words & _CHROME_WORDS
    if not hit:
        return False
    # "cart", "filter" ... also name parts of a product (an add-to-cart form): chrome only
    # outside the page's main content and when holding no H1.
    if hit <= _SOFT:
        return not inside_content and element.find(".//h1") is None
    return element.find(".//h1") is None or bool(hit & {"cookie", "consent", "gdpr", "newsletter"})


def _strip_chrome(root: Element) -> None:
    remove: list[Element] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    content_depth = depth = 0
    for event, element in walker:
        if not isinstance(element.tag, str):
            continue
        if event == "end":
            depth -= 1
            if element.tag in _CONTENT:
                content_depth -= 1
            continue
        depth += 1
        if element.tag in _CONTENT:
            content_depth += 1
        if element is not root and _is_chrome(element, content_depth > 0, depth - 2):
            remove.append(element)
            walker.skip_subtree()  # its end event still comes and balances the counters
    for element in remove:
        _drop(element)


def _drop(element: Element) -> None:
    """Remove ``element`` but keep its tail text (it belongs to the parent)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail and tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + " " + tail
        else:
            parent.text = (parent.text or "") + " " + tail
    parent.remove(element)


def load_page(text: str) -> Page:
    """Parse ``text`` as HTML and read the page's addresses; the tree is still whole (JSON-LD
    sits in scripts): ``strip_chrome`` cleans it for reading text."""
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)  # lxml refuses an encoding declaration in str
    # Plain lxml elements (not lxml.html's classes, whose Python-level class lookup costs more
    # than the parsing on a page of thousands of cards).
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(text, parser) if text.strip() else None
    except (etree.ParserError, ValueError):
        root = None
    if root is None:
        root = etree.fromstring("<html><body></body></html>", parser)
    url, og = _meta(root)
    title = ""
    for node in root.iter("title"):
        title = _WS.sub(" ", "".join(node.itertext())).strip()
        break
    return Page(root, url, og, title)


def strip_chrome(page: Page) -> None:
    """Remove ``<head>``, comments and the page chrome (see the module docstring) in place."""
    root = page.root
    for head in root.findall("head"):
        root.remove(head)
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    _strip_chrome(root)


def parse_page(text: str) -> Page:
    """``load_page`` then ``strip_chrome``."""
    page = load_page(text)
    strip_chrome(page)
    return page


# -- text ------------------------------------------------------------------------------------
_STRUCK = {"s", "del", "strike"}


def segments(element: Element) -> Iterator[Segment]:
    """The text of ``element`` in document order, one segment per run of text between element
    boundaries (so ``<span>SKU: AX1</span><span>$10.00</span>`` gives two), whitespace tidied."""
    struck = 0
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        if not isinstance(node.tag, str):
            continue
        if event == "start":
            if node.tag in _STRUCK:
                struck += 1
            if node.tag == "br":
                continue
            if node.text:
                text = _WS.sub(" ", node.text).strip()
                if text:
                    yield Segment(text, node, struck > 0)
        else:
            if node.tag in _STRUCK:
                struck -= 1
            if node is element:
                break
            if node.tail:
                text = _WS.sub(" ", node.tail).strip()
                if text:
                    parent = node.getparent()
                    yield Segment(text, parent, struck > 0)


def element_text(element: Element, skip: Iterable[Element] = ()) -> str:
    """The whole text of ``element``, its segments joined by one space (never glued)."""
    excluded = set(skip)
    if not excluded:
        return " ".join(s.text for s in segments(element))
    parts = []
    for seg in segments(element):
        node = seg.element
        if any(a in excluded for a in (node, *node.iterancestors())):
            continue
        parts.append(seg.text)
    return " ".join(parts)
