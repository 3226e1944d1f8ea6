"""MuJoCo locomotion meta-environments of the paper (spec section 10), batched in C threads.

Every class steps all ``tasks x copies_per_task`` copies together with ``mujoco.batch.Batch``
(see ``mujoco_batch.py``) on gymnasium's model files, with the original code's task
distributions, rewards, termination rules, observations, frame skips and reset noise.

Common to all of them (spec sections 9-10):

* Actions arrive in policy units ``[-10, 10]^d`` and are mapped onto the actuators' control
  range by ``MetaEnv.step``; rewards use the mapped (clipped) action.
* ``dt = model.opt.timestep * frame_skip``; the env has no time limit of its own.
* ``done`` is sticky within an episode: a copy that terminated is frozen (no longer stepped,
  reward 0, observation held) until the next ``reset``; the sampler masks it anyway.
* Positions read from derived quantities (the Ant torso's ``xpos``, the Humanoid centre of mass
  from ``xipos``) have ``mj_step``'s one-substep lag, as ``sim.data`` had in the original envs.

What differs from the original and why (also in each class docstring):

* The simulator is MuJoCo 4 with gymnasium's XMLs instead of mujoco-py 1.50 (MuJoCo 1.50) with
  gym 0.10.5's XMLs (MuJoCo 1.31 with rand_param_envs' XMLs for the RandParams envs), because
  the old stacks no longer install. Trajectories are therefore not bit-identical to the paper's.
* ``cfrc_ext`` (Ant and Humanoid observations and contact costs) is computed through
  ``mj_rnePostConstraint`` in every forward pass, as MuJoCo 1.50 did; plain MuJoCo >= 2 leaves
  it at zero (spec 13 item 10).
* Reset noise is drawn from the ``rng`` passed to ``reset`` (the original used each env's
  unseeded ``np_random``), so runs are reproducible.
* The RandParams envs recompute derived model constants (``mj_setConst``) after writing the
  sampled masses and inertias; MuJoCo 1.31 in the original did not.
* ``SwimmerRandVel`` (unused in the paper) has its reward sign fixed.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .base import MetaEnv, StepResult, Task
from .mujoco_batch import BatchSim, load_model


class MujocoMetaEnv(MetaEnv):
    """Shared machinery of the batched MuJoCo meta-envs; subclasses define the task and reward.

    Class attributes: ``xml`` (gymnasium asset), ``frame_skip``, ``timestep`` (``None`` keeps the
    XML's), ``contact_forces`` (fill ``cfrc_ext``), ``qpos_noise``/``qvel_noise``
    (``("uniform", c)`` adds U(-c, c), ``("normal", c)`` adds c * N(0, 1)) and ``fields`` (derived
    MjData fields the observation or reward reads).
    """

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
        """Reset every copy to the initial pose plus the spec's reset noise, drawn from ``rng``."""
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


# ------------------------------------------------------------------------------ task helpers
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


# ------------------------------------------------------------------------------ HalfCheetah

class _Direction1DTasks:
    """Tasks ``{"direction": +-1}`` with p = 1/2 each (spec section 10, the *RandDirec envs)."""

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Directions +-1, each with probability 1/2."""
        return _sample_dir_1d(rng, n)

    def validate_task(self, task: Task) -> Task:
        """Accept ``{"direction": +1 or -1}``."""
        return _direction_1d(task)

    def _apply_tasks(self) -> None:
        self._dir = self.task_array("direction")


class _Direction2DTasks(_Direction1DTasks):
    """Tasks ``{"direction": [dx, dy]}``, unit vectors with a uniform angle (the *RandDirec2D envs)."""

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """Unit directions in the plane, uniform angle."""
        return _sample_dir_2d(rng, n)

    def validate_task(self, task: Task) -> Task:
        """Accept ``{"direction": [dx, dy]}``, a unit vector."""
        return _direction_2d(task)


class _VelocityTasks:
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


class _HalfCheetah(MujocoMetaEnv):
    xml = "half_cheetah.xml"
    frame_skip = 5
    obs_dim = 17
    act_dim = 6
    ctrl_cost_coef = 0.05

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 1:], sim.qvel], axis=1)


class HalfCheetahRandDirec(_Direction1DTasks, _HalfCheetah):
    """HalfCheetahFwdBack: run forward (+1) or backward (-1), each with probability 1/2.

    Reward ``dir * dx_root/dt - 0.05 |a|^2`` (dt 0.05, frame skip 5); never terminates; obs
    ``qpos[1:]`` (8) + ``qvel`` (9); reset noise qpos U(-0.1, 0.1), qvel 0.1 N(0, 1). The control
    cost 0.05 is the original's (gym's HalfCheetah uses 0.1). Differences from the original: the
    simulator and XML version and the seeded reset noise (module docstring).
    """

    def _reward(self, before, after, action):
        return self._dir * (after - before) / self.dt - self.ctrl_cost_coef * np.square(action).sum(1)


class HalfCheetahRandVel(_VelocityTasks, _HalfCheetah):
    """HalfCheetahVel: run at a goal velocity ~ U(0, 3).

    Reward ``-|dx/dt - v_goal| - 0.05 |a|^2``; otherwise as ``HalfCheetahRandDirec``. Not in the
    paper's figures (the original sweep used horizon 200). Differences: simulator/XML version and
    seeded reset noise.
    """

    vel_low, vel_high = 0.0, 3.0

    def _reward(self, before, after, action):
        return -np.abs((after - before) / self.dt - self._vel) - self.ctrl_cost_coef * np.square(action).sum(1)


# -------------------------------------------------------------------------------------- Ant
class _Ant(MujocoMetaEnv):
    xml = "ant.xml"
    frame_skip = 5
    contact_forces = True
    fields = ("xpos", "cfrc_ext")
    obs_dim = 111
    act_dim = 8
    torso = 1  # body id of the torso
    ctrl_cost_coef = 0.5
    contact_cost_coef = 0.5e-3
    survive_reward = 1.0

    def _position(self) -> np.ndarray:
        return self._require_sim().fields["xpos"][:, self.torso, :2].copy()

    def _contact_cost(self) -> np.ndarray:
        cfrc = self._require_sim().fields["cfrc_ext"].reshape(self.num_copies, -1)
        return self.contact_cost_coef * np.square(np.clip(cfrc, -1.0, 1.0)).sum(1)

    def _terminated(self) -> np.ndarray:
        sim = self._require_sim()
        finite = np.isfinite(sim.qpos).all(1) & np.isfinite(sim.qvel).all(1)
        z = sim.qpos[:, 2]
        return ~(finite & (z >= 0.0) & (z <= 1.0))

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        cfrc = np.clip(sim.fields["cfrc_ext"].reshape(self.num_copies, -1), -1.0, 1.0)
        return np.concatenate([sim.qpos[:, 2:], sim.qvel, cfrc], axis=1)


class AntRandDirec(_Direction1DTasks, _Ant):
    """AntFwdBack: run along +x or -x, each with probability 1/2.

    Reward ``dir * dx_torso/dt - 0.5 |a|^2 - 0.5e-3 |clip(cfrc_ext, -1, 1)|^2 + 1`` (dt 0.05);
    done when the state is non-finite or the torso height leaves [0, 1] (gym's Ant: [0.2, 1]);
    obs ``qpos[2:]`` (13) + ``qvel`` (14) + clipped ``cfrc_ext`` (84) = 111; reset noise qpos
    U(-0.1, 0.1), qvel 0.1 N(0, 1). Differences: ``cfrc_ext`` made non-zero on MuJoCo 4 through
    ``mj_rnePostConstraint`` (as MuJoCo 1.50 computed it), simulator/XML version, seeded noise.
    """

    def _reward(self, before, after, action):
        forward = self._dir * (after[:, 0] - before[:, 0]) / self.dt
        return forward - self.ctrl_cost_coef * np.square(action).sum(1) - self._contact_cost() + self.survive_reward


class AntRandDirec2D(_Direction2DTasks, _Ant):
    """AntRandDir: run along a unit direction in the xy-plane (uniform angle).

    Reward ``dir . d(x, y)_torso/dt - 0.5 |a|^2 - contact cost + 1``; termination, observation and
    reset noise as ``AntRandDirec``. Directions are normalised 2-D Gaussians as in the original.
    Differences: as ``AntRandDirec``.
    """

    def _reward(self, before, after, action):
        forward = np.sum(self._dir * (after - before), axis=1) / self.dt
        return forward - self.ctrl_cost_coef * np.square(action).sum(1) - self._contact_cost() + self.survive_reward


class AntRandGoal(_Ant):
    """AntRandGoal: walk to a goal drawn uniformly from the disc of radius 3.

    Reward ``-(|x - gx| + |y - gy|) - 0.1 |a|^2 - contact cost`` (L1 distance of the torso, no
    survive bonus); never terminates; obs full ``qpos`` (15) + ``qvel`` (14) + clipped
    ``cfrc_ext`` (84) = 113. Goal angle ~ U(0, 2 pi), radius ``3 sqrt(U(0, 1))``. The paper ran it
    with horizon 200 and two inner steps. Differences: as ``AntRandDirec``.
    """

    obs_dim = 113
    ctrl_cost_coef = 0.1
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

    def _reward(self, before, after, action):
        goal_reward = -np.abs(after - self._goal).sum(1)
        return goal_reward - self.ctrl_cost_coef * np.square(action).sum(1) - self._contact_cost()

    def _terminated(self) -> np.ndarray:
        return np.zeros(self.num_copies, dtype=bool)

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        cfrc = np.clip(sim.fields["cfrc_ext"].reshape(self.num_copies, -1), -1.0, 1.0)
        return np.concatenate([sim.qpos, sim.qvel, cfrc], axis=1)


# ------------------------------------------------------------------------------- Walker2D
class _Walker(MujocoMetaEnv):
    xml = "walker2d.xml"
    frame_skip = 8
    qpos_noise = ("uniform", 0.005)
    qvel_noise = ("uniform", 0.005)
    obs_dim = 17
    act_dim = 6
    alive_bonus = 1.0
    ctrl_cost_coef = 1e-3

    def _terminated(self) -> np.ndarray:
        qpos = self._require_sim().qpos
        height, ang = qpos[:, 1], qpos[:, 2]
        return ~((height > 0.8) & (height < 2.0) & (ang > -1.0) & (ang < 1.0))

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 1:], np.clip(sim.qvel, -10.0, 10.0)], axis=1)


class Walker2DRandDirec(_Direction1DTasks, _Walker):
    """WalkerFwdBack: walk forward (+1) or backward (-1).

    Reward ``dir * dx/dt + 1 - 1e-3 |a|^2``; done unless ``0.8 < z < 2`` and ``-1 < angle < 1``;
    obs ``qpos[1:]`` (8) + ``clip(qvel, -10, 10)`` (9); reset noise U(-0.005, 0.005) on both.
    Frame skip 8 (gym's default is 4) with the XML timestep 0.002, dt 0.016, as in the original.
    Differences: gymnasium's ``walker2d.xml`` (not the v5 variant), MuJoCo 4, seeded noise.
    """

    def _reward(self, before, after, action):
        return self._dir * (after - before) / self.dt + self.alive_bonus - self.ctrl_cost_coef * np.square(action).sum(1)


class Walker2DRandVel(_VelocityTasks, _Walker):
    """Walker2DRandVel: walk at a goal velocity ~ U(0, 10).

    Reward ``-|dx/dt - v_goal| + 15 - 1e-3 |a|^2``; otherwise as ``Walker2DRandDirec``. Not in the
    paper's figures. Differences: as ``Walker2DRandDirec``.
    """

    vel_low, vel_high = 0.0, 10.0
    alive_bonus = 15.0

    def _reward(self, before, after, action):
        speed_err = np.abs((after - before) / self.dt - self._vel)
        return -speed_err + self.alive_bonus - self.ctrl_cost_coef * np.square(action).sum(1)


# ---------------------------------------------------------------------------------- Swimmer
class SwimmerRandVel(_VelocityTasks, MujocoMetaEnv):
    """SwimmerRandVel (unused in the paper): swim at a goal velocity ~ U(0.1, 0.2).

    Reward ``-|dx/dt - v_goal| - 1e-4 |a|^2``; never terminates; obs ``qpos[2:]`` (3) + ``qvel``
    (5); frame skip 4 (dt 0.04); reset noise U(-0.1, 0.1) on both. Difference: the original's
    reward had the wrong sign (``+|dx/dt - v_goal|``, rewarding distance from the goal
    velocity); here it is fixed. Also simulator/XML version and seeded noise.
    """

    xml = "swimmer.xml"
    frame_skip = 4
    qpos_noise = ("uniform", 0.1)
    qvel_noise = ("uniform", 0.1)
    obs_dim = 8
    act_dim = 2
    vel_low, vel_high = 0.1, 0.2

    def _reward(self, before, after, action):
        return -np.abs((after - before) / self.dt - self._vel) - 1e-4 * np.square(action).sum(1)

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 2:], sim.qvel], axis=1)


# ------------------------------------------------------------------ physics randomisation
class _RandParams(MujocoMetaEnv):
    """Tasks are physics parameters: per-element multipliers of the default model values.

    ``body_mass *= 1.5^U(-k, k)`` per body, ``body_inertia *= 1.5^U(-k, k)`` per element,
    ``dof_damping *= 1.3^U(-k, k)`` per dof, ``geom_friction *= 1.5^U(-k, k)`` per element, with
    ``k = log_scale_limit = 3``. A task stores the resulting absolute arrays, which ``set_tasks``
    writes into each copy's model (``mujoco.batch`` per-simulation fields), followed by
    ``mj_setConst`` so the derived constants (sub-tree masses, inverse weights) follow;
    ``default_task()`` restores the unmodified model.
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


class HopperRandParams(_RandParams):
    """HopperRandParams: hop forward under randomised masses, inertias, damping and friction.

    Reward ``dx/dt + 1 - 1e-3 |a|^2``; done unless the state is finite, all ``|s[2:]| < 100``
    (``s = (qpos, qvel)``), height > 0.7 and ``|angle| < 0.2``; obs ``qpos[1:]`` (5) +
    ``clip(qvel, -10, 10)`` (6); reset noise U(-0.005, 0.005). Timestep 0.004 with frame skip 4
    (dt 0.016) as in the edited XML of rand_param_envs. Differences: the original ran on MuJoCo
    1.31 with rand_param_envs' XML and wrote the parameters without ``mj_setConst``; here
    gymnasium's ``hopper.xml`` on MuJoCo 4, and derived constants are recomputed for consistency.
    """

    xml = "hopper.xml"
    obs_dim = 11
    act_dim = 3

    def _terminated(self) -> np.ndarray:
        sim = self._require_sim()
        s = np.concatenate([sim.qpos, sim.qvel], axis=1)
        ok = np.isfinite(s).all(1) & (np.abs(s[:, 2:]) < 100).all(1)
        ok &= (sim.qpos[:, 1] > 0.7) & (np.abs(sim.qpos[:, 2]) < 0.2)
        return ~ok

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 1:], np.clip(sim.qvel, -10.0, 10.0)], axis=1)


