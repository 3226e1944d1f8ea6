"""Meta-World's plate-sliding families and soccer as promp meta-envs: plate-slide, plate-slide-side,
plate-slide-back, plate-slide-back-side and soccer (metaworld 3.1.1's ``SawyerPlateSlideEnvV3``,
``SawyerPlateSlideSideEnvV3``, ``SawyerPlateSlideBackEnvV3``, ``SawyerPlateSlideBackSideEnvV3``,
``SawyerSoccerEnvV3``, ``reward_function_version="v2"``).

- The plate (a box geom ``puck`` on two slide joints, x then y, under the fixed body ``puck_channel`` at
  ``(0, 0.6, 0.015)``) is pushed into a net (body ``puck_goal``). The goal vector is the plate's nominal
  start (a fixed point: its box has no width) and the goal; every draw is kept. The reset sets the two
  slide joints to a family's fixed offset (the plate's velocity stays the hand reset's) and moves the net:
  plate-slide to the goal, plate-slide-back-side to the plate's nominal start (so the net sits behind the
  plate and the goal is open table); plate-slide-side and plate-slide-back leave the net where the model
  has it (metaworld writes the goal into the net's world position ``data.xpos``, which the next forward
  pass overwrites). The observation is the plate's geom frame.
- soccer: the ball (body ``soccer_ball``, free joint) starts at the goal vector's x-y, height 0.03, and is
  pushed into the goal frame (body ``goal_whole``), moved to the goal; a draw is redrawn while ball and goal
  are closer than 0.15 in x-y. The observation is the ball's body frame.

soccer's info field ``grasp_success`` (the ball touched by a pad, the gripper open and the ball lifted by
0.02) is not computed: it needs the contacts, which the batch does not expose, and neither the reward nor
the success flag reads it. The plate families report metaworld's constant 0.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .placing import HAND_HIGH, HAND_INIT_FLOAT32, HAND_LOW
from .rewards import RewardResult, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv, quat_from_matrix
from .sweeping import _BodyQuatObject, sweep_caging

PLATE_TARGET_RADIUS = 0.05
PLATE_SUCCESS_RADIUS = 0.07
SOCCER_OBJ_RADIUS = 0.013
SOCCER_TARGET_RADIUS = 0.07
SOCCER_BALL_Z = 0.03


def _plate_terms(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                 init_tcp: np.ndarray, margin_offset: float) -> tuple[np.ndarray, ...]:
    """The terms every plate family's v2 reward shares: plate to target, tool centre to plate, ``in_place``
    (the plate within 0.05 of the target; margin the start's distance less ``margin_offset``) and
    ``object_grasped`` (the tool centre within 0.05 of the plate; margin the hand reset's distance less
    ``margin_offset``)."""
    obj = obs[:, 4:7]
    obj_to_target = np.linalg.norm(obj - target, axis=-1)
    in_place = tolerance(obj_to_target, 0.0, PLATE_TARGET_RADIUS,
                         np.linalg.norm(obj_init_pos - target, axis=-1) - margin_offset)
    tcp_to_obj = np.linalg.norm(tcp - obj, axis=-1)
    object_grasped = tolerance(tcp_to_obj, 0.0, PLATE_TARGET_RADIUS,
                               np.linalg.norm(init_tcp - obj_init_pos, axis=-1) - margin_offset)
    return obj_to_target, tcp_to_obj, in_place, object_grasped


def _plate_result(reward: np.ndarray, obj_to_target: np.ndarray, tcp_to_obj: np.ndarray, in_place: np.ndarray,
                  object_grasped: np.ndarray) -> RewardResult:
    """10 once the plate is within 0.05 of the target; success within 0.07; metaworld's plate info
    (``grasp_success`` always 0)."""
    reward = np.where(obj_to_target < PLATE_TARGET_RADIUS, 10.0, reward)
    success = obj_to_target <= PLATE_SUCCESS_RADIUS
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_success": np.zeros_like(reward),
            "grasp_reward": object_grasped, "in_place_reward": in_place, "obj_to_target": obj_to_target,
            "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def plate_slide(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                init_tcp: np.ndarray) -> RewardResult:
    """plate-slide-v3 (metaworld 3.1.1 SawyerPlateSlideEnvV3.compute_reward, v2): ``8 hamacher(object_grasped,
    in_place)`` with the margins the full start distances; 10 within 0.05, success within 0.07."""
    obj_to_target, tcp_to_obj, in_place, grasped = _plate_terms(obs, tcp, target, obj_init_pos, init_tcp, 0.0)
    reward = 8 * hamacher_product(grasped, in_place)
    return _plate_result(reward, obj_to_target, tcp_to_obj, in_place, grasped)


def plate_slide_sideways(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                         init_tcp: np.ndarray) -> RewardResult:
    """plate-slide-side, -back and -back-side v3 (metaworld 3.1.1 SawyerPlateSlideSideEnvV3.compute_reward,
    v2, and the same in SawyerPlateSlideBackEnvV3 and SawyerPlateSlideBackSideEnvV3): the margins less 0.05;
    ``1.5 object_grasped``, replaced by ``2 + 7 in_place`` while the tool centre is at most 0.03 high and
    within 0.07 of the plate; 10 within 0.05, success within 0.07."""
    obj_to_target, tcp_to_obj, in_place, grasped = _plate_terms(obs, tcp, target, obj_init_pos, init_tcp,
                                                                PLATE_TARGET_RADIUS)
    pushing = (tcp[:, 2] <= 0.03) & (tcp_to_obj < 0.07)
    reward = np.where(pushing, 2.0 + 7.0 * in_place, 1.5 * grasped)
    return _plate_result(reward, obj_to_target, tcp_to_obj, in_place, grasped)


def soccer(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray,
           left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """soccer-v3 (metaworld 3.1.1 SawyerSoccerEnvV3.compute_reward, v2).

    Distances weigh x three times (``(ball - target) * (3, 1, 1)``). ``in_place`` is the tolerance of that
    distance to the target within 0.07, whose margin is the same weighted distance of the ball to its
    *start* (as metaworld writes it: 0 while the ball has not moved, where only the bounds count); past the
    line 0.1 before the goal and more than 0.1 off the goal's x, ``in_place`` loses ``2 (y - line) / (1 -
    line)`` (clipped to [0, 1]). ``object_grasped`` is soccer's caging term, the sweep families' own
    (``sweep_caging``: ball radius 0.013, grip bound 0.023, x-z radius 0.005). The reward is ``3
    object_grasped + 6.5 in_place``, 10 once the weighted distance is below 0.07. Success (and the info's ``obj_to_target``)
    reads the unweighted distance: within 0.07.
    """
    obj = obs[:, 4:7]
    scale = np.array([3.0, 1.0, 1.0])
    tcp_to_obj = np.linalg.norm(obj - tcp, axis=-1)
    target_to_obj = np.linalg.norm((obj - target) * scale, axis=-1)
    target_to_obj_init = np.linalg.norm((obj - obj_init_pos) * scale, axis=-1)
    in_place = tolerance(target_to_obj, 0.0, SOCCER_TARGET_RADIUS, target_to_obj_init)
    goal_line = target[:, 1] - 0.1
    wide = (obj[:, 1] > goal_line) & (np.abs(obj[:, 0] - target[:, 0]) > 0.10)
    in_place = np.where(wide, np.clip(in_place - 2 * ((obj[:, 1] - goal_line) / (1 - goal_line)), 0.0, 1.0), in_place)
    grasped = sweep_caging(obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=SOCCER_OBJ_RADIUS,
                           grip_margin=SOCCER_OBJ_RADIUS + 0.01, xz_radius=0.005)
    reward = (3 * grasped) + (6.5 * in_place)
    reward = np.where(target_to_obj < SOCCER_TARGET_RADIUS, 10.0, reward)
    obj_to_target = np.linalg.norm(obj - target, axis=-1)
    success = obj_to_target <= SOCCER_TARGET_RADIUS
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": in_place, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


class _Plate(SawyerMetaEnv):
    """A plate on two slide joints (x, y) pushed into a net (module docstring). ``plate_slides``: the slide
    joints' values at reset; ``net_at``: where the reset moves the net (``"goal"``, ``"start"`` or ``None``:
    left where the model has it)."""

    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    hand_init_pos = HAND_INIT_FLOAT32
    plate_slides: tuple[float, float] = (0.0, 0.0)
    net_at: str | None = None

    @classmethod
    def rand_vec_acceptable(cls, vec: np.ndarray) -> bool:
        """The plate families' ``reset_model`` keeps every draw."""
        return True

    def _family_ids(self) -> None:
        body, joint = mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_JOINT
        self._puck = self._id(mujoco.mjtObj.mjOBJ_GEOM, "puck")
        slide_x, slide_y = self._id(joint, "goal_slidex"), self._id(joint, "goal_slidey")
        self._slide_qpos = int(self.model.jnt_qposadr[slide_x])
        if int(self.model.jnt_qposadr[slide_y]) != self._slide_qpos + 1:
            raise RuntimeError(f"{self.xml}: the plate's slide joints are not adjacent in qpos")
        self._net = self._id(body, "puck_goal")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _model_fields(self) -> dict[str, np.ndarray]:
        sim = self._require_sim()
        site_pos = sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos  # a world site: only drawn, never read
        fields = {"site_pos": site_pos}
        if self.net_at is not None:
            body_pos = sim.model_field("body_pos").copy()
            body_pos[:, self._net] = self.target_pos if self.net_at == "goal" else self.obj_init_pos
            fields["body_pos"] = body_pos
        return fields

    def _place_objects(self, sim: BatchSim) -> None:
        # only the slide joints' positions are written: the plate keeps the hand reset's velocity
        sim.qpos[:, self._slide_qpos:self._slide_qpos + 2] = self.plate_slides

    def _objects(self) -> np.ndarray:
        fields = self._require_sim().fields
        xmat = fields["geom_xmat"][:, self._puck].reshape(-1, 3, 3)
        return np.hstack([fields["geom_xpos"][:, self._puck], quat_from_matrix(xmat)])


