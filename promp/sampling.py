"""Batched closed-loop sampling: one jitted policy call per time step for all env copies.

Every copy runs one episode of ``horizon`` steps. A copy whose env reports ``done`` is masked for
the rest of the episode, so arrays keep the fixed shape ``[task, rollout, time, ...]``. (The
original sampler instead starts new episodes until a step budget is met; with fixed-length tasks
both give the same data.) The sampling distribution (mean, log-std) is stored per step; it is the
"old" distribution of every likelihood ratio (docs/algorithms.md §2, §4.6).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .envs.base import MetaEnv
from .policy import distribution, sample_action
from .streams import TaskStreams, task_seeds, task_streams
from .types import Params, Trajectories


class NonFiniteSampleError(RuntimeError):
    """A sampling round produced NaN/inf (an env's observation or reward, or the policy's output);
    the message names the env, the task and what was not finite."""


def check_finite_samples(env: MetaEnv, obs: np.ndarray, rewards: np.ndarray, actions: np.ndarray,
                         means: np.ndarray, log_stds: np.ndarray) -> None:
    """Raise ``NonFiniteSampleError`` if any buffer ``[H, B, ...]`` holds NaN/inf (does nothing otherwise)."""
    _check_finite(type(env).__name__, env.tasks, env.copies_per_task, obs, rewards, actions, means, log_stds)


def _check_finite(env_name: str, tasks: list, copies_per_task: int, obs: np.ndarray, rewards: np.ndarray,
                  actions: np.ndarray, means: np.ndarray, log_stds: np.ndarray) -> None:
    checks = (("observation", obs, "from the env"), ("reward", rewards, "from the env"),
              ("action mean", means, "from the policy (non-finite parameters)"),
              ("action log-std", log_stds, "from the policy (non-finite parameters)"),
              ("action", actions, "from the policy (its standard deviation overflows)"))
    for what, buf, source in checks:
        finite = np.isfinite(buf)
        if finite.all():
            continue
        bad = ~finite.reshape(buf.shape[0], buf.shape[1], -1).all(-1)  # [H, B]
        t, copy = (int(i[0]) for i in np.nonzero(bad))
        task_index = copy // max(copies_per_task, 1)
        task = tasks[task_index] if task_index < len(tasks) else None
        raise NonFiniteSampleError(
            f"non-finite {what} {source}: env {env_name}, task {task_index} {task}, time step {t}"
        )


@functools.partial(jax.jit, static_argnames="floor_log_std")
def _act(params_per_task: Params, obs: jax.Array, noise: jax.Array, floor_log_std: bool):
    """Actions for ``obs[T, R, obs_dim]`` with per-task params (leading axis T)."""
    mean, log_std = jax.vmap(lambda p, o: distribution(p, o, floor_log_std))(params_per_task, obs)
    return sample_action(mean, log_std, noise), mean, log_std


def host_params(params_per_task: Params) -> Params:
    """``params_per_task`` on the host CPU: the per-step policy call stays off an accelerator, where each
    step's host round trip would cost more than the tiny MLP (the learner still uses the accelerator)."""
    cpu = jax.devices("cpu")[0]
    return jax.device_put(params_per_task, cpu)


def broadcast_params(params: Params, num_tasks: int) -> Params:
    """Stack ``num_tasks`` copies of ``params`` along a new leading axis."""
    return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (num_tasks, *x.shape)), params)


def sample_trajectories(
    env: MetaEnv,
    params_per_task: Params,
    horizon: int,
    rng: np.random.Generator,
    floor_log_std: bool = False,
) -> Trajectories:
    """Run every copy of ``env`` (tasks already set) for ``horizon`` steps with per-task params.

    ``params_per_task`` has a leading task axis matching ``env.tasks``. One seed per task is drawn from
    ``rng`` (``promp.streams.task_seeds``) and each task's reset and action noise come from its own
    stream, so a run is reproducible from the generator's state and the numbers do not depend on
    how the tasks are split between processes (``sample_with_seeds``).
    """
    seeds = task_seeds(rng, len(env.tasks))
    traj = sample_with_seeds(env, params_per_task, horizon, seeds, floor_log_std)
    check_finite_trajectories(type(env).__name__, env.tasks, traj)
    return traj


