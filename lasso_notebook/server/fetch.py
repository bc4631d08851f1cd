"""Downloads for ``file_urls`` sources: http(s) only, redirects followed by hand (and only to
http(s)), a size cap (announced Content-Length and while streaming), an overall time limit, and
a file name that says the type (``/catalog`` served as text/html is saved as ``catalog.html``;
the extractor still trusts the content's magic bytes over the name)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from .extract import ExtractionError, Source
from .extract.sniff import EXTENSION_OF_TYPE

__all__ = ["fetch_url"]

MAX_REDIRECTS = 5


def _filename(url: str, response: httpx.Response) -> str:
    disposition = response.headers.get("content-disposition", "")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    name = match.group(1) if match else unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f/\\]+", "_", name).strip(". ") or "download"
    name = name[:200]
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if "." not in name and ctype in EXTENSION_OF_TYPE:
        name += EXTENSION_OF_TYPE[ctype]
    return name


def fetch_url(url: str, dest: Path, max_bytes: int, timeout: float = 120.0) -> Source:
    """Download ``url`` to ``dest``; raise ExtractionError with a human reason on failure."""
    deadline = time.monotonic() + timeout
    current = url
    with httpx.Client(follow_redirects=False, timeout=httpx.Timeout(30.0, connect=10.0)) as client:
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(current).scheme not in ("http", "https"):
                raise ExtractionError(f"Refusing to fetch {current!r}: only http(s) URLs are read.")
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        current = urljoin(current, response.headers.get("location", ""))
                        continue
                    if response.status_code >= 400:
                        raise ExtractionError(
                            f"Could not download {url}: the server answered HTTP {response.status_code}."
                        )
                    announced = response.headers.get("content-length", "")
                    if announced.isdigit() and int(announced) > max_bytes:
                        raise ExtractionError(
                            f"The file at {url} is {int(announced)} bytes, larger than the "
                            f"{max_bytes} byte limit."
                        )
                    size = 0
                    with dest.open("wb") as fh:
                        for chunk in response.iter_bytes():
                            size += len(chunk)
                            if size > max_bytes:
                                raise ExtractionError(
                                    f"The file at {url} is larger than the {max_bytes} byte limit."
                                )
                            if time.monotonic() > deadline:
                                raise ExtractionError(
                                    f"Downloading {url} took longer than {timeout:.0f} s."
                                )
                            fh.write(chunk)
                    ctype = response.headers.get("content-type", "").split(";")[0].strip()
                    return Source(
                        path=dest, filename=_filename(current, response), content_type=ctype or None
                    )
            except httpx.InvalidURL as exc:
                # Not an HTTPError: httpx raises it while reading a redirect to e.g. "data:,x".
                raise ExtractionError(
                    f"Refusing to fetch {url}: it redirects to a URL that is not http(s); only "
                    "http(s) URLs are read."
                ) from exc
            except httpx.HTTPError as exc:
                raise ExtractionError(
                    f"Could not download {url}: {type(exc).__name__}: {exc}"
                ) from exc
    raise ExtractionError(f"Could not download {url}: more than {MAX_REDIRECTS} redirects.")
