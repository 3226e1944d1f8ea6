"""A grid of resumable trainer runs, one run directory per cell (the exploration and learning-curves
experiments, docs/algorithms.md §10.3, §10.4): started, resumed or skipped as finished, one process per grid."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..config import ConfigError, TrainConfig
from ..rundir import RunDir
from ..rundir_lock import hold_directory_lock
from ..trainer import train
from .campaign import run_campaign
from .exploration.compute import same_run
from .learning_curves.compute import grid_configs


def train_runs(runs: list[tuple[str, Path, TrainConfig]], parallel: int | None = None, ray_address: str | None = None,
               retries: int = 2) -> dict[str, dict]:
    """Train every ``(name, run_dir, cfg)`` with the trainer: a new directory is started, an unfinished
    one resumed from its last checkpoint, a finished one (``progress.csv`` has ``cfg.iterations`` rows)
    skipped. A directory holding a different run (config differs other than in ``iterations``) is an
    error. By default the runs go one after the other in this process; with ``parallel`` or
    ``ray_address`` they go to worker processes (``promp.experiments.campaign``: one core per run, a
    failed worker retried ``retries`` times, then reported). Returns per name
    ``{"status", "rows", "wall_s"}`` (a failed run's status says why; its rows are what it completed)."""
    for name, run_dir, cfg in runs:  # check every directory before training anything
        if RunDir(run_dir).has_config() and not same_run(RunDir(run_dir).read_config(), cfg):
            raise ConfigError(f"{run_dir} holds a different run than {name} at this scale; use another --out")
    grid_dir = Path(os.path.commonpath([str(run_dir.parent) for _, run_dir, _ in runs]))
    with hold_directory_lock(grid_dir, "promp reproduce"):  # one process per grid: a second one is refused
        if parallel is None and ray_address is None:
            return _train_runs_locked(runs)
        try:
            status = run_campaign(runs, grid_dir / "logs", parallel, retries, ray_address)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        labels = {"done": "trained", "finished before": "skipped (finished)"}
        return {s.name: {"status": labels.get(s.state, f"failed after {s.attempts} attempts: {s.error}"),
                         "rows": s.progress(), "wall_s": s.wall_s} for s in status}


def train_grid(grid: list[tuple[str, TrainConfig]], run_root: Path, parallel: int | None,
               ray_address: str | None) -> dict[str, str]:
    """A campaign's training (``promp reproduce figure2`` / ``metaworld``): every ``(name, config)`` of ``grid``
    in ``run_root / name``, in worker processes (``parallel`` at once, default the core count) or as Ray tasks
    (``ray_address``; ``parallel`` in flight, default the cluster's CPUs). Returns each run's status."""
    cells = [(name, run_root / name, cfg) for name, cfg in grid]
    parallel = parallel if ray_address else parallel or os.cpu_count() or 1
    trained = train_runs(cells, parallel=parallel, ray_address=ray_address)
    return {name: t["status"] for name, t in trained.items()}


def collect(grid: list[tuple[str, TrainConfig]], run_root: Path) -> dict[tuple[str, str], list[tuple[int, list[dict]]]]:
    """Per (env, algo) the ``(seed, progress rows)`` of every run directory that has rows."""
    out: dict[tuple[str, str], list] = {}
    for name, cfg in grid:
        run = RunDir(run_root / name)
        try:
            rows = run.read_progress()  # [] for a run that has not started
        except (OSError, ValueError):
            rows = []
        if rows:
            out.setdefault((cfg.env, cfg.algo), []).append((cfg.seed, rows))
    return out


def campaign(setup: Any, opts: Any) -> tuple[list[tuple[str, TrainConfig]], dict[str, str], dict]:
    """A campaign experiment's grid (``setup``'s cells for ``opts.seeds``), trained under ``opts.out / "runs"``
    unless ``opts.report_only`` (``train_grid``), and what its run directories hold (``collect``): the grid,
    each trained run's status, the progress rows per (env, algo). ``ConfigError`` if no run has rows yet."""
    try:
        grid = grid_configs(setup, opts.seeds)
    except (ValueError, ConfigError) as exc:
        raise ConfigError(str(exc)) from None
    run_root = opts.out / "runs"
    statuses = {} if opts.report_only else train_grid(grid, run_root, opts.parallel, opts.ray_address)
    runs = collect(grid, run_root)
    if not runs:
        raise ConfigError(f"no run under {run_root} has progress rows yet")
    return grid, statuses, runs


def _train_runs_locked(runs: list[tuple[str, Path, TrainConfig]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, run_dir, cfg in runs:
        t0 = time.perf_counter()
        run = RunDir(run_dir)
        existing = run.has_config()
        done = run.read_progress() if existing else []
        if existing and len(done) >= cfg.iterations and run.checkpoint_dir.is_dir():
            out[name] = {"status": "skipped (finished)", "rows": done, "wall_s": 0.0}
            print(f"{name}: finished run in {run_dir} ({len(done)} iterations), skipped")
            continue
        status = f"resumed at iteration {len(done)}" if existing else "trained"
        print(f"{name}: {status}, {cfg.iterations} iterations -> {run_dir}", flush=True)
        rows = train(cfg, run_dir, resume=existing)
        out[name] = {"status": status, "rows": rows, "wall_s": time.perf_counter() - t0}
    return out
