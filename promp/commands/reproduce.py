"""``promp reproduce NAME [--quick|--full] [--out DIR] [--seeds ...]``: one paper figure, end to end.

Dispatch by experiment name (``EXPERIMENTS``); each experiment is a runner here (I/O: figures, CSV,
JSON, the printed summary) around a pure module in ``promp.experiments`` (spec sections 11.5-11.8).
Adding an experiment = one pure module + one runner + one line in ``EXPERIMENTS``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import time
from pathlib import Path
from typing import Annotated, Callable, Optional

import tyro

from . import CommandError


@dataclasses.dataclass(frozen=True)
class ReproduceOptions:
    """Options common to every experiment, plus experiment-specific ones (``None`` = not given)."""

    scale: str  # "quick", "medium" or "full" (``SCALES`` says which an experiment offers)
    out: Path
    seeds: tuple[int, ...]
    convention: Optional[str] = None  # formulation only
    iterations: Optional[int] = None  # not formulation: overrides the scale's number of iterations
    score_raw_action: bool = False  # formulation only
    meta_batch_size: Optional[int] = None  # not formulation: overrides the scale's tasks per iteration
    rollouts_per_task: Optional[int] = None  # not formulation: overrides the scale's rollouts per task
    algos: Optional[tuple[str, ...]] = None  # not formulation: run only these of the experiment's algorithms


def _scaled_setup(setups: dict, opts: ReproduceOptions, setup=None):
    """The experiment's setup for ``opts.scale`` (or ``setup``) with ``--iterations``,
    ``--meta-batch-size``, ``--rollouts-per-task`` and ``--algos`` applied, validated. A longer run also averages
    its "final" numbers over more iterations: ``tail`` becomes at least a tenth of the run."""
    setup = setup or setups[opts.scale]
    if opts.iterations:
        setup = dataclasses.replace(setup, iterations=opts.iterations)
        if hasattr(setup, "tail"):
            setup = dataclasses.replace(setup, tail=max(setup.tail, opts.iterations // 10))
    for name in ("meta_batch_size", "rollouts_per_task"):
        if getattr(opts, name) is not None:
            setup = dataclasses.replace(setup, **{name: getattr(opts, name)})
    if opts.algos:
        unknown = [a for a in opts.algos if a not in setup.algos]
        if unknown:
            raise CommandError(f"--algos {' '.join(unknown)}: not in this experiment; it runs {' '.join(setup.algos)}")
        if hasattr(setup, "panels"):  # learning-curves: keep the panels that still hold an algorithm
            panels = tuple(tuple(a for a in panel if a in opts.algos) for panel in setup.panels)
            setup = dataclasses.replace(setup, panels=tuple(p for p in panels if p))
        else:
            setup = dataclasses.replace(setup, algos=tuple(a for a in setup.algos if a in opts.algos))
    try:
        setup.validate()
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return setup


# ------------------------------------------------------------------------------------------------
# formulation (spec 11.6)

FORMULATION_COLORS = {"I": "tab:red", "II": "tab:green"}


def _escape_index(dist, escape: float) -> int:
    """Number of leading iterates with a finite distance <= ``escape``."""
    import numpy as np

    bad = ~(np.isfinite(dist) & (dist <= escape))
    return int(np.argmax(bad)) if bad.any() else len(dist)


def _formulation_figure(path: Path, setup, results: dict, optimum: tuple[float, float], landscape) -> None:
    """Row 1: theta trajectories per outer lr (I red, II green, every seed; J^I contours); row 2:
    distance to the optimum per iteration (mean over seeds, thin lines per seed)."""
    import numpy as np

    from ..plotting import plt, save_figure
    from ..experiments.formulation import distance_to

    lrs = setup.outer_lrs
    fig, axes = plt.subplots(2, len(lrs), figsize=(3.4 * len(lrs), 7.0), dpi=110, squeeze=False)
    # a run that leaves the window (distance > ESCAPE, or non-finite) is drawn up to that point and marked x
    escape = 10.0 * float(np.linalg.norm(np.subtract(setup.theta_init, optimum)))
    kept = [res["thetas"][s, j, : _escape_index(distance_to(res["thetas"][s, j], optimum), escape)]
            for res in results.values() for j in range(len(lrs)) for s in range(res["thetas"].shape[0])]
    finite = np.concatenate([np.asarray(setup.theta_init)[None], np.asarray(optimum)[None], *kept])
    for j, lr in enumerate(lrs):
        ax, axd = axes[0, j], axes[1, j]
        if landscape is not None:
            grid0, grid1, values = landscape
            ax.contour(grid0, grid1, values.T, levels=12, colors="0.75", linewidths=0.6)
        for f, res in results.items():
            th = res["thetas"][:, j]  # [S, T+1, 2]
            dist = distance_to(th, optimum)
            stayed = []
            for s in range(th.shape[0]):
                end = _escape_index(dist[s], escape)
                ax.plot(th[s, :end, 0], th[s, :end, 1], "-", color=FORMULATION_COLORS[f], lw=0.7, alpha=0.7,
                        label=f"{f}-VPG" if s == 0 else None)
                if end <= setup.iterations:
                    ax.plot(th[s, end - 1, 0], th[s, end - 1, 1], "x", color=FORMULATION_COLORS[f], ms=7)
                    axd.plot(end - 1, dist[s, end - 1], "x", color=FORMULATION_COLORS[f], ms=7)
                else:
                    stayed.append(s)
                axd.plot(np.arange(end), dist[s, :end], color=FORMULATION_COLORS[f], lw=0.5, alpha=0.35)
            if stayed:
                axd.plot(dist[stayed].mean(0), color=FORMULATION_COLORS[f], lw=1.8,
                         label=f"{f}-VPG (mean of {len(stayed)} seeds)")
            if len(stayed) < th.shape[0]:
                axd.text(0.98, 0.97 if f == "I" else 0.89, f"{f}: {th.shape[0] - len(stayed)}/{th.shape[0]} seeds left the window "
                         f"(x)", transform=axd.transAxes, ha="right", va="top", fontsize="x-small",
                         color=FORMULATION_COLORS[f])
        ax.plot(*setup.theta_init, "o", color="k", ms=4, label="start")
        ax.plot(*optimum, "*", color="k", ms=12, label="optimum")
        lo, hi = finite.min(0), finite.max(0)
        pad = 0.1 * max(float(np.max(hi - lo)), 0.05)
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(lo[1] - pad, hi[1] + pad)
        ax.set_title(f"outer lr {lr:g}")
        ax.set_xlabel("theta0")
        ax.grid(alpha=0.3)
        axd.set_xlabel("iteration")
        axd.set_yscale("log")
        shown = np.concatenate([distance_to(res["thetas"][:, j], optimum).ravel() for res in results.values()])
        shown = shown[np.isfinite(shown) & (shown > 0) & (shown <= escape)]
        axd.set_ylim(max(float(shown.min()) * 0.8, 1e-6) if shown.size else 1e-3, escape * 1.5)
        axd.grid(alpha=0.3, which="both")
        if j == 0:
            ax.set_ylabel("theta1")
            ax.legend(fontsize="x-small", loc="best")
            axd.set_ylabel("distance to optimum")
            axd.legend(fontsize="x-small", loc="lower left")
    fig.suptitle(f"Formulation I (red) vs II (green), 1-D task, VPG, convention '{setup.convention}'"
                 f"{', raw-action scores' if setup.score_raw_action else ''}", fontsize="medium")
    save_figure(fig, path)


def _formulation_stats(setup, results: dict, optimum: tuple[float, float]) -> list[dict]:
    """Per (formulation, lr): final and tail-mean distance to the optimum over seeds, divergences."""
    import numpy as np

    from ..experiments.formulation import distance_to

    tail = max(1, setup.iterations // 5)
    rows = []
    for f, res in results.items():
        for j, lr in enumerate(setup.outer_lrs):
            dist = distance_to(res["thetas"][:, j], optimum)  # [S, T+1]
            bad = ~np.isfinite(dist)
            diverged = bad.any(-1)
            first_bad = [int(np.argmax(b)) for b in bad if b.any()]
            ok = dist[~diverged]
            rows.append({
                "formulation": f, "outer_lr": lr, "seeds": int(dist.shape[0]), "diverged": int(diverged.sum()),
                "first_divergence_iteration": min(first_bad) if first_bad else None,
                "final_distance_mean": float(ok[:, -1].mean()) if len(ok) else None,
                "final_distance_std": float(ok[:, -1].std()) if len(ok) else None,
                "tail_distance_mean": float(ok[:, -tail:].mean()) if len(ok) else None,
                "final_distance_per_seed": [float(d) if np.isfinite(d) else None for d in dist[:, -1]],
                "tail_distance_per_seed": [float(d) if np.isfinite(d) else None for d in dist[:, -tail:].mean(-1)],
                "final_return_post_mean": float(np.nanmean(res["return_post"][:, j, -tail:])) if len(ok) else None,
            })
    return rows


def _fmt(x: Optional[float]) -> str:
    return "diverged" if x is None else f"{x:.4f}"


def _formulation_summary(setup, stats: list[dict], optimum_info: dict, wall: dict, seeds) -> str:
    by = {(r["formulation"], r["outer_lr"]): r for r in stats}
    parts, wins, compared = [], 0, 0
    for lr in setup.outer_lrs:
        a, b = by[("I", lr)], by[("II", lr)]
        div = "".join(f" ({f} diverged in {r['diverged']}/{r['seeds']} seeds)" for f, r in (("I", a), ("II", b)) if r["diverged"])
        parts.append(f"lr {lr:g}: I {_fmt(a['final_distance_mean'])} vs II {_fmt(b['final_distance_mean'])}"
                     f" (last-{max(1, setup.iterations // 5)}-iteration mean {_fmt(a['tail_distance_mean'])} vs "
                     f"{_fmt(b['tail_distance_mean'])}){div}")
        if a["tail_distance_mean"] is not None and b["tail_distance_mean"] is not None:
            compared += 1
            wins += a["tail_distance_mean"] < b["tail_distance_mean"]
    opt = optimum_info
    return (
        f"Formulation I vs II on the 1-D task ({2 * setup.tasks_per_goal} tasks x {setup.trajectories} trajectories, "
        f"{setup.iterations} iterations, convention '{setup.convention}', "
        f"{'raw' if setup.score_raw_action else 'clipped'}-action scores, seeds {list(seeds)}): final distance to the "
        f"optimum, mean over seeds, {'; '.join(parts)}. Formulation I ends closer (by the tail mean) at {wins} of "
        f"{compared} learning rates where both stayed finite. Optimum check (J^I by Monte Carlo on a "
        f"{opt['grid_points']}x{opt['grid_points']} grid over [-{opt['half_width']:g}, {opt['half_width']:g}]^2): grid argmax "
        f"{tuple(round(v, 4) for v in opt['grid_argmax'])}, quadratic-fit maximiser "
        f"({opt['fitted_optimum'][0]:.4f}, {opt['fitted_optimum'][1]:.4f}), Hessian eigenvalues "
        f"({opt['hessian_eigenvalues'][0]:.3f}, {opt['hessian_eigenvalues'][1]:.3f}); distances are measured to "
        f"{tuple(opt['used'])}. Wall time {wall['total_s']:.1f} s (training {wall['training_s']:.1f} s, "
        f"optimum check {wall['optimum_s']:.1f} s)."
    )


def run_formulation_experiment(opts: ReproduceOptions) -> None:
    """Spec 11.6 / paper §7.4: formulation I vs II, all outer learning rates, several seeds."""
    import dataclasses as dc

    import jax
    import numpy as np

    from ..checkpoint import atomic_write_text
    from ..experiments import formulation as fm
    from ..threads import thread_settings
    from .common import save_figure_atomically

    setup = fm.FULL if opts.scale == "full" else fm.QUICK
    setup = dc.replace(setup, convention=opts.convention or setup.convention, score_raw_action=opts.score_raw_action)
    try:
        setup.validate()
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    t_start = time.perf_counter()
    results, timing = {}, {}
    for f in fm.FORMULATIONS:
        t0 = time.perf_counter()
        results[f] = fm.run_formulation(setup, f, opts.seeds)
        timing[f] = time.perf_counter() - t0
    t_train = time.perf_counter() - t_start

    t0 = time.perf_counter()
    half_width, points, samples = (0.3, 25, 100_000) if opts.scale == "full" else (0.2, 9, 20_000)
    grid = np.linspace(-half_width, half_width, points)
    land = fm.post_update_return_landscape(jax.random.PRNGKey(12345), grid, grid, samples, setup.inner_lr,
                                           setup.horizon, setup.action_std)
    fit = fm.fit_optimum(grid, grid, land[1])
    fit_pre = fm.fit_optimum(grid, grid, land[0])
    optimum = fm.PAPER_OPTIMUM
    optimum_info = {**fit, "pre_update": fit_pre, "half_width": half_width, "grid_points": points,
                    "samples_per_point": samples, "used": list(optimum),
                    "note": "J^I(theta) = mean_goal E R(tau') with theta' = theta + alpha * exact grad E R(tau), "
                            "reparameterised Monte Carlo with common antithetic noise at every grid point"}
    t_opt = time.perf_counter() - t0
    wall = {"total_s": time.perf_counter() - t_start, "training_s": t_train, "optimum_s": t_opt,
            "per_formulation_s": timing}

    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    stats = _formulation_stats(setup, results, optimum)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["formulation", "outer_lr", "seed", "iteration", "theta0", "theta1", "distance", "return_pre", "return_post"])
    for f, res in results.items():
        dist = fm.distance_to(res["thetas"], optimum)
        for si, seed in enumerate(opts.seeds):
            for j, lr in enumerate(setup.outer_lrs):
                for it in range(setup.iterations + 1):
                    th = res["thetas"][si, j, it]
                    # returns of iteration `it` are those sampled at theta_it (before its update)
                    r_pre = res["return_pre"][si, j, it] if it < setup.iterations else float("nan")
                    r_post = res["return_post"][si, j, it] if it < setup.iterations else float("nan")
                    w.writerow([f, lr, seed, it, f"{th[0]:.8g}", f"{th[1]:.8g}", f"{dist[si, j, it]:.8g}",
                                f"{r_pre:.8g}", f"{r_post:.8g}"])
    atomic_write_text(out / "formulation.csv", buf.getvalue())
    summary = _formulation_summary(setup, stats, optimum_info, wall, opts.seeds)
    report = {"experiment": "formulation", "scale": opts.scale, "seeds": list(opts.seeds),
              "setup": dataclasses.asdict(setup), "optimum": optimum_info, "stats": stats, "wall_time": wall,
              "threads": thread_settings(), "summary": summary}
    atomic_write_text(out / "formulation.json", json.dumps(report, indent=2))
    fig_path = out / "formulation.png"
    save_figure_atomically(fig_path, lambda p: _formulation_figure(p, setup, results, optimum, (grid, grid, land[1])))
    print(summary)
    print(f"wrote {fig_path}, {out / 'formulation.csv'}, {out / 'formulation.json'}")


# ------------------------------------------------------------------------------------------------
# shared: a grid of resumable trainer runs (exploration, learning-curves; spec 11.7, 11.8)


def _train_runs(runs: list[tuple[str, Path, object]]) -> dict[str, dict]:
    """Train every ``(name, run_dir, cfg)`` with the trainer, one after the other: a new directory is
    started, an unfinished one resumed from its last checkpoint, a finished one (``progress.csv`` has
    ``cfg.iterations`` rows) skipped. A directory holding a different run (config differs other than
    in ``iterations``) is an error. Returns per name ``{"status", "rows", "wall_s"}``."""
    from ..experiments.exploration import same_run
    from ..trainer import load_run_config, read_progress, train

    for name, run_dir, cfg in runs:  # check every directory before training anything
        if (run_dir / "config.json").exists() and not same_run(load_run_config(run_dir), cfg):
            raise CommandError(f"{run_dir} holds a different run than {name} at this scale; use another --out")
    from ..rundir_lock import hold_directory_lock

    grid_dir = Path(os.path.commonpath([str(run_dir.parent) for _, run_dir, _ in runs]))
    with hold_directory_lock(grid_dir, "promp reproduce"):  # one process per grid: a second one is refused
        return _train_runs_locked(runs)


def _train_runs_locked(runs: list[tuple[str, Path, object]]) -> dict[str, dict]:
    from ..trainer import read_progress, train

    out: dict[str, dict] = {}
    for name, run_dir, cfg in runs:
        t0 = time.perf_counter()
        existing = (run_dir / "config.json").exists()
        done = read_progress(run_dir / "progress.csv") if existing else []
        if existing and len(done) >= cfg.iterations and (run_dir / "checkpoints").is_dir():
            out[name] = {"status": "skipped (finished)", "rows": done, "wall_s": 0.0}
            print(f"{name}: finished run in {run_dir} ({len(done)} iterations), skipped")
            continue
        status = f"resumed at iteration {len(done)}" if existing else "trained"
        print(f"{name}: {status}, {cfg.iterations} iterations -> {run_dir}", flush=True)
        rows = train(cfg, run_dir, resume=existing)
        out[name] = {"status": status, "rows": rows, "wall_s": time.perf_counter() - t0}
    return out


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    from ..checkpoint import atomic_write_text

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


# ------------------------------------------------------------------------------------------------
# exploration (spec 11.7)

ALGO_COLORS = {"lvc-trpo": "tab:red", "maml-trpo": "tab:blue", "emaml-trpo": "tab:green", "promp": "tab:purple",
               "lvc-vpg": "tab:red", "dice-vpg": "tab:blue", "maml-vpg": "tab:orange", "emaml-vpg": "tab:green"}


def _exploration_figure(path: Path, pictures: dict, env, task: dict, setup) -> None:
    """One row per algorithm: pre-update paths and paths after K inner steps on the same task, with
    the four goal discs (``promp.commands.rollout.draw_point_task``)."""
    import numpy as np

    from ..plotting import draw_point_paths, plt, save_figure
    from .rollout import draw_point_task

    algos = list(pictures)
    fig, axes = plt.subplots(len(algos), 2, figsize=(7.2, 3.5 * len(algos)), dpi=80, squeeze=False)
    every = [p for pic in pictures.values() for k in (0, -1) for p in pic["paths"][k]]
    lim = max(4.3, max(float(np.abs(p).max()) for p in every) + 0.2)
    lim = min(lim, 12.0)
    for i, algo in enumerate(algos):
        pic = pictures[algo]
        for j, k in enumerate((0, len(pic["paths"]) - 1)):
            ax = axes[i, j]
            draw_point_task(ax, env, task)
            draw_point_paths(ax, pic["paths"][k], lim, size=0.85)
            phase = "pre-update" if k == 0 else f"after {k} inner steps"
            ax.set_title(f"{algo}: {phase} (return {pic['returns'][k]:.3g})", fontsize="small")
    fig.suptitle(f"point-momentum, goal {task['goal']}, {setup.iterations} iterations "
                 f"({setup.meta_batch_size} tasks x {setup.rollouts_per_task} rollouts, H {setup.horizon})",
                 fontsize="small")
    save_figure(fig, path)


def _curves_figure(path: Path, results: dict, title: str, metric: str = "return_post") -> None:
    """Mean over seeds with a std band per algorithm (``promp.compare.aggregate``, ``plot_curves``)."""
    from ..compare import aggregate
    from ..plotting import plot_curves

    curves = [aggregate(algo, runs, metric) for algo, runs in results.items() if runs]
    plot_curves(curves, path, ylabel=("post" if metric == "return_post" else "pre") + "-update average return", title=title)


def run_exploration_experiment(opts: ReproduceOptions, setup=None) -> None:
    """Spec 11.7 / paper §7.3: LVC-TRPO, MAML-TRPO, E-MAML-TRPO and ProMP on point-momentum (K = 3);
    trains resumable runs under ``OUT/runs``, then draws one task's pre/post-update paths per algorithm."""
    import numpy as np

    from ..checkpoint import atomic_write_text
    from ..evaluation import eval_rng
    from ..experiments import exploration as ex
    from ..threads import thread_settings
    from .common import load_run, save_figure_atomically

    setup = _scaled_setup(ex.SETUPS, opts, setup)
    t_start = time.perf_counter()
    out = opts.out
    runs = [(f"{algo}-seed{seed}", out / "runs" / f"{algo}-seed{seed}", ex.exploration_config(setup, algo, seed))
            for algo in setup.algos for seed in opts.seeds]
    trained = _train_runs(runs)
    t_train = time.perf_counter() - t_start

    t0 = time.perf_counter()
    pictures, stats, env = {}, [], None
    for algo in setup.algos:
        per_seed = []
        for si, seed in enumerate(opts.seeds):
            name = f"{algo}-seed{seed}"
            final = ex.final_returns(trained[name]["rows"], setup.tail)
            final.update(algo=algo, seed=seed, status=trained[name]["status"], train_wall_s=trained[name]["wall_s"])
            if si == 0:  # the picture: first seed, the fixed task, the meta-test generator of that seed
                run = load_run(out / "runs" / name)
                try:
                    task = run.learner.env.validate_task(dict(ex.TASK))
                    pic = ex.task_paths(run.learner, run.params, task, eval_rng(seed), setup.paths)
                    env = env or run.learner.env
                finally:
                    run.learner.env.close()
                pictures[algo] = pic
                final["picture_returns"] = pic["returns"]
                final["pre_update_corner_visits"] = ex.corner_visits(pic["paths"][0])
            per_seed.append(final)
        stats.extend(per_seed)
    t_pic = time.perf_counter() - t0
    wall = {"total_s": time.perf_counter() - t_start, "training_s": t_train, "pictures_s": t_pic}

    out.mkdir(parents=True, exist_ok=True)
    steps = [f"return_step_{k}" for k in range(setup.inner_steps + 1)]
    _write_csv(out / "exploration.csv",
               ["algo", "seed", "iterations", "env_steps", "final_return_pre", "final_return_post", *[f"final_{s}" for s in steps]],
               [[r["algo"], r["seed"], r["iterations"], r["env_steps"], f"{r['return_pre']:.6g}", f"{r['return_post']:.6g}",
                 *[f"{r[s]:.6g}" if s in r else "" for s in steps]] for r in stats])
    by_algo = {}
    for algo in setup.algos:
        rs = [r for r in stats if r["algo"] == algo]
        by_algo[algo] = {"return_pre_mean": float(np.mean([r["return_pre"] for r in rs])),
                         "return_post_mean": float(np.mean([r["return_post"] for r in rs])),
                         "picture_returns": rs[0]["picture_returns"],
                         "pre_update_corner_visits": rs[0]["pre_update_corner_visits"]}
    parts = [f"{a} pre {v['return_pre_mean']:.2f} -> post {v['return_post_mean']:.2f} (pre-update paths of the drawn task "
             f"came within 1 of {sum(1 for c in v['pre_update_corner_visits'] if c)}/4 corners; picture task returns "
             f"{' -> '.join(f'{x:.3g}' for x in v['picture_returns'])})" for a, v in by_algo.items()]
    best = max(by_algo, key=lambda a: by_algo[a]["return_post_mean"])
    summary = (
        f"Exploration on point-momentum (K={setup.inner_steps}, {setup.meta_batch_size} tasks x {setup.rollouts_per_task} "
        f"rollouts, H {setup.horizon}, {setup.iterations} iterations, seeds {list(opts.seeds)}): final training returns "
        f"(mean of the last {setup.tail} iterations and over seeds) {'; '.join(parts)}. Highest post-update return: {best}. "
        f"The paper (spec 12) expects LVC-TRPO to visit the goal regions before adaptation and reach the goal after it, "
        f"and MAML-TRPO to fail. Wall time {wall['total_s']:.1f} s (training {t_train:.1f} s)."
    )
    report = {"experiment": "exploration", "scale": opts.scale, "seeds": list(opts.seeds),
              "setup": dataclasses.asdict(setup), "task": ex.TASK, "per_run": stats, "per_algo": by_algo,
              "wall_time": wall, "threads": thread_settings(), "summary": summary}
    atomic_write_text(out / "exploration.json", json.dumps(report, indent=2))
    fig_path = out / "exploration.png"
    save_figure_atomically(fig_path, lambda p: _exploration_figure(p, pictures, env, ex.TASK, setup))
    curves_path = out / "exploration-curves.png"
    results = {a: [trained[f"{a}-seed{s}"]["rows"] for s in opts.seeds] for a in setup.algos}
    save_figure_atomically(curves_path, lambda p: _curves_figure(p, results, "point-momentum: post-update return (K=3)"))
    print(summary)
    print(f"wrote {fig_path}, {curves_path}, {out / 'exploration.csv'}, {out / 'exploration.json'}")


