"""``promp reproduce learning-curves``: the (env x algorithm x seed) grid of training runs,
``learning-curves.png``, ``.csv``, ``.json`` and a printed summary (docs/algorithms.md §6, §10.4)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...compare import aggregate
from ...config import ConfigError
from ...plotting import ALGO_COLORS, draw_seed_curve, label_return_panel, save_figure, save_figure_atomically, subplots
from ..grid import train_runs
from ..options import Experiment, ReproduceOptions, scaled_setup
from ..output import write_csv, write_report
from . import compute as lc
from .compute import LearningCurvesSetup

CSV_COLUMNS = ["env", "algo", "iteration", "env_steps_mean", "return_post_mean", "band_low", "band_high", "seeds"]


def learning_curves_figure(path: Path, curves: dict, setup: LearningCurvesSetup) -> None:
    """Rows = envs, columns = panels; per algorithm the mean post-update return over seeds against
    env steps with a std band (``promp.compare.Curve``)."""
    fig, axes = subplots(len(setup.envs), len(setup.panels), figsize=(5.2 * len(setup.panels), 3.6 * len(setup.envs)),
                         dpi=80, squeeze=False)
    for i, env in enumerate(setup.envs):
        for j, panel in enumerate(setup.panels):
            ax = axes[i, j]
            for algo in panel:
                c = curves.get((env, algo))
                if c is None:
                    continue
                draw_seed_curve(ax, c, ALGO_COLORS.get(algo))
            label_return_panel(ax, env)
    save_figure(fig, path)


def _aggregate(setup: LearningCurvesSetup, grid: list, trained: dict) -> tuple[dict, list[dict], list[list]]:
    """Per (env, algo) the curve over seeds; per run its first and final return: ``(curves, per run, CSV rows)``."""
    curves, per_run, curve_rows = {}, [], []
    for env in setup.envs:
        for algo in setup.algos:
            names = [name for name, cfg in grid if cfg.env == env and cfg.algo == algo]
            c = aggregate(algo, [trained[n]["rows"] for n in names], "return_post")
            curves[(env, algo)] = c
            curve_rows += [[env, algo, i, f"{x:.0f}", f"{m:.6g}", f"{lo:.6g}", f"{hi:.6g}", c.n]
                           for i, (x, m, lo, hi) in enumerate(zip(c.x, c.mean, c.low, c.high))]
            for n, cfg in ((n, cfg) for n, cfg in grid if n in names):
                rows = trained[n]["rows"]
                tail = rows[-max(1, len(rows) // 10):]
                per_run.append({"run": n, "env": env, "algo": algo, "seed": cfg.seed, "status": trained[n]["status"],
                                "iterations": len(rows), "env_steps": int(float(rows[-1]["env_steps"])),
                                "nominal_samples_per_iteration": lc.nominal_samples_per_iteration(cfg),
                                "first_return_post": float(rows[0]["return_post"]),
                                "final_return_post": float(np.mean([float(r["return_post"]) for r in tail])),
                                "train_wall_s": trained[n]["wall_s"]})
    return curves, per_run, curve_rows


def learning_curves_summary(setup: LearningCurvesSetup, per_run: list[dict], runs: int, seeds, wall_total: float) -> str:
    """The printed paragraph: per env the algorithms ranked by final post-update return."""
    by_group = {}
    for r in per_run:
        g = by_group.setdefault(f"{r['env']}/{r['algo']}", {"first": [], "final": [], "iterations": []})
        g["first"].append(r["first_return_post"])
        g["final"].append(r["final_return_post"])
        g["iterations"].append(r["iterations"])
    parts = []
    for env in setup.envs:
        ranked = sorted(setup.algos, key=lambda a: -float(np.mean(by_group[f"{env}/{a}"]["final"])))
        parts.append(f"{env}: " + ", ".join(
            f"{a} {np.mean(by_group[f'{env}/{a}']['first']):.3g} -> {np.mean(by_group[f'{env}/{a}']['final']):.3g}"
            for a in ranked))
    return (f"Learning curves ({runs} runs: {len(setup.envs)} envs x {len(setup.algos)} algorithms x seeds "
            f"{list(seeds)}, {setup.iterations} iterations each): post-update return, first iteration -> mean of "
            f"the last 10% of iterations, mean over seeds, best first: {'; '.join(parts)}. "
            f"The paper (docs/algorithms.md §10.5) has ProMP best in every env, LVC-VPG above DiCE-VPG. "
            f"Wall time {wall_total:.1f} s "
            f"({sum(1 for r in per_run if r['status'].startswith('skipped'))} finished runs skipped).")


def run_learning_curves_experiment(opts: ReproduceOptions, setup: LearningCurvesSetup | None = None) -> None:
    """ProMP Figs. 2-3, docs/algorithms.md §10.4: the (env x algorithm x seed) grid of resumable trainer runs
    under ``OUT/runs/ENV/ALGO-seedS`` (finished runs are skipped when re-invoked, unfinished ones
    resumed), then one PNG of mean +- std post-update return against env steps."""
    setup = scaled_setup(lc.SETUPS, opts, setup)
    try:
        grid = lc.grid_configs(setup, opts.seeds)
    except (ValueError, ConfigError) as exc:
        raise ConfigError(str(exc)) from None
    out = opts.out
    t_start = time.perf_counter()
    trained = train_runs([(name, out / "runs" / name, cfg) for name, cfg in grid])
    wall_total = time.perf_counter() - t_start
    curves, per_run, curve_rows = _aggregate(setup, grid, trained)
    write_csv(out / "learning-curves.csv", CSV_COLUMNS, curve_rows)
    summary = learning_curves_summary(setup, per_run, len(grid), opts.seeds, wall_total)
    write_report(out / "learning-curves.json", "learning-curves", opts, setup,
                 {"per_run": per_run, "wall_time": {"total_s": wall_total}}, summary)
    fig_path = out / "learning-curves.png"
    save_figure_atomically(fig_path, lambda p: learning_curves_figure(p, curves, setup))
    print(summary)
    print(f"wrote {fig_path}, {out / 'learning-curves.csv'}, {out / 'learning-curves.json'}")


EXPERIMENT = Experiment("learning-curves", lc.SETUPS, {"quick": (0, 1), "medium": (1, 2, 3), "full": (1, 2, 3)},
                        ("iterations", "meta_batch_size", "rollouts_per_task", "algos"), run_learning_curves_experiment)
