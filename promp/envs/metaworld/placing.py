"""Meta-World's pressing and placing families as promp meta-envs: button-press-topdown, peg-insert-side and
shelf-place (metaworld 3.1.1's ``SawyerButtonPressTopdownEnvV3``, ``SawyerPegInsertionSideEnvV3``,
``SawyerShelfPlaceEnvV3``, ``reward_function_version="v2"``).

Each moves a fixture of the model for the task (the button box, the peg's box with its hole, the shelf: a
per-copy ``body_pos``), so the goal follows from the model rather than from the goal vector alone; the
rewards are here, as numpy over the copy axis ``[B, ...]``, built from the shared pieces of ``rewards.py``.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .rewards import RewardResult, gripper_caging, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv, quat_from_matrix

HAND_LOW = (-0.5, 0.40, 0.05)
HAND_HIGH = (0.5, 1.0, 0.5)
# metaworld keeps these two families' hand start in float32; the mocap receives the rounded numbers
HAND_INIT_FLOAT32 = tuple(float(v) for v in np.array([0.0, 0.6, 0.2], dtype=np.float32))
BUTTON_HAND_INIT = tuple(float(v) for v in np.array([0.0, 0.4, 0.2], dtype=np.float32))


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=-1)


def rect_prism_tolerance(curr: np.ndarray, zero: np.ndarray, one: np.ndarray) -> np.ndarray:
    """metaworld's ``reward_utils.rect_prism_tolerance`` per copy: inside the box spanned by the corners
    ``zero`` and ``one`` (``[B, 3]`` each), the product of the three coordinates of ``curr`` scaled to 0 at
    ``zero`` and 1 at ``one``; 1 outside."""
    lo, hi = np.minimum(zero, one), np.maximum(zero, one)
    inside = ((lo <= curr) & (curr <= hi)).all(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = (curr - zero) / (one - zero)
    return np.where(inside, scale[:, 0] * scale[:, 1] * scale[:, 2], 1.0)


def button_press_topdown(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, init_tcp: np.ndarray,
                         obj_to_target_init: np.ndarray, tcp_closed: np.ndarray | None = None) -> RewardResult:
    """button-press-topdown-v3 (metaworld 3.1.1 ``SawyerButtonPressTopdownEnvV3.compute_reward``, v2):
    ``5 * hamacher(1 - gripper opening, near)`` with ``near = tolerance(|tcp - button|, [0, 0.01])``, margin
    the button's distance to the *start* tool centre; plus ``5 * pressed`` once the tool centre is within
    0.03 of the button, ``pressed = tolerance(|target_z - button_z|, [0, 0.005])`` with margin the start's
    height difference; success when the button is within 0.024 of the target height. ``tcp_closed``, if
    given, replaces ``1 - gripper opening`` (button-press-topdown-wall's ``max(gripper opening, 0)``)."""
    obj = obs[:, 4:7]
    tcp_to_obj = _norm(obj - tcp)
    tcp_to_obj_init = _norm(obj - init_tcp)
    obj_to_target = np.abs(target[:, 2] - obj[:, 2])
    near = tolerance(tcp_to_obj, 0.0, 0.01, tcp_to_obj_init)
    pressed = tolerance(obj_to_target, 0.0, 0.005, obj_to_target_init)
    reward = 5 * hamacher_product(1 - obs[:, 3] if tcp_closed is None else tcp_closed, near)
    reward = np.where(tcp_to_obj <= 0.03, reward + 5 * pressed, reward)
    success = obj_to_target <= 0.024
    info = {"near_object": (tcp_to_obj <= 0.05).astype(np.float64),
            "grasp_success": (obs[:, 3] > 0).astype(np.float64), "grasp_reward": near,
            "in_place_reward": pressed, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def peg_insert_side(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, peg_head: np.ndarray,
                    target: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray, peg_head_init: np.ndarray,
                    left_pad: np.ndarray, right_pad: np.ndarray, collision_boxes: list[tuple[np.ndarray, np.ndarray]],
                    ) -> RewardResult:
    """peg-insert-side-v3 (metaworld 3.1.1 ``SawyerPegInsertionSideEnvV3.compute_reward``, v2).

    The peg head's distance to the hole, with y and z counted twice (``|(head - target) * (1, 2, 2)|``),
    gives ``in_place`` (tolerance ``[0, 0.07]``, margin the same distance of the head at the hand reset),
    damped by the two boxes below and above the hole (``rect_prism_tolerance`` of the head, each box a
    ``(zero, one)`` pair of corner sites, Hamacher product). Caging is ``gripper_caging`` (high density),
    set to 1 once the peg is lifted (tool centre within 0.08, gripper open, peg 0.01 above its start);
    reward ``hamacher(caging, in_place)``, plus ``1 + 5 in_place`` when lifted, 10 within 0.07 (success).
    """
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    tcp_to_obj = _norm(obj - tcp)
    scale = np.array([1.0, 2.0, 2.0])
    obj_to_target = _norm((peg_head - target) * scale)
    in_place = tolerance(obj_to_target, 0.0, 0.07, _norm((peg_head_init - target) * scale))
    (zero1, one1), (zero2, one2) = collision_boxes
    boxes = hamacher_product(rect_prism_tolerance(peg_head, zero2, one2), rect_prism_tolerance(peg_head, zero1, one1))
    in_place = hamacher_product(in_place, boxes)

    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.0075,
                             pad_success_thresh=0.03, object_reach_radius=0.01, xz_thresh=0.005, high_density=True)
    lifted = (tcp_to_obj < 0.08) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init_pos[:, 2])
    grasped = np.where(lifted, 1.0, grasped)
    reward = hamacher_product(grasped, in_place)
    reward = np.where(lifted, reward + (1.0 + 5 * in_place), reward)
    reward = np.where(obj_to_target <= 0.07, 10.0, reward)
    success = obj_to_target <= 0.07
    grasp_success = (tcp_to_obj < 0.02) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init_pos[:, 2])
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_success": grasp_success.astype(np.float64),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": obj_to_target,
            "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def shelf_place(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """shelf-place-v3 (metaworld 3.1.1 ``SawyerShelfPlaceEnvV3.compute_reward``, v2).

    ``hamacher(caging, in_place)`` with ``in_place = tolerance(|block - target|, [0, 0.05])`` (margin from
    the block's start) and ``gripper_caging`` (radius 0.02, pads 0.05, x-z 0.01, no density term). Then
    ``in_place`` alone is cut for the bonus: below the shelf board (0 < z < 0.24, within 0.15 of the target
    in x), in the 0.15 in front of the target it loses ``hamacher(y share, z share)``, and behind the target
    it is 0. Bonus ``1 + 5 in_place`` once the tool centre is within 0.025 of the block, the gripper open and
    the block 0.01 above its start; 10 within 0.05; success within 0.07.

    ``grasp_success`` of metaworld's info (pads touching the block with positive contact force) is not
    computed, as in ``rewards.pick_place``; the reward and success do not use it.
    """
    radius = 0.05
    front = 3 * radius
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    obj_to_target = _norm(obj - target)
    tcp_to_obj = _norm(obj - tcp)
    in_place = tolerance(obj_to_target, 0.0, radius, _norm(obj_init_pos - target))
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.02,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.01)
    reward = hamacher_product(grasped, in_place)

    x, y, z = obj[:, 0], obj[:, 1], obj[:, 2]
    under_board = (0.0 < z) & (z < 0.24) & (target[:, 0] - 0.15 < x) & (x < target[:, 0] + 0.15)
    in_front = under_board & (target[:, 1] - front < y) & (y < target[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        bound_loss = hamacher_product(np.where(in_front, (y - (target[:, 1] - front)) / front, 0.0),
                                      np.where(in_front, (0.24 - z) / 0.24, 0.0))
    in_place = np.where(in_front, np.clip(in_place - bound_loss, 0.0, 1.0), in_place)
    in_place = np.where(under_board & (y > target[:, 1]), 0.0, in_place)

    lifted = (tcp_to_obj < 0.025) & (tcp_opened > 0) & (z - 0.01 > obj_init_pos[:, 2])
    reward = np.where(lifted, reward + (1.0 + 5.0 * in_place), reward)
    reward = np.where(obj_to_target < radius, 10.0, reward)
    success = obj_to_target <= 0.07
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": in_place, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


class ButtonPressTopdown(SawyerMetaEnv):
    """ML10 button-press-topdown-v3: press the button of a box placed in [-0.1, 0.1] x [0.8, 0.9] (height
    0.115) down to the box's ``hole`` site; the goal vector is the box's position alone."""

    xml = "sawyer_xyz/sawyer_button_press_topdown.xml"
    family = "button-press-topdown-v3"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    obj_low = (-0.1, 0.8, 0.115)
    obj_high = (0.1, 0.9, 0.115)
    goal_low = HAND_LOW  # metaworld's goal space; the reset space is the box's alone
    goal_high = HAND_HIGH
    hand_init_pos = BUTTON_HAND_INIT
    data_fields = ("xquat",)
    button_offset = np.array([0.0, 0.0, 0.193])  # metaworld observes the button's frame raised by this
    episode_constants = ("init_tcp", "obj_init_pos", "target_pos", "obj_to_target_init")

    rand_vec_is_object_start = True  # the box's position box (``SawyerButtonPressTopdownEnvV3._random_reset_space``)

    def _family_ids(self) -> None:
        body, site = mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_SITE
        self._box = self._id(body, "box")
        self._button = self._id(body, "button")
        self._hole = self._id(site, "hole")
        self._button_start = self._id(site, "buttonStart")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the target is the hole site, known after the reset's forward pass (_after_reset)
        return rand_vec.copy(), np.full_like(rand_vec, np.nan)

    def _model_fields(self) -> dict[str, np.ndarray]:
        body_pos = self._require_sim().model_field("body_pos").copy()
        body_pos[:, self._box] = self.obj_init_pos
        return {"body_pos": body_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """The button keeps the hand reset's state."""

    def _after_reset(self) -> None:
        """The target (site ``hole``) and the button's start height difference to it (site ``buttonStart``)."""
        site = self._require_sim().fields["site_xpos"]
        self.target_pos = site[:, self._hole].copy()
        self.obj_to_target_init = np.abs(self.target_pos[:, 2] - site[:, self._button_start, 2])[:, None]

    def _objects(self) -> np.ndarray:
        sim = self._require_sim()
        return np.hstack([self.body_pos(self._button) + self.button_offset, sim.fields["xquat"][:, self._button]])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return button_press_topdown(obs, self.tcp_center(), self.target_pos, self.init_tcp,
                                    self.obj_to_target_init.reshape(-1))


class PegInsertSide(SawyerMetaEnv):
    """ML10 peg-insert-side-v3: pick the peg from [0, 0.2] x [0.5, 0.7] and insert it sideways into the hole
    of a box placed in [-0.35, -0.25] x [0.4, 0.7]; the target is 0.03 in x and 0.13 in z from the box."""

    xml = "sawyer_xyz/sawyer_peg_insertion_side.xml"
    family = "peg-insert-side-v3"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    obj_low = (0.0, 0.5, 0.02)
    obj_high = (0.2, 0.7, 0.02)
    goal_low = (-0.35, 0.4, -0.001)
    goal_high = (-0.25, 0.7, 0.001)
    min_obj_goal_xy = 0.1
    hole_offset = np.array([0.03, 0.0, 0.13])
    data_fields = ("site_xmat",)
    episode_constants = ("init_tcp", "obj_init_pos", "target_pos", "peg_head_pos_init")

    def _family_ids(self) -> None:
        body, site = mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_SITE
        peg = self._id(body, "peg")
        joint = int(self.model.body_jntadr[peg])  # the peg's free joint has no name
        self._obj_qpos = int(self.model.jnt_qposadr[joint])
        self._obj_dof = int(self.model.jnt_dofadr[joint])
        self._box = self._id(body, "box")
        self._goal_site = self._id(site, "goal")
        self._peg_grasp = self._id(site, "pegGrasp")
        self._peg_head = self._id(site, "pegHead")
        self._collision_boxes = [(self._id(site, f"bottom_right_corner_collision_box_{i}"),
                                  self._id(site, f"top_left_corner_collision_box_{i}")) for i in (1, 2)]

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rand_vec[:, :3].copy(), rand_vec[:, 3:] + self.hole_offset

    def _model_fields(self) -> dict[str, np.ndarray]:
        sim = self._require_sim()
        body_pos = sim.model_field("body_pos").copy()
        body_pos[:, self._box] = self.task_array("rand_vec")[:, 3:]
        site_pos = sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos  # a world site: only drawn, never read
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _after_reset(self) -> None:
        """The peg head's position at the hand reset, before the peg is moved to its start (what
        ``reset_model`` reads as ``peg_head_pos_init``: the same for every task)."""
        head = self.rest.site_xpos[self._peg_head]
        self.peg_head_pos_init = np.broadcast_to(head, (self.num_copies, 3)).copy()

    def _objects(self) -> np.ndarray:
        sim = self._require_sim()
        xmat = sim.fields["site_xmat"][:, self._peg_grasp].reshape(-1, 3, 3)
        return np.hstack([sim.fields["site_xpos"][:, self._peg_grasp], quat_from_matrix(xmat)])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        site = self._require_sim().fields["site_xpos"]
        boxes = [(site[:, zero], site[:, one]) for zero, one in self._collision_boxes]
        return peg_insert_side(action, obs, self.tcp_center(), site[:, self._peg_head], self.target_pos,
                               self.obj_init_pos, self.init_tcp, self.peg_head_pos_init,
                               self.body_pos(self._leftpad), self.body_pos(self._rightpad), boxes)


class ShelfPlace(SawyerMetaEnv):
    """ML10 shelf-place-v3: pick the block from [-0.1, 0.1] x [0.5, 0.6] and place it on the board of a shelf
    whose goal site lies in [-0.1, 0.1] x [0.8, 0.9] at height 0.3 (success within 0.07)."""

    xml = "sawyer_xyz/sawyer_shelf_placing.xml"
    family = "shelf-place-v3"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    obj_low = (-0.1, 0.5, 0.019)
    obj_high = (0.1, 0.6, 0.021)
    goal_low = (-0.1, 0.8, 0.299)
    goal_high = (0.1, 0.9, 0.301)
    min_obj_goal_xy = 0.1
    hand_init_pos = HAND_INIT_FLOAT32
    shelf_drop = np.array([0.0, 0.0, 0.3])  # the goal vector's last three are the goal; the shelf sits this lower

    def _family_ids(self) -> None:
        super()._family_ids()
        self._shelf = self._id(mujoco.mjtObj.mjOBJ_BODY, "shelf")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _shelf_pos(self, rand_vec: np.ndarray) -> np.ndarray:
        return rand_vec[:, 3:] - self.shelf_drop

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the block keeps its x-y from the goal vector and its height after the hand reset (not the drawn z);
        # the target is the goal site (on the shelf) moved with the shelf
        z = np.full((rand_vec.shape[0], 1), self.rest.xpos[self._obj][2])
        target = self.model.site_pos[self._goal_site] + self._shelf_pos(rand_vec)
        return np.hstack([rand_vec[:, :2], z]), target

    def _model_fields(self) -> dict[str, np.ndarray]:
        body_pos = self._require_sim().model_field("body_pos").copy()
        body_pos[:, self._shelf] = self._shelf_pos(self.task_array("rand_vec"))
        return {"body_pos": body_pos}

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return shelf_place(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                           self.body_pos(self._leftpad), self.body_pos(self._rightpad))