# ------------------------------------------------------------------------------------------------
# gradient-variance (spec 11.5)

GV_COLUMNS = ["algo", "seed", "iteration", "env_steps", "env_steps_one_round", "rel_std", "norm_ratio", "cosine_to_mean",
              "grad_std", "grad_norm", "return_pre", "return_post", "return_pre_rounds", "return_post_rounds",
              "update_skipped", "time_s"]


def _gradient_variance_figure(path: Path, rows: dict, setup, window: int = 5) -> None:
    """Relative std of the meta-gradient (thin: per iteration; thick: running mean over ``window``)
    and the post-update return of the updating round, both per iteration (spec 11.5's two panels)."""
    import numpy as np

    from ..experiments.gradient_variance import running_mean
    from ..plotting import plt, save_figure

    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.8), dpi=80)
    for (algo, seed), rs in rows.items():
        it = np.array([r["iteration"] for r in rs])
        color = ALGO_COLORS.get(algo, None)
        label = f"{algo} (seed {seed})" if len({s for _, s in rows}) > 1 else algo
        for ax, key in zip(axes, ("rel_std", "norm_ratio", "return_post")):
            y = np.array([r[key] for r in rs], dtype=float)
            ax.plot(it, y, color=color, lw=0.6, alpha=0.35)
            ax.plot(it, running_mean(y, window), color=color, lw=1.8, label=label)
    axes[0].set_ylabel(f"relative std of meta-gradient\n(mean_params std/(|mean|+1e-8), {setup.rounds} rounds)")
    axes[1].set_ylabel("norm ratio |g - mean| / |mean|")
    axes[2].set_ylabel("post-update average return")
    for ax in axes:
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{setup.env}: LVC vs DiCE meta-gradient variance ({setup.meta_batch_size} tasks x "
                 f"{setup.rollouts_per_task} rollouts, H {setup.horizon}, fresh tasks every round; thick = running mean "
                 f"over {window})", fontsize="small")
    save_figure(fig, path)


