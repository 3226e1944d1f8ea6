"""Meta-World's push-back, push-wall, reach-wall, pick-place-wall and pick-out-of-hole families as promp
meta-envs (``sawyer.py``).

The constants and reward formulas are metaworld 3.1.1's (``SawyerPushBackEnvV3``, ``SawyerPushWallEnvV3``,
``SawyerReachWallEnvV3``, ``SawyerPickPlaceWallEnvV3``, ``SawyerPickOutOfHoleEnvV3``,
``reward_function_version="v2"``). Each has one free object (body ``obj``) placed from the goal vector's
first three numbers, the target from its last three, and a reset that redraws while object and target are
closer than 0.15 in x-y (the default rule):

- push-back: push a block from [-0.1, 0.1] x [0.8, 0.85] back towards the robot, to [-0.1, 0.1] x [0.6, 0.7];
- push-wall: push a puck from [-0.05, 0.05] x [0.6, 0.65] around the wall at y = 0.75 to [-0.05, 0.05] x
  [0.85, 0.9];
- reach-wall: reach over the wall to a goal in [-0.05, 0.05] x [0.85, 0.9] x [0.05, 0.3];
- pick-place-wall: pick the puck and place it over the wall at a goal in [-0.05, 0.05] x [0.85, 0.9] x
  [0.05, 0.3];
- pick-out-of-hole: pick the puck from the hole at (0, 0.75) in the table up to a goal in [-0.1, 0.1] x
  [0.5, 0.6] x [0.15, 0.3].

push-back and push-wall keep the object's height after the hand reset (its geom's) for the object and the
target; the others take the drawn heights. Every reset moves the model's ``goal`` site to the target.

The info field ``grasp_success`` of push-back, push-wall and pick-place-wall (both pads touching the object
with positive contact force) is not computed: it needs the contacts, which the batch does not expose, and
neither the reward nor the success flag reads it. pick-out-of-hole's ``grasp_success`` is its reward's own
test and is computed.
"""

from __future__ import annotations

import mujoco
import numpy as np

from . import rewards
from .placing import HAND_HIGH, HAND_INIT_FLOAT32, HAND_LOW
from .rewards import TARGET_RADIUS, RewardResult, gripper_caging, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv, quat_from_matrix
from .sweeping import _BodyQuatObject, sweep_caging

PUSH_BACK_OBJ_RADIUS = 0.007
WALL_Y = 0.75  # past this y the object is beyond the wall: the wall families reward the final approach
PICK_OUT_OF_HOLE_RADIUS = 0.02  # its in_place bound; the 10-point bonus uses the base class's TARGET_RADIUS (0.05)


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=-1)


def push_back(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray,
              left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """push-back-v3 (metaworld 3.1.1 SawyerPushBackEnvV3.compute_reward, v2).

    ``hamacher(grasped, in_place)`` with ``in_place = tolerance(|block - target|, [0, 0.05])`` (margin the
    start's distance) and ``grasped`` push-back's own ``_gripper_caging_reward``, which is the sweep families'
    (``sweeping.sweep_caging``: block radius 0.007, grip bound 0.010, x-z radius 0.01, no gripper action).
    Bonus ``1 + 5 in_place`` once the tool centre is within 0.01 of the block, the gripper opening in
    (0, 0.55) and the block 0.01 nearer the target than at the start; 10 within 0.05; success within 0.07.
    """
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    tcp_to_obj = _norm(obj - tcp)
    target_to_obj = _norm(obj - target)
    target_to_obj_init = _norm(obj_init_pos - target)
    in_place = tolerance(target_to_obj, 0.0, TARGET_RADIUS, target_to_obj_init)
    grasped = sweep_caging(obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=PUSH_BACK_OBJ_RADIUS,
                           grip_margin=PUSH_BACK_OBJ_RADIUS + 0.003, xz_radius=0.01)
    reward = hamacher_product(grasped, in_place)
    pushing = (tcp_to_obj < 0.01) & (0 < tcp_opened) & (tcp_opened < 0.55) & (target_to_obj_init - target_to_obj > 0.01)
    reward = np.where(pushing, reward + (1.0 + 5.0 * in_place), reward)
    reward = np.where(target_to_obj < TARGET_RADIUS, 10.0, reward)
    success = target_to_obj <= 0.07
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": in_place, "obj_to_target": target_to_obj, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def _around_the_wall(obj: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray, midpoint: np.ndarray,
                     scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The wall families' two in-place terms: towards a ``midpoint`` beside or above the wall (distances
    scaled per axis by ``scale``), then towards the target; each ``tolerance(d, [0, 0.05])`` with margin the
    start's distance. Returns ``(to_midpoint, to_target, obj_to_target)``."""
    to_midpoint = tolerance(_norm((obj - midpoint) * scale), 0.0, TARGET_RADIUS,
                            _norm((obj_init_pos - midpoint) * scale))
    obj_to_target = _norm(obj - target)
    to_target = tolerance(obj_to_target, 0.0, TARGET_RADIUS, _norm(obj_init_pos - target))
    return to_midpoint, to_target, obj_to_target


