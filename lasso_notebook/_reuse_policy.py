"""Whether and how a job reuses an earlier extraction: ``ReusePolicy`` from ``submit()``'s
arguments and the environment (``LASSO_NOTEBOOK_REUSE``, ``LASSO_NOTEBOOK_URL_MAX_AGE``),
``Reused`` and its message (``reused tbl_8f… from 2026-12-01 14:02 (no new extraction; …)``),
and the line ``%lasso config`` shows."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timezone

from ._data_dir import resolve_data_dir
from ._display import format_duration, short_id
from ._reuse_index import INDEX_FILE
from .errors import InvalidRequestError

__all__ = [
    "DEFAULT_URL_MAX_AGE",
    "REUSE_ENV",
    "URL_MAX_AGE_ENV",
    "ReusePolicy",
    "Reused",
    "reuse_policy",
    "reuse_text",
]

REUSE_ENV = "LASSO_NOTEBOOK_REUSE"
URL_MAX_AGE_ENV = "LASSO_NOTEBOOK_URL_MAX_AGE"
#: How long a table made from URLs is reused, in seconds.
DEFAULT_URL_MAX_AGE = 24 * 3600.0

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class ReusePolicy:
    """Whether a job may reuse an earlier table: ``enabled`` (else no earlier table is
    reused), ``refresh`` (make a new table and record it for later runs), ``url_max_age``
    (seconds a table made from URLs stays reusable), ``index`` (the reuse index is used at
    all: also without reuse, a create is announced there so a lost answer is found by the next
    run; False only when ``LASSO_NOTEBOOK_REUSE`` turns reuse off)."""

    enabled: bool = True
    refresh: bool = False
    url_max_age: float = DEFAULT_URL_MAX_AGE
    index: bool = True


def reuse_policy(
    reuse: bool | None = None, refresh: bool = False, url_max_age: float | None = None
) -> ReusePolicy:
    """The policy of one ``submit()``: arguments first, then ``LASSO_NOTEBOOK_REUSE`` (0 turns
    reuse off, and with it the index) and ``LASSO_NOTEBOOK_URL_MAX_AGE`` (seconds), then the
    defaults."""
    if reuse is None:
        reuse = index = _env_flag()
    else:
        index = reuse or (os.environ.get(REUSE_ENV) or "").strip().lower() not in _FALSE
    if url_max_age is None:
        url_max_age = _env_seconds()
    elif isinstance(url_max_age, bool) or not isinstance(url_max_age, (int, float)):
        raise InvalidRequestError("url_max_age must be a number of seconds, e.g. 3600")
    if not 0 <= url_max_age <= math.inf:  # nan fails this too
        raise InvalidRequestError(
            f"url_max_age must be 0 or more seconds (0: never reuse URL sources), got "
            f"{url_max_age!r}"
        )
    return ReusePolicy(
        enabled=bool(reuse),
        refresh=bool(refresh),
        url_max_age=float(url_max_age),
        index=bool(index),
    )


def _env_flag() -> bool:
    raw = (os.environ.get(REUSE_ENV) or "").strip().lower()
    if not raw or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidRequestError(
        f"{REUSE_ENV}={raw!r} is not understood; set it to 0 (no reuse) or 1 (reuse), or unset it"
    )


def _env_seconds() -> float:
    raw = (os.environ.get(URL_MAX_AGE_ENV) or "").strip()
    if not raw:
        return DEFAULT_URL_MAX_AGE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= math.inf:  # nan fails this too
        raise InvalidRequestError(
            f"{URL_MAX_AGE_ENV}={raw!r} is not a number of seconds (e.g. 3600); fix or unset it"
        )
    return value


@dataclass(frozen=True)
class Reused:
    """The earlier table a job attached to instead of creating one."""

    table_id: str
    #: When that table was created (the server's time), if known.
    created_at: datetime | None
    #: An earlier run created it but never got the answer (an outage): found, not reused.
    lost: bool = False

    def message(self, how_to_refresh: str = "refresh=True") -> str:
        """E.g. ``reused tbl_8f… from 2026-12-01 14:02 (no new extraction; --refresh to
        extract again)``, in local time; for a lost create ``found tbl_8f… from 14:02, created
        by an earlier run that got no answer (no new extraction)``."""
        when = ""
        if self.created_at is not None:
            created = self.created_at
            if created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            when = f" from {created.astimezone():%Y-%m-%d %H:%M}"
        if self.lost:
            return (
                f"found {short_id(self.table_id)}{when}, created by an earlier run that got no "
                "answer (no new extraction)"
            )
        return (
            f"reused {short_id(self.table_id)}{when} (no new extraction; {how_to_refresh} to "
            "extract again)"
        )


def reuse_text(configured: bool = True, url_max_age: float | None = None) -> str:
    """How reuse is set up, for ``%lasso config``: on or off and why, the URL freshness window
    and where the index lives."""
    if not configured:
        return "off (%config LassoMagics.reuse = False)"
    try:
        policy = reuse_policy(None, False, url_max_age)
    except InvalidRequestError as exc:
        return f"unusable: {exc}"
    if not policy.enabled:
        return f"off ({REUSE_ENV}={os.environ.get(REUSE_ENV, '').strip()})"
    age = policy.url_max_age
    window = f"{age / 3600:g} h" if age >= 3600 else format_duration(age)
    return f"on (URL sources for {window}; index {resolve_data_dir() / INDEX_FILE})"