def run_gradient_variance_experiment(opts: ReproduceOptions, setup=None) -> None:
    """Spec 11.5 / paper §7.2: per iteration ``rounds`` independent sampling rounds (fresh tasks each)
    at the same parameters, relative std of the flattened meta-gradient, LVC-VPG vs DiCE-VPG."""
    import numpy as np

    from ..checkpoint import atomic_write_text
    from ..experiments import gradient_variance as gv
    from ..learner import MetaLearner
    from ..threads import thread_settings
    from .common import save_figure_atomically

    setup = _scaled_setup(gv.SETUPS, opts, setup)
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    rows: dict[tuple[str, int], list[dict]] = {}
    wall: dict[str, float] = {}

    def write_csv() -> None:
        _write_csv(out / "gradient-variance.csv", GV_COLUMNS,
                   [[algo, seed, *[f"{r[c]:.8g}" if isinstance(r[c], float) else r[c] for c in GV_COLUMNS[2:]]]
                    for (algo, seed), rs in rows.items() for r in rs])

    for seed in opts.seeds:
        for algo in setup.algos:
            t0 = time.perf_counter()
            learner = MetaLearner(gv.gradient_variance_config(setup, algo, seed))
            try:
                state, grad_fn = learner.init_state(), gv.meta_gradient_fn(learner)
                rows[(algo, seed)] = []
                for _ in range(setup.iterations):
                    t_it = time.perf_counter()
                    state, row = gv.variance_iteration(learner, state, setup.rounds, grad_fn)
                    row["time_s"] = time.perf_counter() - t_it
                    rows[(algo, seed)].append(row)
                    write_csv()
                    print(f"{algo} seed {seed} iteration {row['iteration'] + 1}/{setup.iterations}: rel std "
                          f"{row['rel_std']:.3g}, norm ratio {row['norm_ratio']:.3g}, return post {row['return_post']:.3g} "
                          f"({row['time_s']:.1f} s)", flush=True)
            finally:
                learner.env.close()
            wall[f"{algo}-seed{seed}"] = time.perf_counter() - t0
    wall_total = time.perf_counter() - t_start

    def mean_of(algo: str, key: str) -> float:
        return float(np.mean([r[key] for (a, _), rs in rows.items() if a == algo for r in rs]))

    stats = {algo: {k: mean_of(algo, k) for k in ("rel_std", "norm_ratio", "cosine_to_mean", "grad_norm", "return_post")}
             for algo in setup.algos}
    compare = {}
    if "lvc-vpg" in stats and "dice-vpg" in stats:
        pairs = [(d["rel_std"], l["rel_std"]) for seed in opts.seeds
                 for d, l in zip(rows[("dice-vpg", seed)], rows[("lvc-vpg", seed)])]
        compare = {"rel_std_ratio_dice_over_lvc": stats["dice-vpg"]["rel_std"] / stats["lvc-vpg"]["rel_std"],
                   "norm_ratio_ratio_dice_over_lvc": stats["dice-vpg"]["norm_ratio"] / stats["lvc-vpg"]["norm_ratio"],
                   "iterations_dice_above_lvc": int(sum(d > l for d, l in pairs)), "iterations_compared": len(pairs)}
    parts = [f"{a} mean relative std {v['rel_std']:.3g} (norm ratio {v['norm_ratio']:.3g}, cosine to the mean gradient "
             f"{v['cosine_to_mean']:.3f}), mean post-update return {v['return_post']:.3g}" for a, v in stats.items()]
    verdict = ""
    if compare:
        verdict = (f" DiCE / LVC relative std = {compare['rel_std_ratio_dice_over_lvc']:.2f}x (norm ratio "
                   f"{compare['norm_ratio_ratio_dice_over_lvc']:.2f}x); DiCE above LVC in "
                   f"{compare['iterations_dice_above_lvc']}/{compare['iterations_compared']} iterations. The paper reports "
                   f"about 2x on this env (submission; camera-ready: 60% higher averaged over three envs).")
    summary = (f"Meta-gradient variance on {setup.env} ({setup.meta_batch_size} tasks x {setup.rollouts_per_task} rollouts, "
               f"H {setup.horizon}, {setup.rounds} sampling rounds with fresh tasks per iteration, {setup.iterations} "
               f"iterations, seeds {list(opts.seeds)}): {'; '.join(parts)}.{verdict} Wall time {wall_total:.1f} s.")
    report = {"experiment": "gradient-variance", "scale": opts.scale, "seeds": list(opts.seeds),
              "setup": dataclasses.asdict(setup), "per_algo": stats, "comparison": compare,
              "wall_time": {"total_s": wall_total, "per_run_s": wall}, "threads": thread_settings(), "summary": summary}
    atomic_write_text(out / "gradient-variance.json", json.dumps(report, indent=2))
    fig_path = out / "gradient-variance.png"
    save_figure_atomically(fig_path, lambda p: _gradient_variance_figure(p, rows, setup))
    print(summary)
    print(f"wrote {fig_path}, {out / 'gradient-variance.csv'}, {out / 'gradient-variance.json'}")


