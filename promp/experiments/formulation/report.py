"""``promp reproduce formulation``: train both formulations, check where the optimum is, then write
``formulation.png``, ``formulation.csv``, ``formulation.json`` and print a summary (docs/algorithms.md §10.1)."""

from __future__ import annotations

import time
from typing import Any, Optional

import jax
import numpy as np

from ...plotting import save_figure, save_figure_atomically, subplots
from ..options import Experiment, ReproduceOptions, scaled_setup
from ..output import write_csv, write_report
from . import compute as fm
from .compute import FormulationSetup, distance_to

FORMULATION_COLORS = {"I": "tab:red", "II": "tab:green"}
SETUPS: dict[str, FormulationSetup] = {"quick": fm.QUICK, "full": fm.FULL}
CSV_COLUMNS = ["formulation", "outer_lr", "seed", "iteration", "theta0", "theta1", "distance", "return_pre", "return_post"]


def _escape_index(dist: np.ndarray, escape: float) -> int:
    """Number of leading iterates with a finite distance <= ``escape``."""
    bad = ~(np.isfinite(dist) & (dist <= escape))
    return int(np.argmax(bad)) if bad.any() else len(dist)


def formulation_figure(path, setup: FormulationSetup, results: dict, optimum: tuple[float, float], landscape) -> None:
    """Row 1: theta trajectories per outer lr (I red, II green, every seed; J^I contours); row 2:
    distance to the optimum per iteration (mean over seeds, thin lines per seed)."""
    lrs = setup.outer_lrs
    fig, axes = subplots(2, len(lrs), figsize=(3.4 * len(lrs), 7.0), dpi=110, squeeze=False)
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


def formulation_stats(setup: FormulationSetup, results: dict, optimum: tuple[float, float]) -> list[dict]:
    """Per (formulation, lr): final and tail-mean distance to the optimum over seeds, divergences."""
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


def formulation_summary(setup: FormulationSetup, stats: list[dict], optimum_info: dict, wall: dict, seeds) -> str:
    """The printed paragraph: final distances per learning rate, which formulation ends closer, the optimum check."""
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


def _csv_rows(setup: FormulationSetup, results: dict, optimum: tuple[float, float], seeds) -> list[list]:
    """One row per (formulation, lr, seed, iterate); the returns of iterate ``it`` are those sampled at
    ``theta_it`` (before its update), NaN for the last iterate."""
    rows = []
    for f, res in results.items():
        dist = distance_to(res["thetas"], optimum)
        for si, seed in enumerate(seeds):
            for j, lr in enumerate(setup.outer_lrs):
                for it in range(setup.iterations + 1):
                    th = res["thetas"][si, j, it]
                    r_pre = res["return_pre"][si, j, it] if it < setup.iterations else float("nan")
                    r_post = res["return_post"][si, j, it] if it < setup.iterations else float("nan")
                    rows.append([f, lr, seed, it, f"{th[0]:.8g}", f"{th[1]:.8g}", f"{dist[si, j, it]:.8g}",
                                 f"{r_pre:.8g}", f"{r_post:.8g}"])
    return rows


def _optimum_check(setup: FormulationSetup, full: bool) -> tuple[dict[str, Any], tuple]:
    """J^I on a grid around the origin by Monte Carlo, fitted by a quadratic: ``(optimum info, landscape)``."""
    half_width, points, samples = (0.3, 25, 100_000) if full else (0.2, 9, 20_000)
    grid = np.linspace(-half_width, half_width, points)
    land = fm.post_update_return_landscape(jax.random.PRNGKey(12345), grid, grid, samples, setup.inner_lr,
                                           setup.horizon, setup.action_std)
    info = {**fm.fit_optimum(grid, grid, land[1]), "pre_update": fm.fit_optimum(grid, grid, land[0]),
            "half_width": half_width, "grid_points": points, "samples_per_point": samples, "used": list(fm.PAPER_OPTIMUM),
            "note": "J^I(theta) = mean_goal E R(tau') with theta' = theta + alpha * exact grad E R(tau), "
                    "reparameterised Monte Carlo with common antithetic noise at every grid point"}
    return info, (grid, grid, land[1])


def run_formulation_experiment(opts: ReproduceOptions) -> None:
    """ProMP §7.4, docs/algorithms.md §10.1: formulation I vs II, all outer learning rates, several seeds."""
    setup = scaled_setup(SETUPS, opts)
    t_start = time.perf_counter()
    results, timing = {}, {}
    for f in fm.FORMULATIONS:
        t0 = time.perf_counter()
        results[f] = fm.run_formulation(setup, f, opts.seeds)
        timing[f] = time.perf_counter() - t0
    t_train = time.perf_counter() - t_start

    t0 = time.perf_counter()
    optimum = fm.PAPER_OPTIMUM
    optimum_info, landscape = _optimum_check(setup, opts.scale == "full")
    t_opt = time.perf_counter() - t0
    wall = {"total_s": time.perf_counter() - t_start, "training_s": t_train, "optimum_s": t_opt,
            "per_formulation_s": timing}

    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    stats = formulation_stats(setup, results, optimum)
    write_csv(out / "formulation.csv", CSV_COLUMNS, _csv_rows(setup, results, optimum, opts.seeds))
    summary = formulation_summary(setup, stats, optimum_info, wall, opts.seeds)
    write_report(out / "formulation.json", "formulation", opts, setup,
                 {"optimum": optimum_info, "stats": stats, "wall_time": wall}, summary)
    fig_path = out / "formulation.png"
    save_figure_atomically(fig_path, lambda p: formulation_figure(p, setup, results, optimum, landscape))
    print(summary)
    print(f"wrote {fig_path}, {out / 'formulation.csv'}, {out / 'formulation.json'}")


EXPERIMENT = Experiment("formulation", SETUPS, {"quick": (0, 1, 2), "full": (0, 1, 2, 3, 4)},
                        ("convention", "score_raw_action"), run_formulation_experiment)
