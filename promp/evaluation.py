"""Meta-testing as a computation (no file I/O): adapt a trained policy to held-out tasks.

``meta_test`` samples rounds ``0..K`` on a set of tasks with ``MetaLearner.sample_adapted`` (the
same inner step as training, re-sampling after each step; ``K`` may exceed the training value) and
returns the per-task, per-rollout returns of every round. ``summarize`` turns them into the mean
return at every step with a Student-t confidence interval:

* across tasks (the per-task mean over rollouts is one observation) when there are several tasks;
* across rollouts when a single task is evaluated (e.g. a user-given ``--task``).

For an env that reports success flags (``MetaEnv.reports_success``, Meta-World's) it also returns
which paths succeeded (``promp.processing.episode_success``: the flag set at any step, Meta-World's
definition), and ``summarize_success`` gives the success rate at every step the same way: the mean
over tasks of each task's fraction of successful rollouts (metaworld's average over tasks), with a
Student-t interval across tasks (or rollouts), clipped to [0, 1].

``eval_rng`` gives the generator of meta-testing: seeded like training but on a separate stream,
so the "held-out" tasks and the action noise never replay the training sequence.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np
from jax.scipy.special import betainc

from .learner import MetaLearner
from .processing import episode_success
from .types import Params, Task

EVAL_STREAM = 0x5EED_E7A1
"""Extra entropy word that separates the meta-testing RNG stream from training's ``PCG64(seed)``."""


