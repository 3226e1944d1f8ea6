"""Batched closed-loop sampling: one jitted policy call per time step for all env copies.

Every copy runs one episode of ``horizon`` steps. A copy whose env reports ``done`` is masked for
the rest of the episode, so arrays keep the fixed shape ``[task, rollout, time, ...]``. (The
original sampler instead starts new episodes until a step budget is met; with fixed-length tasks
both give the same data.) The sampling distribution (mean, log-std) is stored per step; it is the
"old" distribution of every likelihood ratio (docs/algorithms.md §2, §4.6). An env that reports
success flags (``MetaEnv.reports_success``) has them recorded too, masked like the rewards
(``Trajectories.success``).
"""

from __future__ import annotations

import functools
import os

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
    part = RoundPart(env, params_per_task, horizon, seeds, floor_log_std, first)
    for _ in range(horizon):
        part.step(part.act())
        if not part.alive.any():
            break
    return part.trajectories()


def sample_overlapped(
    envs: tuple[MetaEnv, MetaEnv], params_per_task: Params, horizon: int, seeds: np.ndarray, floor_log_std: bool = False
) -> Trajectories:
    """One round on two envs that hold consecutive slices of its tasks (``envs[0]`` the first
    ``len(envs[0].tasks)``), stepped in turn: the policy call for one env's copies is dispatched
    (JAX computes it on its own threads) before the other env steps its physics, so the policy
    runs while MuJoCo does. The arrays equal ``sample_with_seeds`` on one env holding all the tasks,
    bit for bit: every task draws from its own streams (``sample_with_seeds``) and the policy is the
    same per-task computation."""
    n0 = len(envs[0].tasks)
    head = jax.tree_util.tree_map(lambda x: x[:n0], params_per_task)
    tail = jax.tree_util.tree_map(lambda x: x[n0:], params_per_task)
    parts = (RoundPart(envs[0], head, horizon, seeds, floor_log_std, 0),
             RoundPart(envs[1], tail, horizon, seeds, floor_log_std, n0))
    ahead = parts[0].act()
    for t in range(horizon):  # both parts step t while a copy of either is alive, as one env would
        behind = parts[1].act()  # dispatched: computed while part 0 steps
        parts[0].step(ahead)
        ahead = parts[0].act() if t + 1 < horizon else None  # computed while part 1 steps (unused after the last step)
        parts[1].step(behind)
        if not (parts[0].alive.any() or parts[1].alive.any()):
            break
    return Trajectories.concatenate([parts[0].trajectories(), parts[1].trajectories()])


