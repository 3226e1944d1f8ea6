"""Meta-World's hinged-door and sliding-window families: door-open, door-close (ML10 test) and window-open.

The constants are metaworld 3.1.1's (``SawyerDoorEnvV3``, ``SawyerDoorCloseEnvV3``, ``SawyerWindowOpenEnvV3``),
the rewards their ``compute_reward`` with ``reward_function_version="v2"`` (the benchmark's default).

A task draws only the object's position (``rand_vec``, 3 numbers): ``reset_model`` moves the door's (or
window's) body there, puts the goal at a fixed offset from it, and keeps every draw. The observed object is
the door's handle geom (position and orientation) or the window's ``handleOpenStart`` site (position, and a
zero quaternion).
"""

from __future__ import annotations

import mujoco
import numpy as np

from .rewards import TARGET_RADIUS, RewardResult, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv, quat_from_matrix


def _float32(*xs: float) -> tuple[float, ...]:
    """The values of a float32 array, as metaworld's ``init_config`` stores some hand positions."""
    return tuple(float(x) for x in np.asarray(xs, dtype=np.float32))


# ----------------------------------------------------------------------------------------------- rewards
def door_open(action: np.ndarray, obs: np.ndarray, theta: np.ndarray, target: np.ndarray) -> RewardResult:
    """door-open-v3 (metaworld 3.1.1 ``SawyerDoorEnvV3.compute_reward``, v2): ``2 H(ready, grab) + 8 opened``,
    10 once the handle's x is within 0.08 of the goal's (success).

    ``grab`` is the gripper effort ``(clip(a_3) + 1) / 2``. ``ready`` is the Hamacher product of staying above a
    funnel-shaped floor around the handle (``0.04 ln(r - 0.12) + 0.4`` at x-y distance ``r > 0.12`` from a point
    0.05 left of it) and the hand within 0.06 of a point between handle and door (margin 0.5). ``opened`` is
    0.2 once the hinge angle ``theta`` is below ``-pi/90``, plus 0.8 times a tolerance that is 1 for ``-theta``
    within 0.5 below ``2 pi / 3`` (margin ``pi / 3``).
    """
    hand = obs[:, :3]
    door = obs[:, 4:7] + np.array([-0.05, 0.0, 0.0])
    threshold = 0.12
    radius = np.linalg.norm(hand[:, :2] - door[:, :2], axis=-1)
    beyond = radius > threshold
    floor = np.where(beyond, 0.04 * np.log(np.where(beyond, radius - threshold, 1.0)) + 0.4, 0.0)
    below = hand[:, 2] < floor
    above_floor = np.where(below, tolerance(floor - hand[:, 2], 0.0, 0.01, np.where(below, floor / 2.0, 1.0)), 1.0)
    offset = np.linalg.norm(hand - door - np.array([0.05, 0.03, -0.01]), axis=-1)
    in_place = tolerance(offset, 0.0, threshold / 2.0, 0.5)
    ready = hamacher_product(above_floor, in_place)

    door_angle = -theta
    opening = tolerance(np.pi / 2.0 + np.pi / 6 - door_angle, 0.0, 0.5, np.pi / 3.0)
    opened = 0.2 * (theta < -np.pi / 90.0) + 0.8 * opening
    grab = (np.clip(action[:, 3], -1.0, 1.0) + 1.0) / 2.0

    success = np.abs(obs[:, 4] - target[:, 0]) <= 0.08
    reward = np.where(success, 10.0, 2.0 * hamacher_product(ready, grab) + 8.0 * opened)
    info = {"near_object": ready, "grasp_success": (grab >= 0.5).astype(np.float64), "grasp_reward": grab,
            "in_place_reward": opened, "obj_to_target": np.zeros_like(reward), "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def door_close(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
               hand_init_pos: np.ndarray) -> RewardResult:
    """door-close-v3 (metaworld 3.1.1 ``SawyerDoorCloseEnvV3.compute_reward``, v2): ``3 hand_in_place + 6 in_place``
    with Gaussian tolerances: the handle within 0.05 of the goal (margin its initial distance) and the tool
    centre within 0.0125 of the goal (margin ``|hand_init - handle| + 0.1``, the handle's current position);
    10 once the handle is within 0.05; success within 0.08."""
    obj = obs[:, 4:7]
    tcp_to_target = np.linalg.norm(tcp - target, axis=-1)
    obj_to_target = np.linalg.norm(obj - target, axis=-1)
    in_place = tolerance(obj_to_target, 0.0, TARGET_RADIUS, np.linalg.norm(obj_init_pos - target, axis=-1),
                         sigmoid="gaussian")
    hand_margin = np.linalg.norm(hand_init_pos - obj, axis=-1) + 0.1
    hand_in_place = tolerance(tcp_to_target, 0.0, 0.25 * TARGET_RADIUS, hand_margin, sigmoid="gaussian")
    reward = np.where(obj_to_target < TARGET_RADIUS, 10.0, 3 * hand_in_place + 6 * in_place)
    ones = np.ones_like(reward)
    info = {"near_object": np.zeros_like(reward), "grasp_success": ones, "grasp_reward": ones,
            "in_place_reward": hand_in_place, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, obj_to_target <= 0.08, info)


