"""One writer per archive: an advisory lock file next to the database."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from crawler.clock import now_iso
from pipelines.archive.schema import ArchiveError, open_archive

_held: dict[str, int] = {}  # lock path -> file descriptor, for locks this process holds


class ArchiveBusy(Exception):
    """Another process is writing to the archive."""


def lock_path(db_path: str | Path) -> Path:
    """The lock file that guards the archive at `db_path`."""
    path = Path(db_path).resolve()
    return path.with_name(path.name + ".lock")


def acquire(db_path: str | Path, what: str = "crawl") -> None:
    """Take the archive's write lock for this process, or raise ArchiveBusy saying who has it.

    Taking it again in the same process is a no-op. The operating system releases it when the
    process ends, however it ends (even SIGKILL), so a killed crawl never leaves it stuck.
    """
    path = lock_path(db_path)
    if str(path) in _held:
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = Path(path).read_text(encoding="utf-8", errors="replace").strip()
        os.close(fd)
        raise ArchiveBusy(
            f"{db_path} is busy: {holder or 'another process holds ' + str(path)}"
        ) from None
    os.ftruncate(fd, 0)
    os.write(
        fd, f"{what} by pid {os.getpid()} on {socket.gethostname()} since {now_iso()}".encode()
    )
    _held[str(path)] = fd


def release(db_path: str | Path) -> None:
    """Give the archive's write lock back (if this process holds it)."""
    fd = _held.pop(str(lock_path(db_path)), None)
    if fd is not None:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def lock_for_writing(db_path: str | Path, what: str = "crawl") -> None:
    """Take the archive's write lock and check the archive can be written (creating and
    migrating it if need be). ArchiveBusy when another process writes to it, ArchiveError with
    a one-line message when it is not usable (a missing folder, no space, no access...)."""
    try:
        acquire(db_path, what)
        open_archive(db_path).close()
    except OSError as error:  # the lock file next to it: a missing folder, no space, no access
        raise ArchiveError(f"cannot use {db_path}: {error.strerror or error}") from error
