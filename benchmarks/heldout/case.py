"""One held-out case: its documents (or inline text), the rows a perfect extraction gives,
the scored fields and the traps it holds; written as ``<case>/<files>`` plus
``<case>.expected.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lasso_notebook.server.store import PRODUCTS_COLUMNS

from .catalog import Product

CATEGORY_COLUMN: dict[str, Any] = {"key": "category", "label": "Category", "type": "text"}

GROUP_TABLES = "tables"
GROUP_BEYOND = "beyond-tables"


def truth_row(p: Product, fields: list[str], **override: Any) -> dict[str, Any]:
    """The expected row of ``p`` for ``fields``; ``override`` gives what the document printed
    differently from the record (a section name, a sale price ...), ``None`` means "empty"."""
    value: dict[str, Any] = {
        "name": p.name,
        "sku": p.sku,
        "brand": p.brand,
        "price": p.price,
        "currency": p.currency,
        "in_stock": p.in_stock,
        "release_date": p.release_date.isoformat(),
        "tags": list(p.tags),
        "url": p.url,
        "category": p.category,
    }
    value.update(override)
    return {f: value[f] for f in fields}


@dataclass
class Case:
    case: str
    category: str
    group: str
    rows: list[dict[str, Any]]
    fields: list[str]
    traps: list[str]
    files: list[tuple[str, bytes]] = field(default_factory=list)
    text: str | None = None
    additional_context: str | None = None
    key: str = "sku"
    expect_failed_files: list[str] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=lambda: list(PRODUCTS_COLUMNS))
    notes: str | None = None  # a rule the truth follows in this case, in plain words

    def check(self) -> None:
        keys = {c["key"] for c in self.columns}
        assert self.rows, self.case
        assert set(self.fields) <= keys, (self.case, self.fields)
        assert "name" in self.fields, self.case
        assert (self.text is None) != (not self.files), self.case
        names = [n for n, _ in self.files]
        assert len(set(names)) == len(names) and set(self.expect_failed_files) <= set(names)
        pairing = [r.get(self.key) for r in self.rows]
        assert all(pairing) and len(set(pairing)) == len(pairing), (self.case, "pairing key")

    def write(self, out: Path) -> None:
        self.check()
        meta: dict[str, Any] = {"case": self.case, "category": self.category, "group": self.group}
        if self.files:
            folder = out / self.case
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in self.files:
                (folder / name).write_bytes(data)
            meta["files"] = [f"{self.case}/{name}" for name, _ in self.files]
        else:
            meta["text"] = self.text
        meta |= {
            "columns": self.columns,
            "additional_context": self.additional_context,
            "fields": self.fields,
            "key": self.key,
            "expect_failed_files": [f"{self.case}/{n}" for n in self.expect_failed_files],
            "traps": sorted(set(self.traps)),
            "notes": self.notes,
            "rows": self.rows,
        }
        text = json.dumps(meta, indent=1, ensure_ascii=False) + "\n"
        (out / f"{self.case}.expected.json").write_text(text, encoding="utf-8")
