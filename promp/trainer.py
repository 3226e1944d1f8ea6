"""The training loop with all run-directory I/O: config.json, progress.csv, TensorBoard, checkpoints, plot.

Run-directory contract (DESIGN.md): ``config.json``, ``progress.csv`` (one row per iteration),
``checkpoints/``, ``tb/`` (TensorBoard events) and ``learning_curve.png``. ``resume_run`` continues
from the last checkpoint and reproduces an uninterrupted run's numbers exactly.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from . import __version__
from .checkpoint import CheckpointError, atomic_write_text, load_checkpoint, prune_checkpoints, save_checkpoint
from .config import ConfigError, TrainConfig, validate_config
from .learner import MetaLearner, RunState
from .plotting import plot_learning_curve


class RunDirError(RuntimeError):
    """The run directory is missing, not a run, or would be overwritten."""


def read_progress(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``progress.csv`` as dicts of floats (empty list if absent)."""
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]


def load_run_config(run_dir: Path) -> TrainConfig:
    """The saved ``config.json`` of ``run_dir`` (``RunDirError`` if missing or invalid)."""
    path = run_dir / "config.json"
    if not run_dir.is_dir():
        raise RunDirError(f"run directory {run_dir} does not exist")
    try:
        return TrainConfig.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise RunDirError(f"{run_dir} is not a promp run directory (no config.json)") from None
    except (ValueError, TypeError) as exc:
        raise RunDirError(f"{path} is corrupt: {exc}") from None


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
        if not self.columns:
            self.columns = list(row)
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
            if key != "iteration":
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
    params, opt_state, meta = load_checkpoint(
        run_dir / "checkpoints", template.params, template.opt_state, iteration, env=learner.cfg.env
    )
    rng = np.random.Generator(np.random.PCG64())
    try:
        rng.bit_generator.state = meta["rng"]
        eta = np.asarray(meta["eta"], dtype=np.float64)
        return RunState(params, opt_state, rng, eta, int(meta["iteration"]) + 1, int(meta["env_steps"]), int(meta.get("nonfinite_streak", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint in {run_dir} has invalid metadata ({exc})") from None


def prepare_new_run(cfg: TrainConfig, run_dir: Path) -> None:
    """Check ``run_dir`` can hold a new run (absent or empty) and write ``config.json``."""
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise RunDirError(f"output directory {run_dir} exists and is not empty; use --resume {run_dir} to continue it")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.json", cfg.to_json())


def train(cfg: TrainConfig, run_dir: Path, resume: bool = False, console: Console | None = None, progress: bool = True) -> list[dict]:
    """Train (or, with ``resume``, continue) the run in ``run_dir``; returns all progress rows.

    Everything that can fail on bad input (env construction, checkpoint loading) happens before
    the first file is written. A KeyboardInterrupt stops after the last completed iteration's
    checkpoint and is re-raised.
    """
    console = console or Console(stderr=True)
    validate_config(cfg)
    try:
        learner = MetaLearner(cfg)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        if resume:
            state = restore_state(learner, run_dir) if (run_dir / "checkpoints").is_dir() else learner.init_state()
            atomic_write_text(run_dir / "config.json", cfg.to_json())
        else:
            state = learner.init_state()
            prepare_new_run(cfg, run_dir)
        logger = RunLogger(run_dir, state.iteration, console)
        try:
            _loop(learner, state, run_dir, logger, console, progress)
        finally:
            logger.close()
            if logger.rows:
                plot_learning_curve(logger.rows, run_dir / "learning_curve.png", f"{cfg.algo} on {cfg.env} (seed {cfg.seed})")
        return logger.rows
    finally:
        learner.env.close()


def _loop(learner: MetaLearner, state: RunState, run_dir: Path, logger: RunLogger, console: Console, progress: bool) -> None:
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
        while state.iteration < total:
            state, row = learner.iteration(state)
            logger.log(row)
            save_checkpoint(ckpt_dir, state.iteration - 1, state.params, state.opt_state, _checkpoint_meta(cfg, state))
            prune_checkpoints(ckpt_dir, cfg.keep_checkpoint_every)
            status = f"return pre {row['return_pre']:.2f} post {row['return_post']:.2f}  {row['time_iteration']:.2f}s/it"
            bar.update(task, completed=state.iteration, status=status)
            if progress and not interactive:
                every = max(1, total // 20)
                if state.iteration % every == 0 or state.iteration == total:
                    console.print(f"iteration {state.iteration}/{total}  env steps {int(row['env_steps'])}  {status}")


__all__ = ["ConfigError", "RunDirError", "load_run_config", "read_progress", "restore_state", "train"]
