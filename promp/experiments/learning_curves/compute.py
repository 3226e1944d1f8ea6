"""Learning curves of the main comparison (docs/algorithms.md §10.4, §10.5; ProMP §7.1, Figs. 2-3).

A grid of (environment, algorithm, seed) training runs, each an ordinary resumable run directory of
the trainer (written by ``promp.experiments.grid``), aggregated per (environment, algorithm) over
seeds into post-update return against env steps with a mean and a std band
(``promp.compare.aggregate``). Panel 1 is the camera-ready Fig. 2 (ProMP vs MAML-TRPO vs
E-MAML-TRPO); panel 2 the estimator comparison of Fig. 3 (LVC-VPG vs DiCE-VPG).

Settings are the presets of docs/algorithms.md §6 for each (env, algorithm) except what a scale overrides
(tasks, rollouts, iterations); the full scale keeps the presets entirely (40 x 20 rollouts, DiCE
80, 1001 iterations, ~1.6e8 env steps per HalfCheetah run, docs/algorithms.md §6.4).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from ...config import TrainConfig, resolve_config

PANELS: tuple[tuple[str, ...], ...] = (("promp", "maml-trpo", "emaml-trpo"), ("lvc-vpg", "dice-vpg"))
ENVS: tuple[str, ...] = ("point-corner", "halfcheetah-fwd-back")


@dataclasses.dataclass(frozen=True)
class LearningCurvesSetup:
    """Scale of the grid; ``None`` keeps the preset value of docs/algorithms.md §6 (per env and algorithm)."""

    envs: tuple[str, ...] = ENVS
    panels: tuple[tuple[str, ...], ...] = PANELS
    iterations: int = 1001
    meta_batch_size: int | None = None
    rollouts_per_task: int | None = None
    horizon: int | None = None
    hidden: tuple[int, ...] | None = None

    @property
    def algos(self) -> tuple[str, ...]:
        """Every algorithm of every panel, in panel order."""
        return tuple(a for panel in self.panels for a in panel)

    def validate(self) -> None:
        """Raise ``ValueError`` on an impossible setting (unknown ids are caught by ``resolve_config``)."""
        if not self.envs or not self.algos:
            raise ValueError("learning-curves needs at least one env and one algorithm")
        if self.iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {self.iterations}")


FULL = LearningCurvesSetup()
MEDIUM = LearningCurvesSetup(iterations=40, meta_batch_size=10, rollouts_per_task=10)
QUICK = LearningCurvesSetup(envs=("point-corner",), panels=(("promp",), ("lvc-vpg",)), iterations=2,
                            meta_batch_size=2, rollouts_per_task=2, horizon=10, hidden=(8, 8))
SETUPS: dict[str, LearningCurvesSetup] = {"quick": QUICK, "medium": MEDIUM, "full": FULL}


def grid_configs(setup: Any, seeds: Sequence[int]) -> list[tuple[str, TrainConfig]]:
    """``(run name, config)`` of every grid cell, named ``ENV/ALGO-seedS``, seed-major: every (env, algo) gets its
    first seed before any gets a second, so a partial campaign covers every panel, and runs of one config that
    share a compiled program run apart, the later one reading it from the compilation cache (docs/algorithms.md
    §6.2-6.3 presets with the scale's overrides; at reduced scale DiCE gets the same rollouts as the others). ``setup``:
    any setup with ``envs``, ``algos``, ``iterations``, ``meta_batch_size``, ``rollouts_per_task``, ``horizon``
    and ``hidden`` (``LearningCurvesSetup``, figure2's ``Figure2Setup``)."""
    overrides: dict[str, Any] = {"iterations": setup.iterations, "meta_batch_size": setup.meta_batch_size,
                                 "rollouts_per_task": setup.rollouts_per_task, "horizon": setup.horizon,
                                 "hidden": tuple(setup.hidden) if setup.hidden else None}
    return [(f"{env}/{algo}-seed{seed}", resolve_config(env, algo, {**overrides, "seed": int(seed)}))
            for seed in seeds for env in setup.envs for algo in setup.algos]


def nominal_samples_per_iteration(cfg: TrainConfig) -> int:
    """``meta_batch_size * rollouts * H * (K + 1)``, the x-axis unit of the paper's plots (docs/algorithms.md §6.4)."""
    return cfg.meta_batch_size * cfg.rollouts_per_task * cfg.horizon * (cfg.inner_steps + 1)
