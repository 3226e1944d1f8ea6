"""Checks around a run directory before and while it is written: a writable ``--out``, a valid
``config.json``, a run that can really be resumed, leftover temporary files, and a readable
one-line description of a filesystem error.

The trainer calls these at a few points; they never change what a run computes.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any, Callable

from .config import ConfigError

# temporary files of atomic writes: ".NAME.tmpPID" and ".STEM.tmpPID.SUFFIX" (checkpoint.py, plotting.py)
_TEMP_NAME = re.compile(r"^\..+\.tmp\d+(\.[A-Za-z0-9]+)?$")


class ResumeError(RuntimeError):
    """The run directory cannot be resumed as it is (the message says why and what to do)."""


def describe_os_error(exc: OSError) -> str:
    """``PATH: reason`` for an ``OSError`` (the OS's wording, e.g. "No space left on device")."""
    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    where = exc.filename if exc.filename is not None else "a file"
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    return f"cannot write {where}: {reason}" if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT) else f"{where}: {reason}"


def config_from_json(data: Any, path: Path):
    """A ``TrainConfig`` from a loaded ``config.json``, checked with the same code as the CLI flags
    (types first, then ``validate_config``); ``ConfigError`` naming ``path`` and the field otherwise."""
    from .config import TrainConfig, validate_config
    from .validation import check_config_types

    try:
        if not isinstance(data, dict):
            raise ConfigError("must be a JSON object")
        check_config_types(data)
        cfg = TrainConfig.from_dict(data)
        validate_config(cfg)
    except (ConfigError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return cfg


def check_output_dir(run_dir: Path, option: str = "--out") -> None:
    """Raise ``ConfigError`` if ``run_dir`` cannot be created or written: a path component is a file,
    or the nearest existing directory is read-only. Nothing is created."""
    run_dir = Path(run_dir)
    probe = run_dir
    while not probe.exists():
        if probe.is_symlink():
            raise ConfigError(f"{option} {run_dir}: {probe} is a dangling symbolic link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is a file" if probe.is_file() else "is not a directory"
        raise ConfigError(f"{option} {run_dir}: {probe} {what}")
    if not os.access(probe, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only_fs(probe) else "permission denied"
        raise ConfigError(f"{option} {run_dir}: cannot write in {probe} ({reason})")


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def remove_stale_temp_files(run_dir: Path) -> list[Path]:
    """Delete the temporary files that killed writers left in ``run_dir`` and ``run_dir/checkpoints``
    (call only while holding the run's lock: then no live writer owns them). Returns what was removed."""
    removed = []
    for d in (run_dir, run_dir / "checkpoints"):
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if _TEMP_NAME.match(p.name) and p.is_file():
                try:
                    p.unlink()
                    removed.append(p)
                except FileNotFoundError:
                    pass
    return removed


def check_resumable(run_dir: Path, checkpoints: list[int], rows: list[dict], warn: Callable[[str], None]) -> None:
    """Refuse to resume a run whose checkpoints were deleted (progress rows beyond what a kill can
    leave: the row of the iteration after the last checkpoint); warn if ``progress.csv`` is gone."""
    last = checkpoints[-1] if checkpoints else -1
    logged = [int(r["iteration"]) for r in rows if "iteration" in r]
    beyond = [i for i in logged if i > last + 1]
    if beyond:
        have = f"the last checkpoint is iteration {last}" if checkpoints else f"{run_dir / 'checkpoints'} holds no checkpoint"
        raise ResumeError(
            f"cannot resume {run_dir}: progress.csv has iterations up to {max(beyond)} but {have} "
            "(checkpoints deleted?); retraining would rewrite its history: start a new run with --out instead"
        )
    if checkpoints and not (run_dir / "progress.csv").exists():
        warn(f"{run_dir / 'progress.csv'} is missing: the rows of iterations 0..{last} are lost; "
             "continuing from the checkpoint, new rows start at iteration " + str(last + 1))


def intact_checkpoint_hint(ckpt_dir: Path, iterations: list[int], failed: int, load: Callable[[int], Any]) -> str:
    """A sentence naming the newest checkpoint before ``failed`` that ``load`` accepts, and how to use it."""
    for it in reversed([i for i in iterations if i < failed]):
        try:
            load(it)
        except Exception:  # noqa: BLE001 - any failure means "not intact"
            continue
        run_dir = ckpt_dir.parent
        return (f"; checkpoint {it} is intact: evaluate it with promp eval {run_dir} --checkpoint {it}, or move "
                f"{ckpt_dir / f'itr_{failed:05d}'}.* (and any later ones) away and promp train --resume {run_dir} "
                f"continues from it")
    return "; no earlier checkpoint is intact"