def window_open(handle: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                handle_init_pos: np.ndarray, init_tcp: np.ndarray) -> RewardResult:
    """window-open-v3 (metaworld 3.1.1 ``SawyerWindowOpenEnvV3.compute_reward``, v2): ``10 H(reach, in_place)``,
    ``in_place`` the handle's x within 0.05 of the goal's (margin ``|initial x distance - 0.05|``), ``reach``
    the tool centre within 0.02 of the handle (margin ``|initial tool-centre-to-handle distance - 0.02|``);
    success within 0.05 in x."""
    target_to_obj = np.abs(handle[:, 0] - target[:, 0])
    target_to_obj_init = np.abs(obj_init_pos[:, 0] - target[:, 0])
    in_place = tolerance(target_to_obj, 0.0, TARGET_RADIUS, np.abs(target_to_obj_init - TARGET_RADIUS))
    handle_radius = 0.02
    tcp_to_obj = np.linalg.norm(handle - tcp, axis=-1)
    tcp_to_obj_init = np.linalg.norm(handle_init_pos - init_tcp, axis=-1)
    reach = tolerance(tcp_to_obj, 0.0, handle_radius, np.abs(tcp_to_obj_init - handle_radius))
    reward = 10 * hamacher_product(reach, in_place)
    info = {"near_object": (tcp_to_obj <= 0.05).astype(np.float64), "grasp_success": np.ones_like(reward),
            "grasp_reward": reach, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, target_to_obj <= TARGET_RADIUS, info)


# ---------------------------------------------------------------------------------------------- families
class _ObjectOnlyReset(SawyerMetaEnv):
    """A family whose ``rand_vec`` is the object's position alone (``obj_low..obj_high``), every draw kept, and
    whose goal is the object's position plus ``goal_offset``; ``body`` (metaworld's ``model.body(...)``) is
    moved to the object's position and the site ``goal`` to the goal for each task."""

    obj_low = (0.0, 0.85, 0.15)
    obj_high = (0.1, 0.95, 0.15)
    goal_offset: tuple[float, float, float]
    body: str

    rand_vec_is_object_start = True

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        obj = rand_vec[:, :3].copy()
        return obj, obj + np.array(self.goal_offset)

    def _model_fields(self) -> dict[str, np.ndarray]:
        body_pos = self.sim.model_field("body_pos").copy()
        body_pos[:, self._body] = self.obj_init_pos
        site_pos = self.sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"body_pos": body_pos, "site_pos": site_pos}


# The frame (position, quaternion in its body) of the door's ``handle`` mesh geom as MuJoCo 3.3.0 compiles
# metaworld's door_handle.stl: the mesh's centroid and principal axes ("legacy" mesh inertia). MuJoCo 4's
# compiler computes them about 1e-8 differently (0.3757216291725263, -0.10713989591550226, 3.594871036353343e-05;
# 0.1511710702057455, 0.6907585016001258, -0.15062095282872134, 0.6908786641436899), and the observation is
# this geom's position and orientation. The geom is visual only (no contacts; inertia comes from groups 4-5).
HANDLE_GEOM_POS = (0.3757216301497299, -0.10713989547547989, 3.594872010784633e-05)
HANDLE_GEOM_QUAT = (0.1511710860256814, 0.6907584981379653, -0.15062096865140928, 0.6908786606941284)