class RoundPart:
    """One env's part of a sampling round (its tasks are tasks ``first, first + 1, ...`` of the round):
    the reset, the recorded buffers ``[horizon, copies, ...]``, and one env step at a time. The caller
    stops stepping when no copy of the round is alive (``alive``) or at the horizon."""

    def __init__(self, env: MetaEnv, params_per_task: Params, horizon: int, seeds: np.ndarray,
                 floor_log_std: bool = False, first: int = 0) -> None:
        T, R = len(env.tasks), env.copies_per_task
        B, act_dim = T * R, env.act_dim
        seeds = np.asarray(seeds, dtype=np.int64)
        if not 0 <= first <= first + T <= len(seeds):
            raise ValueError(f"tasks {first}..{first + T - 1} are not in a round of {len(seeds)} seeds")
        streams = task_streams(seeds[first:first + T])
        shared = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(s) for s in seeds])))
        self.env, self.tasks, self.copies, self.horizon, self.floor_log_std = env, T, R, horizon, floor_log_std
        self.obs_buf = np.zeros((horizon, B, env.obs_dim), np.float32)
        self.act_buf = np.zeros((horizon, B, act_dim), np.float32)
        self.mean_buf = np.zeros((horizon, B, act_dim), np.float32)
        self.std_buf = np.zeros((horizon, B, act_dim), np.float32)
        self.rew_buf = np.zeros((horizon, B), np.float64)
        self.mask_buf = np.zeros((horizon, B), np.float32)
        self.success_buf = np.zeros((horizon, B), np.float32) if getattr(env, "reports_success", False) else None
        self.alive = np.ones(B, dtype=bool)
        self.params = host_params(params_per_task)
        self.obs = env.reset(TaskStreams(streams, R, shared))
        self.noise = np.stack([s.standard_normal((horizon, R, act_dim)).astype(np.float32) for s in streams], axis=1)  # [H, T, R, A]
        self.t = 0

    def act(self) -> tuple[jax.Array, jax.Array, jax.Array]:
        """The policy's ``(action, mean, log_std)`` at the current observations (a JAX call, dispatched
        asynchronously)."""
        obs = self.obs.reshape(self.tasks, self.copies, -1).astype(np.float32)
        return _act(self.params, obs, self.noise[self.t], self.floor_log_std)

    def step(self, policy_out: tuple[jax.Array, jax.Array, jax.Array]) -> None:
        """Record time step ``t`` with ``act()``'s output, step the env (and record its success flags if it
        reports them), and mask copies that are done."""
        t, B, act_dim = self.t, self.tasks * self.copies, self.env.act_dim
        action, mean, log_std = policy_out
        action = np.asarray(action).reshape(B, act_dim)
        self.obs_buf[t], self.act_buf[t] = self.obs, action
        self.mean_buf[t] = np.asarray(mean).reshape(B, act_dim)
        self.std_buf[t] = np.asarray(log_std).reshape(B, act_dim)
        self.mask_buf[t] = self.alive
        obs, reward, done = self.env.step(action)
        self.rew_buf[t] = np.where(self.alive, reward, 0.0)
        if self.success_buf is not None:
            success = np.asarray(self.env.step_success(), dtype=bool)
            if success.shape != (B,):
                raise ValueError(f"{type(self.env).__name__}.step_success() has shape {success.shape}, expected ({B},)")
            self.success_buf[t] = self.alive & success
        self.alive &= ~np.asarray(done, dtype=bool)
        self.obs = np.where(self.alive[:, None], obs, 0.0)  # keep dead copies' (possibly non-finite) state out
        self.t = t + 1

    def trajectories(self) -> Trajectories:
        """The recorded round, task-major ``[task, rollout, time, ...]``."""
        T, R, H = self.tasks, self.copies, self.horizon

        def task_major(x: np.ndarray) -> np.ndarray:  # contiguous: sums over time then add up in one order everywhere
            return np.ascontiguousarray(np.moveaxis(x, 0, 1).reshape(T, R, H, *x.shape[2:]))

        return Trajectories(
            obs=task_major(self.obs_buf),
            actions=task_major(self.act_buf),
            rewards=task_major(self.rew_buf),
            mask=task_major(self.mask_buf),
            means=task_major(self.mean_buf),
            log_stds=task_major(self.std_buf),
            success=None if self.success_buf is None else task_major(self.success_buf),
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

    With a ``twin`` (a second instance of the same env) a round of two or more tasks is split in
    two halves stepped in turn (``sample_overlapped``), so the policy runs while MuJoCo steps; the
    numbers are the same bit for bit (``PROMP_SAMPLER_OVERLAP=1`` turns it on, ``overlap_requested``).

    A sampler has ``set_tasks(tasks, copies_per_task)``, ``sample(params_per_task, horizon, rng,
    floor_log_std) -> Trajectories`` and ``close()``; ``promp.distributed.RaySampler`` is the other.
    """

    def __init__(self, env: MetaEnv, twin: MetaEnv | None = None) -> None:
        self.env = env
        self.twin = twin
        self.tasks: list = []

    def set_tasks(self, tasks: list, copies_per_task: int) -> None:
        """Give the env the round's tasks (copy ``j`` runs task ``j // copies_per_task``); with a twin,
        the first half to the env and the rest to the twin."""
        self.tasks = list(tasks)
        if self.twin is not None and len(tasks) > 1:
            half = (len(tasks) + 1) // 2
            self.env.set_tasks(tasks[:half], copies_per_task)
            self.twin.set_tasks(tasks[half:], copies_per_task)
        else:
            self.env.set_tasks(tasks, copies_per_task)

    def sample(self, params_per_task: Params, horizon: int, rng: np.random.Generator, floor_log_std: bool = False) -> Trajectories:
        """One sampling round of the tasks set last (see ``sample_trajectories``)."""
        if self.twin is None or len(self.tasks) < 2:
            return sample_trajectories(self.env, params_per_task, horizon, rng, floor_log_std)
        seeds = task_seeds(rng, len(self.tasks))
        traj = sample_overlapped((self.env, self.twin), params_per_task, horizon, seeds, floor_log_std)
        check_finite_trajectories(type(self.env).__name__, self.tasks, traj)
        return traj

    def close(self) -> None:
        """Close the twin (the env belongs to the learner)."""
        if self.twin is not None:
            self.twin.close()
            self.twin = None


def overlap_requested() -> bool:
    """Whether ``PROMP_SAMPLER_OVERLAP`` asks for the overlapped in-process sampler (``1``/``true``/``on``)."""
    return os.environ.get("PROMP_SAMPLER_OVERLAP", "").strip().lower() in {"1", "true", "on", "yes"}
