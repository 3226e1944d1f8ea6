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
from .types import Params, Trajectories


class NonFiniteSampleError(RuntimeError):
    """A sampling round produced NaN/inf (an env's observation or reward, or the policy's output);
    the message names the env, the task and what was not finite."""


def check_finite_samples(env: MetaEnv, obs: np.ndarray, rewards: np.ndarray, actions: np.ndarray,
                         means: np.ndarray, log_stds: np.ndarray) -> None:
    """Raise ``NonFiniteSampleError`` if any buffer ``[H, B, ...]`` holds NaN/inf (does nothing otherwise)."""
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
        task_index = copy // max(env.copies_per_task, 1)
        task = env.tasks[task_index] if task_index < len(env.tasks) else None
        raise NonFiniteSampleError(
            f"non-finite {what} {source}: env {type(env).__name__}, task {task_index} {task}, time step {t}"
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

    ``params_per_task`` has a leading task axis matching ``env.tasks``; action noise and reset noise come
    from ``rng``, so a run is reproducible from the generator's state.
    """
    T, R = len(env.tasks), env.copies_per_task
    B, act_dim = T * R, env.act_dim
    obs_buf = np.zeros((horizon, B, env.obs_dim), np.float32)
    act_buf = np.zeros((horizon, B, act_dim), np.float32)
    mean_buf = np.zeros((horizon, B, act_dim), np.float32)
    std_buf = np.zeros((horizon, B, act_dim), np.float32)
    rew_buf = np.zeros((horizon, B), np.float64)
    mask_buf = np.zeros((horizon, B), np.float32)
    alive = np.ones(B, dtype=bool)
    params_per_task = host_params(params_per_task)
    obs = env.reset(rng)
    for t in range(horizon):
        noise = rng.standard_normal((T, R, act_dim)).astype(np.float32)
        action, mean, log_std = _act(params_per_task, obs.reshape(T, R, -1).astype(np.float32), noise, floor_log_std)
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

    check_finite_samples(env, obs_buf, rew_buf, act_buf, mean_buf, std_buf)

    def task_major(x: np.ndarray) -> np.ndarray:
        return np.moveaxis(x, 0, 1).reshape(T, R, horizon, *x.shape[2:])

    return Trajectories(
        obs=task_major(obs_buf),
        actions=task_major(act_buf),
        rewards=task_major(rew_buf),
        mask=task_major(mask_buf),
        means=task_major(mean_buf),
        log_stds=task_major(std_buf),
    )
