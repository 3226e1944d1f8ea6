"""One meta-iteration as a computation (no file I/O): sample, process, adapt, update.

``MetaLearner`` holds the env, the config and the compiled functions. ``sample_adapted`` (sample
K+1 rounds, adapting per task in between) is shared by training and meta-testing.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import jax
import numpy as np

from .algorithms import make_outer_update, pads_matter
from .algorithms.adaptation import adapt_tasks
from .algorithms.base import PenaltyState
from .algorithms.losses import INNER_LOSSES
from .config import ConfigError, TrainConfig
from .envs import MetaEnv, make_env
from .envs.check import check_env
from .policy import init_policy
from .processing import average_return, process_samples, success_rate, trim_padding
from .sampling import LocalSampler, NonFiniteSampleError, broadcast_params, overlap_requested
from .task_map import jit_tasks
from .types import Batch, Params, Task, Trajectories

GIB = 1024**3


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), ``None`` if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def estimate_sample_memory(cfg: Any, obs_dim: int, act_dim: int) -> int:
    """A lower estimate of the bytes one meta-iteration holds at once: the K+1 sampling rounds'
    buffers (float32 observations, actions, means, log-stds; float64 rewards), their task-major
    copies, the float64 processing arrays and the float32 batch handed to the update."""
    steps = cfg.meta_batch_size * cfg.rollouts_per_task * cfg.horizon  # env steps per sampling round
    per_step = 2 * 4 * (obs_dim + 3 * act_dim) + 2 * (8 + 4)  # sampling buffers + task-major copies
    per_step += 8 * (2 * obs_dim + 4) / max(cfg.meta_batch_size, 1)  # baseline features (one task at a time)
    per_step += 8 * 8  # returns, values, advantages, ... (float64)
    per_step += 4 * (obs_dim + 3 * act_dim + 6)  # the float32 Batch
    return int(steps * per_step * (cfg.inner_steps + 1))


def check_memory(cfg: Any, obs_dim: int, act_dim: int) -> None:
    """Raise ``ConfigError`` with the estimate if a run's samples cannot fit in the available memory."""
    need = estimate_sample_memory(cfg, obs_dim, act_dim)
    have = available_memory()
    if have is not None and need > have:
        steps = cfg.meta_batch_size * cfg.rollouts_per_task * cfg.horizon
        raise ConfigError(
            f"this run needs at least {need / GIB:.3g} GiB of memory for its samples ({cfg.meta_batch_size} tasks x "
            f"{cfg.rollouts_per_task} rollouts x horizon {cfg.horizon} = {steps:,} env steps per round, "
            f"{cfg.inner_steps + 1} rounds); {have / GIB:.3g} GiB are available: reduce --meta-batch-size, "
            "--rollouts-per-task or --horizon"
        )


class NonFiniteUpdateError(RuntimeError):
    """Too many consecutive outer updates produced NaN/inf; the last good parameters are kept.

    Raised by the trainer (after logging and checkpointing the iteration that hit the limit) when
    ``MetaLearner.nonfinite_stop`` says so.
    """


@dataclasses.dataclass
class RunState:
    """Everything that changes between iterations (what a checkpoint holds)."""

    params: Params
    opt_state: Any  # the outer update's own state (ProMP: Adam moments and KL coefficients)
    rng: np.random.Generator
    iteration: int = 0  # iterations completed
    env_steps: int = 0
    nonfinite_streak: int = 0


@dataclasses.dataclass
class AdaptationResult:
    """K+1 sampling rounds of one set of tasks, with the per-task adapted params after each step."""

    trajectories: list[Trajectories]
    batches: list[Batch]
    params: list[Params]  # per-task params used for round k (leading task axis)
    returns: list[float]
    time_sampling: float
    time_processing: float
    time_adapt: float
    success_rates: list[float] = dataclasses.field(default_factory=list)  # per round; empty: the env reports no success


def _all_finite(tree: Any) -> bool:
    return all(bool(np.all(np.isfinite(np.asarray(x)))) for x in jax.tree_util.tree_leaves(tree))


