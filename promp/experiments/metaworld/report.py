"""``promp reproduce metaworld``: the (env x algorithm x seed) grid of training runs on Meta-World ML1
families (worker processes or Ray, ``promp.experiments.campaign``), a meta-test of every finished run on
its family's held-out goals (``meta_test.json`` in the run directory, made once per final checkpoint), then
``metaworld.png`` (post-update success rate of the training batches against env steps, one panel per
env), ``metaworld.csv`` and ``metaworld.json`` (meta-train and meta-test success per env and algorithm)
and a printed summary. Everything is made from the run directories, so a partial grid reports too."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ...atomic import atomic_write_text
from ...compare import aggregate
from ...plotting import ALGO_COLORS, draw_seed_curve, save_figure, save_figure_atomically, subplots
from ..grid import campaign
from ..options import Experiment, ReproduceOptions, scaled_setup
from ..output import write_csv, write_report
from . import compute as mw
from .compute import MetaworldSetup

META_TEST = "meta_test.json"
CSV_COLUMNS = ["env", "algo", "seeds", "iterations", "env_steps", "train_success_pre", "train_success_post",
               "test_success_pre", "test_success_post", "test_success_post_min", "test_success_post_max",
               "test_return_pre", "test_return_post"]


def meta_test_run(run_dir: Path, setup: MetaworldSetup, seed: int) -> dict:
    """Meta-test the run's final checkpoint on ``setup.test_tasks`` goals drawn from the held-out split,
    ``setup.test_rollouts`` rollouts each, adapting for the run's inner steps (what ``promp eval RUN
    --env-kwargs '{"split": "test"}'`` does); kept in ``RUN/meta_test.json`` and reused while the
    checkpoint and the meta-test's size are the same."""
    from ...checkpoint import load_run
    from ...evaluation import eval_rng, meta_test, report

    path = run_dir / META_TEST
    run = load_run(run_dir, "latest", env_kwargs={"split": "test"}, rollouts_per_task=setup.test_rollouts)
    key = {"checkpoint_iteration": run.iteration, "num_tasks": setup.test_tasks, "rollouts_per_task": setup.test_rollouts}
    if path.exists():
        record = json.loads(path.read_text())
        if all(record.get(k) == v for k, v in key.items()):
            run.learner.env.close()
            return record
    try:
        rng = eval_rng(seed)
        tasks = run.learner.env.sample_tasks(rng, setup.test_tasks)
        result = meta_test(run.learner, run.params, tasks, rng, run.cfg.inner_steps)
    finally:
        run.learner.env.close()
    record = report(result, checkpoint_iteration=run.iteration, env=run.cfg.env, env_kwargs=run.cfg.env_kwargs,
                    algo=run.cfg.algo, eval_seed=seed)
    atomic_write_text(path, json.dumps(record, indent=1))
    return record


def table(setup: MetaworldSetup, grid: list, run_root: Path, runs: dict) -> list[dict]:
    """One row per (env, algo) with runs: meta-train success of every run with rows (``runs``, from
    ``collect``), meta-test success of the finished ones, means over seeds."""
    per_cell: dict[tuple[str, str], list[dict]] = {}
    for name, cfg in grid:
        rows = dict(runs.get((cfg.env, cfg.algo), [])).get(cfg.seed)
        if not rows:
            continue
        figures = mw.train_success(rows)
        if len(rows) >= cfg.iterations:
            figures.update(mw.test_success(meta_test_run(run_root / name, setup, cfg.seed)))
        per_cell.setdefault((cfg.env, cfg.algo), []).append(figures)
    return [{"env": env, "algo": algo, **mw.cell(per_cell[(env, algo)])}
            for env in setup.envs for algo in setup.algos if (env, algo) in per_cell]


def figure(path: Path, setup: MetaworldSetup, runs: dict) -> None:
    """One panel per env: the post-update success rate of the training batches against env steps, mean over
    seeds with a min/max band."""
    fig, axes = subplots(1, len(setup.envs), figsize=(5.0 * len(setup.envs), 3.6), dpi=80, squeeze=False)
    for ax, env in zip(axes[0], setup.envs):
        for algo in setup.algos:
            if (env, algo) in runs:
                draw_seed_curve(ax, aggregate(algo, [r for _, r in runs[(env, algo)]], "success_post", band="minmax"),
                                ALGO_COLORS.get(algo))
        ax.set_title(env)
        ax.set_xlabel("env steps")
        ax.set_ylabel("meta-train success rate, post-update")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    save_figure(fig, path)


def summary_text(rows: list[dict], total: int) -> str:
    """Per env and algorithm: meta-train and meta-test success rates."""
    parts = []
    for r in rows:
        test = (f", meta-test {r['test_success_pre']:.0%} -> {r['test_success_post']:.0%}" if "test_success_post" in r
                else ", meta-test when finished")
        parts.append(f"{r['env']} {r['algo']} ({r['seeds']} seed(s), {r['iterations']:.0f} it.): meta-train "
                     f"{r['train_success_pre']:.0%} -> {r['train_success_post']:.0%}{test}")
    return f"Meta-World grid ({total} runs; success before -> after adaptation): " + "; ".join(parts) + "."


def run_metaworld_experiment(opts: ReproduceOptions, setup: MetaworldSetup | None = None) -> None:
    """Train (unless ``--report-only``), meta-test the finished runs and report, under ``OUT/runs/ENV/ALGO-seedS``."""
    t_start = time.perf_counter()
    setup = scaled_setup(mw.SETUPS, opts, setup)
    grid, statuses, runs = campaign(setup, opts)
    out, run_root = opts.out, opts.out / "runs"
    rows = table(setup, grid, run_root, runs)
    write_csv(out / "metaworld.csv", CSV_COLUMNS, [[_fmt(r.get(c, "")) for c in CSV_COLUMNS] for r in rows])
    summary = summary_text(rows, len(grid))
    write_report(out / "metaworld.json", "metaworld", opts, setup,
                 {"cells": rows, "runs": statuses, "wall_time": {"total_s": time.perf_counter() - t_start}}, summary)
    fig_path = out / "metaworld.png"
    save_figure_atomically(fig_path, lambda p: figure(p, setup, runs))
    print(summary)
    print(f"wrote {fig_path}, {out / 'metaworld.csv'}, {out / 'metaworld.json'}")


def _fmt(value: object) -> object:
    return f"{value:.6g}" if isinstance(value, float) else value


EXPERIMENT = Experiment("metaworld", mw.SETUPS, {"quick": (1,), "medium": (1,), "full": (1, 2)},
                        ("iterations", "meta_batch_size", "rollouts_per_task", "algos", "envs", "parallel", "ray_address",
                         "report_only"), run_metaworld_experiment)
