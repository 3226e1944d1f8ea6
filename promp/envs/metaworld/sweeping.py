"""Meta-World's sweep, sweep-into and basketball families as promp meta-envs (``sawyer.py``).

The constants and reward formulas are metaworld 3.1.1's (``SawyerSweepEnvV3``, ``SawyerSweepIntoGoalEnvV3``,
``SawyerBasketballEnvV3``, ``reward_function_version="v2"``):

- sweep: push a block from [-0.1, 0.1] x [0.6, 0.7] off the table's right edge, to ``(0.5, y_start, 0.01)``;
  the goal vector is the block's start alone (3 numbers) and every draw is kept;
- sweep-into: push a block from [-0.1, 0.1] x [0.6, 0.7] into the hole at ``(0, 0.84)``; the goal vector
  also holds a goal box, which the reset ignores (the hole is fixed), and a draw is redrawn while the
  block starts closer than 0.15 to the hole in x-y;
- basketball: pick the ball from [-0.1, 0.1] x [0.6, 0.7] and drop it through the hoop, whose stand moves
  to the goal vector's last three numbers ([-0.1, 0.1] x [0.85, 0.9]); the target is the hoop's goal site.

The info field ``grasp_success`` of sweep and sweep-into (both pads touching the block with positive
contact force) is not computed: it needs the contacts, which the batch does not expose, and neither the
reward nor the success flag reads it.
"""

from __future__ import annotations

import mujoco
import numpy as np

from .rewards import RewardResult, gripper_caging, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv

SWEEP_OBJ_RADIUS = 0.02
SWEEP_TARGET_RADIUS = 0.05
BASKETBALL_TARGET_RADIUS = 0.08
BASKETBALL_TARGET_Z = 0.3  # the reward's target sits just above the hoop, whatever the goal site's height


def _float32(*values: float) -> tuple[float, ...]:
    """``values`` rounded to float32 and back, as metaworld stores basketball's ``init_config``."""
    return tuple(float(np.float32(v)) for v in values)


def sweep_caging(obj: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray, tcp: np.ndarray,
                 left_pad: np.ndarray, right_pad: np.ndarray, obj_radius: float, grip_margin: float,
                 xz_radius: float) -> np.ndarray:
    """The sweep families' own ``_gripper_caging_reward`` (metaworld 3.1.1 SawyerSweepEnvV3 and
    SawyerSweepIntoGoalEnvV3): the average of ``caging`` and ``gripping``.

    ``caging`` is the Hamacher product of the y term (each pad's signed y offset from the block, left pad
    minus block and block minus right pad, within ``[obj_radius, 0.05]``, margin ``| |block_y - pad_y| -
    0.05 |`` with the current pads: metaworld's ``init_*_pad`` are views of the live ``data.xpos``) and the
    x-z term (tool centre to block in x-z within ``xz_radius``, margin the start's x-z distance less
    ``xz_radius``); ``gripping`` is the y term with the tighter bound ``grip_margin`` once caging exceeds
    0.95, else 0. The gripper action is not read.
    """
    pad_margin = 0.05
    left_y, right_y = left_pad[:, 1] - obj[:, 1], obj[:, 1] - right_pad[:, 1]
    left_margin = np.abs(np.abs(obj[:, 1] - left_pad[:, 1]) - pad_margin)
    right_margin = np.abs(np.abs(obj[:, 1] - right_pad[:, 1]) - pad_margin)
    caging_y = hamacher_product(tolerance(right_y, obj_radius, pad_margin, right_margin),
                                tolerance(left_y, obj_radius, pad_margin, left_margin))
    gripping_y = hamacher_product(tolerance(right_y, obj_radius, grip_margin, right_margin),
                                  tolerance(left_y, obj_radius, grip_margin, left_margin))
    xz = [0, 2]
    xz_margin = np.linalg.norm(obj_init_pos[:, xz] - init_tcp[:, xz], axis=-1) - xz_radius
    caging_xz = tolerance(np.linalg.norm(tcp[:, xz] - obj[:, xz], axis=-1), 0.0, xz_radius, xz_margin)
    caging = hamacher_product(caging_y, caging_xz)
    gripping = np.where(caging > 0.95, gripping_y, 0.0)
    return (caging + gripping) / 2


