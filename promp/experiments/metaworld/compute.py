"""Meta-World evidence (Yu et al. 2019): ProMP and MAML-TRPO meta-trained on ML1 families (reach, push) and
meta-tested on each family's 50 held-out goals, as a grid of independent training runs like Fig. 2's
(``promp.experiments.figure2``). Pure functions here: the setups and, from progress rows and meta-test
records alone, the per-run and per-cell figures.

The figures are success rates, Meta-World's measure: an episode succeeds if the family's success flag is
set at any of its steps; a task's rate is the fraction of its rollouts that succeed; the reported rate is
the mean over tasks. Meta-training success is the post-update rate of the training batches (``success_post``
in ``progress.csv``, mean over the last 10% of iterations); meta-test success is that of a meta-test on
held-out goals (``split="test"``) before (step 0) and after (step K) adaptation.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Sequence

import numpy as np

ENVS: tuple[str, ...] = ("metaworld-ml1-reach", "metaworld-ml1-push")
ALGOS: tuple[str, ...] = ("promp", "maml-trpo")


@dataclasses.dataclass(frozen=True)
class MetaworldSetup:
    """Scale of the grid (``None`` keeps the preset value) and of each run's meta-test."""

    envs: tuple[str, ...] = ENVS
    algos: tuple[str, ...] = ALGOS
    iterations: int = 300
    meta_batch_size: int | None = None
    rollouts_per_task: int | None = None
    horizon: int | None = None
    hidden: tuple[int, ...] | None = None
    test_tasks: int = 50
    test_rollouts: int = 10

    KNOWN_ENVS: ClassVar[tuple[str, ...]] = ("metaworld-ml1-reach", "metaworld-ml1-push", "metaworld-ml1-pick-place",
                                             "metaworld-ml10", "metaworld-ml45")
    KNOWN_ALGOS: ClassVar[tuple[str, ...]] = ("promp", "maml-trpo", "emaml-trpo", "lvc-vpg", "emaml-vpg", "maml-vpg",
                                              "dice")

    def validate(self) -> None:
        """Raise ``ValueError`` on an impossible setting."""
        if not self.envs or not self.algos:
            raise ValueError("metaworld needs at least one env and one algorithm")
        if self.iterations < 1 or self.test_tasks < 1 or self.test_rollouts < 1:
            raise ValueError("iterations, test tasks and test rollouts must be >= 1")


FULL = MetaworldSetup()
REDUCED = MetaworldSetup(iterations=100, meta_batch_size=20, rollouts_per_task=10, horizon=150, test_tasks=50,
                         test_rollouts=10)
QUICK = MetaworldSetup(envs=("metaworld-ml1-reach",), iterations=2, meta_batch_size=2, rollouts_per_task=2, horizon=20,
                       hidden=(16, 16), test_tasks=2, test_rollouts=2)
SETUPS: dict[str, MetaworldSetup] = {"quick": QUICK, "medium": REDUCED, "full": FULL}


def train_success(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """One run's meta-training success: mean ``success_pre`` and ``success_post`` over the last 10% of its
    iterations, its iterations and env steps."""
    tail = rows[-max(1, len(rows) // 10):]
    return {"train_success_pre": float(np.mean([float(r["success_pre"]) for r in tail])),
            "train_success_post": float(np.mean([float(r["success_post"]) for r in tail])),
            "iterations": len(rows), "env_steps": float(rows[-1]["env_steps"])}


def test_success(record: dict[str, Any]) -> dict[str, float]:
    """A meta-test record's (``promp.evaluation.report``) success rate and return before and after adapting."""
    first, last = record["steps"][0], record["steps"][-1]
    return {"test_success_pre": float(first["success_rate"]), "test_success_post": float(last["success_rate"]),
            "test_return_pre": float(first["mean"]), "test_return_post": float(last["mean"])}


def cell(figures: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean over seeds of every figure all seeds have (a run still training has no meta-test yet), with the
    min and max over seeds of the meta-test success after adapting."""
    common = [k for k in figures[0] if all(k in f for f in figures)]
    out = {k: float(np.mean([f[k] for f in figures])) for k in common}
    post = [f["test_success_post"] for f in figures if "test_success_post" in f]
    if "test_success_post" in common:
        out["test_success_post_min"], out["test_success_post_max"] = min(post), max(post)
    out["seeds"] = len(figures)
    return out
