"""Where the client's API key and base URL come from: arguments, the environment, or the embedded
engine when neither a key nor a base URL is configured. Also masks keys for display."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import EngineStartError, InvalidRequestError

__all__ = ["DEFAULT_BASE_URL", "Settings", "mask_key", "resolve"]

DEFAULT_BASE_URL = "https://hub.banditshq.com/api/v1"

_announce_lock = threading.Lock()
_announced: set[str] = set()


@dataclass(frozen=True, repr=False)
class Settings:
    base_url: str
    api_key: str | None
    embedded: bool
    #: The embedded engine's data dir (None for any other server).
    data_dir: Path | None = None

    def __repr__(self) -> str:
        return (
            f"Settings(base_url={self.base_url!r}, api_key={mask_key(self.api_key)!r}, "
            f"embedded={self.embedded})"
        )


def mask_key(key: str | None) -> str:
    """A display form that shows a key is set without revealing it."""
    if not key:
        return "(not set)"
    return f"{key[:6]}…{key[-4:]}" if len(key) > 16 else "****"


def _clean_key(key: str | None) -> str | None:
    # Keys pasted from files often end in a newline; httpx would refuse the header and echo it
    # (key included) in its error. Strip the edges, refuse anything else that cannot be sent.
    key = (key or "").strip()
    if not key:
        return None
    if not key.isascii() or not key.isprintable() or " " in key:
        raise InvalidRequestError(
            "the API key contains spaces, control or non-ASCII characters; copy it again "
            "into LASSO_API_KEY (it starts with lasso_)"
        )
    return key


#: What the ``server`` extra installs and the engine imports (FastAPI, uvicorn, the parsers).
_SERVER_EXTRA_MODULES = frozenset(
    {"fastapi", "starlette", "uvicorn", "multipart", "python_multipart", "openpyxl", "xlrd",
     "pdfplumber", "docx", "rapidfuzz"}
)  # fmt: skip


def resolve(api_key: str | None = None, base_url: str | None = None) -> Settings:
    """Arguments first, then ``LASSO_API_KEY`` / ``LASSO_BASE_URL``; with neither a key nor a
    base URL anywhere, the embedded engine is started (once per process) and used."""
    api_key = _clean_key(api_key or os.environ.get("LASSO_API_KEY"))
    base_url = (base_url or os.environ.get("LASSO_BASE_URL") or "").strip() or None
    if api_key or base_url:
        return Settings((base_url or DEFAULT_BASE_URL).rstrip("/"), api_key, embedded=False)

    from .server import embedded  # lazy: the engine's dependencies load only when used

    try:
        engine = embedded()
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in _SERVER_EXTRA_MODULES:
            raise  # a bug, not a missing extra: keep its traceback
        raise EngineStartError(
            f"the embedded Lasso engine needs the 'server' extra ({exc.name or exc} is not "
            "installed): pip install 'lasso-notebook[server]', or set LASSO_API_KEY to use "
            "the hosted API"
        ) from None
    with _announce_lock:
        if engine.base_url not in _announced:
            _announced.add(engine.base_url)
            print(
                f"lasso_notebook: no LASSO_API_KEY set, using the embedded Lasso engine at "
                f"{engine.base_url} (data in {engine.data_dir})"
            )
    return Settings(engine.base_url, engine.api_key, embedded=True, data_dir=engine.data_dir)
