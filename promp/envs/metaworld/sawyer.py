"""The batched Sawyer meta-env: Meta-World's robot arm, ``tasks x copies_per_task`` copies of one model on
``mujoco_batch.BatchSim``; a family (``ml1.py``) says which model, which goals and which reward.

What a step does, as metaworld 3.1.1's ``SawyerXYZEnv.step`` does it, for all copies at once:

1. the action ``[dx, dy, dz, grip]`` in [-1, 1]^4 moves the mocap body by ``0.01 * (dx, dy, dz)``,
   clipped to the family's ``hand_low..hand_high`` box, with orientation quaternion ``(1, 0, 1, 0)``;
   the mocap weld (``assets.py``) pulls the hand after it;
2. the two finger actuators get ``(grip, -grip)``; MuJoCo takes ``frame_skip = 5`` substeps of 2.5 ms;
3. the kinematics are computed at the new state (metaworld calls ``mj_forward`` after stepping), and the
   observation is built from it: hand position (3), gripper opening ``|rightclaw - leftclaw| / 0.1``
   clipped to [0, 1] (1), object position and quaternion padded to 14, then the same 18 numbers of the
   previous step (metaworld v3's frame stacking; at reset the current ones repeated), then the goal (3),
   zero in the ML benchmarks (goal hidden); the hand part is clipped to metaworld's hand space;
4. the family's reward and success follow from that observation, the tool centre point (midpoint of the
   fingertip sites) and the episode's constants (``rewards.py``).

Reset: metaworld resets the data (``mj_resetData``), holds the mocap at ``hand_init_pos`` for 50 steps
with the gripper open (``_reset_hand``), records the tool centre point (``init_tcp``), then places the
object for the task. The first two parts do not depend on the task, so they run once, in one ``MjData``,
when the env is built; every reset copies that state row (``qpos``, ``qvel``, warm start, mocap,
controls: ``mjSTATE_INTEGRATION``) into the copies and places their objects (where the hand touches a
body the task moves while it settles, ``task_hand_reset``, they run per task in the batch when the tasks
are set, and a reset copies each task's row). A reset draws nothing:
as in metaworld, an episode's start is fixed by its task; the policy's noise makes copies differ.

Episodes never end early (metaworld truncates at 500 steps: the ``horizon``). The family's success flag of
every step is the env's ``step_success()`` (``reports_success``), which the sampler records; an episode
succeeds if it is set at any step (``promp.processing.episode_success``, as metaworld's evaluation counts).
"""

from __future__ import annotations

from typing import Any, Sequence

import mujoco
import numpy as np

from ..base import MetaEnv, StepResult, Task
from ..mujoco_batch import BatchSim
from . import tasks as mw_tasks
from .assets import load_model
from .rewards import RewardResult

HAND_SPACE_LOW = np.array([-0.525, 0.348, -0.0525])
HAND_SPACE_HIGH = np.array([0.525, 1.025, 0.7])
MOCAP_QUAT = np.array([1.0, 0.0, 1.0, 0.0])
OBS_OBJ_LEN = 14
CURR_OBS = 18  # hand (3), gripper opening (1), objects (14)


def quat_from_matrix(mat: np.ndarray) -> np.ndarray:
    """Unit quaternions ``[..., 4]`` in ``(x, y, z, w)`` order of rotation matrices ``[..., 3, 3]``.

    Markley's method (as in ``scipy.spatial.transform.Rotation.from_matrix(...).as_quat()``, which
    metaworld uses for the object's orientation, with the same branch and therefore the same sign): of
    ``m00, m11, m22`` and the trace, the largest picks the component computed from the diagonal.
    """
    m = np.asarray(mat, dtype=np.float64)
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    choice = np.argmax(np.stack([m[..., 0, 0], m[..., 1, 1], m[..., 2, 2], tr], axis=-1), axis=-1)
    cases = [
        [1 - tr + 2 * m[..., 0, 0], m[..., 1, 0] + m[..., 0, 1], m[..., 2, 0] + m[..., 0, 2], m[..., 2, 1] - m[..., 1, 2]],
        [m[..., 1, 0] + m[..., 0, 1], 1 - tr + 2 * m[..., 1, 1], m[..., 2, 1] + m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0]],
        [m[..., 2, 0] + m[..., 0, 2], m[..., 2, 1] + m[..., 1, 2], 1 - tr + 2 * m[..., 2, 2], m[..., 1, 0] - m[..., 0, 1]],
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1], 1 + tr],
    ]
    quat = np.choose(choice[..., None], [np.stack(c, axis=-1) for c in cases])
    return quat / np.linalg.norm(quat, axis=-1, keepdims=True)