def _sweep_result(obj: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                  grasped: np.ndarray) -> RewardResult:
    """The reward both sweep families share (metaworld 3.1.1 SawyerSweepEnvV3.compute_reward, v2):
    ``2 grasped + 6 hamacher(grasped, in_place)``, 10 once the block is within 0.05 of ``target``
    (success), with ``in_place`` the tolerance of that distance (margin: the start's distance)."""
    obj_to_target = np.linalg.norm(obj - target, axis=-1)
    tcp_to_obj = np.linalg.norm(obj - tcp, axis=-1)
    in_place = tolerance(obj_to_target, 0.0, SWEEP_TARGET_RADIUS, np.linalg.norm(obj_init_pos - target, axis=-1))
    reward = (2 * grasped) + (6 * hamacher_product(grasped, in_place))
    reward = np.where(obj_to_target < SWEEP_TARGET_RADIUS, 10.0, reward)
    success = obj_to_target <= SWEEP_TARGET_RADIUS
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": in_place, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def sweep(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray,
          left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """sweep-v3 (metaworld 3.1.1 SawyerSweepEnvV3.compute_reward, v2): ``sweep_caging`` with grip bound
    0.03 and x-z radius 0.005, then ``_sweep_result`` towards the fixed ``target``."""
    obj = obs[:, 4:7]
    grasped = sweep_caging(obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=SWEEP_OBJ_RADIUS,
                           grip_margin=SWEEP_OBJ_RADIUS + 0.01, xz_radius=0.005)
    return _sweep_result(obj, tcp, target, obj_init_pos, grasped)


def sweep_into(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
               init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """sweep-into-v3 (metaworld 3.1.1 SawyerSweepIntoGoalEnvV3.compute_reward, v2): as ``sweep`` with grip
    bound 0.025 and x-z radius 0.01, the target at the block's current height (only x-y count)."""
    obj = obs[:, 4:7]
    target = np.hstack([target[:, :2], obj[:, 2:3]])
    grasped = sweep_caging(obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=SWEEP_OBJ_RADIUS,
                           grip_margin=SWEEP_OBJ_RADIUS + 0.005, xz_radius=0.01)
    return _sweep_result(obj, tcp, target, obj_init_pos, grasped)


def basketball(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
               init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """basketball-v3 (metaworld 3.1.1 SawyerBasketballEnvV3.compute_reward, v2).

    The target is the goal site at height 0.3; distances to it weigh z twice (``(obj - target) * (1, 1,
    2)``). ``grasped`` is ``gripper_caging`` (radius 0.025, pad bound 0.06, x-z 0.005, high density), set
    to 1 while the ball is held: tool centre within 0.035, gripper open reading above 0, ball lifted more
    than 0.01. The reward is ``hamacher(grasped, in_place)``, plus ``1 + 5 in_place`` while held, 10 once
    the weighted distance is below 0.08 (success within 0.08).
    """
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    target = np.hstack([target[:, :2], np.full((target.shape[0], 1), BASKETBALL_TARGET_Z)])
    scale = np.array([1.0, 1.0, 2.0])
    target_to_obj = np.linalg.norm((obj - target) * scale, axis=-1)
    target_to_obj_init = np.linalg.norm((obj_init_pos - target) * scale, axis=-1)
    in_place = tolerance(target_to_obj, 0.0, BASKETBALL_TARGET_RADIUS, target_to_obj_init)
    tcp_to_obj = np.linalg.norm(obj - tcp, axis=-1)
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.025,
                             pad_success_thresh=0.06, object_reach_radius=0.01, xz_thresh=0.005, high_density=True)
    held = (tcp_to_obj < 0.035) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init_pos[:, 2])
    grasped = np.where(held, 1.0, grasped)
    reward = hamacher_product(grasped, in_place)
    reward = np.where(held, reward + (1.0 + 5.0 * in_place), reward)
    reward = np.where(target_to_obj < BASKETBALL_TARGET_RADIUS, 10.0, reward)
    success = target_to_obj <= BASKETBALL_TARGET_RADIUS
    grasp_success = (tcp_opened > 0) & (obj[:, 2] - 0.03 > obj_init_pos[:, 2])
    info = {"near_object": (tcp_to_obj <= 0.05).astype(np.float64), "grasp_success": grasp_success.astype(np.float64),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, success, info)


class _BodyQuatObject(SawyerMetaEnv):
    """A free body whose observation is its body frame: position ``xpos`` and quaternion ``xquat``
    (MuJoCo's ``w, x, y, z`` order, as metaworld's ``data.body(...).xquat``). ``obj_body`` names it."""

    data_fields = ("xquat",)

    obj_body: str

    def _family_ids(self) -> None:
        self._obj = self._id(mujoco.mjtObj.mjOBJ_BODY, self.obj_body)
        joint = int(self.model.body_jntadr[self._obj])
        if joint < 0 or self.model.jnt_type[joint] != mujoco.mjtJoint.mjJNT_FREE:
            raise RuntimeError(f"{self.xml}: body {self.obj_body!r} has no free joint")
        # metaworld's _set_obj_xyz writes qpos[9:12] and qvel[9:15]: the first free joint after the arm's 9
        self._obj_qpos = int(self.model.jnt_qposadr[joint])
        self._obj_dof = int(self.model.jnt_dofadr[joint])

    def _objects(self) -> np.ndarray:
        sim = self._require_sim()
        return np.hstack([sim.fields["xpos"][:, self._obj], sim.fields["xquat"][:, self._obj]])

    def _pads(self) -> tuple[np.ndarray, np.ndarray]:
        return self.body_pos(self._leftpad), self.body_pos(self._rightpad)