class Walker2DRandParams(_RandParams):
    """WalkerRandParams: walk forward under randomised masses, inertias, damping and friction.

    Reward ``dx/dt + 1 - 1e-3 |a|^2``; done unless ``0.8 < z < 2`` and ``-1 < angle < 1``; obs
    ``qpos[1:]`` (8) + ``clip(qvel, -10, 10)`` (9); reset noise U(-0.005, 0.005). Timestep 0.004
    with frame skip 4 (dt 0.016). Differences: as ``HopperRandParams`` (gymnasium's
    ``walker2d.xml``, MuJoCo 4, ``mj_setConst`` after writing the parameters).
    """

    xml = "walker2d.xml"
    obs_dim = 17
    act_dim = 6
    _terminated = _Walker._terminated
    _obs = _Walker._obs


# --------------------------------------------------------------------------------- Humanoid
class _Humanoid(MujocoMetaEnv):
    xml = "humanoid.xml"
    frame_skip = 5
    contact_forces = True
    qpos_noise = ("uniform", 0.01)
    qvel_noise = ("uniform", 0.01)
    fields = ("xipos", "cinert", "cvel", "qfrc_actuator", "cfrc_ext")
    obs_dim = 376
    act_dim = 17
    ctrl_limit = 0.4
    alive_bonus = 5.0

    def __init__(self, nthread: int | None = None) -> None:
        super().__init__(nthread)
        mass = self.model.body_mass
        self._mass_weights = mass / mass.sum()

    def _position(self) -> np.ndarray:
        xipos = self._require_sim().fields["xipos"]
        return np.einsum("b,nbk->nk", self._mass_weights, xipos[:, :, :2])

    def _costs(self, action: np.ndarray) -> np.ndarray:
        cfrc = self._require_sim().fields["cfrc_ext"].reshape(self.num_copies, -1)
        impact = np.minimum(0.5e-6 * np.square(cfrc).sum(1), 10.0)
        return 0.1 * np.square(action).sum(1) + impact

    def _terminated(self) -> np.ndarray:
        z = self._require_sim().qpos[:, 2]
        return (z < 1.0) | (z > 2.0)

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        n, f = self.num_copies, sim.fields
        return np.concatenate(
            [
                sim.qpos[:, 2:],
                sim.qvel,
                f["cinert"].reshape(n, -1),
                f["cvel"].reshape(n, -1),
                f["qfrc_actuator"].reshape(n, -1),
                f["cfrc_ext"].reshape(n, -1),
            ],
            axis=1,
        )


