"""The data dir on disk: how many bytes it takes, and the sweep at start of what interrupted
work left behind (partial uploads, files never registered, downloads of finished tables)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from pathlib import Path

from .store import Store

__all__ = ["data_dir_size", "sweep_leftovers"]

log = logging.getLogger("lasso_notebook.server")

#: Leftovers younger than this are left alone: another engine on the same data dir may be
#: writing them right now (an upload is renamed and registered within milliseconds).
LEFTOVER_AGE = 3600.0


def data_dir_size(data_dir: Path) -> int:
    """Bytes taken by the files under ``data_dir`` (their sizes as ``ls -l`` shows them;
    symbolic links are not followed). 0 when the folder does not exist."""
    total = 0
    for folder, _dirs, files in os.walk(data_dir):
        for name in files:
            with contextlib.suppress(OSError):  # removed while walking
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def sweep_leftovers(data_dir: Path, store: Store) -> int:
    """Remove what crashed or interrupted work left in ``data_dir``: hidden ``.part`` uploads
    and files no upload registered (older than ``LEFTOVER_AGE``), and download folders of
    tables that are no longer being extracted. Returns the bytes freed."""
    freed = 0
    cutoff = time.time() - LEFTOVER_AGE
    files_dir = data_dir / "files"
    if files_dir.is_dir():
        registered = store.all_file_ids()
        for path in files_dir.iterdir():
            try:
                stat = path.lstat()
            except OSError:
                continue
            if not path.is_file() or stat.st_mtime > cutoff:
                continue
            if path.name.endswith(".part") or path.name not in registered:
                with contextlib.suppress(OSError):
                    path.unlink()
                    freed += stat.st_size
    downloads = data_dir / "downloads"
    if downloads.is_dir():
        active = store.active_table_ids()
        for folder in downloads.iterdir():
            if folder.name not in active:
                size = data_dir_size(folder)
                shutil.rmtree(folder, ignore_errors=True)
                freed += size
    if freed:
        log.info("removed %d bytes left behind by interrupted work in %s", freed, data_dir)
    return freed
