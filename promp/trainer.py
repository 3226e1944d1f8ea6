"""The training loop with all run-directory I/O: config.json, progress.csv, TensorBoard, checkpoints, plot.

Run-directory contract (DESIGN.md): ``config.json``, ``progress.csv`` (one row per iteration),
``checkpoints/``, ``tb/`` (TensorBoard events) and ``learning_curve.png``. ``resume_run`` continues
from the last checkpoint and reproduces an uninterrupted run's numbers exactly.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from . import __version__
from .checkpoint import CheckpointError, atomic_write_text, list_checkpoints, load_checkpoint, prune_checkpoints, save_checkpoint
from .config import ConfigError, TrainConfig, validate_config
from .learner import MetaLearner, NonFiniteUpdateError, RunState
from .interrupts import set_note
from .monitor import ReturnMonitor, load_monitor
from .plotting import plot_learning_curve, save_figure_atomically
from .rundir import check_output_dir, check_resumable, config_from_json, intact_checkpoint_hint, remove_stale_temp_files
from .rundir_lock import LOCK_NAMES, hold_directory_lock
from .validation import check_memory


class RunDirError(RuntimeError):
    """The run directory is missing, not a run, or would be overwritten."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training between iterations; the message says what is saved and how
    to resume, ``signum`` which signal it was (the CLI exits with ``128 + signum``)."""

    def __init__(self, message: str = "", signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _InterruptGuard:
    """SIGINT/SIGTERM handler for the training loop: stop at once (the iteration in progress is
    discarded), except inside ``critical()`` (writing a progress row and a checkpoint), where the stop
    is deferred to the end of the block. Does nothing outside the main thread."""

    def __init__(self) -> None:
        self._critical = False
        self._pending: int | None = None
        self.requested: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_InterruptGuard":
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handler) for sig in _STOP_SIGNALS}
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = signum  # remembered in case the exception below is swallowed by a C callback
        if self._critical:
            self._pending = signum
        else:
            raise TrainingInterrupted(signum=signum)

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        """A block that SIGINT/SIGTERM do not cut in half."""
        self._critical = True
        try:
            yield
        finally:
            self._critical = False
        if self._pending is not None:
            signum, self._pending = self._pending, None
            raise TrainingInterrupted(signum=signum)


def read_progress(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``progress.csv`` as dicts of floats (empty list if absent).

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


def load_run_config(run_dir: Path) -> TrainConfig:
    """The saved ``config.json`` of ``run_dir`` (``RunDirError`` if missing or invalid)."""
    path = run_dir / "config.json"
    if not run_dir.is_dir():
        raise RunDirError(f"run directory {run_dir} does not exist")
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunDirError(f"{run_dir} is not a promp run directory (no config.json)") from None
    except (ValueError, TypeError) as exc:
        raise RunDirError(f"{path} is corrupt: {exc}") from None
    return config_from_json(data, path)


def _parse_number(text: str) -> float | int:
    """An int if ``text`` is an integer literal (so rewriting a row keeps ``0`` as ``0``), else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


class RunLogger:
    """progress.csv + TensorBoard + console output for one run directory."""

    def __init__(self, run_dir: Path, start_iteration: int, console: Console) -> None:
        from tensorboardX import SummaryWriter

        self.path = run_dir / "progress.csv"
        self.rows = [r for r in read_progress(self.path) if r["iteration"] < start_iteration]
        self.columns: list[str] = list(self.rows[0]) if self.rows else []
        self._rewrite()
        self.writer = SummaryWriter(str(run_dir / "tb"), purge_step=start_iteration)
        self.console = console

    def _rewrite(self) -> None:
        if not self.columns:
            return
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.columns, extrasaction="ignore")
        w.writeheader()
        for row in self.rows:
            w.writerow({k: _fmt(v) for k, v in row.items()})
        atomic_write_text(self.path, buf.getvalue())

    def log(self, row: dict[str, float]) -> None:
        """Append one iteration's row (a half-written last line is repaired on resume)."""
        if not self.columns or not set(row) <= set(self.columns):  # first row, or new columns (after a skipped row)
            self.columns += [k for k in row if k not in self.columns]
            self.rows.append(row)
            self._rewrite()
        else:
            self.rows.append(row)
            with open(self.path, "a", newline="") as fh:
                csv.DictWriter(fh, fieldnames=self.columns, extrasaction="ignore").writerow({k: _fmt(v) for k, v in row.items()})
                fh.flush()
                os.fsync(fh.fileno())
        step = int(row["iteration"])
        for key, value in row.items():
            if key != "iteration" and np.isfinite(value):  # NaN/inf rows are in progress.csv and warned about
                self.writer.add_scalar(key, value, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def _fmt(v: Any) -> str:
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)


