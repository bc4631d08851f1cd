"""Which engines sharing a data dir are alive, known at once rather than after a timeout: each
running engine holds an exclusive lock on ``engines/<engine_id>.lock`` for its lifetime, and
the kernel drops it when the process ends, however it ends (SIGKILL included)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: liveness is unknown, the stale sweep decides
    fcntl = None  # type: ignore[assignment]

__all__ = ["EngineLock", "engine_gone", "forget_engine"]

LOCKS_DIR = "engines"


def _lock_path(data_dir: Path, engine_id: str) -> Path:
    # Ids come from the database: only the engine's own id form may become a path.
    if not re.fullmatch(r"eng_[0-9a-f]{1,64}", engine_id):
        raise ValueError(f"not an engine id: {engine_id!r}")
    return data_dir / LOCKS_DIR / f"{engine_id}.lock"


class EngineLock:
    """The live engine's lock. Held from ``acquire()`` to ``release()`` (or the process's end).

    ``flock`` locks belong to an open file, not to a process, so several engines in one
    process (tests, notebooks) lock each other out just like engines in different processes.
    """

    def __init__(self, data_dir: Path, engine_id: str) -> None:
        self.path = _lock_path(data_dir, engine_id)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                # Engine ids are fresh random ids: nobody else holds this lock, so no waiting.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, f"{os.getpid()}\n".encode())  # for a human looking at the folder
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self, *, remove: bool) -> None:
        """Drop the lock. ``remove``: delete the file too, when no table still names this
        engine as its lease owner; otherwise the unlocked file tells the next engine to
        re-queue those tables at once."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(fd)  # closing the file releases the lock


def engine_gone(data_dir: Path, engine_id: str) -> bool:
    """True when ``engine_id`` has surely ended: its lock file exists and nobody holds it.
    False when it is alive, or when this cannot be known (no lock file: an engine from an
    older version, or no ``flock`` on this system); the heartbeat timeout decides then."""
    if fcntl is None:  # pragma: no cover
        return False
    try:
        fd = os.open(_lock_path(data_dir, engine_id), os.O_RDONLY)
    except (OSError, ValueError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: the engine is running
    finally:
        os.close(fd)
    return True


def forget_engine(data_dir: Path, engine_id: str) -> None:
    """Remove a gone engine's lock file once its tables were re-queued."""
    with contextlib.suppress(OSError, ValueError):
        _lock_path(data_dir, engine_id).unlink()