class HumanoidRandDirec(_Direction1DTasks, _Humanoid):
    """HumanoidFwdBack: run forward (+1) or backward (-1) along x.

    Reward ``0.25 * dir * dx_com / model.opt.timestep - 0.1 |ctrl|^2 - min(0.5e-6 |cfrc_ext|^2, 10)
    + 5`` (the velocity is divided by the physics timestep 0.003, not dt 0.015, as in the original
    and gym's Humanoid-v2); done when the root height leaves [1, 2]; obs ``qpos[2:]``, ``qvel``,
    ``cinert``, ``cvel``, ``qfrc_actuator``, ``cfrc_ext`` (376, all bodies incl. the world);
    reset noise U(-0.01, 0.01) on both. Differences: ``cfrc_ext`` via ``mj_rnePostConstraint`` on
    MuJoCo 4, gymnasium's XML, seeded noise.
    """

    def _reward(self, before, after, action):
        lin_vel = 0.25 * self._dir * (after[:, 0] - before[:, 0]) / self.model.opt.timestep
        return lin_vel - self._costs(action) + self.alive_bonus


class HumanoidRandDirec2D(_Direction2DTasks, _Humanoid):
    """HumanoidRandDir: run along a unit direction in the xy-plane.

    Reward ``0.25 * dir . d(x, y)_com / model.opt.timestep - ctrl cost - impact cost + 5``;
    otherwise as ``HumanoidRandDirec``.
    """

    def _reward(self, before, after, action):
        lin_vel = 0.25 * np.sum(self._dir * (after - before), axis=1) / self.model.opt.timestep
        return lin_vel - self._costs(action) + self.alive_bonus