def _wall_reward(base: np.ndarray, bonus: np.ndarray, obj: np.ndarray, to_midpoint: np.ndarray,
                 to_target: np.ndarray, obj_to_target: np.ndarray) -> np.ndarray:
    """The wall families' staged reward: ``base``; where ``bonus`` holds ``base + 1 + 4 to_midpoint``, or
    ``base + 5 + 3 to_target`` once the object is past the wall (y above 0.75); 10 within 0.05 of the target."""
    past_wall = obj[:, 1] > WALL_Y
    staged = np.where(past_wall, base + 1.0 + 4.0 + 3.0 * to_target, base + 1.0 + 4.0 * to_midpoint)
    reward = np.where(bonus, staged, base)
    return np.where(obj_to_target < TARGET_RADIUS, 10.0, reward)


def push_wall(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
              init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """push-wall-v3 (metaworld 3.1.1 SawyerPushWallEnvV3.compute_reward, v2).

    ``2 grasped`` (``gripper_caging``: radius 0.015, pads 0.05, x-z 0.005, high density); once the tool
    centre is within 0.02 of the puck with the gripper open, the staged bonus of ``_wall_reward`` with the
    midpoint ``(-0.05, 0.77, puck height)`` beside the wall, x weighed three times; success within 0.07.
    """
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    tcp_to_obj = _norm(obj - tcp)
    midpoint = np.stack([np.full_like(obj[:, 2], -0.05), np.full_like(obj[:, 2], 0.77), obj[:, 2]], axis=-1)
    to_midpoint, to_target, obj_to_target = _around_the_wall(obj, target, obj_init_pos, midpoint,
                                                             np.array([3.0, 1.0, 1.0]))
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.005, high_density=True)
    near = (tcp_to_obj < 0.02) & (tcp_opened > 0)
    reward = _wall_reward(2 * grasped, near, obj, to_midpoint, to_target, obj_to_target)
    success = obj_to_target <= 0.07
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": to_target, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def pick_place_wall(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                    obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
                    right_pad: np.ndarray) -> RewardResult:
    """pick-place-wall-v3 (metaworld 3.1.1 SawyerPickPlaceWallEnvV3.compute_reward, v2).

    ``hamacher(grasped, to_midpoint)`` with ``gripper_caging`` (radius 0.015, pads 0.05, x-z 0.005, no
    density term) and the midpoint ``(target x, 0.77, 0.25)`` above the wall, z weighed three times; once
    the tool centre is within 0.02 of the puck, the gripper open and the puck 0.015 above its start, the
    staged bonus of ``_wall_reward``; success within 0.07.
    """
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    tcp_to_obj = _norm(obj - tcp)
    midpoint = np.stack([target[:, 0], np.full_like(target[:, 0], 0.77), np.full_like(target[:, 0], 0.25)], axis=-1)
    to_midpoint, to_target, obj_to_target = _around_the_wall(obj, target, obj_init_pos, midpoint,
                                                             np.array([1.0, 1.0, 3.0]))
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.005)
    lifted = (tcp_to_obj < 0.02) & (tcp_opened > 0) & (obj[:, 2] - 0.015 > obj_init_pos[:, 2])
    reward = _wall_reward(hamacher_product(grasped, to_midpoint), lifted, obj, to_midpoint, to_target, obj_to_target)
    success = obj_to_target <= 0.07
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": to_target, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def reach_wall(tcp: np.ndarray, target: np.ndarray, hand_init_pos: np.ndarray) -> RewardResult:
    """reach-wall-v3 (metaworld 3.1.1 SawyerReachWallEnvV3.compute_reward, v2): reach-v3's reward
    (``rewards.reach``); its info reports no object (``near_object``, ``grasp_success``, ``grasp_reward`` 0)."""
    result = rewards.reach(tcp, target, hand_init_pos)
    zero = np.zeros_like(result.reward)
    info = {**result.info, "near_object": zero, "grasp_success": zero, "grasp_reward": zero}
    return RewardResult(result.reward, result.success, info)