def eval_rng(seed: int) -> np.random.Generator:
    """The meta-testing generator for ``seed`` (distinct from the training generator of the same seed)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), EVAL_STREAM])))


@dataclasses.dataclass
class MetaTestResult:
    """Returns of one meta-test: ``returns[k, t, r]`` = undiscounted return of rollout r of task t at step k;
    ``successes[k, t, r]`` whether that rollout succeeded (``None``: the env reports no success);
    ``lengths[k, t, r]`` its number of steps (below the horizon where the episode terminated early;
    ``None``: not recorded)."""

    tasks: list[Task]
    returns: np.ndarray  # [K+1, T, R]
    env_steps: int
    successes: np.ndarray | None = None  # [K+1, T, R] bool
    lengths: np.ndarray | None = None  # [K+1, T, R] int

    @property
    def per_task_success(self) -> np.ndarray | None:
        """Success rate per task (fraction of its rollouts) at every step, ``[K+1, T]``; ``None`` without flags."""
        return None if self.successes is None else self.successes.mean(axis=-1)

    @property
    def adapt_steps(self) -> int:
        """Number of inner steps K (rounds are 0..K)."""
        return self.returns.shape[0] - 1

    @property
    def per_task(self) -> np.ndarray:
        """Average return per task at every step, ``[K+1, T]``."""
        return self.returns.mean(axis=-1)


@dataclasses.dataclass(frozen=True)
class StepSummary:
    """Mean return at one adaptation step with its confidence interval."""

    step: int
    mean: float
    ci_low: float
    ci_high: float
    std: float
    n: int


@dataclasses.dataclass(frozen=True)
class SuccessSummary:
    """Success rate at one adaptation step with its confidence interval (clipped to [0, 1])."""

    step: int
    success_rate: float
    success_ci_low: float
    success_ci_high: float


def t_quantile(p: float, df: int) -> float:
    """Quantile ``p`` (in (0.5, 1)) of Student's t distribution with ``df`` degrees of freedom.

    Inverts ``F(t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2`` by bisection (``I`` = regularized
    incomplete beta function), so no SciPy is needed at run time.
    """
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 < p < 1 and df >= 1, got p={p}, df={df}")

    tail = 2.0 * (1.0 - p)  # I_x(df/2, 1/2) at the quantile

    def upper_tail(t: float) -> float:
        return float(betainc(df / 2.0, 0.5, df / (df + t * t)))

    lo, hi = 0.0, 1.0
    while upper_tail(hi) > tail:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if upper_tail(mid) > tail else (lo, mid)
        if hi - lo < 1e-7 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def mean_confidence_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: Student-t interval of the mean of i.i.d. ``values`` (zero width if n = 1)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("no values")
    mean = float(x.mean())
    if x.size == 1:
        return mean, mean, mean
    half = t_quantile(0.5 + confidence / 2.0, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean, mean - half, mean + half


def meta_test(learner: MetaLearner, params: Params, tasks: list[Task], rng: np.random.Generator, adapt_steps: int) -> MetaTestResult:
    """Sample rounds ``0..adapt_steps`` on ``tasks`` (adapting per task in between) and collect returns.

    Uses ``learner.cfg``'s horizon, rollouts per task, inner step size and estimator.
    """
    if adapt_steps < 0:
        raise ValueError(f"adapt_steps must be >= 0, got {adapt_steps}")
    res = learner.sample_adapted(params, tasks, rng, steps=adapt_steps)
    returns = np.stack([(t.rewards * t.mask).sum(-1) for t in res.trajectories])  # [K+1, T, R]
    lengths = np.stack([np.asarray(t.mask).sum(-1).astype(np.int64) for t in res.trajectories])  # [K+1, T, R]
    flags = [episode_success(t) for t in res.trajectories]
    successes = None if flags[0] is None else np.stack(flags)  # [K+1, T, R]
    return MetaTestResult(list(learner.env.tasks), returns, sum(t.env_steps for t in res.trajectories), successes, lengths)


def summarize(result: MetaTestResult, confidence: float = 0.95) -> list[StepSummary]:
    """Mean and confidence interval at every step (across tasks, or across rollouts for one task)."""
    out = []
    for k in range(result.adapt_steps + 1):
        values = result.per_task[k] if len(result.tasks) > 1 else result.returns[k, 0]
        mean, lo, hi = mean_confidence_interval(values, confidence)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        out.append(StepSummary(k, mean, lo, hi, std, len(values)))
    return out


def summarize_success(result: MetaTestResult, confidence: float = 0.95) -> list[SuccessSummary] | None:
    """Success rate and confidence interval at every step (across tasks, or across rollouts for one task),
    ``None`` when the env reports no success."""
    if result.successes is None:
        return None
    out = []
    for k in range(result.adapt_steps + 1):
        values = result.per_task_success[k] if len(result.tasks) > 1 else result.successes[k, 0].astype(np.float64)
        mean, lo, hi = mean_confidence_interval(values, confidence)
        out.append(SuccessSummary(k, mean, max(0.0, lo), min(1.0, hi)))
    return out


def by_family(result: MetaTestResult) -> dict[str, dict[str, Any]] | None:
    """Per task family, for tasks that name one (``"family"``: Meta-World's multi-family benchmarks): the
    number of tasks, and at every step 0..K the mean return and (if the env reports success) the success
    rate over that family's tasks. ``None`` when the tasks name no family."""
    families = [t.get("family") for t in result.tasks]
    if any(f is None for f in families):
        return None
    out: dict[str, dict[str, Any]] = {}
    for family in dict.fromkeys(families):
        mine = [i for i, f in enumerate(families) if f == family]
        entry: dict[str, Any] = {"tasks": len(mine), "mean_return": result.per_task[:, mine].mean(axis=1).tolist()}
        if result.successes is not None:
            entry["success_rate"] = result.per_task_success[:, mine].mean(axis=1).tolist()
        out[family] = entry
    return out


def report(result: MetaTestResult, confidence: float = 0.95, **info: Any) -> dict[str, Any]:
    """The JSON-able record of a meta-test (what ``eval.json`` holds); ``info`` adds run metadata. For an env
    that reports success every step also has ``success_rate``, ``success_ci_low`` and ``success_ci_high``,
    and ``per_task_success`` is added beside ``per_task_returns``; tasks that name their family add
    ``by_family`` (``by_family``). Where path lengths were recorded every step has ``mean_path_length``
    (over all rollouts): on an env that ends episodes early and pays a bonus per step alive (Humanoid's 5),
    it tells how much of the return is staying up."""
    steps = [dataclasses.asdict(s) for s in summarize(result, confidence)]
    success = summarize_success(result, confidence)
    for row, rate in zip(steps, success or []):
        row.update({k: v for k, v in dataclasses.asdict(rate).items() if k != "step"})
    if result.lengths is not None:
        for row, lengths in zip(steps, result.lengths):
            row["mean_path_length"] = float(np.mean(lengths))
    record = {
        **info,
        "num_tasks": len(result.tasks),
        "rollouts_per_task": int(result.returns.shape[2]),
        "adapt_steps": result.adapt_steps,
        "confidence": confidence,
        "interval_over": "tasks" if len(result.tasks) > 1 else "rollouts",
        "env_steps": result.env_steps,
        "steps": steps,
        "tasks": result.tasks,
        "per_task_returns": result.per_task.T.tolist(),  # [T][K+1]
    }
    if result.successes is not None:
        record["per_task_success"] = result.per_task_success.T.tolist()  # [T][K+1]
    families = by_family(result)
    if families is not None:
        record["by_family"] = families
    return record