ENV_CLASSES: dict[str, type[MujocoMetaEnv]] = {
    "halfcheetah-fwd-back": HalfCheetahRandDirec,
    "halfcheetah-vel": HalfCheetahRandVel,
    "ant-fwd-back": AntRandDirec,
    "ant-dir-2d": AntRandDirec2D,
    "ant-goal": AntRandGoal,
    "walker-fwd-back": Walker2DRandDirec,
    "walker-vel": Walker2DRandVel,
    "walker-rand-params": Walker2DRandParams,
    "hopper-rand-params": HopperRandParams,
    "humanoid-fwd-back": HumanoidRandDirec,
    "humanoid-dir-2d": HumanoidRandDirec2D,
    "swimmer-vel": SwimmerRandVel,
}
"""Registry ids of the MuJoCo meta-envs and their classes."""

_H200: dict[str, Any] = {"horizon": 200}
_RAND_PARAMS_PROMP: dict[str, Any] = {"ppo_steps": 3, "adaptive_kl": True, "kl_coef": 1e-3, "kl_target": 1e-2}
# Spec 11.4: the DiCE sweep used H 100, alpha 0.1 and (64, 64) on every env.
_DICE_H100: dict[str, Any] = {"horizon": 100}

PRESETS: dict[str, tuple[str, dict[str, Any], dict[str, dict[str, Any]]]] = {
    # id: (description, defaults for every algorithm, per-family overrides). Spec 11.1 (ProMP),
    # 11.2-11.3 (TRPO and VPG variants: same H, K, alpha and hidden sizes as ProMP), 11.4 (DiCE).
    "halfcheetah-fwd-back": ("HalfCheetah, run forward or backward (HalfCheetahRandDirec)", {}, {}),
    "halfcheetah-vel": ("HalfCheetah, goal velocity U(0, 3) (HalfCheetahRandVel)", dict(_H200), {"dice": dict(_DICE_H100)}),
    "ant-fwd-back": ("Ant, run forward or backward (AntRandDirec)", {}, {}),
    "ant-dir-2d": ("Ant, run in a random 2-D direction (AntRandDirec2D)", {}, {}),
    "ant-goal": (
        "Ant, reach a goal in the radius-3 disc (AntRandGoal)",
        {"horizon": 200, "inner_steps": 2},
        {"dice": dict(_DICE_H100)},
    ),
    "walker-fwd-back": ("Walker2D, walk forward or backward (Walker2DRandDirec)", dict(_H200), {"dice": dict(_DICE_H100)}),
    "walker-vel": ("Walker2D, goal velocity U(0, 10) (Walker2DRandVel)", dict(_H200), {"dice": dict(_DICE_H100)}),
    "walker-rand-params": (
        "Walker2D with randomised physics (Walker2DRandParams)",
        {"horizon": 200, "inner_lr": 0.05},
        {"promp": dict(_RAND_PARAMS_PROMP), "dice": {"horizon": 100, "inner_lr": 0.1}},
    ),
    "hopper-rand-params": (
        "Hopper with randomised physics (HopperRandParams)",
        {"horizon": 200, "inner_lr": 0.05},
        {"promp": dict(_RAND_PARAMS_PROMP), "dice": {"horizon": 100, "inner_lr": 0.1}},
    ),
    "humanoid-fwd-back": (
        "Humanoid, run forward or backward (HumanoidRandDirec)",
        {"horizon": 200, "hidden": (128, 128)},
        {"dice": {"horizon": 100, "hidden": (64, 64)}},
    ),
    "humanoid-dir-2d": (
        "Humanoid, run in a random 2-D direction (HumanoidRandDirec2D)",
        {"horizon": 200, "hidden": (128, 128)},
        {"dice": {"horizon": 100, "hidden": (64, 64)}},
    ),
    "swimmer-vel": ("Swimmer, goal velocity U(0.1, 0.2), reward sign fixed (SwimmerRandVel; unused in the paper)", {}, {}),
}
"""Per-id description and hyper-parameter differences from ``TrainConfig``'s defaults (spec 11)."""