# ------------------------------------------------------------------------------------------------
# learning-curves (spec 11.1-11.3, 11.8)


def _learning_curves_figure(path: Path, curves: dict, setup) -> None:
    """Rows = envs, columns = panels; per algorithm the mean post-update return over seeds against
    env steps with a std band (``promp.compare.Curve``)."""
    from ..plotting import plt, save_figure

    fig, axes = plt.subplots(len(setup.envs), len(setup.panels), figsize=(5.2 * len(setup.panels), 3.6 * len(setup.envs)),
                             dpi=80, squeeze=False)
    for i, env in enumerate(setup.envs):
        for j, panel in enumerate(setup.panels):
            ax = axes[i, j]
            for algo in panel:
                c = curves.get((env, algo))
                if c is None:
                    continue
                color = ALGO_COLORS.get(algo)
                if c.n > 1:
                    ax.fill_between(c.x, c.low, c.high, color=color, alpha=0.2, linewidth=0)
                ax.plot(c.x, c.mean, color=color, label=f"{algo} ({c.n} seed{'s' if c.n != 1 else ''})")
            ax.set_title(env, fontsize="small")
            ax.set_xlabel("env steps")
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
            ax.set_ylabel("post-update average return")
            ax.grid(alpha=0.3)
            ax.legend(fontsize="x-small")
    save_figure(fig, path)


