"""Matplotlib figures (PNG, Agg backend): learning curves, adaptation curves, run comparisons, 2-D paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib
import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import numpy as np

from .atomic import atomic_path
from .envs.point import CORNERS, PointCorner, PointMomentum

ALGO_COLORS = {"lvc-trpo": "tab:red", "maml-trpo": "tab:blue", "emaml-trpo": "tab:green", "promp": "tab:purple",
               "lvc-vpg": "tab:red", "dice-vpg": "tab:brown", "maml-vpg": "tab:orange", "emaml-vpg": "tab:olive",
               "vpg-dice": "tab:gray"}
"""A fixed colour per algorithm for the figures that compare algorithms (the five of Fig. 2 all differ)."""


def subplots(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots`` on the Agg backend (PNG files, no window), selected here rather than at import."""
    matplotlib.use("Agg")
    return plt.subplots(*args, **kwargs)


def save_figure(fig: Any, path: Path, tight_bbox: bool = False) -> Path:
    """Lay out, write as PNG and close ``fig``; returns ``path``. ``tight_bbox`` grows the saved area
    to everything drawn (for fixed-aspect axes, whose tick labels ``tight_layout`` can push off the page)."""
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight" if tight_bbox else None)
    plt.close(fig)
    return path


def plot_learning_curve(rows: Sequence[dict], path: Path, title: str = "") -> Path:
    """Pre- and post-update average return against env steps, one run."""
    fig, ax = subplots(figsize=(6, 4), dpi=110)
    steps = [float(r["env_steps"]) for r in rows]
    ax.plot(steps, [float(r["return_pre"]) for r in rows], label="pre-update", color="tab:gray")
    ax.plot(steps, [float(r["return_post"]) for r in rows], label="post-update", color="tab:red")
    ax.set_xlabel("env steps")
    ax.set_ylabel("average return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def plot_adaptation_curve(steps: Sequence[dict], path: Path, title: str = "", confidence: float = 0.95) -> Path:
    """Average return at every adaptation step 0..K with its confidence band (``eval.json``'s steps)."""
    fig, ax = subplots(figsize=(5.5, 4), dpi=110)
    k = [int(s["step"]) for s in steps]
    mean = [float(s["mean"]) for s in steps]
    ax.fill_between(k, [float(s["ci_low"]) for s in steps], [float(s["ci_high"]) for s in steps],
                    color="tab:red", alpha=0.2, linewidth=0, label=f"{confidence:.0%} confidence interval")
    ax.plot(k, mean, "o-", color="tab:red", label="average return")
    ax.set_xticks(k)
    ax.set_xlabel("inner adaptation steps")
    ax.set_ylabel("average return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def draw_seed_curve(ax: Any, curve: Any, color: Any) -> None:
    """One aggregated curve (``promp.compare.Curve``) of an algorithm: its band when it has several runs, its
    mean labelled with the run count."""
    if curve.n > 1:
        ax.fill_between(curve.x, curve.low, curve.high, color=color, alpha=0.2, linewidth=0)
    ax.plot(curve.x, curve.mean, color=color, label=f"{curve.label} ({curve.n} seed{'s' if curve.n != 1 else ''})")


def label_return_panel(ax: Any, title: str) -> None:
    """A learning-curve panel's title, axes (env steps in scientific notation, post-update return), grid and legend."""
    ax.set_title(title, fontsize="small")
    ax.set_xlabel("env steps")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    ax.set_ylabel("post-update average return")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # a panel without runs yet (a partial campaign) has no legend
        ax.legend(fontsize="x-small")


def plot_curves(curves: Sequence, path: Path, ylabel: str = "post-update average return", title: str = "", xlabel: str = "env steps",
                references: Sequence[tuple[str, float, float]] = ()) -> Path:
    """Several aggregated learning curves (``promp.compare.Curve``) with shaded bands, one PNG.

    ``references``: ``(label, x, y)`` points drawn as markers (e.g. a paper's value at a step count).
    """
    fig, ax = subplots(figsize=(7, 4.5), dpi=110)
    markers = "*^sDvP"
    for i, (label, x, y) in enumerate(references):
        ax.plot([x], [y], linestyle="none", marker=markers[i % len(markers)], markersize=9, color="black",
                markerfacecolor="none" if i % 2 else "black", label=label, zorder=5)
    for i, c in enumerate(curves):
        color = f"C{i % 10}"
        seeds = getattr(c, "seeds", None)
        if c.n == 1:
            label = c.label
        elif seeds is not None and seeds < c.n:  # e.g. the same run copied twice: not "2 seeds"
            label = f"{c.label} ({c.n} runs, {seeds} distinct seed{'s' if seeds != 1 else ''})"
        else:
            label = f"{c.label} ({c.n} seeds)"
        if c.n > 1:
            ax.fill_between(c.x, c.low, c.high, color=color, alpha=0.2, linewidth=0)
        ax.plot(c.x, c.mean, color=color, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, path)


def save_figure_atomically(path: Path, draw: Callable[[Path], Any]) -> Path:
    """Call ``draw(tmp_path)`` to write a PNG, then move it to ``path`` (never half-written)."""
    with atomic_path(path, keep_suffix=True) as tmp:  # matplotlib picks the format from the suffix
        draw(tmp)
    return path


def draw_point_paths(ax: Any, paths: Sequence[np.ndarray], lim: float, size: float = 1.0) -> None:
    """Draw 2-D paths ``[time, 2]`` (start o, end x, one colour each) in the square ``[-lim, lim]^2``."""
    for j, xy in enumerate(paths):
        ax.plot(xy[:, 0], xy[:, 1], color=f"C{j % 10}", linewidth=1.0 * size, alpha=0.85)
        ax.plot(xy[0, 0], xy[0, 1], "o", color=f"C{j % 10}", markersize=3 * size)
        ax.plot(xy[-1, 0], xy[-1, 1], "x", color=f"C{j % 10}", markersize=5 * size)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)


def plot_point_trajectories(panels: Sequence[tuple[str, np.ndarray]], path: Path, draw_regions: Callable[[Any], None], title: str = "") -> Path:
    """Side-by-side panels of 2-D paths ``[rollouts, time, 2]`` (e.g. pre- and post-update), with the
    task's goals and reward regions drawn by ``draw_regions(ax)`` on every panel."""
    fig, axes = subplots(1, len(panels), figsize=(4.2 * len(panels), 4.4), dpi=110, squeeze=False)
    lim = max(2.6, max(float(np.abs(p).max()) for _, p in panels) + 0.2)
    for ax, (name, paths) in zip(axes[0], panels):
        draw_regions(ax)
        draw_point_paths(ax, paths, lim)
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path, tight_bbox=True)


