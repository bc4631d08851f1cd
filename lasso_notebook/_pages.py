"""``SyncPage``: one page of a paginated listing that, iterated (``for`` or ``async for``),
walks this page and every following one, asking for page numbers it counts itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from pydantic import PrivateAttr

from . import _runtime
from .models import Page

__all__ = ["SyncPage"]

T = TypeVar("T")


class SyncPage(Page[T], Generic[T]):
    """A page of results. Iterating it (``for x in page`` or ``async for x in page``) walks
    this page and every following one; ``.data`` is this page only."""

    _fetch: Callable[[int], Awaitable[SyncPage[T]]] | None = PrivateAttr(default=None)
    #: The page number asked for: the next one counts from it, not from what the server
    #: echoes (a server that ignored ``page`` would otherwise be read for ever).
    _number: int = PrivateAttr(default=1)

    def _next_page_number(self) -> int | None:
        if self._fetch is None or not self.data:
            return None
        last = self._number * self.pagination.limit >= self.pagination.total
        return None if last else self._number + 1

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        page: SyncPage[T] = self
        while True:
            yield from page.data
            number = page._next_page_number()
            if number is None or page._fetch is None:
                return
            page = _runtime.run_sync(page._fetch(number))

    async def __aiter__(self) -> AsyncIterator[T]:
        page: SyncPage[T] = self
        while True:
            for item in page.data:
                yield item
            number = page._next_page_number()
            if number is None or page._fetch is None:
                return
            page = await page._fetch(number)