class PlateSlide(_Plate):
    """ML45 plate-slide-v3: push the plate from ``(0, 0.6)`` forward into the net, moved to the goal in
    [-0.1, 0.1] x [0.85, 0.9] (success within 0.07)."""

    xml = "sawyer_xyz/sawyer_plate_slide.xml"
    family = "plate-slide-v3"
    obj_low = (0.0, 0.6, 0.0)
    obj_high = (0.0, 0.6, 0.0)
    goal_low = (-0.1, 0.85, 0.0)
    goal_high = (0.1, 0.9, 0.0)
    net_at = "goal"

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return plate_slide(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp)


class PlateSlideSide(_Plate):
    """ML45 plate-slide-side-v3: push the plate from ``(0, 0.6)`` sideways to a goal in [-0.3, -0.25] x
    [0.54, 0.66] (the net stays at ``(-0.3, 0.6)``; success within 0.07)."""

    xml = "sawyer_xyz/sawyer_plate_slide_sideway.xml"
    family = "plate-slide-side-v3"
    obj_low = (0.0, 0.6, 0.0)
    obj_high = (0.0, 0.6, 0.0)
    goal_low = (-0.3, 0.54, 0.0)
    goal_high = (-0.25, 0.66, 0.0)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return plate_slide_sideways(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp)


