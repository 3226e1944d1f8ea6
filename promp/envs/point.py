"""2-D point meta-environments (docs/algorithms.md §7.2), pure numpy and batched over copies.

* ``PointCorner`` -- ``MetaPointEnvCorner``: goal one of the four corners (+-2, +-2); obs (x, y);
  ``x += clip(a, +-0.2)``; sparse progress reward inside the goal's region.
* ``PointMomentum`` -- ``MetaPointEnvMomentum``, the paper's exploration env: obs (x, y, vx, vy);
  ``v += clip(a, +-0.1)``, ``x += v``; reward ``max(2 - |x - goal|, 0)`` (``sparse``).
* ``PointNav`` -- MAML's 2-D navigation: goal uniform in [-0.5, 0.5]^2, start at the origin,
  ``x += clip(a, +-0.1)``, reward ``-|x - goal|``; an episode ends when both coordinates are
  within 0.01 of the goal (as in MAML's original point env).
"""

from __future__ import annotations

import numpy as np

from .base import MetaEnv, StepResult, Task

CORNERS = np.array([[-2.0, -2.0], [2.0, -2.0], [-2.0, 2.0], [2.0, 2.0]])


def _corner_task(task: Task) -> Task:
    goal = np.asarray(task.get("goal"), dtype=np.float64)
    if goal.shape != (2,) or not np.any(np.all(np.isclose(CORNERS, goal), axis=1)):
        raise ValueError(f"task goal must be one of the corners {CORNERS.tolist()}, got {task.get('goal')!r}")
    return {"goal": goal.tolist()}


class PointCorner(MetaEnv):
    """MetaPointEnvCorner: reach one of four corner goals; sparse progress reward (docs/algorithms.md §7.2)."""

    obs_dim = 2
    act_dim = 2
    action_low = np.full(2, -0.2)
    action_high = np.full(2, 0.2)

    def __init__(self, reward_type: str = "sparse", sparse_radius: float = 0.5) -> None:
        super().__init__()
        if reward_type not in ("sparse", "dense"):
            raise ValueError(f"reward_type must be 'sparse' or 'dense', got {reward_type!r}")
        self.reward_type = reward_type
        self.sparse_radius = sparse_radius
        self.pos = np.zeros((0, 2))

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Goals drawn uniformly from the four corners."""
        return [{"goal": CORNERS[i].tolist()} for i in rng.integers(0, 4, size=n)]

    def validate_task(self, task: Task) -> Task:
        return _corner_task(task)

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        self.goal = self.task_array("goal")
        self.pos = rng.uniform(-0.2, 0.2, size=(self.num_copies, 2))
        return self.pos.copy()

    def _step(self, action: np.ndarray) -> StepResult:
        prev = self.pos
        self.pos = prev + action
        dist_next = np.linalg.norm(self.pos - self.goal, axis=-1)
        if self.reward_type == "dense":
            reward = -dist_next
        else:
            dist_corners = np.linalg.norm(self.pos[:, None, :] - CORNERS[None], axis=-1)  # [B, 4]
            closest = CORNERS[np.argmin(dist_corners, axis=-1)]
            goal_is_closest = np.all(closest == self.goal, axis=-1)
            progress = np.linalg.norm(prev - self.goal, axis=-1) - dist_next
            outside = np.abs(self.pos).sum(-1) >= self.sparse_radius
            reward = np.where(outside & goal_is_closest, progress, 0.0)
        return StepResult(self.pos.copy(), reward, np.zeros(self.num_copies, dtype=bool))


class PointMomentum(MetaEnv):
    """MetaPointEnvMomentum: a point with momentum, four corner goals (docs/algorithms.md §7.2)."""

    obs_dim = 4
    act_dim = 2
    action_low = np.full(2, -0.1)
    action_high = np.full(2, 0.1)

    def __init__(self, reward_type: str = "sparse", sparse_radius: float = 2.0) -> None:
        super().__init__()
        if reward_type not in ("sparse", "dense", "dense_squared"):
            raise ValueError(f"reward_type must be sparse, dense or dense_squared, got {reward_type!r}")
        self.reward_type = reward_type
        self.sparse_radius = sparse_radius

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Goals drawn uniformly from the four corners."""
        return [{"goal": CORNERS[i].tolist()} for i in rng.integers(0, 4, size=n)]

    def validate_task(self, task: Task) -> Task:
        return _corner_task(task)

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        self.goal = self.task_array("goal")
        self.pos = rng.uniform(-0.2, 0.2, size=(self.num_copies, 2))
        self.vel = rng.uniform(-0.1, 0.1, size=(self.num_copies, 2))
        return np.concatenate([self.pos, self.vel], axis=-1)

    def _step(self, action: np.ndarray) -> StepResult:
        self.vel = self.vel + action
        self.pos = self.pos + self.vel
        dist = np.linalg.norm(self.pos - self.goal, axis=-1)
        if self.reward_type == "sparse":
            reward = np.maximum(self.sparse_radius - dist, 0.0)
        elif self.reward_type == "dense":
            reward = -dist
        else:
            reward = -(dist**2)
        obs = np.concatenate([self.pos, self.vel], axis=-1)
        return StepResult(obs, reward, np.zeros(self.num_copies, dtype=bool))


class PointNav(MetaEnv):
    """MAML's 2-D navigation task: goal uniform in [-0.5, 0.5]^2, reward minus distance to the goal."""

    obs_dim = 2
    act_dim = 2
    action_low = np.full(2, -0.1)
    action_high = np.full(2, 0.1)
    goal_tolerance = 0.01

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Goals uniform in the square [-0.5, 0.5]^2."""
        return [{"goal": g.tolist()} for g in rng.uniform(-0.5, 0.5, size=(n, 2))]

    def validate_task(self, task: Task) -> Task:
        goal = np.asarray(task.get("goal"), dtype=np.float64)
        if goal.shape != (2,) or not np.all(np.isfinite(goal)):
            raise ValueError(f"point-nav task needs a finite 2-D 'goal', got {task.get('goal')!r}")
        return {"goal": goal.tolist()}

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        self.goal = self.task_array("goal")
        self.pos = np.zeros((self.num_copies, 2))
        return self.pos.copy()

    def _step(self, action: np.ndarray) -> StepResult:
        self.pos = self.pos + action
        delta = self.pos - self.goal
        reward = -np.linalg.norm(delta, axis=-1)
        done = np.all(np.abs(delta) < self.goal_tolerance, axis=-1)
        return StepResult(self.pos.copy(), reward, done)
