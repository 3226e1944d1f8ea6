"""The run directory of one training run: its layout and the checks around it.

Layout (docs/design.md, the run-directory contract): ``config.json`` (the resolved config), ``progress.csv`` (one row per
iteration), ``checkpoints/`` (``itr_NNNNN.safetensors`` + ``itr_NNNNN.json`` per kept iteration, and
``best.json`` naming the best one), ``tb/`` (TensorBoard events), ``learning_curve.png`` and
``versions.json`` (what each process that trained the run ran on, ``promp.versions``).
``RunDir`` is the one place that knows these names; ``checkpoint_name`` is the only place that
formats a checkpoint's name. The module also holds the checks made before and while a run is
written: a writable ``--out``, a valid ``config.json``, a run that can really be resumed, leftover
temporary files, and a readable one-line description of a filesystem error. None of it changes
what a run computes.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .atomic import atomic_write_text
from .config import ConfigError, TrainConfig, canonical_keys
from .rundir_lock import LOCK_NAMES

CONFIG_FILE = "config.json"
PROGRESS_FILE = "progress.csv"
CHECKPOINT_DIR = "checkpoints"
TB_DIR = "tb"
CURVE_FILE = "learning_curve.png"
BEST_FILE = "best.json"  # in checkpoints/
VERSIONS_FILE = "versions.json"

_CHECKPOINT_JSON = re.compile(r"^itr_(\d+)\.json$")
# temporary files of atomic writes: ".NAME.tmpPID" and ".STEM.tmpPID.SUFFIX" (promp.atomic)
_TEMP_NAME = re.compile(r"^\..+\.tmp\d+(\.[A-Za-z0-9]+)?$")


class RunDirError(RuntimeError):
    """The run directory is missing, not a run, or would be overwritten."""


class ResumeError(RuntimeError):
    """The run directory cannot be resumed as it is (the message says why and what to do)."""


def describe_os_error(exc: OSError) -> str:
    """``PATH: reason`` for an ``OSError`` (the OS's wording, e.g. "No space left on device")."""
    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    where = exc.filename if exc.filename is not None else "a file"
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    return f"cannot write {where}: {reason}" if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT) else f"{where}: {reason}"


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


def checkpoint_name(iteration: int) -> str:
    """The file stem of the checkpoint written after ``iteration``: ``itr_00042``."""
    return f"itr_{iteration:05d}"


def list_checkpoints(ckpt_dir: Path) -> list[int]:
    """Iterations that have a checkpoint JSON in ``ckpt_dir``, ascending."""
    if not ckpt_dir.is_dir():
        return []
    return sorted(int(m.group(1)) for p in ckpt_dir.iterdir() if (m := _CHECKPOINT_JSON.match(p.name)))


def intact_checkpoint_hint(ckpt_dir: Path, iterations: list[int], failed: int, load: Callable[[int], Any]) -> str:
    """A sentence naming the newest checkpoint before ``failed`` that ``load`` accepts, and how to use it."""
    for it in reversed([i for i in iterations if i < failed]):
        try:
            load(it)
        except Exception:  # noqa: BLE001 - any failure means "not intact"
            continue
        run_dir = ckpt_dir.parent
        return (f"; checkpoint {it} is intact: evaluate it with promp eval {run_dir} --checkpoint {it}, or move "
                f"{ckpt_dir / checkpoint_name(failed)}.* (and any later ones) away and promp train --resume {run_dir} "
                f"continues from it")
    return "; no earlier checkpoint is intact"


