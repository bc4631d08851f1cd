"""schema.org products embedded in a page (JSON-LD with ``@graph``/``ItemList``/variants,
microdata, RDFa Lite), read from the lxml tree and mapped to product records (name, sku, gtin,
brand, price, currency, in_stock, url, image, category, tags)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .dom import Element, element_text, resolve
from .values import find_price, stock_of

__all__ = ["Item", "StructuredProduct", "read_structured"]

_PRODUCT_TYPES = {"product", "productgroup", "productmodel", "individualproduct", "vehicle", "car", "book"}  # fmt: skip
_OFFER_TYPES = {"offer", "aggregateoffer"}
_GTIN_KEYS = ("gtin13", "gtin", "gtin14", "gtin12", "gtin8", "ean", "isbn")


@dataclass
class Item:
    """A schema.org item from any syntax: its types (short names, lowercase), properties
    (lists of values: strings or nested items) and the element it came from (microdata/RDFa)."""

    types: set[str]
    props: dict[str, list[Any]] = field(default_factory=dict)
    element: Element | None = None

    def first(self, *names: str) -> Any:
        for name in names:
            for value in self.props.get(name, ()):
                if value not in (None, "", [], {}):
                    return value
        return None


@dataclass
class StructuredProduct:
    record: dict[str, Any]
    element: Element | None  # where a microdata/RDFa product sits in the page (None: JSON-LD)


def _short_type(value: Any) -> str:
    return re.split(r"[/#:]", str(value).strip())[-1].lower()


# -- JSON-LD ---------------------------------------------------------------------------------
def _loads_lenient(text: str) -> Any:
    text = text.strip()
    text = re.sub(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)", "", text)
    text = re.sub(r"(?:-->|//\s*\]\]>|\]\]>)\s*$", "", text).strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    fixed = re.sub(r",\s*([}\]])", r"\1", text)  # trailing commas
    fixed = re.sub(r"[\x00-\x1f]", " ", fixed)  # raw newlines inside strings
    try:
        return json.loads(fixed)
    except ValueError:
        return None


def _json_item(node: Any, depth: int = 0) -> Any:
    if depth > 12:
        return None
    if isinstance(node, list):
        return [_json_item(n, depth + 1) for n in node]
    if not isinstance(node, dict):
        return node
    if "@value" in node:
        return node["@value"]
    raw_type = node.get("@type")
    types = raw_type if isinstance(raw_type, list) else [raw_type] if raw_type else []
    item = Item({_short_type(t) for t in types})
    for key, value in node.items():
        if key.startswith("@") and key != "@id":
            continue
        name = _short_type(key) if "/" in key or ":" in key else key.lower()
        values = value if isinstance(value, list) else [value]
        item.props[name] = [_json_item(v, depth + 1) for v in values]
    return item


def _json_ld(root: Element) -> list[Item]:
    items: list[Item] = []
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        data = _loads_lenient(script.text or "")
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and isinstance(node.get("@graph"), list):
                items.extend(i for i in (_json_item(n) for n in node["@graph"]) if isinstance(i, Item))  # fmt: skip
            else:
                item = _json_item(node)
                if isinstance(item, Item):
                    items.append(item)
    return items


# -- microdata and RDFa ------------------------------------------------------------------------
def _attr_value(element: Element, base: str | None) -> str:
    for attr in ("content", "datetime", "value"):
        if element.get(attr) is not None and element.tag != "input":
            return element.get(attr).strip()
    tag = element.tag
    if tag in ("a", "link", "area") and element.get("href"):
        return resolve(base, element.get("href")) or ""
    if tag in ("img", "source", "audio", "video", "embed", "iframe") and element.get("src"):
        return resolve(base, element.get("src")) or ""
    if element.get("resource"):
        return element.get("resource").strip()
    return element_text(element)


def _microdata_item(element: Element, base: str | None, depth: int = 0) -> Item:
    types = {_short_type(t) for t in (element.get("itemtype") or "").split()}
    item = Item(types, element=element)
    if depth > 12:
        return item
    stack = list(element)
    while stack:
        child = stack.pop(0)
        if not isinstance(child.tag, str):
            continue
        props = (child.get("itemprop") or "").split()
        scoped = child.get("itemscope") is not None
        if props:
            value: Any = _microdata_item(child, base, depth + 1) if scoped else _attr_value(child, base)  # fmt: skip
            for prop in props:
                item.props.setdefault(_short_type(prop), []).append(value)
        if not scoped:
            stack[0:0] = list(child)
    return item


def _microdata(root: Element, base: str | None) -> list[Item]:
    return [_microdata_item(el, base) for el in root.xpath("//*[@itemscope and not(@itemprop)]")]


def _rdfa_item(element: Element, base: str | None, depth: int = 0) -> Item:
    item = Item({_short_type(t) for t in (element.get("typeof") or "").split()}, element=element)
    if depth > 12:
        return item
    stack = list(element)
    while stack:
        child = stack.pop(0)
        if not isinstance(child.tag, str):
            continue
        props = (child.get("property") or "").split()
        typed = child.get("typeof") is not None
        if props:
            value: Any = _rdfa_item(child, base, depth + 1) if typed else _attr_value(child, base)
            for prop in props:
                item.props.setdefault(_short_type(prop), []).append(value)
        if not typed:
            stack[0:0] = list(child)
    return item


def _rdfa(root: Element, base: str | None) -> list[Item]:
    return [_rdfa_item(el, base) for el in root.xpath("//*[@typeof and not(@property)]")]


# -- items -> product records ------------------------------------------------------------------
def _walk_products(items: list[Any]) -> list[Item]:
    """Every product among ``items`` and what they hold (lists, graphs, ``mainEntity``)."""
    found: list[Item] = []
    seen: set[int] = set()
    stack = list(items)
    while stack:
        node = stack.pop(0)
        if isinstance(node, list):
            stack[0:0] = node
            continue
        if not isinstance(node, Item) or id(node) in seen:
            continue
        seen.add(id(node))
        if node.types & _PRODUCT_TYPES:
            variants = [v for v in node.props.get("hasvariant", []) if isinstance(v, Item)]
            if "productgroup" in node.types and variants:
                for variant in variants:
                    for key in ("name", "brand", "url", "image", "category", "description"):
                        if key not in variant.props and key in node.props:
                            variant.props[key] = node.props[key]
                    variant.types.add("product")
                found.extend(variants)
                seen.update(id(v) for v in variants)
            else:
                found.append(node)
            continue
        inner = [
            value
            for key in ("itemlistelement", "item", "mainentity", "about", "itemoffered")
            for value in node.props.get(key, [])
        ]
        stack[0:0] = inner  # depth first: products keep the document's order
    return found


def _text(value: Any) -> str | None:
    if isinstance(value, Item):
        value = value.first("name", "value", "url", "contenturl", "@id")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _offer(item: Item) -> Item | None:
    offers = [o for o in item.props.get("offers", []) if isinstance(o, Item)]
    priced = [o for o in offers if o.first("price", "lowprice", "pricespecification") is not None]
    return (priced or offers or [None])[0]


def _price_of(offer: Item) -> tuple[Any, str | None]:
    price = offer.first("price", "lowprice")
    currency = _text(offer.first("pricecurrency"))
    if price is None:
        spec = offer.first("pricespecification")
        if isinstance(spec, Item):
            price = spec.first("price", "minprice")
            currency = currency or _text(spec.first("pricecurrency"))
    if isinstance(price, str):
        found = find_price(price, loose=True)
        if found is not None:
            currency = currency or found.currency
            price = found.text
            # machine-readable prices use a decimal point: "1299.00", never a thousands mark
            if re.fullmatch(r"\d+\.\d+|\d+", price):
                price = float(price)
    return price, currency


def _record(item: Item, base: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {}
    record["name"] = _text(item.first("name", "alternatename"))
    record["sku"] = _text(item.first("sku", "productid"))
    record["gtin"] = _text(item.first(*_GTIN_KEYS))
    record["mpn"] = _text(item.first("mpn"))
    record["brand"] = _text(item.first("brand", "manufacturer"))
    offer = _offer(item)
    if offer is not None:
        price, currency = _price_of(offer)
        record["price"] = price
        record["currency"] = currency.upper() if currency else None
        availability = _text(offer.first("availability"))
        if availability:
            record["in_stock"] = stock_of(availability, short_words=True)
        record["offer url"] = _text(offer.first("url"))
        record["sku"] = record["sku"] or _text(offer.first("sku"))
        record["gtin"] = record["gtin"] or _text(offer.first(*_GTIN_KEYS))
    url = _text(item.first("url", "@id"))
    record["url"] = resolve(base, url) if url and not url.startswith("_:") else None
    if record.get("offer url"):
        record["offer url"] = resolve(base, record["offer url"])
        record["url"] = record["url"] or record["offer url"]
    images = [_text(i) for i in item.props.get("image", [])]
    record["image"] = [resolve(base, i) for i in images if i] or None
    record["category"] = _text(item.first("category"))
    keywords = item.first("keywords")
    if isinstance(keywords, str):
        record["tags"] = [k.strip() for k in re.split(r"[,;|]", keywords) if k.strip()]
    elif item.props.get("keywords"):
        record["tags"] = [t for t in (_text(k) for k in item.props["keywords"]) if t]
    record["description"] = _text(item.first("description"))
    return {k: v for k, v in record.items() if v not in (None, "", [])}


def _key(record: dict[str, Any]) -> str:
    return str(record.get("sku") or record.get("url") or record.get("name") or id(record))


def read_structured(root: Element, base: str | None) -> list[StructuredProduct]:
    """Every schema.org product of the page (before chrome removal: JSON-LD sits in ``<head>``
    and scripts), one record each; a product given in several syntaxes is merged, JSON-LD
    first."""
    products: dict[str, StructuredProduct] = {}
    for items in (_json_ld(root), _microdata(root, base), _rdfa(root, base)):
        for item in _walk_products(items):
            record = _record(item, base)
            if not record.get("name") and not record.get("sku"):
                continue
            key = _key(record)
            if key in products:
                merged = products[key]
                for k, v in record.items():
                    merged.record.setdefault(k, v)
                merged.element = merged.element if merged.element is not None else item.element
            else:
                products[key] = StructuredProduct(record, item.element)
    return list(products.values())
