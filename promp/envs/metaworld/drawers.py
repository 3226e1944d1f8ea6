"""Meta-World's drawer and lever families as promp meta-envs: drawer-open, drawer-close and lever-pull
(metaworld 3.1.1's ``SawyerDrawerOpenEnvV3``, ``SawyerDrawerCloseEnvV3``, ``SawyerLeverPullEnvV3``, rewards
``reward_function_version="v2"``).

A task is where the fixture stands: the goal vector ``rand_vec`` is the position of the drawer's body
``drawer`` (x in [-0.1, 0.1], y = 0.9) or of the lever's body ``lever`` ([-0.1, 0.1] x [0.7, 0.8]), and
``reset_model`` moves that body there (a per-copy ``body_pos``) and the goal site to the target. Every draw
is kept (no rejection). The goal, fixed relative to the fixture, is hidden from the policy as in every
ML benchmark.

The three models' ``hand_init_pos`` are float32 arrays in metaworld, so the hand settles at the float32
values of ``(0, 0.6, 0.2)`` (drawers) and ``(0, 0.4, 0.2)`` (lever); the class attributes hold those values.
drawer-open's and lever-pull's ``reset_model`` return the observation without a forward pass, so their reset
observation holds the kinematics of the hand reset's last substep (``SawyerMetaEnv.stale_reset_obs``).
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .rewards import RewardResult, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv, quat_from_matrix

DRAWER_OPEN_MAX_DIST = 0.2  # SawyerDrawerOpenEnvV3.maxDist: how far the drawer opens
DRAWER_CLOSE_MAX_DIST = 0.15  # SawyerDrawerCloseEnvV3.maxDist: how far the drawer starts open
DRAWER_CLOSE_RADIUS = 0.05  # metaworld's TARGET_RADIUS of the base class (its _TARGET_RADIUS = 0.04 is unused)
LEVER_RADIUS = 0.2  # SawyerLeverPullEnvV3.LEVER_RADIUS
LEVER_GEOM_QUAT = np.array([0.662500038723091, 0.662500038723091, -0.24717139537556432, 0.24717139537556432])
"""The frame of the lever's mesh geom ``objGeom`` in its body ``lever_link1`` as MuJoCo 3.3.0 compiles
``sawyer_lever_pull.xml`` (``geom_quat``, ``w x y z``). A mesh geom's frame is the mesh's principal inertia
axes, which MuJoCo 4 computes differently (its ``geom_quat`` is ``(0.6623, 0.6623, -0.2476, 0.2476)``; the
shape in the world is the same); metaworld observes this frame's orientation, so it is kept here."""


def _float32(values: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(float(np.float32(v)) for v in values)


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products ``a b`` of quaternions ``[..., 4]`` in ``(w, x, y, z)`` order (MuJoCo's ``mju_mulQuat``)."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices ``[..., 3, 3]`` of unit quaternions ``[..., 4]`` in ``(w, x, y, z)`` order (MuJoCo's
    ``mju_quat2Mat``, which gives a geom's ``geom_xmat`` from its body's ``xquat`` times its ``geom_quat``)."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
        np.stack([2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)], axis=-1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z], axis=-1),
    ], axis=-2)