def sample_with_seeds(
    env: MetaEnv,
    params_per_task: Params,
    horizon: int,
    seeds: np.ndarray,
    floor_log_std: bool = False,
    first: int = 0,
) -> Trajectories:
    """Sample the tasks ``env.tasks`` (tasks ``first, first + 1, ...`` of a round whose per-task seeds
    are ``seeds``) with per-task params ``params_per_task``; no finiteness check (the caller's).

    Task ``i`` of the round draws its copies' reset noise, then its action noise for the whole
    horizon (``[horizon, copies_per_task, act_dim]``), from ``task_streams(seeds)[i]``; draws that
    are not one row per copy come from a stream shared by the round (``TaskStreams``). The result
    for a task is the same in any slice of the round.
    """
    T, R = len(env.tasks), env.copies_per_task
    B, act_dim = T * R, env.act_dim
    seeds = np.asarray(seeds, dtype=np.int64)
    if not 0 <= first <= first + T <= len(seeds):
        raise ValueError(f"tasks {first}..{first + T - 1} are not in a round of {len(seeds)} seeds")
    streams = task_streams(seeds[first:first + T])
    shared = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(s) for s in seeds])))
    obs_buf = np.zeros((horizon, B, env.obs_dim), np.float32)
    act_buf = np.zeros((horizon, B, act_dim), np.float32)
    mean_buf = np.zeros((horizon, B, act_dim), np.float32)
    std_buf = np.zeros((horizon, B, act_dim), np.float32)
    rew_buf = np.zeros((horizon, B), np.float64)
    mask_buf = np.zeros((horizon, B), np.float32)
    alive = np.ones(B, dtype=bool)
    params_per_task = host_params(params_per_task)
    obs = env.reset(TaskStreams(streams, R, shared))
    noise_all = np.stack([s.standard_normal((horizon, R, act_dim)).astype(np.float32) for s in streams], axis=1)  # [H, T, R, A]
    for t in range(horizon):
        action, mean, log_std = _act(params_per_task, obs.reshape(T, R, -1).astype(np.float32), noise_all[t], floor_log_std)
        action = np.asarray(action).reshape(B, act_dim)
        obs_buf[t], act_buf[t] = obs, action
        mean_buf[t] = np.asarray(mean).reshape(B, act_dim)
        std_buf[t] = np.asarray(log_std).reshape(B, act_dim)
        mask_buf[t] = alive
        obs, reward, done = env.step(action)
        rew_buf[t] = np.where(alive, reward, 0.0)
        alive &= ~np.asarray(done, dtype=bool)
        obs = np.where(alive[:, None], obs, 0.0)  # keep dead copies' (possibly non-finite) state out
        if not alive.any():
            break

    def task_major(x: np.ndarray) -> np.ndarray:  # contiguous: sums over time then add up in one order everywhere
        return np.ascontiguousarray(np.moveaxis(x, 0, 1).reshape(T, R, horizon, *x.shape[2:]))

    return Trajectories(
        obs=task_major(obs_buf),
        actions=task_major(act_buf),
        rewards=task_major(rew_buf),
        mask=task_major(mask_buf),
        means=task_major(mean_buf),
        log_stds=task_major(std_buf),
    )


def check_finite_trajectories(env_name: str, tasks: list, traj: Trajectories) -> None:
    """Raise ``NonFiniteSampleError`` (naming the env, the task and the time step) if the task-major
    trajectories of ``tasks`` hold NaN/inf."""
    T, R, H = traj.mask.shape

    def time_major(x: np.ndarray) -> np.ndarray:
        return np.moveaxis(x.reshape(T * R, H, *x.shape[3:]), 1, 0)

    _check_finite(env_name, tasks, R, time_major(traj.obs), time_major(traj.rewards), time_major(traj.actions),
                  time_major(traj.means), time_major(traj.log_stds))


class LocalSampler:
    """The in-process sampler: every copy stepped in this process (``sample_trajectories``).

    A sampler has ``set_tasks(tasks, copies_per_task)``, ``sample(params_per_task, horizon, rng,
    floor_log_std) -> Trajectories`` and ``close()``; ``promp.distributed.RaySampler`` is the other.
    """

    def __init__(self, env: MetaEnv) -> None:
        self.env = env

    def set_tasks(self, tasks: list, copies_per_task: int) -> None:
        """Give the env the round's tasks (copy ``j`` runs task ``j // copies_per_task``)."""
        self.env.set_tasks(tasks, copies_per_task)

    def sample(self, params_per_task: Params, horizon: int, rng: np.random.Generator, floor_log_std: bool = False) -> Trajectories:
        """One sampling round of the tasks set last (see ``sample_trajectories``)."""
        return sample_trajectories(self.env, params_per_task, horizon, rng, floor_log_std)

    def close(self) -> None:
        """Nothing to release (the env belongs to the learner)."""