def pick_out_of_hole(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                     obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
                     right_pad: np.ndarray) -> RewardResult:
    """pick-out-of-hole-v3 (metaworld 3.1.1 SawyerPickOutOfHoleEnvV3.compute_reward, v2).

    ``hamacher(grasped, in_place)`` with ``gripper_caging`` (radius 0.015, pads 0.02, x-z 0.03, gripper
    effort 0.1, high density) and ``in_place = tolerance(|puck - target|, [0, 0.02])`` (margin the start's
    distance). Grasped (tool centre within 0.04 of the puck, puck 0.02 above its start, gripper opening at
    least 0.33) adds ``1 + 5 hamacher(in_place, above_floor)``: ``above_floor`` is 1 while the tool centre
    is above a funnel around the hole (height 0 within 0.03 of the start in x-y, else ``0.015 ln(r - 0.03)
    + 0.15``) and below it ``tolerance(depth, [0, 0.01], margin 0.02)``. 10 within 0.05; success within 0.07.
    """
    obj = obs[:, 4:7]
    obj_to_target = _norm(obj - target)
    tcp_to_obj = _norm(obj - tcp)
    radius = _norm(tcp[:, :2] - obj_init_pos[:, :2])
    with np.errstate(divide="ignore", invalid="ignore"):
        funnel = 0.015 * np.log(radius - 0.03) + 0.15
    floor = np.where(radius <= 0.03, 0.0, funnel)
    below = tolerance(np.maximum(floor - tcp[:, 2], 0.0), 0.0, 0.01, 0.02)
    above_floor = np.where(tcp[:, 2] >= floor, 1.0, below)
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                             pad_success_thresh=0.02, object_reach_radius=0.01, xz_thresh=0.03,
                             desired_gripper_effort=0.1, high_density=True)
    in_place = tolerance(obj_to_target, 0.0, PICK_OUT_OF_HOLE_RADIUS, _norm(obj_init_pos - target))
    reward = hamacher_product(grasped, in_place)
    grasp_success = (tcp_to_obj < 0.04) & (obj[:, 2] - 0.02 > obj_init_pos[:, 2]) & ~(obs[:, 3] < 0.33)
    reward = np.where(grasp_success, reward + (1.0 + 5.0 * hamacher_product(in_place, above_floor)), reward)
    reward = np.where(obj_to_target < TARGET_RADIUS, 10.0, reward)
    success = obj_to_target <= 0.07
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_success": grasp_success.astype(np.float64),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": obj_to_target,
            "unscaled_reward": reward}
    return RewardResult(reward, success, info)


class _GoalSite(SawyerMetaEnv):
    """A family whose ``reset_model`` moves the model's ``goal`` site to the target (drawn only, never read)."""

    hand_low = HAND_LOW
    hand_high = HAND_HIGH

    def _family_ids(self) -> None:
        super()._family_ids()
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _model_fields(self) -> dict[str, np.ndarray]:
        site_pos = self._require_sim().model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"site_pos": site_pos}

    def _pads(self) -> tuple[np.ndarray, np.ndarray]:
        return self.body_pos(self._leftpad), self.body_pos(self._rightpad)


class _GeomObject(_GoalSite):
    """The object observed by its geom's frame (``objGeom``'s ``geom_xpos`` and orientation), as metaworld's
    ``_get_pos_objects`` of these families reads it."""

    def _objects(self) -> np.ndarray:
        sim = self._require_sim()
        xmat = sim.fields["geom_xmat"][:, self._obj_geom].reshape(-1, 3, 3)
        return np.hstack([sim.fields["geom_xpos"][:, self._obj_geom], quat_from_matrix(xmat)])


