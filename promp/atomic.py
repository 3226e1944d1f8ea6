"""Atomic file writes: the one place that writes through a temporary file and ``os.replace``.

A reader (or a process killed mid-write) sees either the old file or the complete new one, never
a half-written one. The temporary file lives next to the target, is named ``.NAME.tmpPID`` (or
``.STEM.tmpPID.SUFFIX`` where the writer needs the suffix, e.g. matplotlib picking the format from
it; ``promp.rundir.remove_stale_temp_files`` knows both forms) and is removed if the write fails.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: Path, keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` for the block to write; on success it replaces
    ``path``. On any error the temporary file is removed, and an ``OSError`` without a file name
    (disk full, read-only, ...) gets ``path`` as its file name so that its message names the target."""
    path = Path(path)
    name = f".{path.stem}.tmp{os.getpid()}{path.suffix}" if keep_suffix else f".{path.name}.tmp{os.getpid()}"
    tmp = path.with_name(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, flushed to disk (``fsync``) before the replace."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Text (UTF-8) version of ``atomic_write_bytes``."""
    atomic_write_bytes(path, text.encode())
