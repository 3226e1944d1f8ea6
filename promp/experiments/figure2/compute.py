"""Fig. 2 of ProMP (§7.1; docs/algorithms.md §10.4-10.5): ProMP against MAML-TRPO, E-MAML-TRPO, LVC-VPG
and E-MAML-VPG on the six MuJoCo meta-environments, as a grid of independent training runs.

Every run uses its (env, algorithm) preset of docs/algorithms.md §6 (horizon, inner step size, inner
steps, fixed or adaptive KL coefficient) except what a scale overrides; the grid's configs come from
``promp.experiments.learning_curves.compute.grid_configs`` (the same naming and overrides). Pure functions here: from
progress rows alone, the per-run figures (final return, area under the curve) and the per-env ranking.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Sequence

import numpy as np

ENVS: tuple[str, ...] = ("halfcheetah-fwd-back", "ant-dir-2d", "hopper-rand-params", "walker-fwd-back",
                         "humanoid-dir-2d", "walker-rand-params")
"""The paper's six panels, in its order. Its AntRandDir and HumanoidRandDir are the 2-D direction tasks
(``ant-dir-2d``, ``humanoid-dir-2d``: "ant and humanoid run in 2-D directions", ProMP §7.1); the
half-cheetah and walker switch between forward and backward; hopper and walker adapt to dynamics."""
ALGOS: tuple[str, ...] = ("promp", "maml-trpo", "emaml-trpo", "lvc-vpg", "emaml-vpg")
"""The paper's Fig. 2 algorithms; its claim per env (docs/algorithms.md §10.5): ProMP best in every env."""
ALGO_NAMES: dict[str, str] = {"promp": "ProMP", "maml-trpo": "MAML-TRPO", "emaml-trpo": "E-MAML-TRPO",
                              "lvc-vpg": "LVC-VPG", "emaml-vpg": "E-MAML-VPG"}
"""The paper's names of the algorithms, for the Markdown table."""
REFERENCES: dict[str, dict[str, tuple[float, float]]] = {
    "halfcheetah-fwd-back": {"promp": (1.2e8, 310.0), "maml-trpo": (1.2e8, 265.0), "emaml-trpo": (1.2e8, 265.0),
                             "lvc-vpg": (1.2e8, 230.0), "emaml-vpg": (1.2e8, 100.0)},
}
"""Paper Fig. 2 values read by eye (env steps, return), where docs/results.md has them."""


@dataclasses.dataclass(frozen=True)
class Figure2Setup:
    """Scale of the grid; ``None`` keeps the preset value (per env and algorithm)."""

    envs: tuple[str, ...] = ENVS
    algos: tuple[str, ...] = ALGOS
    iterations: int = 1001
    meta_batch_size: int | None = None
    rollouts_per_task: int | None = None
    horizon: int | None = None
    hidden: tuple[int, ...] | None = None

    KNOWN_ENVS: ClassVar[tuple[str, ...]] = ENVS  # what --envs / --algos may pick at any scale
    KNOWN_ALGOS: ClassVar[tuple[str, ...]] = ALGOS

    def validate(self) -> None:
        """Raise ``ValueError`` on an impossible setting (unknown ids are caught by ``resolve_config``)."""
        if not self.envs or not self.algos:
            raise ValueError("figure2 needs at least one env and one algorithm")
        if self.iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {self.iterations}")


FULL = Figure2Setup()
REDUCED = Figure2Setup(iterations=200, meta_batch_size=20, rollouts_per_task=10)
QUICK = Figure2Setup(envs=("halfcheetah-fwd-back", "hopper-rand-params"), algos=("promp", "maml-trpo"), iterations=3,
                     meta_batch_size=2, rollouts_per_task=2, horizon=10, hidden=(8, 8))
SETUPS: dict[str, Figure2Setup] = {"quick": QUICK, "medium": REDUCED, "full": FULL}


def run_figures(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """One run's ``final`` (mean ``return_post`` over the last 10% of its iterations), ``auc`` (mean
    ``return_post`` over env steps: the trapezoid area divided by the steps covered), ``iterations``
    and ``env_steps``."""
    y = np.array([float(r["return_post"]) for r in rows])
    x = np.array([float(r["env_steps"]) for r in rows])
    tail = max(1, len(y) // 10)
    auc = float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2 / (x[-1] - x[0])) if len(y) > 1 and x[-1] > x[0] else float(y[0])
    return {"final": float(np.mean(y[-tail:])), "auc": auc, "iterations": len(rows), "env_steps": float(x[-1])}


def finished_runs(cell: Sequence[tuple[Any, Sequence[dict[str, Any]]]], iterations: int) -> list:
    """The runs of one (env, algorithm) cell that the figure and table show: those that completed
    ``iterations`` when at least one has, else all of them (a cell still under way plots too). A seed still
    running would otherwise cut the seeds' mean curve to its few iterations and pull the final return
    toward its early value."""
    done = [run for run in cell if len(run[1]) >= iterations]
    return done or list(cell)


def rank(values: dict[str, float]) -> dict[str, int]:
    """1 for the largest value, 2 for the next, ... (ties share the better rank)."""
    ordered = sorted(values.values(), reverse=True)
    return {k: ordered.index(v) + 1 for k, v in values.items()}


def markdown_table(rows: Sequence[dict[str, Any]], iterations: int) -> str:
    """The per-env table (rows of ``report.table``, envs in their order) as Markdown, best final return first
    in each env: seeds, final return (mean over seeds, and min-max), AUC and the two ranks. A cell none of
    whose runs has completed ``iterations`` says how far its runs are."""
    lines = ["| env | algorithm | seeds | final return (mean, min-max over seeds) | AUC | rank (final / AUC) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for env in dict.fromkeys(r["env"] for r in rows):
        for r in sorted((r for r in rows if r["env"] == env), key=lambda r: (r["rank_final"], r["rank_auc"])):
            seeds = str(r["seeds"])
            if r["iterations_min"] < iterations:
                seeds += f" (under way: {r['iterations_min']} of {iterations} iterations)"
            final = f"{r['final_mean']:.0f}" + (f" ({r['final_min']:.0f}-{r['final_max']:.0f})" if r["seeds"] > 1 else "")
            lines.append(f"| {env} | {ALGO_NAMES.get(r['algo'], r['algo'])} | {seeds} | {final} | {r['auc_mean']:.0f} "
                         f"| {r['rank_final']} / {r['rank_auc']} |")
    return "\n".join(lines) + "\n"


def ordering_verdict(final: dict[str, float]) -> str:
    """Whether the paper's claim (ProMP best, docs/algorithms.md §10.5) holds for one env's final returns."""
    if "promp" not in final or len(final) < 2:
        return "n/a"
    ranks = rank(final)
    return "holds (ProMP first)" if ranks["promp"] == 1 else f"does not hold (ProMP rank {ranks['promp']} of {len(final)})"
