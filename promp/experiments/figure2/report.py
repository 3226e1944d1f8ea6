"""``promp reproduce figure2``: the (env x algorithm x seed) campaign of training runs, in parallel
worker processes or on Ray (``promp.experiments.campaign``), then ``figure2.png`` (one panel per env:
mean and min/max over seeds of the post-update return against env steps), ``figure2.csv`` (per env and
algorithm: final return, area under the curve, rank), ``figure2.md`` (the same table in Markdown, as
docs/results.md shows it), ``figure2.json`` and a printed summary. The
figure and table are made from the run directories alone, so a partial campaign plots too; in a cell with a
completed run, runs still under way are left out (``compute.finished_runs``)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...compare import aggregate
from ...plotting import ALGO_COLORS, draw_seed_curve, label_return_panel, save_figure, save_figure_atomically, subplots
from ..grid import campaign
from ..options import Experiment, ReproduceOptions, scaled_setup
from ...atomic import atomic_write_text
from ..output import write_csv, write_report
from . import compute as f2
from .compute import Figure2Setup

CSV_COLUMNS = ["env", "algo", "seeds", "iterations_min", "env_steps", "final_mean", "final_min", "final_max", "auc_mean",
               "rank_final", "rank_auc"]


def table(setup: Figure2Setup, runs: dict) -> list[dict]:
    """One row per (env, algo) with runs: final and AUC over seeds, and the ranks within the env."""
    rows = []
    for env in setup.envs:
        cells = {}
        for algo in setup.algos:
            if (env, algo) not in runs:
                continue
            figs = [f2.run_figures(r) for _, r in runs[(env, algo)]]
            finals = [f["final"] for f in figs]
            cells[algo] = {"env": env, "algo": algo, "seeds": len(figs), "iterations_min": min(f["iterations"] for f in figs),
                           "env_steps": float(np.mean([f["env_steps"] for f in figs])), "final_mean": float(np.mean(finals)),
                           "final_min": min(finals), "final_max": max(finals),
                           "auc_mean": float(np.mean([f["auc"] for f in figs]))}
        ranks_final = f2.rank({a: c["final_mean"] for a, c in cells.items()})
        ranks_auc = f2.rank({a: c["auc_mean"] for a, c in cells.items()})
        for algo, c in cells.items():
            rows.append({**c, "rank_final": ranks_final[algo], "rank_auc": ranks_auc[algo]})
    return rows


def figure(path: Path, setup: Figure2Setup, runs: dict) -> None:
    """Two rows of three panels, one per env (the paper's layout): mean over seeds with a min/max band."""
    cols = min(3, len(setup.envs))
    nrows = -(-len(setup.envs) // cols)
    fig, axes = subplots(nrows, cols, figsize=(5.0 * cols, 3.6 * nrows), dpi=80, squeeze=False)
    for k, env in enumerate(setup.envs):
        ax = axes[k // cols, k % cols]
        xmax = 0.0
        for algo in setup.algos:
            if (env, algo) not in runs:
                continue
            c = aggregate(algo, [r for _, r in runs[(env, algo)]], "return_post", band="minmax")
            draw_seed_curve(ax, c, ALGO_COLORS.get(algo))
            xmax = max(xmax, float(c.x[-1]))
        for algo, (x, y) in f2.REFERENCES.get(env, {}).items():
            if algo in setup.algos and xmax > 0 and x <= 2 * xmax:  # only where the runs reach that far
                ax.plot([x], [y], marker="*", markersize=10, color=ALGO_COLORS.get(algo), linestyle="none",
                        label=f"{algo}, paper (by eye)")
        label_return_panel(ax, env)
    for k in range(len(setup.envs), nrows * cols):
        axes[k // cols, k % cols].set_visible(False)
    save_figure(fig, path)


def summary_text(setup: Figure2Setup, rows: list[dict], statuses: dict, total: int) -> str:
    """Per env: algorithms by final return (best first) and whether the paper's ordering holds."""
    parts = []
    for env in setup.envs:
        cells = sorted((r for r in rows if r["env"] == env), key=lambda r: r["rank_final"])
        if not cells:
            parts.append(f"{env}: no runs yet")
            continue
        verdict = f2.ordering_verdict({r["algo"]: r["final_mean"] for r in cells})
        parts.append(f"{env}: " + ", ".join(f"{r['algo']} {r['final_mean']:.4g}" for r in cells) + f" (paper's ordering {verdict})")
    failed = [n for n, s in statuses.items() if s.startswith("failed")]
    return (f"Figure 2 campaign ({total} runs, {len(rows)} env x algorithm cells with data): final post-update return "
            f"(mean of the last 10% of iterations, mean over seeds), best first: {'; '.join(parts)}."
            + (f" Failed runs: {', '.join(failed)}." if failed else ""))


def run_figure2_experiment(opts: ReproduceOptions, setup: Figure2Setup | None = None) -> None:
    """Train (unless ``--report-only``) and aggregate the campaign under ``OUT/runs/ENV/ALGO-seedS``."""
    t_start = time.perf_counter()
    setup = scaled_setup(f2.SETUPS, opts, setup)
    grid, statuses, runs = campaign(setup, opts)
    out = opts.out
    runs = {cell: f2.finished_runs(cell_runs, setup.iterations) for cell, cell_runs in runs.items()}
    rows = table(setup, runs)
    write_csv(out / "figure2.csv", CSV_COLUMNS, [[r[c] if not isinstance(r[c], float) else f"{r[c]:.6g}" for c in CSV_COLUMNS]
                                                 for r in rows])
    atomic_write_text(out / "figure2.md", f2.markdown_table(rows, setup.iterations))
    summary = summary_text(setup, rows, statuses, len(grid))
    write_report(out / "figure2.json", "figure2", opts, setup,
                 {"cells": rows, "runs": statuses, "wall_time": {"total_s": time.perf_counter() - t_start}}, summary)
    fig_path = out / "figure2.png"
    save_figure_atomically(fig_path, lambda p: figure(p, setup, runs))
    print(summary)
    print(f"wrote {fig_path}, {out / 'figure2.csv'}, {out / 'figure2.md'}, {out / 'figure2.json'}")


EXPERIMENT = Experiment("figure2", f2.SETUPS, {"quick": (1, 2), "medium": (1, 2), "full": (1, 2, 3)},
                        ("iterations", "meta_batch_size", "rollouts_per_task", "algos", "envs", "parallel", "ray_address",
                         "report_only"), run_figure2_experiment)