def step_norm(old: Any, new: Any) -> float:
    """The L2 norm of ``new - old`` over all leaves of two parameter pytrees (float64 on the host): the
    progress column ``step_norm``, 0 when the update was rejected or skipped. Unlike the outer loss,
    it shows a step of every update (DiCE's objective has the same value at all parameters, ProMP eq. 8)."""
    return float(np.sqrt(sum(np.sum((np.asarray(b, np.float64) - np.asarray(a, np.float64)) ** 2)
                             for a, b in zip(jax.tree_util.tree_leaves(old), jax.tree_util.tree_leaves(new)))))


def success_columns(rates: list[float]) -> dict[str, float]:
    """The progress columns of the per-round success rates (``promp.processing.success_rate``) of an env
    that reports success: ``success_pre`` and ``success_post``, and with several inner steps
    ``success_step_k`` for every round, like the ``return_*`` columns; none for an env without (no rates)."""
    if not rates:
        return {}
    row = {"success_pre": rates[0], "success_post": rates[-1]}
    if len(rates) > 2:
        row.update({f"success_step_{k}": r for k, r in enumerate(rates)})
    return row


class MetaLearner:
    """Runs meta-iterations of the algorithm described by ``cfg`` on ``env``."""

    def __init__(self, cfg: TrainConfig, env: MetaEnv | None = None) -> None:
        self.cfg = cfg
        self.env = env if env is not None else make_env(cfg.env, **cfg.env_kwargs)
        if env is None:
            check_env(self.env, cfg.env)  # a user env's mistakes as one line naming it (promp.envs.check)
        self.inner_loss = INNER_LOSSES[cfg.inner_estimator]
        self.outer = make_outer_update(cfg)
        self._adapt = jit_tasks(adapt_tasks, static_argnames=("inner_loss", "floor_log_std"))
        twin = make_env(cfg.env, **cfg.env_kwargs) if env is None and overlap_requested() else None
        self.sampler: Any = LocalSampler(self.env, twin)  # or a promp.distributed.RaySampler (--workers)

    def init_state(self) -> RunState:
        """Fresh policy, optimiser state and RNG from the config's seed."""
        cfg = self.cfg
        params = init_policy(jax.random.PRNGKey(cfg.seed), self.env.obs_dim, self.env.act_dim, cfg.hidden, cfg.init_std)
        return RunState(
            params=params,
            opt_state=self.outer.init(params),
            rng=np.random.Generator(np.random.PCG64(cfg.seed)),
        )

    def sample_adapted(self, params: Params, tasks: list[Task], rng: np.random.Generator, steps: int | None = None) -> AdaptationResult:
        """Sample rounds 0..K on ``tasks``, adapting each task's params with the inner step in between."""
        cfg = self.cfg
        steps = cfg.inner_steps if steps is None else steps
        self.sampler.set_tasks(tasks, cfg.rollouts_per_task)
        params_per_task = broadcast_params(params, len(tasks))
        out = AdaptationResult([], [], [], [], 0.0, 0.0, 0.0)
        for k in range(steps + 1):
            t0 = time.perf_counter()
            traj = self.sampler.sample(params_per_task, cfg.horizon, rng, floor_log_std=(k == 0))
            t1 = time.perf_counter()
            batch = process_samples(traj, cfg.gamma, cfg.gae_lambda, cfg.normalize_adv)
            t2 = time.perf_counter()
            out.trajectories.append(traj)
            out.batches.append(batch)
            out.params.append(params_per_task)
            out.returns.append(average_return(traj))
            rate = success_rate(traj)
            if rate is not None:
                out.success_rates.append(rate)
            if k < steps:
                params_per_task = self._adapt(params_per_task, batch, cfg.inner_lr, self.inner_loss, k == 0)
                jax.block_until_ready(params_per_task)
            out.time_sampling += t1 - t0
            out.time_processing += t2 - t1
            out.time_adapt += time.perf_counter() - t2
        if not pads_matter(cfg):  # the update's cost is per padded step; drop the steps no path reached
            t0 = time.perf_counter()
            out.batches = trim_padding(out.batches)
            out.time_processing += time.perf_counter() - t0
        return out

    skip_reason: str | None = None  # why the last iteration's update was skipped (None: see the row)

    def _skip_nonfinite_samples(self, state: RunState, exc: Exception, t_start: float) -> tuple[RunState, dict[str, float]]:
        """The iteration whose samples held NaN/inf: parameters and optimiser state
        stay, the row records ``update_skipped = 1`` (``nonfinite_stop`` tells when to stop)."""
        cfg = self.cfg
        streak = state.nonfinite_streak + 1
        self.skip_reason = f"{exc} (env {cfg.env!r}, iteration {state.iteration}); samples discarded"
        new_state = RunState(state.params, state.opt_state, state.rng, state.iteration + 1, state.env_steps, streak)
        nan = float("nan")
        row: dict[str, float] = {"iteration": state.iteration, "env_steps": state.env_steps, "return_pre": nan, "return_post": nan}
        if cfg.inner_steps > 1:
            row.update({f"return_step_{k}": nan for k in range(cfg.inner_steps + 1)})
        if getattr(self.env, "reports_success", False):
            row.update(success_columns([nan] * (cfg.inner_steps + 1)))
        row.update(time_sampling=nan, time_processing=nan, time_adapt=nan, time_update=0.0,
                   time_iteration=time.perf_counter() - t_start, update_skipped=1, step_norm=0.0,
                   eta=self.kl_coef(state))
        return new_state, row

    def nonfinite_stop(self, state: RunState) -> str | None:
        """Why training must stop after the iteration that produced ``state``: its update was the
        ``max_nonfinite_updates``-th in a row skipped for NaN/inf (``None``: go on)."""
        streak = state.nonfinite_streak
        if streak < self.cfg.max_nonfinite_updates:
            return None
        if self.skip_reason is not None:  # the samples held NaN/inf
            return f"{streak} consecutive iterations skipped for NaN/inf; last: {self.skip_reason}"
        return (f"{streak} consecutive updates produced NaN/inf (last at iteration {state.iteration - 1}); "
                "stopped with the last good parameters")

    def iteration(self, state: RunState) -> tuple[RunState, dict[str, float]]:
        """One meta-iteration; returns the new state and the progress row (also when the update was
        skipped for NaN/inf: ``row["update_skipped"]``; see ``nonfinite_stop``)."""
        cfg = self.cfg
        t_start = time.perf_counter()
        tasks = self.env.sample_tasks(state.rng, cfg.meta_batch_size)
        try:
            res = self.sample_adapted(state.params, tasks, state.rng)
        except NonFiniteSampleError as exc:  # skipped like a non-finite update (no processing of NaN data)
            return self._skip_nonfinite_samples(state, exc, t_start)
        self.skip_reason = None
        t0 = time.perf_counter()
        params, opt_state, stats = self.outer.update(state.params, state.opt_state, tuple(res.batches))
        jax.block_until_ready(params)
        time_update = time.perf_counter() - t0
        stats = {k: np.asarray(v) for k, v in stats.items()}
        finite = _all_finite(params) and all(np.all(np.isfinite(v)) for v in stats.values())
        env_steps = state.env_steps + sum(t.env_steps for t in res.trajectories)
        streak = 0 if finite else state.nonfinite_streak + 1
        if not finite:
            params, opt_state = state.params, state.opt_state
        new_state = RunState(params, opt_state, state.rng, state.iteration + 1, env_steps, streak)
        row: dict[str, float] = {
            "iteration": state.iteration,
            "env_steps": env_steps,
            "return_pre": res.returns[0],
            "return_post": res.returns[-1],
        }
        if cfg.inner_steps > 1:
            row.update({f"return_step_{k}": r for k, r in enumerate(res.returns)})
        row.update(success_columns(res.success_rates))
        row.update(
            time_sampling=res.time_sampling,
            time_processing=res.time_processing,
            time_adapt=res.time_adapt,
            time_update=time_update,
            time_iteration=time.perf_counter() - t_start,
            update_skipped=int(not finite),
        )
        for key, value in stats.items():
            row[key] = int(value) if value.dtype.kind in "iub" else float(np.mean(value))
        row["step_norm"] = step_norm(state.params, params)
        row["eta"] = self.kl_coef(new_state)
        return new_state, row

    def kl_coef(self, state: RunState) -> float:
        """The progress column ``eta``: ProMP's KL coefficient (paper's eta, config ``kl_coef``) after the
        update, mean over inner steps; the configured ``kl_coef`` for updates without a penalty (the
        column is kept for every algorithm so that all runs share it)."""
        if isinstance(state.opt_state, PenaltyState):
            return float(np.mean(state.opt_state.kl_coef))
        return float(self.cfg.kl_coef)
