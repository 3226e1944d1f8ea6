"""Task distributions of the locomotion meta-envs, as mixins placed before a robot class: each samples
and validates its tasks and caches them per copy in ``_apply_tasks``. Direction (+-1 or a unit 2-D
vector), goal velocity, goal position (a disc), and physics parameters (rand_param_envs)."""

from __future__ import annotations

import numpy as np

from ..base import Task


def _direction_1d(task: Task) -> Task:
    d = task.get("direction")
    if d not in (-1, 1, -1.0, 1.0):
        raise ValueError(f"task 'direction' must be -1 or +1, got {d!r}")
    return {"direction": float(d)}


def _direction_2d(task: Task) -> Task:
    d = np.asarray(task.get("direction"), dtype=np.float64)
    if d.shape != (2,) or not np.all(np.isfinite(d)) or abs(np.linalg.norm(d) - 1.0) > 1e-6:
        raise ValueError(f"task 'direction' must be a 2-D unit vector, got {task.get('direction')!r}")
    return {"direction": d.tolist()}


def _sample_dir_1d(rng: np.random.Generator, n: int) -> list[Task]:
    return [{"direction": float(d)} for d in rng.choice([-1.0, 1.0], size=n)]


def _sample_dir_2d(rng: np.random.Generator, n: int) -> list[Task]:
    d = rng.standard_normal(size=(n, 2))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return [{"direction": v.tolist()} for v in d]


def _velocity_task(task: Task, low: float, high: float) -> Task:
    v = task.get("velocity")
    try:
        ok = np.ndim(v) == 0 and bool(np.isfinite(v)) and not isinstance(v, (bool, str))
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"task 'velocity' must be a finite number (training range [{low}, {high}]), got {v!r}")
    return {"velocity": float(v)}


class Direction1DTasks:
    """Tasks ``{"direction": +-1}`` with p = 1/2 each (docs/algorithms.md §7.3, the *RandDirec envs)."""

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Directions +-1, each with probability 1/2."""
        return _sample_dir_1d(rng, n)

    def validate_task(self, task: Task) -> Task:
        """Accept ``{"direction": +1 or -1}``."""
        return _direction_1d(task)

    def _apply_tasks(self) -> None:
        self._dir = self.task_array("direction")


class Direction2DTasks(Direction1DTasks):
    """Tasks ``{"direction": [dx, dy]}``, unit vectors with a uniform angle (the *RandDirec2D envs)."""

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Unit directions in the plane, uniform angle."""
        return _sample_dir_2d(rng, n)

    def validate_task(self, task: Task) -> Task:
        """Accept ``{"direction": [dx, dy]}``, a unit vector."""
        return _direction_2d(task)


class VelocityTasks:
    """Tasks ``{"velocity": v}`` with v uniform in ``[vel_low, vel_high]`` (the *RandVel envs)."""

    vel_low: float
    vel_high: float

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Goal velocities uniform in ``[vel_low, vel_high]``."""
        return [{"velocity": float(v)} for v in rng.uniform(self.vel_low, self.vel_high, size=n)]

    def validate_task(self, task: Task) -> Task:
        """Accept ``{"velocity": v}`` with a finite number v."""
        return _velocity_task(task, self.vel_low, self.vel_high)

    def _apply_tasks(self) -> None:
        self._vel = self.task_array("velocity")


class GoalTasks:
    """Tasks ``{"goal": [gx, gy]}`` uniform in the disc of radius ``goal_radius`` (AntGoal)."""

    goal_radius = 3.0

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Goals uniform in the disc of radius 3 around the origin."""
        angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
        radius = self.goal_radius * np.sqrt(rng.uniform(0.0, 1.0, size=n))
        goals = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        return [{"goal": g.tolist()} for g in goals]

    def validate_task(self, task: Task) -> Task:
        """Accept ``{"goal": [gx, gy]}`` with finite coordinates."""
        g = np.asarray(task.get("goal"), dtype=np.float64)
        if g.shape != (2,) or not np.all(np.isfinite(g)):
            raise ValueError(f"task 'goal' must be a finite 2-D point, got {task.get('goal')!r}")
        return {"goal": g.tolist()}

    def _apply_tasks(self) -> None:
        self._goal = self.task_array("goal")


class RandParamsTasks:
    """Tasks are physics parameters: per-element multipliers of the default model values.

    ``body_mass *= 1.5^U(-k, k)`` per body, ``body_inertia *= 1.5^U(-k, k)`` per element,
    ``dof_damping *= 1.3^U(-k, k)`` per dof, ``geom_friction *= 1.5^U(-k, k)`` per element, with
    ``k = log_scale_limit = 3``. A task stores the resulting absolute arrays, which ``set_tasks``
    writes into each copy's model (``mujoco.batch`` per-simulation fields), followed by
    ``mj_setConst`` so the derived constants (sub-tree masses, inverse weights) follow;
    ``default_task()`` restores the unmodified model. The physics settings of rand_param_envs'
    edited XMLs come with it (timestep 0.004, frame skip 4, reset noise U(-0.005, 0.005)), and the
    reward ``dx/dt + alive bonus - ctrl cost``; the robot gives termination and observation.
    """

    rand_params = ("body_mass", "body_inertia", "dof_damping", "geom_friction")
    bases = {"body_mass": 1.5, "body_inertia": 1.5, "dof_damping": 1.3, "geom_friction": 1.5}
    log_scale_limit = 3.0
    timestep = 0.004
    frame_skip = 4
    qpos_noise = ("uniform", 0.005)
    qvel_noise = ("uniform", 0.005)
    alive_bonus = 1.0
    ctrl_cost_coef = 1e-3

    def __init__(self, nthread: int | None = None) -> None:
        super().__init__(nthread)
        self.init_params = {name: getattr(self.model, name).copy() for name in self.rand_params}

    def default_task(self) -> Task:
        """The task with the model's default physics parameters."""
        return {name: val.tolist() for name, val in self.init_params.items()}

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Independent log-uniform multipliers per element of each randomised field."""
        tasks = []
        for _ in range(n):
            task = {}
            for name in self.rand_params:
                init = self.init_params[name]
                mult = self.bases[name] ** rng.uniform(-self.log_scale_limit, self.log_scale_limit, size=init.shape)
                task[name] = (init * mult).tolist()
            tasks.append(task)
        return tasks

    def validate_task(self, task: Task) -> Task:
        """Accept a dict of every randomised field with the model's shape, finite and non-negative."""
        out = {}
        for name in self.rand_params:
            if name not in task:
                raise ValueError(f"physics task is missing {name!r} (expected keys {list(self.rand_params)})")
            val = np.asarray(task[name], dtype=np.float64)
            shape = self.init_params[name].shape
            if val.shape != shape or not np.all(np.isfinite(val)) or np.any(val < 0):
                raise ValueError(f"task {name!r} must be a non-negative finite array of shape {shape}")
            out[name] = val.tolist()
        return out

    def _apply_tasks(self) -> None:
        sim = self._require_sim()
        sim.set_model_fields({name: self.task_array(name) for name in self.rand_params})

    def _reward(self, before, after, action):
        return (after - before) / self.dt + self.alive_bonus - self.ctrl_cost_coef * np.square(action).sum(1)