def draw_point_task(ax: Any, env: Any, task: dict) -> None:
    """Mark a point task on ``ax``: the goal (star), other corner goals, and where reward is given.

    point-corner: reward only outside the L1 dead zone |x|+|y| < r (grey diamond) and in the goal's
    quadrant (shaded, where the goal is the closest corner); point-momentum: discs of radius r around
    the goals (reward max(r - distance, 0)); point-nav: the goal with its stopping tolerance.
    """
    goal = np.asarray(task["goal"], dtype=float)
    if isinstance(env, (PointCorner, PointMomentum)):
        for c in CORNERS:
            is_goal = bool(np.allclose(c, goal))
            if isinstance(env, PointMomentum):
                ax.add_patch(mpatches.Circle(c, env.sparse_radius, color="tab:green" if is_goal else "tab:gray",
                                             alpha=0.18 if is_goal else 0.07, linewidth=0))
            ax.plot(*c, marker="*" if is_goal else "o", markersize=14 if is_goal else 6,
                    color="tab:green" if is_goal else "tab:gray", zorder=5)
        if isinstance(env, PointCorner):
            sx, sy = np.sign(goal)
            ax.add_patch(mpatches.Rectangle((min(0, 10 * sx), min(0, 10 * sy)), 10, 10, color="tab:green", alpha=0.1, linewidth=0))
            r = env.sparse_radius
            ax.add_patch(mpatches.Polygon([(r, 0), (0, r), (-r, 0), (0, -r)], closed=True, color="tab:gray", alpha=0.35, linewidth=0))
    else:
        ax.plot(*goal, marker="*", markersize=14, color="tab:green", zorder=5)
        tol = getattr(env, "goal_tolerance", 0.0)
        if tol:
            ax.add_patch(mpatches.Rectangle(goal - tol, 2 * tol, 2 * tol, fill=False, color="tab:green"))


def save_point_rollout(env: Any, task: dict, res: Any, paths: int, k: int, returns: list[float], out_path: Path,
                       title: str) -> None:
    """A PNG of up to ``paths`` 2-D paths of one point task before and after ``k`` inner steps (``res``: a
    ``sample_adapted`` result), with the task drawn (``draw_point_task``) and each panel's return."""

    def xy(traj: Any) -> np.ndarray:
        n = min(paths, traj.obs.shape[1])
        out = []
        for r in range(n):
            alive = int(traj.mask[0, r].sum())
            out.append(traj.obs[0, r, : max(alive, 1), :2])
        return out

    panels = [(f"pre-update (return {returns[0]:.3g})", xy(res.trajectories[0]))]
    panels.append((f"after {k} inner step{'s' if k != 1 else ''} (return {returns[-1]:.3g})", xy(res.trajectories[-1])))
    save_figure_atomically(out_path, lambda p: plot_point_trajectories(panels, p, lambda ax: draw_point_task(ax, env, task), f"{title}\ngoal {task['goal']}"))