def read_progress(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``progress.csv`` as dicts of numbers (empty list if absent).

    A last line without its newline (the process was killed while appending it) and rows with too
    few or too many fields are dropped; any other unparsable content raises ``RunDirError``.
    """
    if not path.exists():
        return []
    text = path.read_text()
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    rows = []
    try:
        for row in csv.DictReader(io.StringIO(text, newline="")):
            if None in row or None in row.values():
                continue
            rows.append({k: _parse_number(v) for k, v in row.items() if v != ""})
    except (ValueError, csv.Error) as exc:
        raise RunDirError(f"{path} is corrupt: {exc}") from None
    return rows


def _parse_number(text: str) -> float | int:
    """An int if ``text`` is an integer literal (so rewriting a row keeps ``0`` as ``0``), else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _format_row(row: dict[str, Any]) -> dict[str, str]:
    """A progress row as CSV fields: floats by ``repr`` (exact round trip), the rest by ``str``."""
    return {k: repr(float(v)) if isinstance(v, (float, np.floating)) else str(v) for k, v in row.items()}


class RunDir:
    """The files of one run directory (see the module docstring); ``path`` is the directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        """``config.json``: the resolved config."""
        return self.path / CONFIG_FILE

    @property
    def progress_path(self) -> Path:
        """``progress.csv``: one row per iteration."""
        return self.path / PROGRESS_FILE

    @property
    def checkpoint_dir(self) -> Path:
        """``checkpoints/``."""
        return self.path / CHECKPOINT_DIR

    @property
    def tb_dir(self) -> Path:
        """``tb/``: TensorBoard event files."""
        return self.path / TB_DIR

    @property
    def curve_path(self) -> Path:
        """``learning_curve.png``."""
        return self.path / CURVE_FILE

    @property
    def best_path(self) -> Path:
        """``checkpoints/best.json``: the pointer to the best checkpoint."""
        return self.checkpoint_dir / BEST_FILE

    @property
    def versions_path(self) -> Path:
        """``versions.json``: a list of ``promp.versions.environment_record()``s, one per process that trained the run."""
        return self.path / VERSIONS_FILE

    def read_versions(self) -> list[dict[str, Any]]:
        """The records of ``versions.json``, oldest first (empty for a run written before it existed, or if unreadable)."""
        try:
            data = json.loads(self.versions_path.read_text())
        except (OSError, ValueError):
            return []
        return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []

    def record_versions(self, record: dict[str, Any], iteration: int) -> dict[str, Any] | None:
        """Append ``record`` (the process starting at ``iteration``) to ``versions.json`` atomically;
        returns the previous record (``None`` for the first)."""
        records = self.read_versions()
        atomic_write_text(self.versions_path, json.dumps(records + [{"started_at_iteration": iteration, **record}], indent=1) + "\n")
        return records[-1] if records else None

    def checkpoint_path(self, iteration: int, suffix: str = ".json") -> Path:
        """The checkpoint file of ``iteration`` (``.json`` or ``.safetensors``)."""
        return self.checkpoint_dir / f"{checkpoint_name(iteration)}{suffix}"

    def checkpoints(self) -> list[int]:
        """Iterations that have a checkpoint, ascending."""
        return list_checkpoints(self.checkpoint_dir)

    def best_checkpoint(self) -> int | None:
        """The iteration named by ``best.json``, or ``None`` if there is none (or it is unreadable)."""
        try:
            return int(json.loads(self.best_path.read_text())["checkpoint"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def resolve_checkpoint(self, spec: int | str | None) -> int | None:
        """A ``--checkpoint`` value as an iteration: an integer, ``best`` (``best.json``) or
        ``latest``/``None`` (``None``: the latest). ``ValueError`` for anything else or a missing best."""
        if spec is None or isinstance(spec, int):
            return spec
        text = spec.strip().lower()
        if text == "latest":
            return None
        if text == "best":
            best = self.best_checkpoint()
            if best is None:
                raise ValueError(f"{self.path} has no best checkpoint (checkpoints/best.json is written from the second iteration on)")
            return best
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"--checkpoint must be an iteration number, 'best' or 'latest', got {spec!r}") from None

    def has_config(self) -> bool:
        """Whether ``config.json`` exists (a run was started here)."""
        return self.config_path.exists()

    def read_config(self):
        """The saved config as a validated ``TrainConfig`` (``RunDirError`` if missing or invalid)."""
        if not self.path.is_dir():
            raise RunDirError(f"run directory {self.path} does not exist")
        try:
            data = json.loads(self.config_path.read_text())
        except FileNotFoundError:
            raise RunDirError(f"{self.path} is not a promp run directory (no config.json)") from None
        except (ValueError, TypeError) as exc:
            raise RunDirError(f"{self.config_path} is corrupt: {exc}") from None
        return TrainConfig.from_json(data, self.config_path)

    def read_config_dict(self) -> dict:
        """The saved ``config.json`` as loaded, unvalidated (for grouping runs) but with deprecated key names
        replaced by the current ones (``ppo_steps`` -> ``outer_steps``); ``RunDirError`` if absent or unreadable."""
        try:
            data = json.loads(self.config_path.read_text())
            return canonical_keys(TrainConfig, data) if isinstance(data, dict) else data
        except FileNotFoundError:
            raise RunDirError(f"{self.path} is not a promp run directory (no config.json)") from None
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{self.config_path} is unreadable or corrupt: {exc}") from None

    def write_config(self, cfg: Any) -> None:
        """Write ``cfg.to_json()`` as ``config.json`` (atomically; nothing is written if it is unchanged)."""
        text = cfg.to_json()
        if not self.config_path.exists() or self.config_path.read_text() != text:
            atomic_write_text(self.config_path, text)

    def is_empty(self) -> bool:
        """Whether the directory is absent or holds nothing but lock files."""
        return not self.path.exists() or (self.path.is_dir() and all(p.name in LOCK_NAMES for p in self.path.iterdir()))

    def check_new(self) -> None:
        """Raise before anything is written if the directory cannot hold a new run (not empty, not writable)."""
        check_output_dir(self.path)
        if self.path.is_dir() and not self.is_empty():
            raise RunDirError(f"output directory {self.path} exists and is not empty; use --resume {self.path} to continue it")

    def create(self, cfg: Any) -> None:
        """Check the directory can hold a new run (absent or empty), create it and write ``config.json``."""
        if not self.is_empty():
            raise RunDirError(f"output directory {self.path} exists and is not empty; use --resume {self.path} to continue it")
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, cfg.to_json())

    def read_progress(self) -> list[dict[str, Any]]:
        """The rows of ``progress.csv`` (see ``read_progress``)."""
        return read_progress(self.progress_path)

    def truncate_progress(self, start_iteration: int) -> list[dict[str, Any]]:
        """Keep the rows before ``start_iteration`` (a resumed run rewrites the rest) and return them;
        the file is rewritten only when rows remain (otherwise the first new row rewrites it)."""
        rows = [r for r in self.read_progress() if r["iteration"] < start_iteration]
        if rows:
            self.write_progress(rows, list(rows[0]))
        return rows

    def write_progress(self, rows: list[dict[str, Any]], columns: list[str]) -> None:
        """Rewrite ``progress.csv`` with ``columns`` and ``rows`` (atomically)."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(_format_row(row))
        atomic_write_text(self.progress_path, buf.getvalue())

    def append_progress(self, row: dict[str, Any], columns: list[str]) -> None:
        """Append one row to ``progress.csv`` and flush it to disk (a half-written line is dropped on reading)."""
        with open(self.progress_path, "a", newline="") as fh:
            csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore").writerow(_format_row(row))
            fh.flush()
            os.fsync(fh.fileno())

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete the temporary files that killed writers left in the directory and ``checkpoints/``
        (call only while holding the run's lock: then no live writer owns them). Returns what was removed."""
        removed = []
        for d in (self.path, self.checkpoint_dir):
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

    def check_resumable(self, checkpoints: list[int], rows: list[dict], warn: Callable[[str], None]) -> None:
        """Refuse to resume a run whose checkpoints were deleted (progress rows beyond what a kill can
        leave: the row of the iteration after the last checkpoint); warn if ``progress.csv`` is gone."""
        last = checkpoints[-1] if checkpoints else -1
        logged = [int(r["iteration"]) for r in rows if "iteration" in r]
        beyond = [i for i in logged if i > last + 1]
        if beyond:
            have = f"the last checkpoint is iteration {last}" if checkpoints else f"{self.checkpoint_dir} holds no checkpoint"
            raise ResumeError(
                f"cannot resume {self.path}: progress.csv has iterations up to {max(beyond)} but {have} "
                "(checkpoints deleted?); retraining would rewrite its history: start a new run with --out instead"
            )
        if checkpoints and not self.progress_path.exists():
            warn(f"{self.progress_path} is missing: the rows of iterations 0..{last} are lost; "
                 "continuing from the checkpoint, new rows start at iteration " + str(last + 1))