class SawyerMetaEnv(MetaEnv):
    """Shared machinery of the Meta-World families (module docstring); subclasses set the class attributes
    and ``_reward``.

    Class attributes: ``xml`` (relative to metaworld's assets), ``family`` (metaworld's name, e.g.
    ``"reach-v3"``), ``hand_low``/``hand_high`` (the mocap box), ``obj_low``/``obj_high`` and
    ``goal_low``/``goal_high`` (the random reset space of the goal vectors), ``hand_init_pos``.
    """

    obs_dim = 2 * CURR_OBS + 3
    act_dim = 4
    reports_success = True
    one_batched_model = True
    action_low = -np.ones(4)
    action_high = np.ones(4)
    frame_skip = 5
    action_scale = 0.01
    hand_reset_steps = 50
    min_obj_goal_xy = 0.15  # reset_model redraws goal vectors whose object and goal are closer in x-y
    rand_vec_is_object_start = False
    """Whether the goal vector is the object's (or fixture's) start box alone, every draw kept (door, drawer,
    button, ... families: their goal follows from the start); else object box then goal box, redrawn while the
    two are too close (``rand_vec_acceptable``)."""
    episode_constants: tuple[str, ...] = ("init_tcp", "obj_init_pos", "target_pos")
    """What ``reset_model`` fixes for an episode and the reward reads; ``restore`` may override them."""
    data_fields: tuple[str, ...] = ()
    """Further ``MjData`` fields the family reads after a step (e.g. a body's ``xquat``), bound in ``sim.fields``."""
    stale_reset_obs = False
    """Whether the family's ``reset_model`` builds the reset's observation without a forward pass after the hand
    reset (drawer-open, lever-pull): its positions are then the kinematics the hand reset's last substep
    computed, those of the state before that substep (with the task's model), and ``reset`` returns them."""
    reset_substeps = 0
    """Substeps the family's ``reset_model`` runs after the hand reset, holding its mocap and controls (door-lock:
    ``frame_skip``); they follow the reading of ``init_tcp``, and with ``stale_reset_obs`` the reset observation is
    the kinematics before the last of them."""
    task_hand_reset = False
    """Whether the hand reset depends on the task: the hand touches a body the task moves while it settles
    (door-lock, door-unlock: the lock stands within its reach). The hand reset (and ``reset_substeps``) then runs
    in the batch with each task's model fields when the tasks are set (``_task_hand_reset``), as metaworld's
    reset runs it after moving the bodies, instead of once with the default model."""

    xml: str
    family: str
    hand_low: tuple[float, float, float]
    hand_high: tuple[float, float, float]
    obj_low: tuple[float, float, float]
    obj_high: tuple[float, float, float]
    goal_low: tuple[float, float, float]
    goal_high: tuple[float, float, float]
    hand_init_pos: tuple[float, float, float] = (0.0, 0.6, 0.2)

    def __init__(self, nthread: int | None = None, split: str = "train", benchmark_seed: int = 0) -> None:
        """Compile the model and run the task-independent part of metaworld's reset once.

        ``split`` (``"train"`` or ``"test"``) and ``benchmark_seed`` choose the goal set ``sample_tasks``
        draws from: the 50 goals of ``metaworld.ML1(family, seed=benchmark_seed)``'s train or test split.
        """
        super().__init__()
        self.split = split
        self.benchmark_seed = int(benchmark_seed)
        self.goals = mw_tasks.goal_sets([type(self)], mw_tasks.split_seed(self.benchmark_seed, split, ml1=True))[0]
        self.model = self._load_model()
        if self.model.nu != 2 or self.model.nmocap != 1:
            raise RuntimeError(f"{self.xml}: expected 2 finger actuators and 1 mocap body")
        self._stale_row: np.ndarray | None = None
        self.dt = float(self.model.opt.timestep) * self.frame_skip
        self.nthread = nthread
        self.sim: BatchSim | None = None
        self._ids()
        self.rest = self._hand_reset()
        self._init_tcp = (self.rest.site_xpos[self._right_ee] + self.rest.site_xpos[self._left_ee]) / 2.0
        for _ in range(self.reset_substeps):
            self._stale_row = self._state_row(self.rest)
            mujoco.mj_step(self.model, self.rest)
        self._reset_row = self._state_row(self.rest)
        self._needs_reset = True

    def _load_model(self) -> mujoco.MjModel:
        """The family's compiled model (``assets.load_model(xml)``); a family may amend compiled fields here,
        before the hand reset runs on it."""
        return load_model(self.xml)

    @classmethod
    def reset_space(cls) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the goal vectors ``rand_vec`` (metaworld's ``_random_reset_space``): the object's start box
        followed by the goal box, or the start box alone (``rand_vec_is_object_start``)."""
        if cls.rand_vec_is_object_start:
            return np.array(cls.obj_low, dtype=np.float64), np.array(cls.obj_high, dtype=np.float64)
        return (np.hstack((cls.obj_low, cls.goal_low)).astype(np.float64),
                np.hstack((cls.obj_high, cls.goal_high)).astype(np.float64))

    @property
    def reset_space_low(self) -> np.ndarray:
        return self.reset_space()[0]

    @property
    def reset_space_high(self) -> np.ndarray:
        return self.reset_space()[1]

    @classmethod
    def draw_rand_vec(cls, rs: np.random.RandomState) -> np.ndarray:
        """One run of the family's ``reset_model``'s draws with numpy's legacy generator: uniform over the
        reset space, drawn again until ``rand_vec_acceptable`` (``tasks.goal_sets`` repeats it per goal)."""
        low, high = cls.reset_space()
        vec = rs.uniform(low, high, size=low.size)
        while not cls.rand_vec_acceptable(vec):
            vec = rs.uniform(low, high, size=low.size)
        return vec

    # ----------------------------------------------------------------------------------- model
    def _id(self, kind: mujoco.mjtObj, name: str) -> int:
        """Id of the model's ``kind`` object ``name``; a ``RuntimeError`` naming it if the model lacks it."""
        i = mujoco.mj_name2id(self.model, kind, name)
        if i < 0:
            raise RuntimeError(f"{self.xml}: no {kind.name[6:].lower()} {name!r}, which metaworld's {self.family} reads")
        return i

    def _ids(self) -> None:
        """The robot's bodies and fingertip sites (every family), then the family's own (``_family_ids``)."""
        body, site = mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_SITE
        self._hand = self._id(body, "hand")
        self._rightclaw, self._leftclaw = self._id(body, "rightclaw"), self._id(body, "leftclaw")
        self._leftpad, self._rightpad = self._id(body, "leftpad"), self._id(body, "rightpad")
        self._right_ee, self._left_ee = self._id(site, "rightEndEffector"), self._id(site, "leftEndEffector")
        self._family_ids()

    def _family_ids(self) -> None:
        """Ids of what the family reads; the default is the free object of the puck families (reach, push,
        pick-place, ...): body ``obj``, geom ``objGeom`` and its free joint ``objjoint``."""
        self._obj = self._id(mujoco.mjtObj.mjOBJ_BODY, "obj")
        self._obj_geom = self._id(mujoco.mjtObj.mjOBJ_GEOM, "objGeom")
        objjoint = self._id(mujoco.mjtObj.mjOBJ_JOINT, "objjoint")
        self._obj_qpos = int(self.model.jnt_qposadr[objjoint])
        self._obj_dof = int(self.model.jnt_dofadr[objjoint])

    def _hand_reset(self) -> mujoco.MjData:
        """metaworld's reset before the task is applied: ``mj_resetData``, then 50 steps holding the mocap at
        ``hand_init_pos`` with controls ``(-1, 1)``. The returned data (``rest``) holds the state and the last
        substep's kinematics, which is what metaworld's ``reset_model`` reads (e.g. the tool centre point
        ``init_tcp``, an object's resting height). The state before the last substep, whose kinematics those
        are, is kept as ``_stale_row`` (``stale_reset_obs``)."""
        m = self.model
        d = mujoco.MjData(m)
        mujoco.mj_resetData(m, d)
        for _ in range(self.hand_reset_steps):
            d.mocap_pos[0] = self.hand_init_pos
            d.mocap_quat[0] = MOCAP_QUAT
            d.ctrl[:] = (-1.0, 1.0)
            mujoco.mj_step(m, d, nstep=self.frame_skip - 1)
            self._stale_row = self._state_row(d)
            mujoco.mj_step(m, d)
        return d

    def _state_row(self, d: mujoco.MjData) -> np.ndarray:
        """The integration state (``mjSTATE_INTEGRATION``: ``qpos``, ``qvel``, warm start, mocap, controls)."""
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        row = np.empty(mujoco.mj_stateSize(self.model, spec))
        mujoco.mj_getState(self.model, d, row, spec)
        return row

    # ----------------------------------------------------------------------------------- tasks
    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """``n`` goals drawn uniformly, with replacement, from the split's 50 (``split``, ``benchmark_seed``)."""
        idx = rng.integers(0, len(self.goals), size=n)
        return [{"split": self.split, "index": int(i), "rand_vec": self.goals[i].tolist()} for i in idx]

    def validate_task(self, task: Task) -> Task:
        vec = np.asarray(task.get("rand_vec"), dtype=np.float64)
        n = self.reset_space_low.size
        if vec.shape != (n,) or not np.isfinite(vec).all():
            raise ValueError(f"{type(self).__name__}: a task needs 'rand_vec', {n} finite numbers; got {task!r}")
        if not self.rand_vec_acceptable(vec):
            raise ValueError(f"{type(self).__name__}: metaworld's {self.family} never draws this goal vector "
                             f"(object and goal too close): {task!r}")
        return {**dict(task), "rand_vec": vec.tolist()}

    @classmethod
    def rand_vec_acceptable(cls, vec: np.ndarray) -> bool:
        """Whether the family's ``reset_model`` keeps a drawn goal vector; the default (object x-y, then goal
        x-y, as in reach, push and pick-place) redraws while object and goal are closer than
        ``min_obj_goal_xy`` in the x-y plane. A family whose reset keeps every draw returns ``True``, as does one
        whose goal vector is the object's start alone (``rand_vec_is_object_start``)."""
        if cls.rand_vec_is_object_start:
            return True
        return bool(np.linalg.norm(vec[:2] - vec[3:5]) >= cls.min_obj_goal_xy)

    def set_tasks(self, tasks: Sequence[Task], copies_per_task: int) -> None:
        super().set_tasks(tasks, copies_per_task)
        if self.sim is None or self.sim.nsim != self.num_copies:
            if self.sim is not None:
                self.sim.close()
            fields = ("mocap_pos", "mocap_quat", "xpos", "site_xpos", "geom_xpos", "geom_xmat", *self.data_fields)
            self.sim = BatchSim(self.model, self.num_copies, self.frame_skip, self.nthread, fields)
        rand_vec = self.task_array("rand_vec")
        self.obj_init_pos, self.target_pos = self._task_positions(rand_vec)
        self.init_tcp = np.broadcast_to(self._init_tcp, (self.num_copies, 3)).copy()
        self._hand_init = np.broadcast_to(np.asarray(self.hand_init_pos, dtype=np.float64), (self.num_copies, 3)).copy()
        for name, value in self._model_fields().items():
            # written as metaworld edits its model: no mj_setConst, so the constants derived from the compiled
            # model (invweights, mean inertia, ...) stay those of the default positions, as in metaworld
            self.sim.expand(name)[:] = value
        if self.task_hand_reset:
            self._task_hand_reset()
        self._needs_reset = True

    def _task_hand_reset(self) -> None:
        """``_hand_reset`` and the ``reset_substeps`` run in the batch, in the first copy of each task (the others
        would repeat it bit for bit), with the task's model fields: the per-copy reset state, the state before its
        last substep (``stale_reset_obs``) and ``init_tcp`` (read after the hand reset, as metaworld does)."""
        sim = self._require_sim()
        first = np.arange(0, self.num_copies, self.copies_per_task)
        sim.batch.reset(ids=first, stage=mujoco.mjtStage.mjSTAGE_NONE)  # mj_resetData
        site = sim.fields["site_xpos"]
        for i in range(self.hand_reset_steps + self.reset_substeps):
            if i < self.hand_reset_steps:
                sim.fields["mocap_pos"][first, 0] = self.hand_init_pos
                sim.fields["mocap_quat"][first, 0] = MOCAP_QUAT
                sim.ctrl[first] = (-1.0, 1.0)
                sim.batch.step(ids=first, nstep=self.frame_skip - 1)
            stale = sim.batch.state[first]
            sim.batch.step(ids=first, nstep=1)
            if i == self.hand_reset_steps - 1:
                init_tcp = (site[first, self._right_ee] + site[first, self._left_ee]) / 2.0
        self._reset_row = np.repeat(sim.batch.state[first], self.copies_per_task, axis=0)
        self._stale_row = np.repeat(stale, self.copies_per_task, axis=0)
        self.init_tcp = np.repeat(init_tcp, self.copies_per_task, axis=0)

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Object start and goal ``[B, 3]`` each from the goal vectors ``[B, 6]`` (family's ``reset_model``)."""
        return rand_vec[:, :3].copy(), rand_vec[:, 3:].copy()

    def _model_fields(self) -> dict[str, np.ndarray]:
        """Per-copy model fields the family's ``reset_model`` sets for the task, ``{name: [B, ...]}`` of whole
        fields (e.g. ``body_pos`` ``[B, nbody, 3]`` where metaworld moves a door's body to ``obj_init_pos``);
        written once per ``set_tasks``, without recomputing derived constants (``mj_setConst``), as metaworld
        writes them. The default (puck families) sets none."""
        return {}

    def _place_objects(self, sim: BatchSim) -> None:
        """Write the task's start into the state rows, after the hand reset's state is loaded and before the
        forward pass (the family's ``reset_model`` after ``_reset_hand``). The default places the free object
        at ``obj_init_pos``, at rest (its orientation stays the hand reset's)."""
        sim.qpos[:, self._obj_qpos:self._obj_qpos + 3] = self.obj_init_pos
        sim.qvel[:, self._obj_dof:self._obj_dof + 6] = 0.0

    def _after_reset(self) -> None:
        """Episode constants that ``reset_model`` reads from the kinematics after placing the objects (e.g. a
        handle's start position); called after the reset's forward pass. The default has none."""

    # --------------------------------------------------------------------------------- dynamics
    def _require_sim(self) -> BatchSim:
        if self.sim is None:
            raise RuntimeError(f"{type(self).__name__}: call set_tasks(tasks, copies_per_task) before reset/step")
        return self.sim

    def reset(self, rng: Any = None) -> np.ndarray:
        """Every copy to its task's start (module docstring); draws nothing from ``rng``."""
        sim = self._require_sim()
        stale = None
        if self.stale_reset_obs:  # the kinematics of the state before the hand reset's last substep
            sim.batch.state[:] = self._stale_row
            sim.batch.forward(stage=mujoco.mjtStage.mjSTAGE_POS)
            stale = self._curr_obs()
        sim.batch.state[:] = self._reset_row
        self._place_objects(sim)
        sim.batch.forward(stage=mujoco.mjtStage.mjSTAGE_ACC)
        self._after_reset()
        curr = self._curr_obs() if stale is None else stale
        self._prev = curr
        self._needs_reset = False
        return self._full_obs(curr, curr)

    def restore(self, state: dict[str, np.ndarray], **episode: np.ndarray) -> np.ndarray:
        """Start every copy's episode from a given MuJoCo state instead of the reset's; returns the observation
        a reset would. ``state`` maps integration-state fields (``qpos``, ``qvel``, ``mocap_pos``,
        ``mocap_quat``, ``qacc_warmstart``, ``ctrl``) to arrays ``[B, ...]``; unnamed fields keep the reset's
        values. ``episode`` may override the episode constants (``episode_constants``: ``init_tcp``,
        ``obj_init_pos``, ``target_pos``, ... each ``[B, ...]``) after the family's ``_after_reset`` computed
        them. The observation is that of the given state (with ``stale_reset_obs``, a reset's is that of the
        state before the hand reset's last substep). Used to replay recorded trajectories (tests/test_metaworld.py)."""
        sim = self._require_sim()
        sim.batch.state[:] = self._reset_row
        for name, value in state.items():
            sim.batch.bind(name)[:] = value
        sim.batch.forward(stage=mujoco.mjtStage.mjSTAGE_ACC)
        self._after_reset()
        for name, value in episode.items():
            if name not in self.episode_constants:
                raise ValueError(f"restore: unknown episode constant {name!r} (known: {self.episode_constants})")
            value = np.asarray(value, dtype=np.float64)
            setattr(self, name, np.broadcast_to(value, (self.num_copies, *value.shape[1:])).copy())
        curr = self._curr_obs()
        self._prev = curr
        self._needs_reset = False
        return self._full_obs(curr, curr)

    def _step(self, action: np.ndarray) -> StepResult:
        sim = self._require_sim()
        if self._needs_reset:
            raise RuntimeError(f"{type(self).__name__}: call reset(rng) after set_tasks and before step")
        mocap = sim.fields["mocap_pos"]
        delta = np.clip(action[:, :3], -1.0, 1.0) * self.action_scale
        mocap[:, 0] = np.clip(mocap[:, 0] + delta, np.asarray(self.hand_low), np.asarray(self.hand_high))
        sim.fields["mocap_quat"][:, 0] = MOCAP_QUAT
        sim.ctrl[:, 0] = action[:, 3]
        sim.ctrl[:, 1] = -action[:, 3]
        sim.step(stage=mujoco.mjtStage.mjSTAGE_ACC)
        curr = self._curr_obs()
        obs = np.clip(self._full_obs(curr, self._prev), self._obs_low, self._obs_high)
        self._prev = curr
        result = self._reward(obs, action)
        self.last_success = result.success
        self.last_info = result.info
        return StepResult(obs, result.reward, np.zeros(self.num_copies, dtype=bool))

    def step_success(self) -> np.ndarray:
        """The family's success flags ``[B]`` of the last step (``last_success``; ``rewards.py``)."""
        return self.last_success

    def open_loop_control(self, rng: np.random.Generator, steps: int) -> tuple[np.ndarray, int]:
        """Inputs for ``mujoco.batch`` rollouts of ``steps`` env steps with N(0, 1) actions and no Python in
        the loop (``promp bench``'s limit): per substep the finger controls and the mocap pose the step rule
        would set, ``[B, steps * frame_skip, 2 + 3 + 4]``, and their ``mjtState`` spec."""
        sim = self._require_sim()
        action = np.clip(rng.standard_normal((self.num_copies, steps, 4)), -1.0, 1.0)
        pos = np.empty((self.num_copies, steps, 3))
        current = sim.fields["mocap_pos"][:, 0].copy()
        for t in range(steps):
            current = np.clip(current + action[:, t, :3] * self.action_scale, self.hand_low, self.hand_high)
            pos[:, t] = current
        ctrl = np.stack([action[..., 3], -action[..., 3]], axis=-1)
        quat = np.broadcast_to(MOCAP_QUAT, (self.num_copies, steps, 4))
        control = np.repeat(np.concatenate([ctrl, pos, quat], axis=-1), self.frame_skip, axis=1)
        spec = mujoco.mjtState
        return control, int(spec.mjSTATE_CTRL.value | spec.mjSTATE_MOCAP_POS.value | spec.mjSTATE_MOCAP_QUAT.value)

    # ------------------------------------------------------------------------------ observation
    def tcp_center(self) -> np.ndarray:
        """Midpoint of the two fingertip sites ``[B, 3]`` (metaworld's ``tcp_center``)."""
        site = self._require_sim().fields["site_xpos"]
        return (site[:, self._right_ee] + site[:, self._left_ee]) / 2.0

    def body_pos(self, body: int) -> np.ndarray:
        return self._require_sim().fields["xpos"][:, body].copy()

    def _objects(self) -> np.ndarray:
        """Object positions and quaternions ``[B, 7 * k]`` (default: body ``obj`` and geom ``objGeom``)."""
        xmat = self._require_sim().fields["geom_xmat"][:, self._obj_geom].reshape(-1, 3, 3)
        return np.hstack([self.body_pos(self._obj), quat_from_matrix(xmat)])

    def _hand_obs(self, xpos: np.ndarray) -> np.ndarray:
        """Hand position and gripper opening ``[B, 4]`` from body positions ``[B, nbody, 3]``."""
        apart = np.linalg.norm(xpos[:, self._rightclaw] - xpos[:, self._leftclaw], axis=-1)
        return np.hstack([xpos[:, self._hand], np.clip(apart / 0.1, 0.0, 1.0)[:, None]])

    def _curr_obs(self) -> np.ndarray:
        objects = self._objects()
        padded = np.zeros((self.num_copies, OBS_OBJ_LEN))
        padded[:, :objects.shape[1]] = objects
        return np.hstack([self._hand_obs(self._require_sim().fields["xpos"]), padded])

    def _full_obs(self, curr: np.ndarray, prev: np.ndarray) -> np.ndarray:
        return np.hstack([curr, prev, np.zeros((self.num_copies, 3))])  # the goal is hidden in ML benchmarks

    @property
    def _obs_low(self) -> np.ndarray:
        part = np.hstack([HAND_SPACE_LOW, -1.0, np.full(OBS_OBJ_LEN, -np.inf)])
        return np.hstack([part, part, np.zeros(3)])

    @property
    def _obs_high(self) -> np.ndarray:
        part = np.hstack([HAND_SPACE_HIGH, 1.0, np.full(OBS_OBJ_LEN, np.inf)])
        return np.hstack([part, part, np.zeros(3)])

    # ----------------------------------------------------------------------------------- reward
    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        raise NotImplementedError

    def close(self) -> None:
        """Release the batch and its threads."""
        if self.sim is not None:
            self.sim.close()
            self.sim = None