class _Door(_ObjectOnlyReset):
    """The door-lock model (``sawyer_door_pull.xml``): body ``door``, hinge ``doorjoint``, geom ``handle``;
    ``reset_model`` sets the hinge to ``door_angle`` at rest, then runs a forward pass (``set_state``)."""

    xml = "sawyer_xyz/sawyer_door_pull.xml"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    body = "door"
    door_angle: float

    def _load_model(self) -> mujoco.MjModel:
        """The model with the handle's geom frame MuJoCo 3.3.0 compiles (``HANDLE_GEOM_POS``, ``..._QUAT``)."""
        model = super()._load_model()
        handle = model.geom("handle").id
        model.geom_pos[handle] = HANDLE_GEOM_POS
        model.geom_quat[handle] = HANDLE_GEOM_QUAT
        return model

    def _family_ids(self) -> None:
        self._body = self._id(mujoco.mjtObj.mjOBJ_BODY, self.body)
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")
        self._handle = self._id(mujoco.mjtObj.mjOBJ_GEOM, "handle")
        joint = self._id(mujoco.mjtObj.mjOBJ_JOINT, "doorjoint")
        self._door_qpos = int(self.model.jnt_qposadr[joint])
        self._door_dof = int(self.model.jnt_dofadr[joint])

    def _place_objects(self, sim) -> None:
        sim.qpos[:, self._door_qpos] = self.door_angle
        sim.qvel[:, self._door_dof] = 0.0

    def _objects(self) -> np.ndarray:
        fields = self._require_sim().fields
        xmat = fields["geom_xmat"][:, self._handle].reshape(-1, 3, 3)
        return np.hstack([fields["geom_xpos"][:, self._handle], quat_from_matrix(xmat)])


class DoorOpen(_Door):
    """door-open-v3 (ML10 train): pull the door, its lock at x in [0, 0.1], y in [0.85, 0.95], open until the
    handle is within 0.08 in x of a hidden goal 0.3 left and 0.45 nearer than the lock."""

    family = "door-open-v3"
    goal_offset = (-0.3, -0.45, 0.0)
    door_angle = 0.0

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return door_open(action, obs, self._require_sim().qpos[:, self._door_qpos], self.target_pos)


class DoorClose(_Door):
    """door-close-v3 (ML10 test): the door starts open (hinge at -1.5708); push it shut until the handle is
    within 0.08 of a hidden goal 0.2 right of and 0.2 nearer than the lock."""

    family = "door-close-v3"
    goal_offset = (0.2, -0.2, 0.0)
    door_angle = -1.5708
    hand_init_pos = _float32(-0.5, 0.6, 0.2)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return door_close(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self._hand_init)


class _SlidingWindow(_ObjectOnlyReset):
    """The horizontal window of window-open and window-close (``sawyer_window_horizontal.xml``): the window's
    body moves to the task's position, its slide joint sets how far it is open, and the observation's object
    is the handle site ``handle_site`` (the rest of the object block zero). metaworld's ``reset_model`` moves the
    body and sets the slide without a forward pass (``stale_reset_obs``); ``handle_init_pos``, which the
    rewards read, is kept per episode."""

    xml = "sawyer_xyz/sawyer_window_horizontal.xml"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    hand_init_pos = _float32(0.0, 0.4, 0.2)
    body = "window"
    handle_site = ""  # the family's handle site
    episode_constants = (*SawyerMetaEnv.episode_constants, "handle_init_pos")
    stale_reset_obs = True

    def _family_ids(self) -> None:
        self._body = self._id(mujoco.mjtObj.mjOBJ_BODY, self.body)
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")
        self._handle = self._id(mujoco.mjtObj.mjOBJ_SITE, self.handle_site)
        self._slide_qpos = int(self.model.jnt_qposadr[self._id(mujoco.mjtObj.mjOBJ_JOINT, "window_slide")])

    def _after_reset(self) -> None:
        self.handle_init_pos = self._handle_pos()

    def _handle_pos(self) -> np.ndarray:
        return self._require_sim().fields["site_xpos"][:, self._handle].copy()

    def _objects(self) -> np.ndarray:
        return np.hstack([self._handle_pos(), np.zeros((self.num_copies, 4))])


class WindowOpen(_SlidingWindow):
    """window-open-v3 (ML10 train): slide the window, placed at x in [-0.1, 0.1], y in [0.7, 0.9], open by 0.2
    in x (success within 0.05).

    The reset (``stale_reset_obs``) observes the kinematics its hand reset left: the hand's and
    fingers' from where the last substep began (``rest``), the handle's already at the task's window position
    (metaworld's reset runs ``reset_model`` twice, the second time with the body moved) and with the slide at
    0 (it does not move while the hand settles), which is where the reset's forward pass here puts it too.
    ``handle_init_pos``, which the reward reads, is that handle position.
    """

    family = "window-open-v3"
    obj_low = (-0.1, 0.7, 0.16)
    obj_high = (0.1, 0.9, 0.16)
    goal_offset = (0.2, 0.0, 0.0)
    handle_site = "handleOpenStart"

    def _place_objects(self, sim) -> None:
        sim.qpos[:, self._slide_qpos] = 0.0  # metaworld sets the slide's position only, not its velocity

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return window_open(self._handle_pos(), self.tcp_center(), self.target_pos, self.obj_init_pos,
                           self.handle_init_pos, self.init_tcp)