class _PushedPuck(_GeomObject):
    """Object and target at the height of the object's geom after the hand reset (``adjust_initObjPos``'s
    height), their x-y from the goal vector."""

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.full((rand_vec.shape[0], 1), self.rest.geom_xpos[self._obj_geom][2])
        return np.hstack([rand_vec[:, :2], z]), np.hstack([rand_vec[:, 3:5], z])


class PushBack(_PushedPuck):
    """ML45 push-back-v3: push the block from [-0.1, 0.1] x [0.8, 0.85] back to a hidden goal in
    [-0.1, 0.1] x [0.6, 0.7] (success within 0.07)."""

    xml = "sawyer_xyz/sawyer_push_back_v3.xml"
    family = "push-back-v3"
    obj_low = (-0.1, 0.8, 0.02)
    obj_high = (0.1, 0.85, 0.02)
    goal_low = (-0.1, 0.6, 0.0199)
    goal_high = (0.1, 0.7, 0.0201)
    hand_init_pos = HAND_INIT_FLOAT32  # metaworld keeps push-back's hand start in float32

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return push_back(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp, *self._pads())


class PushWall(_PushedPuck):
    """ML45 push-wall-v3: push the puck from [-0.05, 0.05] x [0.6, 0.65] around the wall to a hidden goal in
    [-0.05, 0.05] x [0.85, 0.9] (success within 0.07)."""

    xml = "sawyer_xyz/sawyer_push_wall_v3.xml"
    family = "push-wall-v3"
    obj_low = (-0.05, 0.6, 0.015)
    obj_high = (0.05, 0.65, 0.015)
    goal_low = (-0.05, 0.85, 0.01)
    goal_high = (0.05, 0.9, 0.02)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return push_wall(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                         *self._pads())


class ReachWall(_GoalSite):
    """ML45 reach-wall-v3: move the tool centre over the wall to a hidden goal in [-0.05, 0.05] x [0.85, 0.9]
    x [0.05, 0.3] (success within 0.05); the puck only lies on the table (body frame, geom orientation)."""

    xml = "sawyer_xyz/sawyer_reach_wall_v3.xml"
    family = "reach-wall-v3"
    obj_low = (-0.05, 0.6, 0.015)
    obj_high = (0.05, 0.65, 0.015)
    goal_low = (-0.05, 0.85, 0.05)
    goal_high = (0.05, 0.9, 0.3)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return reach_wall(self.tcp_center(), self.target_pos, self._hand_init)


class PickPlaceWall(_GeomObject):
    """ML45 pick-place-wall-v3: pick the puck from [-0.05, 0.05] x [0.6, 0.65] and place it over the wall at a
    hidden goal in [-0.05, 0.05] x [0.85, 0.9] x [0.05, 0.3] (success within 0.07)."""

    xml = "sawyer_xyz/sawyer_pick_place_wall_v3.xml"
    family = "pick-place-wall-v3"
    obj_low = (-0.05, 0.6, 0.015)
    obj_high = (0.05, 0.65, 0.015)
    goal_low = (-0.05, 0.85, 0.05)
    goal_high = (0.05, 0.9, 0.3)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return pick_place_wall(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                               *self._pads())


class PickOutOfHole(_GoalSite, _BodyQuatObject):
    """ML45 pick-out-of-hole-v3: pick the puck out of the hole at (0, 0.75) in the table and bring it to a
    hidden goal in [-0.1, 0.1] x [0.5, 0.6] x [0.15, 0.3] (success within 0.07); the hand may go down to
    z = -0.05, into the hole."""

    xml = "sawyer_xyz/sawyer_pick_out_of_hole.xml"
    family = "pick-out-of-hole-v3"
    hand_low = (-0.5, 0.40, -0.05)
    obj_body = "obj"
    obj_low = (0.0, 0.75, 0.02)
    obj_high = (0.0, 0.75, 0.02)
    goal_low = (-0.1, 0.5, 0.15)
    goal_high = (0.1, 0.6, 0.3)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return pick_out_of_hole(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                                *self._pads())
