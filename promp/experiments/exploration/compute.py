"""Exploration on the point-with-momentum task (docs/algorithms.md §10.3, §10.5; ProMP §7.3, Fig. 4/5).

``point-momentum``: a 2-D point with momentum starts near the origin; the task's goal is one of the
four corners (+-2, +-2) and the reward is ``max(2 - distance, 0)``, so the policy must find the right
corner region within the K = 3 adaptation steps. The paper's claim (docs/algorithms.md §10.5): LVC-TRPO learns a
pre-update policy that visits all four goal regions and then solves the task after adaptation;
MAML-TRPO learns no useful exploration; E-MAML-TRPO explores with long random paths and its adapted
policy slightly misses the goal. ProMP (LVC inner step) is added as a fourth curve.

Training uses the library's trainer (one resumable run directory per algorithm and seed, written by
``promp.experiments.grid``); this module only holds the settings, the configs derived from them
and the computations on trained policies (sampling the pre/post-update paths of one task,
summarising progress rows).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from ...config import TrainConfig, resolve_config
from ...envs.point import CORNERS

ALGOS: tuple[str, ...] = ("lvc-trpo", "maml-trpo", "emaml-trpo", "promp")
TASK: dict[str, list[float]] = {"goal": [2.0, 2.0]}  # the one task drawn for every algorithm


@dataclasses.dataclass(frozen=True)
class ExplorationSetup:
    """Scale of the exploration experiment (docs/algorithms.md §10.3: 40 tasks x 20 rollouts, H 100, K 3, 501 itr)."""

    algos: tuple[str, ...] = ALGOS
    meta_batch_size: int = 40
    rollouts_per_task: int = 20
    horizon: int = 100
    inner_steps: int = 3
    iterations: int = 501
    hidden: tuple[int, ...] = (64, 64)
    paths: int = 10  # trajectories drawn per panel (docs/algorithms.md §10.3: 10)
    tail: int = 10  # "final" returns = mean over the last ``tail`` iterations of progress.csv

    def validate(self) -> None:
        """Raise ``ValueError`` on an impossible setting."""
        unknown = [a for a in self.algos if a not in ALGOS]
        if unknown or not self.algos:
            raise ValueError(f"exploration algos must be among {', '.join(ALGOS)}, got {list(self.algos)}")
        for name in ("meta_batch_size", "rollouts_per_task", "horizon", "inner_steps", "iterations", "paths", "tail"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


FULL = ExplorationSetup()
MEDIUM = ExplorationSetup(meta_batch_size=10, rollouts_per_task=10, iterations=60, tail=5)
QUICK = ExplorationSetup(meta_batch_size=4, rollouts_per_task=4, horizon=20, iterations=2, hidden=(16, 16),
                         paths=4, tail=1)
SETUPS: dict[str, ExplorationSetup] = {"quick": QUICK, "medium": MEDIUM, "full": FULL}


def exploration_config(setup: ExplorationSetup, algo: str, seed: int) -> TrainConfig:
    """The trainer config of one (algorithm, seed) run: the preset for ``point-momentum`` with the
    settings of ``setup`` (docs/algorithms.md §10.3; H 100 and (64, 64) for every algorithm, also ProMP, whose
    all-envs preset is H 200 and (128, 128); TRPO step 0.01 and alpha 0.1 from the presets)."""
    return resolve_config("point-momentum", algo, {
        "seed": int(seed), "iterations": setup.iterations, "meta_batch_size": setup.meta_batch_size,
        "rollouts_per_task": setup.rollouts_per_task, "horizon": setup.horizon,
        "inner_steps": setup.inner_steps, "hidden": tuple(setup.hidden),
    })


def same_run(a: TrainConfig | dict, b: TrainConfig | dict) -> bool:
    """True when two configs describe the same run up to its length (``iterations``), i.e. when a
    run directory holding ``a`` can be resumed or extended to ``b`` (the grids of docs/algorithms.md §10.4)."""
    da = a if isinstance(a, dict) else dataclasses.asdict(a)
    db = b if isinstance(b, dict) else dataclasses.asdict(b)
    norm = lambda d: {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if k != "iterations"}  # noqa: E731
    return norm(da) == norm(db)


def final_returns(rows: Sequence[dict[str, Any]], tail: int) -> dict[str, float]:
    """Mean pre- and post-update training return over the last ``tail`` progress rows (docs/algorithms.md §10.3);
    also every adaptation step's return when the rows have ``return_step_k`` columns, and the summed
    ``time_iteration`` (training time, also when the run was skipped as finished)."""
    if not rows:
        raise ValueError("no progress rows")
    last = list(rows)[-max(1, int(tail)):]
    out = {"return_pre": float(np.mean([float(r["return_pre"]) for r in last])),
           "return_post": float(np.mean([float(r["return_post"]) for r in last])),
           "iterations": int(len(rows)), "env_steps": int(float(rows[-1]["env_steps"])),
           "time_iterations_s": float(sum(float(r.get("time_iteration", 0.0)) for r in rows))}
    k = 0
    while f"return_step_{k}" in last[0]:
        out[f"return_step_{k}"] = float(np.mean([float(r[f"return_step_{k}"]) for r in last]))
        k += 1
    return out


def task_paths(learner: Any, params: Any, task: dict, rng: np.random.Generator, paths: int) -> dict[str, Any]:
    """The picture of one task (docs/algorithms.md §10.3): adapt ``params`` to ``task`` with the learner's K inner steps
    (on ``rollouts_per_task`` fresh rollouts per step) and return the ``[x, y]`` paths of the first
    ``paths`` rollouts of every sampling round, ``paths[k]`` a list of ``[T, 2]`` arrays, with the
    average return of each round."""
    res = learner.sample_adapted(params, [task], rng)
    rounds, returns = [], []
    for traj in res.trajectories:
        n = min(int(paths), traj.obs.shape[1])
        rounds.append([np.asarray(traj.obs[0, r, : max(int(traj.mask[0, r].sum()), 1), :2]) for r in range(n)])
        returns.append(float((traj.rewards * traj.mask).sum(-1).mean()))
    return {"paths": rounds, "returns": returns}


def corner_visits(paths: Sequence[np.ndarray], radius: float = 1.0) -> list[int]:
    """For each of the four corners (``promp.envs.point.CORNERS`` order) the number of ``paths`` that
    come within ``radius`` of it: how many goal regions the pre-update policy explores (docs/algorithms.md §10.3).
    The default 1 is the inner half of the reward disc (reward ``max(2 - d, 0)``): the full discs
    nearly touch the start region, so entering them says little."""
    return [int(sum(bool(np.any(np.linalg.norm(p - c, axis=-1) < radius)) for p in paths)) for c in CORNERS]