class Sweep(_BodyQuatObject):
    """ML1 sweep-v3: push the block from [-0.1, 0.1] x [0.6, 0.7] to ``(0.5, y_start, 0.01)``, off the
    table's edge (success within 0.05). The goal vector is the block's start (3 numbers)."""

    xml = "sawyer_xyz/sawyer_sweep_v3.xml"
    family = "sweep-v3"
    obj_body = "obj"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.6, 0.02)
    obj_high = (0.1, 0.7, 0.02)
    goal_low = (0.49, 0.6, 0.00)  # metaworld's goal_space: not part of the goal vector, not drawn
    goal_high = (0.51, 0.7, 0.02)
    obj_init_z = 0.02
    goal = (0.5, 0.65, 0.01)

    rand_vec_is_object_start = True  # the block's start box alone (metaworld's ``_random_reset_space`` for sweep)

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # block at the drawn x-y on the table; goal past the right edge, at the block's y
        n = rand_vec.shape[0]
        obj = np.hstack([rand_vec[:, :2], np.full((n, 1), self.obj_init_z)])
        target = np.broadcast_to(np.asarray(self.goal, dtype=np.float64), (n, 3)).copy()
        target[:, 1] = rand_vec[:, 1]
        return obj, target

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return sweep(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp, *self._pads())


class SweepInto(SawyerMetaEnv):
    """ML1 sweep-into-v3: push the block from [-0.1, 0.1] x [0.6, 0.7] into the hole at ``(0, 0.84)``
    (success within 0.05 in x-y). The goal vector's goal part is drawn but unused: the hole is fixed."""

    xml = "sawyer_xyz/sawyer_table_with_hole.xml"
    family = "sweep-into-v3"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.6, 0.02)
    obj_high = (0.1, 0.7, 0.02)
    goal_low = (-0.001, 0.8399, 0.0199)
    goal_high = (0.001, 0.8401, 0.0201)
    goal = (0.0, 0.84, 0.02)

    @classmethod
    def rand_vec_acceptable(cls, vec: np.ndarray) -> bool:
        """sweep-into's ``reset_model`` redraws while the block's start is closer than 0.15 to the hole in x-y."""
        return bool(np.linalg.norm(vec[:2] - np.asarray(cls.goal[:2])) >= cls.min_obj_goal_xy)

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the block keeps its height after the hand reset; the target is the hole, whatever was drawn
        n = rand_vec.shape[0]
        obj = np.hstack([rand_vec[:, :2], np.full((n, 1), self.rest.xpos[self._obj][2])])
        return obj, np.broadcast_to(np.asarray(self.goal, dtype=np.float64), (n, 3)).copy()

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return sweep_into(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                          self.body_pos(self._leftpad), self.body_pos(self._rightpad))


class Basketball(_BodyQuatObject):
    """ML1 basketball-v3: pick the ball from [-0.1, 0.1] x [0.6, 0.7] and put it through the hoop, whose
    stand is at the goal vector's last three numbers ([-0.1, 0.1] x [0.85, 0.9] x 0)."""

    xml = "sawyer_xyz/sawyer_basketball.xml"
    family = "basketball-v3"
    obj_body = "bsktball"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.6, 0.0299)
    obj_high = (0.1, 0.7, 0.0301)
    goal_low = (-0.1, 0.85, 0.0)
    goal_high = (0.1, 0.9 + 1e-7, 0.0)
    hand_init_pos = _float32(0.0, 0.6, 0.2)
    obj_init_z = _float32(0.03)[0]

    def _family_ids(self) -> None:
        super()._family_ids()
        self._basket = self._id(mujoco.mjtObj.mjOBJ_BODY, "basket_goal")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # until the reset's kinematics give the goal site (``_after_reset``), its offset from the stand
        n = rand_vec.shape[0]
        obj = np.hstack([rand_vec[:, :2], np.full((n, 1), self.obj_init_z)])
        offset = self.rest.site_xpos[self._goal_site] - self.rest.xpos[self._basket]
        return obj, rand_vec[:, 3:] + offset

    def _model_fields(self) -> dict[str, np.ndarray]:
        body_pos = self.sim.model_field("body_pos").copy()
        body_pos[:, self._basket] = self.task_array("rand_vec")[:, 3:]
        return {"body_pos": body_pos}

    def _after_reset(self) -> None:
        # metaworld's target is the goal site's world position once the stand has moved (its reset_model
        # also writes that position into the site's local pos, which the kinematics ignore: the site shares
        # its body's frame)
        self.target_pos = self._require_sim().fields["site_xpos"][:, self._goal_site].copy()

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return basketball(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                          *self._pads())
