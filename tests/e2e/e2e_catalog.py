"""Source texts for the browser scenarios: product listings the embedded engine extracts into the
seeded "Products" schema, sized so progress moves through all of the engine's steps."""

from __future__ import annotations

__all__ = ["HEADER", "csv_catalog", "keyvalue_listing"]

HEADER = "name,sku,brand,price,currency,in_stock,release_date,tags,url"
_BRANDS = ("Aurora", "Breeze", "Cirrus", "Delta", "Ember", "Fjord")
_KINDS = ("Headphones", "Kettle", "Trail Shoe", "Monitor", "Skillet", "Backpack")


def csv_catalog(rows: int, prefix: str = "P") -> str:
    """A CSV catalog with ``rows`` products (≥ 16 rows gives the engine's 16 progress steps)."""
    lines = [HEADER]
    for i in range(rows):
        brand = _BRANDS[i % len(_BRANDS)]
        kind = _KINDS[i % len(_KINDS)]
        lines.append(
            f"{brand} {kind} {i + 1},{prefix}-{i + 1:03d},{brand},{19.5 + i:.2f},EUR,"
            f'{"yes" if i % 3 else "no"},2024-{1 + i % 12:02d}-15,"demo, e2e",'
            f"https://shop.example.com/p/{prefix.lower()}-{i + 1:03d}"
        )
    return "\n".join(lines)


def keyvalue_listing() -> str:
    """A small pasted listing, as copied from a shop page."""
    return """\
Aurora ANC Wireless Headphones
SKU: AUR-100
Brand: Aurora
Price: $129.99
Currency: USD
In stock: yes
Release date: March 15, 2024
Tags: audio, wireless

Breeze Smart Kettle 1.7 L
SKU: BRZ-17
Brand: Breeze
Price: 59.90
Currency: EUR
In stock: no
Release date: 2023-11-02
Tags: kitchen, smart home"""
