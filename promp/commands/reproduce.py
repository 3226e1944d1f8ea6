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
import time
from pathlib import Path
from typing import Annotated, Callable, Optional

import tyro

from . import CommandError


@dataclasses.dataclass(frozen=True)
class ReproduceOptions:
    """Options common to every experiment, plus experiment-specific ones (``None`` = not given)."""

    scale: str  # "quick" or "full"
    out: Path
    seeds: tuple[int, ...]
    convention: Optional[str] = None  # formulation only
    score_raw_action: bool = False  # formulation only


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

    from ..plotting import plt
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
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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

EXPERIMENTS: dict[str, Callable[[ReproduceOptions], None]] = {
    "formulation": run_formulation_experiment,
}
"""Experiment name -> runner. Further experiments (gradient-variance, exploration, learning-curves) go here."""

FORMULATION_ONLY = ("convention", "score_raw_action")
DEFAULT_SEEDS = {"quick": (0, 1, 2), "full": (0, 1, 2, 3, 4)}


def reproduce_command(
    name: tyro.conf.Positional[str],
    quick: Annotated[bool, tyro.conf.arg(help="small scale, finishes in well under a minute (the default)")] = False,
    full: Annotated[bool, tyro.conf.arg(help="the paper's settings (spec section 11)")] = False,
    out: Annotated[Optional[str], tyro.conf.arg(help="output directory (default runs/reproduce/NAME-SCALE)", metavar="DIR")] = None,
    seeds: Annotated[Optional[tuple[int, ...]], tyro.conf.arg(help="seeds (default 0 1 2 for --quick, 0..4 for --full)", metavar="INT [INT ...]")] = None,
    convention: Annotated[Optional[str], tyro.conf.arg(
        help="formulation only: weighting of the meta-gradient terms, 'original' (the hand-coded 1-D script, "
             "default), 'exact' (alpha times the exact gradients of J^I and J^II: no alpha on the E-MAML term) "
             "or 'paper' (alpha times eqs. 1-4 as printed)", metavar="{original,exact,paper}")] = None,
    score_raw_action: Annotated[bool, tyro.conf.arg(
        help="formulation only: score the unclipped Gaussian action (unbiased) instead of the recorded clipped "
             "action (the original)")] = False,
) -> None:
    """Reproduce one of the paper's experiments: writes NAME.png, NAME.csv, NAME.json into the output
    directory and prints a one-paragraph summary. Experiments: formulation (spec 11.6)."""
    if name not in EXPERIMENTS:
        raise CommandError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    if quick and full:
        raise CommandError("give at most one of --quick and --full")
    scale = "full" if full else "quick"
    if name != "formulation" and (convention is not None or score_raw_action):
        raise CommandError(f"--convention and --score-raw-action apply to the formulation experiment only, not {name}")
    if seeds is not None and len(seeds) == 0:
        raise CommandError("--seeds needs at least one seed")
    if seeds is not None and len(set(seeds)) != len(seeds):
        raise CommandError(f"--seeds has duplicates: {' '.join(map(str, seeds))}")
    out_dir = Path(out) if out else Path("runs") / "reproduce" / f"{name}-{scale}"
    if out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"--out {out_dir} exists and is not a directory")
    EXPERIMENTS[name](ReproduceOptions(scale=scale, out=out_dir, seeds=tuple(seeds) if seeds else DEFAULT_SEEDS[scale],
                                       convention=convention, score_raw_action=score_raw_action))