def drawer_open_reward(obs: np.ndarray, target: np.ndarray, init_tcp: np.ndarray) -> RewardResult:
    """drawer-open-v3 (metaworld 3.1.1 ``SawyerDrawerOpenEnvV3.compute_reward``, v2): ``5 (caging + opening)``.

    ``opening`` is ``tolerance(|handle - target|, [0, 0.02], margin 0.2)``; ``caging`` is
    ``tolerance(|(handle - hand) * (3, 3, 1)|, [0, 0.01])`` with margin the same scaled distance from the
    start's tool centre to the closed handle (``target + (0, 0.2, 0)``). The hand is the observation's
    (``obs[:3]``), the handle ``obs[4:7]``. Success: handle within 0.03 of the target.
    """
    hand, handle = obs[:, :3], obs[:, 4:7]
    handle_error = np.linalg.norm(handle - target, axis=-1)
    opening = tolerance(handle_error, 0.0, 0.02, DRAWER_OPEN_MAX_DIST)
    handle_init = target + np.array([0.0, DRAWER_OPEN_MAX_DIST, 0.0])
    scale = np.array([3.0, 3.0, 1.0])
    caging_margin = np.linalg.norm((handle_init - init_tcp) * scale, axis=-1)
    caging = tolerance(np.linalg.norm((handle - hand) * scale, axis=-1), 0.0, 0.01, caging_margin)
    reward = (caging + opening) * 5.0
    success = handle_error <= 0.03
    info = {"near_object": (np.linalg.norm(handle - hand, axis=-1) <= 0.03).astype(np.float64),
            "grasp_success": (obs[:, 3] > 0).astype(np.float64), "grasp_reward": caging,
            "in_place_reward": opening, "obj_to_target": handle_error, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def drawer_close_reward(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                        obj_init_pos: np.ndarray, init_tcp: np.ndarray) -> RewardResult:
    """drawer-close-v3 (metaworld 3.1.1 ``SawyerDrawerCloseEnvV3.compute_reward``, v2): ``10`` times the
    Hamacher product of ``reach`` and ``in_place``, or 10 once the handle is within 0.065 of the target
    (success).

    ``in_place`` is ``tolerance(|handle - target|, [0, 0.05])``, margin ``| |handle_init - target| - 0.05 |``;
    ``reach`` the Hamacher product of a Gaussian ``tolerance(|handle - tcp|, [0, 0.005])`` (margin
    ``| |handle_init - init_tcp| - 0.005 |``) and the gripper effort ``clip(action[3], 0, 1)``. The radius is
    the base class's ``TARGET_RADIUS`` (0.05), which the reward reads, not the class's ``_TARGET_RADIUS``.
    """
    handle = obs[:, 4:7]
    target_to_obj = np.linalg.norm(handle - target, axis=-1)
    target_to_obj_init = np.linalg.norm(obj_init_pos - target, axis=-1)
    in_place = tolerance(target_to_obj, 0.0, DRAWER_CLOSE_RADIUS, np.abs(target_to_obj_init - DRAWER_CLOSE_RADIUS))
    reach_radius = 0.005
    tcp_to_obj = np.linalg.norm(handle - tcp, axis=-1)
    tcp_to_obj_init = np.linalg.norm(obj_init_pos - init_tcp, axis=-1)
    reach = tolerance(tcp_to_obj, 0.0, reach_radius, np.abs(tcp_to_obj_init - reach_radius), sigmoid="gaussian")
    reach = hamacher_product(reach, np.minimum(np.maximum(0.0, action[:, -1]), 1.0))
    closed = target_to_obj <= DRAWER_CLOSE_RADIUS + 0.015
    reward = np.where(closed, 1.0, hamacher_product(reach, in_place)) * 10
    info = {"near_object": (tcp_to_obj <= 0.01).astype(np.float64), "grasp_success": np.ones_like(reward),
            "grasp_reward": reach, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, closed, info)


def lever_pull_reward(obs: np.ndarray, lever_angle: np.ndarray, target: np.ndarray, lever_pos_init: np.ndarray,
                      init_tcp: np.ndarray) -> RewardResult:
    """lever-pull-v3 (metaworld 3.1.1 ``SawyerLeverPullEnvV3.compute_reward``, v2): ``10`` times the Hamacher
    product of ``ready_to_lift`` and ``in_place``.

    ``ready_to_lift`` is ``tolerance(|(hand + (0, 0.055, 0.07) - lever) * (4, 1, 4)|, [0, 0.02])`` (the arm's
    shoulder under the lever's end), margin the same from the start's tool centre to the lever's start;
    ``in_place`` ``tolerance(|lever - target|, [0, 0.04])``, margin ``|lever_start - target|``. The lever's
    angle (minus its joint's ``qpos``) gives success (within 7.5 degrees of upright) and the info's
    ``in_place_reward`` (``tolerance(|angle - 90 deg|, [0, 3.75 deg], margin 75 deg)``), not the reward.
    """
    hand, lever = obs[:, :3], obs[:, 4:7]
    scale = np.array([4.0, 1.0, 4.0])
    offset = np.array([0.0, 0.055, 0.07])
    shoulder_to_lever = np.linalg.norm((hand + offset - lever) * scale, axis=-1)
    shoulder_to_lever_init = np.linalg.norm((init_tcp + offset - lever_pos_init) * scale, axis=-1)
    ready_to_lift = tolerance(shoulder_to_lever, 0.0, 0.02, shoulder_to_lever_init)
    lever_error = np.abs(lever_angle - np.pi / 2.0)
    engagement = tolerance(lever_error, 0.0, np.pi / 48.0, (np.pi / 2.0) - (np.pi / 12.0))
    in_place = tolerance(np.linalg.norm(lever - target, axis=-1), 0.0, 0.04,
                         np.linalg.norm(lever_pos_init - target, axis=-1))
    reward = 10.0 * hamacher_product(ready_to_lift, in_place)
    success = lever_error <= np.pi / 24
    info = {"near_object": (shoulder_to_lever < 0.03).astype(np.float64),
            "grasp_success": (ready_to_lift > 0.9).astype(np.float64), "grasp_reward": ready_to_lift,
            "in_place_reward": engagement, "obj_to_target": shoulder_to_lever, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


class _Fixture(SawyerMetaEnv):
    """A family whose task moves one fixed body (``fixture_body``) to ``rand_vec`` and the world's goal site
    to the target; ``rand_vec`` is the fixture's position alone and every draw is kept."""

    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    fixture_body: str
    target_offset: tuple[float, float, float]

    rand_vec_is_object_start = True  # the fixture's box alone (metaworld's ``_random_reset_space`` of these families)

    def _family_ids(self) -> None:
        self._fixture = self._id(mujoco.mjtObj.mjOBJ_BODY, self.fixture_body)
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fixture stands at ``rand_vec``, the target at a fixed offset from it (``reset_model``)."""
        return rand_vec.copy(), rand_vec + np.array(self.target_offset)

    def _model_fields(self) -> dict[str, np.ndarray]:
        """``reset_model`` moves the fixture's body to ``rand_vec`` and the goal site (a world site) to the
        target."""
        body_pos = self.sim.model_field("body_pos").copy()
        body_pos[:, self._fixture] = self.task_array("rand_vec")
        site_pos = self.sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """Nothing is placed: the fixture's joint keeps the hand reset's state."""


class _Drawer(_Fixture):
    xml = "sawyer_xyz/sawyer_drawer.xml"
    obj_low = (-0.1, 0.9, 0.0)
    obj_high = (0.1, 0.9, 0.0)
    goal_low = (-0.5, 0.40, 0.05)
    goal_high = (0.5, 1.0, 0.5)
    hand_init_pos = _float32((0.0, 0.6, 0.2))
    fixture_body = "drawer"

    def _family_ids(self) -> None:
        super()._family_ids()
        self._drawer_link = self._id(mujoco.mjtObj.mjOBJ_BODY, "drawer_link")
        slide = self._id(mujoco.mjtObj.mjOBJ_JOINT, "goal_slidey")
        self._slide_qpos = int(self.model.jnt_qposadr[slide])


class DrawerOpen(_Drawer):
    """ML drawer-open-v3: pull the drawer's handle 0.2 m out; the nightstand stands at x in [-0.1, 0.1],
    y = 0.9 (success: handle within 0.03 of the open position)."""

    family = "drawer-open-v3"
    target_offset = (0.0, -0.16 - DRAWER_OPEN_MAX_DIST, 0.09)
    data_fields = ("xquat",)
    stale_reset_obs = True

    def _objects(self) -> np.ndarray:
        """The handle (``drawer_link``'s origin moved by ``(0, -0.16, 0)``) and ``drawer_link``'s orientation."""
        sim = self._require_sim()
        handle = sim.fields["xpos"][:, self._drawer_link] + np.array([0.0, -0.16, 0.0])
        return np.hstack([handle, sim.fields["xquat"][:, self._drawer_link]])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return drawer_open_reward(obs, self.target_pos, self.init_tcp)


class DrawerClose(_Drawer):
    """ML drawer-close-v3: push the drawer, open by 0.15 m at the start, closed; the nightstand stands at x in
    [-0.1, 0.1], y = 0.9 (success: handle within 0.065 of the closed position).

    ``obj_init_pos`` is the handle's position after the drawer is pulled out (read from the kinematics after
    the reset, as ``reset_model`` does), not ``rand_vec``.
    """

    family = "drawer-close-v3"
    target_offset = (0.0, -0.16, 0.09)

    def _place_objects(self, sim: BatchSim) -> None:
        """The drawer pulled out to ``-maxDist`` on its slide; velocities stay the hand reset's."""
        sim.qpos[:, self._slide_qpos] = -DRAWER_CLOSE_MAX_DIST

    def _after_reset(self) -> None:
        self.obj_init_pos = self._handle()

    def _handle(self) -> np.ndarray:
        return self._require_sim().fields["xpos"][:, self._drawer_link] + np.array([0.0, -0.16, 0.05])

    def _objects(self) -> np.ndarray:
        """The handle (``drawer_link``'s origin moved by ``(0, -0.16, 0.05)``); metaworld's quaternion is zeros."""
        return np.hstack([self._handle(), np.zeros((self.num_copies, 4))])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return drawer_close_reward(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp)


class LeverPull(_Fixture):
    """ML lever-pull-v3: lift the lever from horizontal to upright; its base stands in [-0.1, 0.1] x
    [0.7, 0.8] (success: within 7.5 degrees of upright)."""

    xml = "sawyer_xyz/sawyer_lever_pull.xml"
    family = "lever-pull-v3"
    hand_low = (-0.5, 0.40, -0.15)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.7, 0.0)
    obj_high = (0.1, 0.8, 0.0)
    goal_low = (-0.5, 0.40, -0.15)
    goal_high = (0.5, 1.0, 0.5)
    hand_init_pos = _float32((0.0, 0.4, 0.2))
    fixture_body = "lever"
    target_offset = (0.12, 0.0, 0.25 + LEVER_RADIUS)
    lever_start_offset = (0.12, -LEVER_RADIUS, 0.25)
    episode_constants = (*SawyerMetaEnv.episode_constants, "lever_pos_init")
    stale_reset_obs = True
    data_fields = ("xquat",)

    def _family_ids(self) -> None:
        super()._family_ids()
        self._lever_start = self._id(mujoco.mjtObj.mjOBJ_SITE, "leverStart")
        self._lever_link = int(self.model.geom_bodyid[self._id(mujoco.mjtObj.mjOBJ_GEOM, "objGeom")])
        self._lever_qpos = int(self.model.jnt_qposadr[self._id(mujoco.mjtObj.mjOBJ_JOINT, "LeverAxis")])

    def _after_reset(self) -> None:
        # the lever's end at rest (metaworld's _lever_pos_init), fixed by the task
        self.lever_pos_init = self.obj_init_pos + np.array(self.lever_start_offset)

    def _objects(self) -> np.ndarray:
        """The lever's end (site ``leverStart``) and the orientation of its geom ``objGeom``, in the geom's
        frame as MuJoCo 3.3.0 compiles it (``LEVER_GEOM_QUAT``)."""
        sim = self._require_sim()
        xmat = quat_to_matrix(quat_multiply(sim.fields["xquat"][:, self._lever_link], LEVER_GEOM_QUAT))
        return np.hstack([sim.fields["site_xpos"][:, self._lever_start], quat_from_matrix(xmat)])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        angle = -self._require_sim().qpos[:, self._lever_qpos]
        return lever_pull_reward(obs, angle, self.target_pos, self.lever_pos_init, self.init_tcp)
