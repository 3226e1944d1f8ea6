"""A single copy of a meta-env as a standard ``gymnasium.Env`` (``gymnasium.make("promp/point-corner-v0")``).

The wrapper runs one task at a time. Choose it with ``env.unwrapped.set_task(task)`` or
``reset(options={"task": task})``; ``env.unwrapped.sample_tasks(n)`` draws tasks with the env's
own RNG. Like the batched env it takes actions in policy units, ``[-10, 10]^d``. An env that reports
success flags (``MetaEnv.reports_success``) gives each step's in ``info["success"]`` (1.0 or 0.0, as Meta-World).
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium
import numpy as np

from ..types import Task
from .base import POLICY_ACTION_BOUND
from .registry import get_env_spec, make_env


class SingleTaskEnv(gymnasium.Env):
    """One copy of the meta-env ``env_id`` with the gymnasium API; see the module docstring."""

    metadata = {"render_modes": []}

    def __init__(self, env_id: str, task: Task | None = None, **env_kwargs: Any) -> None:
        self.meta_env = make_env(env_id, **env_kwargs)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (self.meta_env.obs_dim,), np.float64)
        bound = np.full(self.meta_env.act_dim, POLICY_ACTION_BOUND)
        self.action_space = gymnasium.spaces.Box(-bound, bound, dtype=np.float64)
        self._task = task

    def sample_tasks(self, n: int) -> list[Task]:
        """Draw ``n`` tasks with this env's RNG."""
        return self.meta_env.sample_tasks(self.np_random, n)

    def set_task(self, task: Task) -> None:
        """Use ``task`` from the next reset on."""
        self._task = task

    def get_task(self) -> Task | None:
        """A copy of the current task (``None`` until one is set or sampled)."""
        return copy.deepcopy(self._task)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "task" in options:
            self._task = options["task"]
        if self._task is None:
            self._task = self.sample_tasks(1)[0]
        self.meta_env.set_tasks([self._task], 1)
        obs = self.meta_env.reset(self.np_random)
        return obs[0], {"task": copy.deepcopy(self._task)}

    def step(self, action):
        obs, reward, done = self.meta_env.step(np.asarray(action, dtype=np.float64)[None])
        info = {"success": float(self.meta_env.step_success()[0])} if self.meta_env.reports_success else {}  # as metaworld's info
        return obs[0], float(reward[0]), bool(done[0]), False, info

    def close(self) -> None:
        self.meta_env.close()


def make_single_task_env(env_id: str, **kwargs: Any) -> gymnasium.Env:
    """The gymnasium entry point of ``promp/<env_id>-v0``: a ``SingleTaskEnv`` whose episodes are
    truncated at the env's preset horizon (``defaults["horizon"]``, else 100), as in training."""
    horizon = int(get_env_spec(env_id).defaults.get("horizon", 100))
    return gymnasium.wrappers.TimeLimit(SingleTaskEnv(env_id, **kwargs), max_episode_steps=horizon)


__all__ = ["SingleTaskEnv", "make_single_task_env"]
