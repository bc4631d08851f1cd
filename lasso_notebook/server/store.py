"""All persistent state of the embedded engine, as one ``Store``: the catalog, the extraction
queue, rows and webhook deliveries over one SQLite database, scoped per API key ("owner")."""

from __future__ import annotations

from ._catalog import ACTIVE_STATUSES, PRODUCTS_COLUMNS, Catalog
from ._db import new_id, now_iso
from ._deliveries import Deliveries
from ._queue import Queue
from ._rows import Rows

__all__ = ["ACTIVE_STATUSES", "PRODUCTS_COLUMNS", "Store", "new_id", "now_iso"]


class Store(Catalog, Queue, Rows, Deliveries):
    """All persistent state. Thread-safe: one connection per thread, explicit transactions."""
