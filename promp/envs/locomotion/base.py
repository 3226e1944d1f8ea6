"""The batched MuJoCo meta-env: ``tasks x copies_per_task`` copies of one model stepped together on
``mujoco_batch.BatchSim``; a robot module says what is observed and when an episode ends, a task
distribution (``tasks.py``) what is rewarded."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..base import MetaEnv, StepResult, Task
from ..mujoco_batch import BatchSim, load_model


class MujocoMetaEnv(MetaEnv):
    """Shared machinery of the batched MuJoCo meta-envs; subclasses define the task and reward.

    Class attributes: ``xml`` (gymnasium asset), ``frame_skip``, ``timestep`` (``None`` keeps the
    XML's), ``contact_forces`` (fill ``cfrc_ext``), ``qpos_noise``/``qvel_noise``
    (``("uniform", c)`` adds U(-c, c), ``("normal", c)`` adds c * N(0, 1)) and ``fields`` (derived
    MjData fields the observation or reward reads).
    """

    one_batched_model = True
    xml: str
    frame_skip: int
    timestep: float | None = None
    contact_forces: bool = False
    qpos_noise: tuple[str, float] = ("uniform", 0.1)
    qvel_noise: tuple[str, float] = ("normal", 0.1)
    fields: tuple[str, ...] = ()
    ctrl_limit: float = 1.0  # the actuators' symmetric control range in gymnasium's XML

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "act_dim" in cls.__dict__ or "ctrl_limit" in cls.__dict__:
            cls.action_low = np.full(cls.act_dim, -cls.ctrl_limit)
            cls.action_high = np.full(cls.act_dim, cls.ctrl_limit)

    def __init__(self, nthread: int | None = None) -> None:
        """Compile the model; ``nthread`` MuJoCo C threads (default ``mujoco_batch.default_threads()``)."""
        super().__init__()
        self.model = load_model(self.xml, timestep=self.timestep, contact_forces=self.contact_forces)
        if self.model.nu != self.act_dim:
            raise RuntimeError(f"{self.xml}: expected {self.act_dim} actuators, model has {self.model.nu}")
        low, high = self.model.actuator_ctrlrange[:, 0], self.model.actuator_ctrlrange[:, 1]
        if not (np.array_equal(low, self.action_low) and np.array_equal(high, self.action_high)):
            raise RuntimeError(f"{self.xml}: control range {low}..{high} differs from the class's bounds")
        self.dt = float(self.model.opt.timestep) * self.frame_skip
        self.nthread = nthread
        self.sim: BatchSim | None = None
        self._done = np.zeros(0, dtype=bool)
        self._needs_reset = True

    # ----------------------------------------------------------------------------------- tasks
    def set_tasks(self, tasks: Sequence[Task], copies_per_task: int) -> None:
        """Allocate the copies (reusing the batch if its size is unchanged) and apply the tasks."""
        super().set_tasks(tasks, copies_per_task)
        if self.sim is None or self.sim.nsim != self.num_copies:
            if self.sim is not None:
                self.sim.close()
            self.sim = BatchSim(self.model, self.num_copies, self.frame_skip, self.nthread, self.fields)
        self._apply_tasks()
        self._needs_reset = True

    def _apply_tasks(self) -> None:
        """Cache per-copy task arrays (and, for physics tasks, write the model); override."""

    def _require_sim(self) -> BatchSim:
        if self.sim is None:
            raise RuntimeError(f"{type(self).__name__}: call set_tasks(tasks, copies_per_task) before reset/step")
        return self.sim

    # --------------------------------------------------------------------------------- dynamics
    def _noise(self, rng: np.random.Generator, kind: tuple[str, float], shape: tuple[int, int]) -> np.ndarray:
        name, scale = kind
        if name == "uniform":
            return rng.uniform(-scale, scale, size=shape)
        return scale * rng.standard_normal(size=shape)

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Reset every copy to the initial pose plus the reset noise of docs/algorithms.md §7.3, drawn from ``rng``."""
        sim = self._require_sim()
        n, m = self.num_copies, self.model
        qpos = m.qpos0[None] + self._noise(rng, self.qpos_noise, (n, m.nq))
        qvel = self._noise(rng, self.qvel_noise, (n, m.nv))
        sim.set_state(qpos, qvel)
        self._done = np.zeros(n, dtype=bool)
        self._needs_reset = False
        return self._finite(self._obs())

    def _step(self, action: np.ndarray) -> StepResult:
        sim = self._require_sim()
        if self._needs_reset:
            raise RuntimeError(f"{type(self).__name__}: call reset(rng) after set_tasks and before step")
        was_done = self._done
        before = self._position()
        sim.ctrl[:] = action
        if not was_done.any():
            sim.step()
        elif not was_done.all():
            sim.step(np.flatnonzero(~was_done))
        after = self._position()
        reward = self._reward(before, after, action)
        reward = np.where(was_done, 0.0, reward)
        if not np.isfinite(reward).all():
            reward = np.nan_to_num(reward, nan=0.0, posinf=0.0, neginf=0.0)
        self._done = was_done | self._terminated()
        return StepResult(self._finite(self._obs()), reward, self._done.copy())

    @staticmethod
    def _finite(obs: np.ndarray) -> np.ndarray:
        if not np.isfinite(obs).all():
            obs = np.nan_to_num(obs, nan=0.0, posinf=0.0, neginf=0.0)
        return obs

    # ------------------------------------------------------------------ per-env definitions
    def _position(self) -> np.ndarray:
        """The coordinate(s) whose change drives the reward, copied (default: root x, ``qpos[0]``)."""
        return self._require_sim().qpos[:, 0].copy()

    def _reward(self, before: np.ndarray, after: np.ndarray, action: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _terminated(self) -> np.ndarray:
        """Termination flags of the current state (default: never)."""
        return np.zeros(self.num_copies, dtype=bool)

    def _obs(self) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        """Release the batch and its threads."""
        if self.sim is not None:
            self.sim.close()
            self.sim = None