def run_learning_curves_experiment(opts: ReproduceOptions, setup=None) -> None:
    """Spec 11.1-11.3 / paper Figs. 2-3: the (env x algorithm x seed) grid of resumable trainer runs
    under ``OUT/runs/ENV/ALGO-seedS`` (finished runs are skipped when re-invoked, unfinished ones
    resumed), then one PNG of mean +- std post-update return against env steps."""
    import numpy as np

    from ..checkpoint import atomic_write_text
    from ..compare import aggregate
    from ..config import ConfigError
    from ..experiments import learning_curves as lc
    from ..threads import thread_settings
    from .common import save_figure_atomically

    setup = _scaled_setup(lc.SETUPS, opts, setup)
    try:
        grid = lc.grid_configs(setup, opts.seeds)
    except (ValueError, ConfigError) as exc:
        raise CommandError(str(exc)) from None
    out = opts.out
    t_start = time.perf_counter()
    trained = _train_runs([(name, out / "runs" / name, cfg) for name, cfg in grid])
    wall_total = time.perf_counter() - t_start
    curves, per_run, curve_rows = {}, [], []
    for env in setup.envs:
        for algo in setup.algos:
            names = [name for name, cfg in grid if cfg.env == env and cfg.algo == algo]
            runs = [trained[n]["rows"] for n in names]
            c = aggregate(algo, runs, "return_post")
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
    _write_csv(out / "learning-curves.csv", ["env", "algo", "iteration", "env_steps_mean", "return_post_mean",
                                             "band_low", "band_high", "seeds"], curve_rows)
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
    summary = (f"Learning curves ({len(grid)} runs: {len(setup.envs)} envs x {len(setup.algos)} algorithms x seeds "
               f"{list(opts.seeds)}, {setup.iterations} iterations each): post-update return, first iteration -> mean of "
               f"the last 10% of iterations, mean over seeds, best first: {'; '.join(parts)}. The paper (spec 12) has "
               f"ProMP best in every env, LVC-VPG above DiCE-VPG. Wall time {wall_total:.1f} s "
               f"({sum(1 for r in per_run if r['status'].startswith('skipped'))} finished runs skipped).")
    report = {"experiment": "learning-curves", "scale": opts.scale, "seeds": list(opts.seeds),
              "setup": dataclasses.asdict(setup), "per_run": per_run, "wall_time": {"total_s": wall_total},
              "threads": thread_settings(), "summary": summary}
    atomic_write_text(out / "learning-curves.json", json.dumps(report, indent=2))
    fig_path = out / "learning-curves.png"
    save_figure_atomically(fig_path, lambda p: _learning_curves_figure(p, curves, setup))
    print(summary)
    print(f"wrote {fig_path}, {out / 'learning-curves.csv'}, {out / 'learning-curves.json'}")


