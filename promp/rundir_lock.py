"""One writer per directory: an OS file lock (``fcntl.flock``) that dies with its process.

``promp train``/``--resume`` hold ``RUN_DIR/.promp.lock`` while they write the run; ``promp reproduce``
holds one on its output directory and ``promp eval`` one on the directory it writes ``eval.json``
into. The kernel releases a ``flock`` when the holding process exits, however it exits (kill -9
included), so a lock is never stale; the file itself is left in place on purpose (deleting a lock
file that another process may have opened would let two processes hold "the" lock). The holder
writes its PID into the file so that a refused second writer can name it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path
from typing import Iterator

LOCK_NAME = ".promp.lock"
EVAL_LOCK_NAME = ".promp-eval.lock"
LOCK_NAMES = (LOCK_NAME, EVAL_LOCK_NAME)


class DirectoryLockedError(RuntimeError):
    """Another live process holds the directory's lock (the message names its PID)."""


def _holder_pid(fd: int) -> str:
    """The PID the holder wrote into the lock file ("unknown" if it has not written it yet)."""
    for _ in range(20):  # the holder writes its PID right after locking: wait a moment for it
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return text
        time.sleep(0.01)
    return "unknown"


@contextlib.contextmanager
def hold_directory_lock(directory: Path, purpose: str, name: str = LOCK_NAME) -> Iterator[Path]:
    """Hold the exclusive lock ``directory/name`` for the ``with`` block; create ``directory`` if needed.

    Raises ``DirectoryLockedError`` naming the holder's PID if another process holds it. If this
    call created ``directory`` and the block leaves nothing in it but lock files, the directory is
    removed again (a refused or failed start leaves nothing behind).
    """
    directory = Path(directory)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise DirectoryLockedError(
                f"{directory} is in use by another promp process (PID {_holder_pid(fd)}, {purpose}); "
                "wait for it to finish or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            if created:
                with contextlib.suppress(OSError):
                    if all(p.name in LOCK_NAMES for p in directory.iterdir()):
                        for p in directory.iterdir():
                            p.unlink()
                        directory.rmdir()
    finally:
        os.close(fd)  # closing the descriptor releases the lock