def _checkpoint_meta(cfg: TrainConfig, state: RunState) -> dict[str, Any]:
    return {
        "promp_version": __version__,
        "env": cfg.env,
        "algo": cfg.algo,
        "env_steps": state.env_steps,
        "eta": [float(e) for e in state.eta],
        "nonfinite_streak": state.nonfinite_streak,
        "rng": state.rng.bit_generator.state,
    }


def restore_state(learner: MetaLearner, run_dir: Path, iteration: int | None = None) -> RunState:
    """Rebuild the ``RunState`` saved in ``run_dir``'s checkpoint (default: the latest)."""
    template = learner.init_state()
    ckpt_dir = run_dir / "checkpoints"

    def load(it: int | None):
        return load_checkpoint(ckpt_dir, template.params, template.opt_state, it, env=learner.cfg.env)

    try:
        params, opt_state, meta = load(iteration)
    except CheckpointError as exc:
        its = list_checkpoints(ckpt_dir)
        if iteration is not None or not its:
            raise
        raise CheckpointError(f"{exc}{intact_checkpoint_hint(ckpt_dir, its, its[-1], load)}") from None
    rng = np.random.Generator(np.random.PCG64())
    try:
        rng.bit_generator.state = meta["rng"]
        eta = np.asarray(meta["eta"], dtype=np.float64)
        return RunState(params, opt_state, rng, eta, int(meta["iteration"]) + 1, int(meta["env_steps"]), int(meta.get("nonfinite_streak", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint in {run_dir} has invalid metadata ({exc})") from None


def prepare_new_run(cfg: TrainConfig, run_dir: Path) -> None:
    """Check ``run_dir`` can hold a new run (absent or empty) and write ``config.json``."""
    if run_dir.exists() and (not run_dir.is_dir() or any(p.name not in LOCK_NAMES for p in run_dir.iterdir())):
        raise RunDirError(f"output directory {run_dir} exists and is not empty; use --resume {run_dir} to continue it")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.json", cfg.to_json())


def train(cfg: TrainConfig, run_dir: Path, resume: bool = False, console: Console | None = None, progress: bool = True) -> list[dict]:
    """Train (or, with ``resume``, continue) the run in ``run_dir``; returns all progress rows.

    Everything that can fail on bad input (env construction, checkpoint loading, the memory
    estimate, an unwritable ``run_dir``) happens before the first file is written. The run
    directory is locked for the whole call (``promp.rundir_lock``: a second writer is refused).
    A KeyboardInterrupt (SIGINT or SIGTERM) stops after the last completed iteration's checkpoint
    and is re-raised.
    """
    console = console or Console(stderr=True)
    validate_config(cfg)
    if not resume:
        prepare_new_run_check(run_dir)
    try:
        learner = MetaLearner(cfg)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        check_memory(cfg, learner.env.obs_dim, learner.env.act_dim)
        with hold_directory_lock(run_dir, "promp train"):
            remove_stale_temp_files(run_dir)
            if resume:
                return _resume_locked(learner, run_dir, console, progress)
            state = learner.init_state()
            prepare_new_run(cfg, run_dir)
            return _run_locked(learner, state, run_dir, console, progress)
    finally:
        learner.env.close()


def prepare_new_run_check(run_dir: Path) -> None:
    """Raise before anything is written if ``run_dir`` cannot hold a new run (not empty, not writable)."""
    check_output_dir(run_dir)
    if run_dir.is_dir() and any(p.name not in LOCK_NAMES for p in run_dir.iterdir()):
        raise RunDirError(f"output directory {run_dir} exists and is not empty; use --resume {run_dir} to continue it")


def _resume_locked(learner: MetaLearner, run_dir: Path, console: Console, progress: bool) -> list[dict]:
    cfg = learner.cfg
    checkpoints = list_checkpoints(run_dir / "checkpoints")
    check_resumable(run_dir, checkpoints, read_progress(run_dir / "progress.csv"),
                    lambda msg: console.print(f"[yellow]warning:[/] {escape(msg)}", highlight=False, soft_wrap=True))
    # killed before the first checkpoint was complete: start afresh (the same numbers)
    state = restore_state(learner, run_dir) if checkpoints else learner.init_state()
    if cfg.iterations < state.iteration:
        raise RunDirError(f"{run_dir} has completed {state.iteration} iterations; --iterations {cfg.iterations} would "
                          f"shrink it (give --iterations >= {state.iteration}, or leave it out)")
    saved = json.loads((run_dir / "config.json").read_text()).get("iterations")
    if saved != cfg.iterations:
        console.print(f"extending {run_dir} from {saved} to {cfg.iterations} iterations (config.json updated)", highlight=False,
                      soft_wrap=True)
    if (run_dir / "config.json").read_text() != cfg.to_json():
        atomic_write_text(run_dir / "config.json", cfg.to_json())
    return _run_locked(learner, state, run_dir, console, progress)


def _run_locked(learner: MetaLearner, state: RunState, run_dir: Path, console: Console, progress: bool) -> list[dict]:
    cfg = learner.cfg
    set_note(f"stopped before iteration {state.iteration} completed; continue with: promp train --resume {run_dir}")
    try:
        logger = RunLogger(run_dir, state.iteration, console)
        monitor = load_monitor(run_dir / "checkpoints", state.iteration - 1) if state.iteration else ReturnMonitor()
        with _InterruptGuard() as guard:
            failed = False
            try:
                _loop(learner, state, run_dir, logger, console, progress, guard, monitor)
            except BaseException:
                failed = True
                raise
            finally:
                with guard.critical():
                    logger.close()
                    if logger.rows:
                        title = f"{cfg.algo} on {cfg.env} (seed {cfg.seed})"
                        try:
                            save_figure_atomically(run_dir / "learning_curve.png", lambda p: plot_learning_curve(logger.rows, p, title))
                        except OSError:
                            if not failed:  # else the error already on its way (e.g. disk full) is the one to report
                                raise
        return logger.rows
    finally:
        set_note(None)


def _loop(learner: MetaLearner, state: RunState, run_dir: Path, logger: RunLogger, console: Console, progress: bool,
          guard: _InterruptGuard, monitor: ReturnMonitor) -> None:
    """Iterate until ``cfg.iterations``; each completed iteration is logged and checkpointed as one
    uninterruptible step, so a kill, SIGINT or SIGTERM loses at most the iteration in progress."""
    cfg = learner.cfg
    ckpt_dir = run_dir / "checkpoints"
    total = cfg.iterations
    interactive = progress and console.is_terminal
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    ]
    with Progress(*columns, console=console, disable=not interactive) as bar:
        task = bar.add_task(f"{cfg.algo} {cfg.env}", total=total, completed=state.iteration, status="")
        started = (time.monotonic(), state.iteration)
        try:
            while state.iteration < total:
                stop: NonFiniteUpdateError | None = None
                try:
                    new_state, row = learner.iteration(state)
                except NonFiniteUpdateError as exc:
                    new_state, row, stop = exc.state, exc.row, exc
                if guard.requested is not None:  # a stop signal arrived but its exception was swallowed
                    raise TrainingInterrupted(signum=guard.requested)
                row.update(monitor.update(row, cfg.guard_kl))
                with guard.critical():
                    state = new_state
                    logger.log(row)
                    meta = {**_checkpoint_meta(cfg, state), "monitor": monitor.to_meta()}
                    save_checkpoint(ckpt_dir, state.iteration - 1, state.params, state.opt_state, meta)
                    monitor.write_best(ckpt_dir)
                    prune_checkpoints(ckpt_dir, cfg.keep_checkpoint_every, keep=monitor.keep())
                if row["diverged"]:
                    _warn_divergence(console, row, monitor, run_dir)
                if row.get("update_skipped"):
                    reason = escape(learner.skip_reason or "NaN/inf in the outer loss or parameters")
                    console.print(
                        f"[yellow]warning:[/] iteration {int(row['iteration'])}: {reason}; "
                        f"update not applied ({state.nonfinite_streak} in a row, stop at {cfg.max_nonfinite_updates})",
                        highlight=False, soft_wrap=True,
                    )
                if stop is not None:
                    good = [int(r["iteration"]) for r in logger.rows if not r.get("update_skipped")]
                    since = f"the last applied update (iteration {good[-1]})" if good else "the initial policy (no update was applied)"
                    raise NonFiniteUpdateError(
                        f"{stop}; checkpoint {ckpt_dir / f'itr_{state.iteration - 1:05d}.json'} holds the parameters of {since}"
                    ) from None
                status = f"return pre {row['return_pre']:.2f} post {row['return_post']:.2f}  {row['time_iteration']:.2f}s/it"
                bar.update(task, completed=state.iteration, status=status)
                if progress and not interactive:
                    every = max(1, total // 20)
                    if state.iteration % every == 0 or state.iteration == total:
                        console.print(f"iteration {state.iteration}/{total}  env steps {int(row['env_steps'])}  {status}"
                                      f"{_eta(started, state.iteration, total)}", soft_wrap=True, highlight=False)
        except KeyboardInterrupt as exc:  # outside guard.critical(): the iteration in progress is discarded
            signum = getattr(exc, "signum", signal.SIGINT)
            raise TrainingInterrupted(_interrupt_message(state, run_dir), signum) from None


def _warn_divergence(console: Console, row: dict, monitor: ReturnMonitor, run_dir: Path) -> None:
    """Console warning for a row flagged ``diverged`` (see ``promp.monitor``)."""
    console.print(
        f"[yellow]warning:[/] iteration {int(row['iteration'])}: diverging? return_post {row['return_post']:.4g} is far below "
        f"the best smoothed return {monitor.best:.4g} while kl_pre is {row.get('kl_pre', float('nan')):.3g}"
        f"{' and the KL guard fired' if row.get('guard_fired') else ''}; the best policy is checkpoint "
        f"{monitor.best_checkpoint} (promp eval {run_dir} --checkpoint best)"
    )


def _eta(started: tuple[float, int], done: int, total: int) -> str:
    """``  ETA 1:23`` from the pace since ``started = (time, iteration)`` (empty when unknown or done)."""
    t0, first = started
    if done <= first or done >= total:
        return ""
    left = (time.monotonic() - t0) / (done - first) * (total - done)
    return f"  ETA {int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}"


def _interrupt_message(state: RunState, run_dir: Path) -> str:
    if state.iteration == 0:
        return f"stopped before the first iteration completed; start again with: promp train --resume {run_dir}"
    return (
        f"stopped; iterations 0..{state.iteration - 1} are in progress.csv and checkpointed (an iteration in "
        f"progress is discarded); continue with: promp train --resume {run_dir}"
    )


__all__ = ["ConfigError", "RunDirError", "TrainingInterrupted", "load_run_config", "read_progress", "restore_state", "train"]