# ------------------------------------------------------------------------------------------------

EXPERIMENTS: dict[str, Callable[[ReproduceOptions], None]] = {
    "learning-curves": run_learning_curves_experiment,
    "gradient-variance": run_gradient_variance_experiment,
    "formulation": run_formulation_experiment,
    "exploration": run_exploration_experiment,
}
"""Experiment name -> runner (spec 11.5-11.8)."""

FORMULATION_ONLY = ("convention", "score_raw_action")
DEFAULT_SEEDS = {"quick": (0, 1, 2), "full": (0, 1, 2, 3, 4)}
EXPERIMENT_SEEDS = {  # per-experiment defaults where they differ (spec 11.5: seeds 22 35 76 34 92; 11.7: 1-5)
    "exploration": {"quick": (0,), "medium": (1,), "full": (1, 2, 3, 4, 5)},
    "gradient-variance": {"quick": (0,), "medium": (22,), "full": (22, 35, 76, 34, 92)},
    "learning-curves": {"quick": (0, 1), "medium": (1, 2, 3), "full": (1, 2, 3)},
}
SCALES = {"formulation": ("quick", "full"), "exploration": ("quick", "medium", "full"),
          "gradient-variance": ("quick", "medium", "full"), "learning-curves": ("quick", "medium", "full")}
