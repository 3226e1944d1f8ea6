"""``promp reproduce exploration``: the grid of training runs, one task's pre/post-update paths per
algorithm, ``exploration.png``, ``exploration-curves.png``, ``exploration.csv``, ``exploration.json``
and a printed summary (docs/algorithms.md §10.3)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...checkpoint import load_run
from ...compare import aggregate
from ...evaluation import eval_rng
from ...plotting import draw_point_paths, draw_point_task, plot_curves, save_figure, save_figure_atomically, subplots
from ..grid import train_runs
from ..options import Experiment, ReproduceOptions, scaled_setup
from ..output import write_csv, write_report
from . import compute as ex
from .compute import ExplorationSetup


def exploration_figure(path: Path, pictures: dict, env, task: dict, setup: ExplorationSetup) -> None:
    """One row per algorithm: pre-update paths and paths after K inner steps on the same task, with
    the four goal discs (``promp.plotting.draw_point_task``)."""
    algos = list(pictures)
    fig, axes = subplots(len(algos), 2, figsize=(7.2, 3.5 * len(algos)), dpi=80, squeeze=False)
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


def curves_figure(path: Path, results: dict, title: str, metric: str = "return_post") -> None:
    """Mean over seeds with a std band per algorithm (``promp.compare.aggregate``, ``plot_curves``)."""
    curves = [aggregate(algo, runs, metric) for algo, runs in results.items() if runs]
    plot_curves(curves, path, ylabel=("post" if metric == "return_post" else "pre") + "-update average return", title=title)


def _pictures(setup: ExplorationSetup, opts: ReproduceOptions, trained: dict) -> tuple[list[dict], dict, object]:
    """Final returns of every run and, for each algorithm's first seed, the paths on the fixed task
    (the meta-test generator of that seed): ``(per-run stats, pictures, env)``."""
    pictures, stats, env = {}, [], None
    for algo in setup.algos:
        for si, seed in enumerate(opts.seeds):
            name = f"{algo}-seed{seed}"
            final = ex.final_returns(trained[name]["rows"], setup.tail)
            final.update(algo=algo, seed=seed, status=trained[name]["status"], train_wall_s=trained[name]["wall_s"])
            if si == 0:
                run = load_run(opts.out / "runs" / name)
                try:
                    task = run.learner.env.validate_task(dict(ex.TASK))
                    pic = ex.task_paths(run.learner, run.params, task, eval_rng(seed), setup.paths)
                    env = env or run.learner.env
                finally:
                    run.learner.env.close()
                pictures[algo] = pic
                final["picture_returns"] = pic["returns"]
                final["pre_update_corner_visits"] = ex.corner_visits(pic["paths"][0])
            stats.append(final)
    return stats, pictures, env


def exploration_summary(setup: ExplorationSetup, by_algo: dict, seeds, wall: dict) -> str:
    """The printed paragraph: final returns per algorithm, corners visited, the best algorithm."""
    parts = [f"{a} pre {v['return_pre_mean']:.2f} -> post {v['return_post_mean']:.2f} (pre-update paths of the drawn task "
             f"came within 1 of {sum(1 for c in v['pre_update_corner_visits'] if c)}/4 corners; picture task returns "
             f"{' -> '.join(f'{x:.3g}' for x in v['picture_returns'])})" for a, v in by_algo.items()]
    best = max(by_algo, key=lambda a: by_algo[a]["return_post_mean"])
    return (
        f"Exploration on point-momentum (K={setup.inner_steps}, {setup.meta_batch_size} tasks x {setup.rollouts_per_task} "
        f"rollouts, H {setup.horizon}, {setup.iterations} iterations, seeds {list(seeds)}): final training returns "
        f"(mean of the last {setup.tail} iterations and over seeds) {'; '.join(parts)}. Highest post-update return: {best}. "
        f"The paper (docs/algorithms.md §10.5) expects LVC-TRPO to visit the goal regions before adaptation and "
        f"reach the goal after it, and MAML-TRPO to fail. "
        f"Wall time {wall['total_s']:.1f} s (training {wall['training_s']:.1f} s)."
    )


def run_exploration_experiment(opts: ReproduceOptions, setup: ExplorationSetup | None = None) -> None:
    """ProMP §7.3, docs/algorithms.md §10.3: LVC-TRPO, MAML-TRPO, E-MAML-TRPO and ProMP on point-momentum (K = 3);
    trains resumable runs under ``OUT/runs``, then draws one task's pre/post-update paths per algorithm."""
    setup = scaled_setup(ex.SETUPS, opts, setup)
    t_start = time.perf_counter()
    out = opts.out
    runs = [(f"{algo}-seed{seed}", out / "runs" / f"{algo}-seed{seed}", ex.exploration_config(setup, algo, seed))
            for algo in setup.algos for seed in opts.seeds]
    trained = train_runs(runs)
    t_train = time.perf_counter() - t_start

    t0 = time.perf_counter()
    stats, pictures, env = _pictures(setup, opts, trained)
    t_pic = time.perf_counter() - t0
    wall = {"total_s": time.perf_counter() - t_start, "training_s": t_train, "pictures_s": t_pic}

    out.mkdir(parents=True, exist_ok=True)
    steps = [f"return_step_{k}" for k in range(setup.inner_steps + 1)]
    write_csv(out / "exploration.csv",
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
    summary = exploration_summary(setup, by_algo, opts.seeds, wall)
    write_report(out / "exploration.json", "exploration", opts, setup,
                 {"task": ex.TASK, "per_run": stats, "per_algo": by_algo, "wall_time": wall}, summary)
    fig_path = out / "exploration.png"
    save_figure_atomically(fig_path, lambda p: exploration_figure(p, pictures, env, ex.TASK, setup))
    curves_path = out / "exploration-curves.png"
    results = {a: [trained[f"{a}-seed{s}"]["rows"] for s in opts.seeds] for a in setup.algos}
    save_figure_atomically(curves_path, lambda p: curves_figure(p, results, "point-momentum: post-update return (K=3)"))
    print(summary)
    print(f"wrote {fig_path}, {curves_path}, {out / 'exploration.csv'}, {out / 'exploration.json'}")


EXPERIMENT = Experiment("exploration", ex.SETUPS, {"quick": (0,), "medium": (1,), "full": (1, 2, 3, 4, 5)},
                        ("iterations", "meta_batch_size", "rollouts_per_task", "algos"), run_exploration_experiment)