class PlateSlideBack(_Plate):
    """ML45 plate-slide-back-v3: pull the plate from the net (slid to ``(0, 0.75)``; nominal start ``(0, 0.85)``)
    back to a goal in [-0.1, 0.1] x 0.6 at height 0.015 (the net stays at ``(0, 0.85)``; success within 0.07)."""

    xml = "sawyer_xyz/sawyer_plate_slide.xml"
    family = "plate-slide-back-v3"
    obj_low = (0.0, 0.85, 0.0)
    obj_high = (0.0, 0.85, 0.0)
    goal_low = (-0.1, 0.6, 0.015)
    goal_high = (0.1, 0.6, 0.015)
    plate_slides = (0.0, 0.15)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return plate_slide_sideways(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp)


class PlateSlideBackSide(_Plate):
    """ML45 plate-slide-back-side-v3: pull the plate from the net (moved to ``(-0.25, 0.6)``; the plate slid to
    ``(-0.15, 0.6)``) sideways to a goal in [-0.05, 0.15] x 0.6 at height 0.015 (success within 0.07)."""

    xml = "sawyer_xyz/sawyer_plate_slide_sideway.xml"
    family = "plate-slide-back-side-v3"
    obj_low = (-0.25, 0.6, 0.0)
    obj_high = (-0.25, 0.6, 0.0)
    goal_low = (-0.05, 0.6, 0.015)
    goal_high = (0.15, 0.6, 0.015)
    plate_slides = (-0.15, 0.0)
    net_at = "start"

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return plate_slide_sideways(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp)


class Soccer(_BodyQuatObject):
    """ML45 soccer-v3: push the ball from [-0.1, 0.1] x [0.6, 0.7] into the goal frame, moved to the goal in
    [-0.1, 0.1] x [0.8, 0.9] (success within 0.07). The observation's orientation is the ball's body frame as
    ``(x, y, z, w)`` (metaworld converts its rotation matrix)."""

    xml = "sawyer_xyz/sawyer_soccer.xml"
    family = "soccer-v3"
    obj_body = "soccer_ball"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    obj_low = (-0.1, 0.6, 0.03)
    obj_high = (0.1, 0.7, 0.03)
    goal_low = (-0.1, 0.8, 0.0)
    goal_high = (0.1, 0.9, 0.0)
    data_fields = ("xmat",)

    def _family_ids(self) -> None:
        super()._family_ids()
        self._goal_body = self._id(mujoco.mjtObj.mjOBJ_BODY, "goal_whole")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the ball at the drawn x-y and metaworld's start height (not the drawn z)
        n = rand_vec.shape[0]
        return np.hstack([rand_vec[:, :2], np.full((n, 1), SOCCER_BALL_Z)]), rand_vec[:, 3:].copy()

    def _model_fields(self) -> dict[str, np.ndarray]:
        sim = self._require_sim()
        body_pos = sim.model_field("body_pos").copy()
        body_pos[:, self._goal_body] = self.target_pos
        site_pos = sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos  # a world site: only drawn, never read
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _objects(self) -> np.ndarray:
        fields = self._require_sim().fields
        xmat = fields["xmat"][:, self._obj].reshape(-1, 3, 3)
        return np.hstack([fields["xpos"][:, self._obj], quat_from_matrix(xmat)])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return soccer(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp, *self._pads())