"""Scales each experiment offers; ``medium`` is the reduced scale run for docs/results.md."""


def reproduce_command(
    name: tyro.conf.Positional[str],
    quick: Annotated[bool, tyro.conf.arg(help="small scale, finishes in well under a minute (the default)")] = False,
    full: Annotated[bool, tyro.conf.arg(help="the paper's settings (spec section 11)")] = False,
    medium: Annotated[bool, tyro.conf.arg(help="a reduced scale that shows the effect in ~10 minutes on 2 cores "
                                                "(the one in docs/results.md; not every experiment has it)")] = False,
    out: Annotated[Optional[str], tyro.conf.arg(help="output directory (default runs/reproduce/NAME-SCALE)", metavar="DIR")] = None,
    seeds: Annotated[Optional[tuple[int, ...]], tyro.conf.arg(help="seeds (default: formulation 0 1 2 for --quick, 0..4 for --full; exploration 0 / 1 / 1..5, gradient-variance 0 / 22 / 22 35 76 34 92, learning-curves 0 1 / 1 2 3 / 1 2 3 for quick / medium / full)", metavar="INT [INT ...]")] = None,
    iterations: Annotated[Optional[int], tyro.conf.arg(
        help="override the scale's number of iterations (not formulation); for the trainer-based experiments "
             "(exploration, learning-curves) a larger value in the same --out extends the existing runs",
        metavar="N")] = None,
    meta_batch_size: Annotated[Optional[int], tyro.conf.arg(
        help="override the scale's number of tasks per iteration (not formulation); runs of another size are "
             "new runs: give them their own --out", metavar="N")] = None,
    rollouts_per_task: Annotated[Optional[int], tyro.conf.arg(
        help="override the scale's number of rollouts per task (not formulation); as --meta-batch-size",
        metavar="N")] = None,
    algos: Annotated[Optional[tuple[str, ...]], tyro.conf.arg(
        help="run only these of the experiment's algorithms (not formulation), e.g. --algos lvc-trpo maml-trpo",
        metavar="ALGO [ALGO ...]")] = None,
    convention: Annotated[Optional[str], tyro.conf.arg(
        help="formulation only: weighting of the meta-gradient terms, 'original' (the hand-coded 1-D script, "
             "default), 'exact' (alpha times the exact gradients of J^I and J^II: no alpha on the E-MAML term) "
             "or 'paper' (alpha times eqs. 1-4 as printed)", metavar="{original,exact,paper}")] = None,
    score_raw_action: Annotated[bool, tyro.conf.arg(
        help="formulation only: score the unclipped Gaussian action (unbiased) instead of the recorded clipped "
             "action (the original)")] = False,
) -> None:
    """Reproduce one of the paper's experiments: writes NAME.png, NAME.csv, NAME.json into the output
    directory and prints a one-paragraph summary. Experiments: formulation (spec 11.6), gradient-variance
    (11.5), exploration (11.7), learning-curves (11.1-11.3, 11.8; a resumable grid: re-invoke to continue)."""
    if name not in EXPERIMENTS:
        raise CommandError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    if quick + full + medium > 1:
        raise CommandError("give at most one of --quick and --full, or --medium alone")
    scale = "full" if full else "medium" if medium else "quick"
    if scale not in SCALES.get(name, ("quick", "full")):
        raise CommandError(f"{name} has no --{scale} scale; available: "
                           f"{', '.join('--' + s for s in SCALES.get(name, ('quick', 'full')))}")
    if name != "formulation" and (convention is not None or score_raw_action):
        raise CommandError(f"--convention and --score-raw-action apply to the formulation experiment only, not {name}")
    for flag, value in (("--iterations", iterations), ("--meta-batch-size", meta_batch_size),
                        ("--rollouts-per-task", rollouts_per_task)):
        if value is not None and (name == "formulation" or value < 1):
            raise CommandError(f"{flag} must be >= 1" if value < 1 else f"{flag} does not apply to the formulation experiment")
    if algos is not None and (name == "formulation" or len(algos) == 0):
        raise CommandError("--algos needs at least one algorithm" if algos is not None and name != "formulation"
                           else "--algos does not apply to the formulation experiment")
    if seeds is not None and len(seeds) == 0:
        raise CommandError("--seeds needs at least one seed")
    if seeds is not None and len(set(seeds)) != len(seeds):
        raise CommandError(f"--seeds has duplicates: {' '.join(map(str, seeds))}")
    from ..validation import check_seed

    for s in seeds or ():
        check_seed(s, "--seeds")
    out_dir = Path(out) if out else Path("runs") / "reproduce" / f"{name}-{scale}"
    if out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"--out {out_dir} exists and is not a directory")
    EXPERIMENTS[name](ReproduceOptions(scale=scale, out=out_dir, seeds=tuple(seeds) if seeds else EXPERIMENT_SEEDS.get(name, DEFAULT_SEEDS)[scale],
                                       convention=convention, score_raw_action=score_raw_action, iterations=iterations,
                                       meta_batch_size=meta_batch_size, rollouts_per_task=rollouts_per_task,
                                       algos=tuple(algos) if algos else None))
