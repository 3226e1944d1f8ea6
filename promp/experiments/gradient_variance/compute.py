"""Variance of the meta-policy gradient: LVC vs DiCE (docs/algorithms.md §10.2, §10.5; ProMP §7.2).

Protocol (docs/algorithms.md §10.2, implemented cleanly): at every iteration, with the parameters fixed, run ``rounds``
independent sampling rounds. Each round draws *fresh tasks* (``meta_batch_size`` of them from the
run's generator), samples the pre-update rollouts, adapts every task with the algorithm's inner step,
samples the post-update rollouts and computes the flattened meta-gradient, i.e. the gradient of the
algorithm's own outer loss (``OuterUpdate.loss``; LVC-VPG: the log-likelihood surrogate through the
LVC inner step, DiCE-VPG: the DiCE loss through the DiCE inner step). The spread of the ``rounds``
gradients gives ``relative_std`` (the original's ``Meta-GradientRStd``, docs/algorithms.md §10.2); the last round's batches are
used for the (one Adam step) update, and its returns are logged.

Differences from the original script's quirks (docs/algorithms.md §10.2):

* tasks are re-sampled in *every* round; the original re-sampled them only in the last of its 10
  rounds, so rounds 1-9 reused the previous iteration's tasks (and round 1 of iteration 0 the
  envs' construction-time tasks), which mixes task-distribution variance in unevenly;
* both algorithms use the same number of rollouts per task (the original's DiCE sweep used 80
  rollouts elsewhere; the gradient-variance runs used 40 for both, as here by default at full scale);
  the baselines/advantage processing stay each algorithm's own (linear feature baseline + GAE for
  LVC, the DiCE processing for DiCE), as in the original;
* ``env_steps`` counts every round; ``env_steps_one_round`` (the original's x-axis, one round per
  iteration) is logged as well.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import numpy as np
from jax.flatten_util import ravel_pytree

from ...config import TrainConfig, resolve_config
from ...learner import MetaLearner, RunState
from ...task_map import jit_tasks

ALGOS: tuple[str, ...] = ("lvc-vpg", "dice-vpg")
ENV = "halfcheetah-fwd-back"


@dataclasses.dataclass(frozen=True)
class GradientVarianceSetup:
    """Scale (docs/algorithms.md §10.2: HalfCheetahFwdBack, 20 tasks x 40 rollouts, H 100, K 1, alpha 0.1, Adam 1e-3,
    (64, 64), 301 iterations, 10 sampling rounds per iteration)."""

    algos: tuple[str, ...] = ALGOS
    env: str = ENV
    meta_batch_size: int = 20
    rollouts_per_task: int = 40
    horizon: int = 100
    rounds: int = 10
    iterations: int = 301
    hidden: tuple[int, ...] = (64, 64)

    def validate(self) -> None:
        """Raise ``ValueError`` on an impossible setting (``rounds`` >= 2: a std needs two samples)."""
        if not self.algos or any(a not in ("lvc-vpg", "dice-vpg", "vpg-dice", "maml-vpg", "emaml-vpg") for a in self.algos):
            raise ValueError(f"gradient-variance algos must be VPG-type presets, got {list(self.algos)}")
        if self.rounds < 2:
            raise ValueError(f"rounds must be >= 2, got {self.rounds}")
        for name in ("meta_batch_size", "rollouts_per_task", "horizon", "iterations"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


FULL = GradientVarianceSetup()
MEDIUM = GradientVarianceSetup(rollouts_per_task=10, rounds=5, iterations=30)
QUICK = GradientVarianceSetup(meta_batch_size=4, rollouts_per_task=4, horizon=20, rounds=3, iterations=3, hidden=(16, 16))
SETUPS: dict[str, GradientVarianceSetup] = {"quick": QUICK, "medium": MEDIUM, "full": FULL}


def gradient_variance_config(setup: GradientVarianceSetup, algo: str, seed: int) -> TrainConfig:
    """The config of one algorithm (docs/algorithms.md §10.2): the preset on ``setup.env`` with K = 1, alpha 0.1,
    Adam 1e-3 and the same tasks x rollouts x H for both algorithms (DiCE's preset 80 rollouts is
    overridden)."""
    return resolve_config(setup.env, algo, {
        "seed": int(seed), "iterations": setup.iterations, "meta_batch_size": setup.meta_batch_size,
        "rollouts_per_task": setup.rollouts_per_task, "horizon": setup.horizon, "inner_steps": 1,
        "inner_lr": 0.1, "outer_lr": 1e-3, "hidden": tuple(setup.hidden),
    })


def relative_std(grads: np.ndarray, eps: float = 1e-8) -> float:
    """The original's ``Meta-GradientRStd`` (docs/algorithms.md §10.2): for gradients ``[rounds, parameters]``, the mean over
    parameters of ``std_rounds / (|mean_rounds| + eps)`` (population std, ``ddof=0``)."""
    g = np.asarray(grads, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] < 2:
        raise ValueError(f"need gradients [rounds >= 2, parameters], got shape {g.shape}")
    return float(np.mean(g.std(axis=0) / (np.abs(g.mean(axis=0)) + eps)))


def gradient_spread(grads: np.ndarray) -> dict[str, float]:
    """The metric of docs/algorithms.md §10.2 plus companions logged by the original: mean per-parameter std, mean
    cosine similarity of each round's gradient to the mean gradient, and the norm ratio
    ``sqrt(mean_r |g_r - g_mean|^2) / |g_mean|`` (a scale-free spread not dominated by parameters
    whose mean gradient is near zero)."""
    g = np.asarray(grads, dtype=np.float64)
    mean = g.mean(axis=0)
    norms = np.linalg.norm(g, axis=1) * np.linalg.norm(mean)
    cos = np.where(norms > 0, g @ mean / np.where(norms > 0, norms, 1.0), 0.0)
    return {
        "rel_std": relative_std(g),
        "grad_std": float(g.std(axis=0).mean()),
        "cosine_to_mean": float(cos.mean()),
        "norm_ratio": float(np.sqrt(np.mean(np.sum((g - mean) ** 2, axis=1))) / max(float(np.linalg.norm(mean)), 1e-30)),
        "grad_norm": float(np.linalg.norm(g, axis=1).mean()),
    }


def meta_gradient_fn(learner: MetaLearner) -> Callable[[Any, Any, tuple], np.ndarray]:
    """``(params, opt_state, batches) -> flat gradient`` of the learner's outer loss (the meta-gradient its
    update follows, docs/algorithms.md §5), jitted."""
    grad = jit_tasks(jax.grad(lambda p, s, b: learner.outer.loss(p, s, b)[0]))

    def flat(params, opt_state, batches):
        return np.asarray(ravel_pytree(grad(params, opt_state, tuple(batches)))[0])

    return flat


def variance_iteration(learner: MetaLearner, state: RunState, rounds: int,
                       grad_fn: Callable[[Any, Any, tuple], np.ndarray]) -> tuple[RunState, dict[str, float]]:
    """One iteration of the protocol of docs/algorithms.md §10.2: ``rounds`` sampling rounds at ``state.params``, each on
    freshly drawn tasks, one flat meta-gradient per round; the last round's batches make the update.
    Returns the new state and a row (spread statistics, returns of the last round and over rounds)."""
    cfg = learner.cfg
    grads, pre, post, steps = [], [], [], 0
    res = None
    for _ in range(rounds):
        tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
        res = learner.sample_adapted(state.params, tasks, state.rng)
        grads.append(grad_fn(state.params, state.opt_state, tuple(res.batches)))
        pre.append(res.returns[0])
        post.append(res.returns[-1])
        steps += sum(t.env_steps for t in res.trajectories)
    one_round = sum(t.env_steps for t in res.trajectories)
    params, opt_state, _ = learner.outer.update(state.params, state.opt_state, tuple(res.batches))
    finite = all(bool(np.all(np.isfinite(np.asarray(x)))) for x in jax.tree_util.tree_leaves(params))
    if not finite:
        params, opt_state = state.params, state.opt_state
    g = np.stack(grads)
    row = {"iteration": state.iteration, "env_steps": state.env_steps + steps,
           "env_steps_one_round": (state.iteration + 1) * one_round,
           "return_pre": pre[-1], "return_post": post[-1],
           "return_pre_rounds": float(np.mean(pre)), "return_post_rounds": float(np.mean(post)),
           "update_skipped": int(not finite), **gradient_spread(g)}
    new = RunState(params, opt_state, state.rng, state.iteration + 1, state.env_steps + steps,
                   state.nonfinite_streak)
    return new, row


def running_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing running mean over ``window`` points (shorter at the start), as the original plot's
    5-iteration smoothing."""
    x = np.asarray(x, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(x)])
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - int(window), 0)
    return (c[idx] - c[lo]) / (idx - lo)
