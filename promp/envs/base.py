"""The meta-task protocol: a batch of environment copies, tasks x copies-per-task, stepped together.

A meta-environment draws tasks with an explicit ``numpy.random.Generator``, is given a list of
tasks and a number of copies per task (copy ``j`` belongs to task ``j // copies_per_task``), and
then resets and steps all copies at once with arrays:

    env = PointCorner()
    tasks = env.sample_tasks(rng, 40)          # list of JSON-able dicts
    env.set_tasks(tasks, copies_per_task=20)   # 800 copies
    obs = env.reset(rng)                       # [800, obs_dim]
    obs, reward, done = env.step(actions)      # actions in policy units, [800, act_dim]

An env with a success criterion (Meta-World's) also says, after every step, which copies met it: it
sets ``reports_success = True`` and ``step_success()`` returns the flags of the last step (``[800]``
bool). The sampler then records them (``Trajectories.success``); an episode counts as a success if the
flag was set at any of its steps (``promp.processing.episode_success``). Envs without one need nothing.

Actions arrive in *policy units*: as in the original code's ``NormalizedEnv`` (docs/algorithms.md §7.1) the
policy acts in ``[-10, 10]^d`` and ``step`` maps that linearly onto the env's control box and clips.
Subclasses implement ``_step`` with actions already in env units.
"""

from __future__ import annotations

import abc
from typing import NamedTuple, Sequence

import numpy as np

from ..types import Task

POLICY_ACTION_BOUND = 10.0


def rescale_action(action: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Map a policy action in [-10, 10] onto [low, high] and clip (docs/algorithms.md §7.1, §9 fact 17)."""
    scaled = low + (action + POLICY_ACTION_BOUND) * (high - low) / (2.0 * POLICY_ACTION_BOUND)
    return np.clip(scaled, low, high)


class StepResult(NamedTuple):
    """What ``MetaEnv.step`` returns for all copies: observations, rewards and termination flags."""

    obs: np.ndarray  # [B, obs_dim]
    reward: np.ndarray  # [B]
    done: np.ndarray  # [B] bool; a done copy is ignored (masked) for the rest of the episode


class MetaEnv(abc.ABC):
    """Base class of batched meta-environments (see the module docstring for the protocol).

    Class attributes every subclass sets: ``obs_dim``, ``act_dim``, ``action_low`` and
    ``action_high`` (env units, shape ``[act_dim]``).
    """

    obs_dim: int
    act_dim: int
    action_low: np.ndarray
    action_high: np.ndarray
    reports_success: bool = False
    one_batched_model: bool = False
    """Whether the env steps copies of one MuJoCo model on ``mujoco_batch.BatchSim`` (``env.sim``,
    ``env.model``, ``env.frame_skip``), so that ``promp bench`` can measure its model's ``mj_step`` limit."""
    """Whether ``step_success`` gives per-copy success flags after each step (module docstring); the
    default, ``False``: the env has no success criterion and nothing about success is recorded."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.copies_per_task = 0

    @property
    def num_copies(self) -> int:
        """Number of environment copies currently allocated (tasks x copies per task)."""
        return len(self.tasks) * self.copies_per_task

    @abc.abstractmethod
    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Draw ``n`` tasks i.i.d. from the task distribution."""

    def set_tasks(self, tasks: Sequence[Task], copies_per_task: int) -> None:
        """Allocate ``len(tasks) * copies_per_task`` copies; copy j runs task ``j // copies_per_task``."""
        if len(tasks) == 0 or copies_per_task <= 0:
            raise ValueError("set_tasks needs at least one task and one copy per task")
        self.tasks = [self.validate_task(t) for t in tasks]
        self.copies_per_task = int(copies_per_task)

    def validate_task(self, task: Task) -> Task:
        """Check a user-supplied task and return it in canonical form (override to validate)."""
        return dict(task)

    def task_array(self, key: str) -> np.ndarray:
        """Per-copy array of the task field ``key``: shape ``[num_copies, ...]``."""
        values = np.asarray([t[key] for t in self.tasks], dtype=np.float64)
        return np.repeat(values, self.copies_per_task, axis=0)

    @abc.abstractmethod
    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Reset every copy; returns observations ``[num_copies, obs_dim]``.

        During sampling ``rng`` is a ``promp.streams.TaskStreams``: a draw with one row per copy
        (``size=(num_copies, ...)``) gives each task's copies numbers from that task's own stream,
        which keeps a run's numbers independent of how tasks are split between processes; draw
        per-copy noise that way.
        """

    def step(self, action: np.ndarray) -> StepResult:
        """Step every copy with policy-unit actions ``[num_copies, act_dim]``."""
        return self._step(rescale_action(np.asarray(action, dtype=np.float64), self.action_low, self.action_high))

    @abc.abstractmethod
    def _step(self, action: np.ndarray) -> StepResult:
        """Step every copy with actions already in env units."""

    def step_success(self) -> np.ndarray:
        """Success flags ``[num_copies]`` (bool) of the last ``step``: whether each copy met the task's
        success criterion at that step. The sampler calls it after every step of an env whose
        ``reports_success`` is true; such an env must override it."""
        raise NotImplementedError(f"{type(self).__name__} reports no success flags (reports_success is False)")

    def close(self) -> None:
        """Release resources (threads, worker processes); the default does nothing."""
