"""Meta-World's assembly families as promp meta-envs: assembly, disassemble, peg-unplug-side (ML45 train),
bin-picking and box-close (ML45 test): metaworld 3.1.1's ``SawyerNutAssemblyEnvV3``,
``SawyerNutDisassembleEnvV3``, ``SawyerPegUnplugSideEnvV3``, ``SawyerBinPickingEnvV3`` and
``SawyerBoxCloseEnvV3``, rewards ``reward_function_version="v2"``.

- assembly: pick the nut (a ring with a handle) from ``(0, 0.6)`` and drop it over the peg, which stands at
  the goal ([-0.1, 0.1] x [0.75, 0.85], top at 0.1); disassemble: lift the nut, placed around the peg
  ([0, 0.1] x [0.6, 0.75]), off it. The observed object is the handle's end (site ``RoundNut-8``) with the
  nut's orientation; the rewards read the ring's centre (site ``RoundNut``) and scale with how flat the nut
  lies (``quat_closeness``).
- peg-unplug-side: pull the plug sideways out of the wall, which stands at the goal vector ([-0.25, -0.15] x
  [0.6, 0.8]), until its end (site ``pegEnd``) is 0.15 further in x.
- bin-picking: move the cube from the left bin ([-0.21, -0.03] x [0.65, 0.75]) into the right one (fixed at
  ``(0.12, 0.7)``; the goal vector's goal part is drawn but unused).
- box-close: pick the lid from [-0.05, 0.05] x [0.5, 0.55] by its handle and put it on the box, which stands
  at the goal ([-0.1, 0.1] x [0.7, 0.8], height 0.133).

Disassemble, peg-unplug-side and box-close move a body of the model for the task (the peg, the wall, the
box) before metaworld's second hand reset of a reset, where it meets a free object that the reset then only
partly re-places (the nut's and the lid's orientation, the plug's spin are kept): their hand reset runs per
task (``SawyerMetaEnv.task_hand_reset``). box-close's reset also steps the simulation once more after the hand
reset (``reset_substeps``). bin-picking's reward margin ``target_to_obj_init`` is fixed at the
episode's first step (metaworld computes it in the first reward), not at the reset.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .doors import _float32
from .placing import HAND_INIT_FLOAT32, _norm
from .rewards import TARGET_RADIUS, RewardResult, gripper_caging, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv
from .sweeping import _BodyQuatObject

HAND_LOW = (-0.5, 0.40, 0.05)
HAND_HIGH = (0.5, 1.0, 0.5)
WRENCH_HANDLE_LENGTH = 0.02  # metaworld's SawyerNutAssemblyEnvV3.WRENCH_HANDLE_LENGTH
FLAT_QUAT = np.array([0.707, 0.0, 0.0, 0.707])  # the nut lying flat, the lid upright (metaworld's approximation)


# ----------------------------------------------------------------------------------------------- rewards
def quat_closeness(quat: np.ndarray, scale: float) -> np.ndarray:
    """``max(1 - |quat - (0.707, 0, 0, 0.707)| / scale, 0)``: how near an observed orientation (``w x y z``) is
    to the upright one (metaworld 3.1.1 ``SawyerNutAssemblyEnvV3._reward_quat``, scale 0.4, and
    ``SawyerBoxCloseEnvV3._reward_quat``, scale 0.2)."""
    return np.maximum(1.0 - _norm(quat - FLAT_QUAT) / scale, 0.0)


def _wrench_grab(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, obj_init_pos: np.ndarray,
                 init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray, **density: bool) -> np.ndarray:
    """The nut families' grasp term: ``gripper_caging`` (radius 0.015, pads 0.02, x-z 0.01) of the handle's end
    with its x set to the hand's where they are within half the handle's length in x (the handle is long in
    x, the caging term assumes a sphere)."""
    hand, wrench = obs[:, :3], obs[:, 4:7].copy()
    along = np.abs(wrench[:, 0] - hand[:, 0]) < WRENCH_HANDLE_LENGTH / 2.0
    wrench[:, 0] = np.where(along, hand[:, 0], wrench[:, 0])
    return gripper_caging(action, wrench, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                          pad_success_thresh=0.02, object_reach_radius=0.01, xz_thresh=0.01, **density)


def _nut_result(reward: np.ndarray, grab: np.ndarray, quat: np.ndarray, in_place: np.ndarray,
                success: np.ndarray) -> RewardResult:
    """The nut families' info (metaworld's ``evaluate_state``: ``near_object`` is the orientation term)."""
    info = {"near_object": quat, "grasp_success": (grab >= 0.5).astype(np.float64), "grasp_reward": grab,
            "in_place_reward": in_place, "obj_to_target": np.zeros_like(reward), "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def assembly(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, nut_center: np.ndarray, target: np.ndarray,
             obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
             right_pad: np.ndarray) -> RewardResult:
    """assembly-v3 (metaworld 3.1.1 ``SawyerNutAssemblyEnvV3.compute_reward``, v2):
    ``(2 grab + 6 in_place) * quat``, 10 on success.

    ``grab`` is ``_wrench_grab`` with medium density; ``quat`` is ``quat_closeness`` (scale 0.4). With
    ``e = target - nut_center`` and ``r = |e_xy|``, success is ``r < 0.02`` with the ring's centre below the
    peg's top. The height aimed at is a funnel ``0.02 ln(r - t) + 0.2`` beyond ``t`` (0.02 on success, else
    0.01), 0 within; ``in_place = 0.1 lifted + 0.9 tolerance(|(e_x, e_y, height - z) * (1, 1, 3)|, [0, 0.02],
    margin 0.4)``, lifted when the centre is above 0.02 or within ``t``.
    """
    grab = _wrench_grab(action, obs, tcp, obj_init_pos, init_tcp, left_pad, right_pad, medium_density=True)
    quat = quat_closeness(obs[:, 7:11], 0.4)
    error = target - nut_center
    radius = _norm(error[:, :2])
    success = (radius < 0.02) & (error[:, 2] > 0.0)
    threshold = np.where(success, 0.02, 0.01)
    beyond = radius > threshold
    height = np.where(beyond, 0.02 * np.log(np.where(beyond, radius - threshold, 1.0)) + 0.2, 0.0)
    error[:, 2] = height - nut_center[:, 2]
    lifted = (nut_center[:, 2] > 0.02) | (radius < threshold)
    placed = tolerance(_norm(error * np.array([1.0, 1.0, 3.0])), 0.0, 0.02, 0.4)
    in_place = 0.1 * lifted + 0.9 * placed
    reward = np.where(success, 10.0, (2.0 * grab + 6.0 * in_place) * quat)
    return _nut_result(reward, grab, quat, in_place, success)


def disassemble(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, nut_center: np.ndarray, target: np.ndarray,
                obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
                right_pad: np.ndarray) -> RewardResult:
    """disassemble-v3 (metaworld 3.1.1 ``SawyerNutDisassembleEnvV3.compute_reward``, v2):
    ``(2 grab + 6 in_place) * quat``, 10 on success (the handle's end above the target's height).

    ``grab`` is ``_wrench_grab`` with high density; ``quat`` is ``quat_closeness`` (scale 0.4);
    ``in_place = 0.1 (centre above 0.02) + 0.9 tolerance(|target + (0, 0, 0.1) - nut_center|, [0, 0.02],
    margin 0.2)``.
    """
    grab = _wrench_grab(action, obs, tcp, obj_init_pos, init_tcp, left_pad, right_pad, high_density=True)
    quat = quat_closeness(obs[:, 7:11], 0.4)
    error = _norm(target + np.array([0.0, 0.0, 0.1]) - nut_center)
    in_place = 0.1 * (nut_center[:, 2] > 0.02) + 0.9 * tolerance(error, 0.0, 0.02, 0.2)
    success = obs[:, 6] > target[:, 2]
    reward = np.where(success, 10.0, (2.0 * grab + 6.0 * in_place) * quat)
    return _nut_result(reward, grab, quat, in_place, success)


def peg_unplug_side(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                    obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
                    right_pad: np.ndarray) -> RewardResult:
    """peg-unplug-side-v3 (metaworld 3.1.1 ``SawyerPegUnplugSideEnvV3.compute_reward``, v2): ``2 grasped``;
    ``1 + 2 grasped + 5 in_place`` once the plug is pulled (gripper opening above 0.5, plug end 0.015 beyond
    its start in x) with the tool centre within 0.035 of it; 10 within 0.05 of the target; success within 0.07.

    ``grasped`` is ``gripper_caging`` (radius 0.025, pads 0.05, x-z 0.005, gripper effort 0.8, high
    density); ``in_place = tolerance(|end - target|, [0, 0.05], margin |end_start - target|)``.
    """
    obj = obs[:, 4:7]
    tcp_to_obj = _norm(obj - tcp)
    obj_to_target = _norm(obj - target)
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.025,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.005,
                             desired_gripper_effort=0.8, high_density=True)
    in_place = tolerance(obj_to_target, 0.0, 0.05, _norm(obj_init_pos - target))
    pulled = (obs[:, 3] > 0.5) & (obj[:, 0] - obj_init_pos[:, 0] > 0.015)
    reward = np.where(pulled & (tcp_to_obj < 0.035), 1.0 + 2.0 * grasped + 5.0 * in_place, 2.0 * grasped)
    reward = np.where(obj_to_target <= 0.05, 10.0, reward)
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_success": pulled.astype(np.float64),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": obj_to_target,
            "unscaled_reward": reward}
    return RewardResult(reward, obj_to_target <= 0.07, info)


def bin_picking(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                target_to_obj_init: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
                right_pad: np.ndarray) -> RewardResult:
    """bin-picking-v3 (metaworld 3.1.1 ``SawyerBinPickingEnvV3.compute_reward``, v2).

    ``hamacher(grasped, in_place)`` with ``in_place = tolerance(|cube - target|, [0, 0.05])`` (margin the
    distance at the episode's first step) and ``grasped`` ``gripper_caging`` (radius 0.015, pads 0.05, x-z
    0.01, gripper effort 0.7, high density); plus ``1 + 5 hamacher(above_floor, in_place)`` while the cube is
    held (within 0.04 of the hand, 0.02 above its start, gripper opening at least 0.43); 10 within 0.05
    (success). ``above_floor`` keeps the hand above the lower of two funnels ``0.02 ln(r - 0.03) + 0.2``
    around the cube's start and the target (``r`` the hand's x-y distance; 0 within 0.03): 1 above it, else
    ``tolerance(floor - z, [0, 0.01], margin 0.05)``.
    """
    hand, obj = obs[:, :3], obs[:, 4:7]
    target_to_obj = _norm(obj - target)
    in_place = tolerance(target_to_obj, 0.0, TARGET_RADIUS, target_to_obj_init)
    floors = []
    for centre in (obj_init_pos, target):
        radius = _norm(hand[:, :2] - centre[:, :2])
        beyond = radius > 0.03
        floors.append(np.where(beyond, 0.02 * np.log(np.where(beyond, radius - 0.03, 1.0)) + 0.2, 0.0))
    floor = np.minimum(*floors)
    above_floor = np.where(hand[:, 2] >= floor, 1.0, tolerance(np.maximum(floor - hand[:, 2], 0.0), 0.0, 0.01, 0.05))
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.01,
                             desired_gripper_effort=0.7, high_density=True)
    reward = hamacher_product(grasped, in_place)
    near_object = _norm(obj - hand) < 0.04
    held = near_object & (obj[:, 2] - 0.02 > obj_init_pos[:, 2]) & ~(obs[:, 3] < 0.43)
    reward = np.where(held, reward + (1.0 + 5.0 * hamacher_product(above_floor, in_place)), reward)
    reward = np.where(target_to_obj < TARGET_RADIUS, 10.0, reward)
    info = {"near_object": near_object.astype(np.float64), "grasp_success": held.astype(np.float64),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, target_to_obj <= TARGET_RADIUS, info)


def box_close(action: np.ndarray, obs: np.ndarray, target: np.ndarray) -> RewardResult:
    """box-close-v3 (metaworld 3.1.1 ``SawyerBoxCloseEnvV3.compute_reward``, v2):
    ``(2 hamacher(grab, ready) + 8 lifted) * quat``, or ``10 quat`` once the lid is within 0.08 of the target
    (success).

    ``grab`` is the gripper effort ``(clip(a_3) + 1) / 2``; ``quat`` is ``quat_closeness`` (scale 0.2). With
    the handle at ``lid + (0, 0, 0.02)``: ``ready`` is the Hamacher product of staying above a funnel
    ``0.04 ln(r - 0.02) + 0.4`` around the handle (``r`` the hand's x-y distance, 0 within 0.02; below it
    ``tolerance(floor - z, [0, 0.01], margin floor / 2)``) and ``tolerance(|hand - handle|, [0, 0.02], margin
    0.5)``; ``lifted = 0.2 (handle above 0.04) + 0.8 tolerance(|(target - handle) * (1, 1, 3)|, [0, 0.05],
    margin 0.25)``.
    """
    hand = obs[:, :3]
    handle = obs[:, 4:7] + np.array([0.0, 0.0, 0.02])
    grab = np.clip((np.clip(action[:, 3], -1.0, 1.0) + 1.0) / 2.0, 0.0, 1.0)
    quat = quat_closeness(obs[:, 7:11], 0.2)
    radius = _norm(hand[:, :2] - handle[:, :2])
    beyond = radius > 0.02
    floor = np.where(beyond, 0.04 * np.log(np.where(beyond, radius - 0.02, 1.0)) + 0.4, 0.0)
    below = hand[:, 2] < floor
    above_floor = np.where(below, tolerance(floor - hand[:, 2], 0.0, 0.01, np.where(below, floor / 2.0, 1.0)), 1.0)
    ready = hamacher_product(above_floor, tolerance(_norm(hand - handle), 0.0, 0.02, 0.5))
    placed = tolerance(_norm((target - handle) * np.array([1.0, 1.0, 3.0])), 0.0, 0.05, 0.25)
    lifted = 0.2 * (handle[:, 2] > 0.04) + 0.8 * placed
    success = _norm(obs[:, 4:7] - target) < 0.08
    reward = np.where(success, 10.0, 2.0 * hamacher_product(grab, ready) + 8.0 * lifted) * quat
    info = {"near_object": ready, "grasp_success": (grab >= 0.5).astype(np.float64), "grasp_reward": grab,
            "in_place_reward": lifted, "obj_to_target": np.zeros_like(reward), "unscaled_reward": reward}
    return RewardResult(reward, success, info)


# ---------------------------------------------------------------------------------------------- families
class _Nut(_BodyQuatObject):
    """The nut and peg model (``sawyer_assembly_peg.xml``): the free body ``RoundNut``, observed as its handle's
    end (site ``RoundNut-8``) and its orientation; the body ``peg`` and its site ``pegTop`` move with the task."""

    xml = "sawyer_xyz/sawyer_assembly_peg.xml"
    obj_body = "RoundNut"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    min_obj_goal_xy = 0.1

    def _family_ids(self) -> None:
        super()._family_ids()
        site = mujoco.mjtObj.mjOBJ_SITE
        self._handle_end = self._id(site, "RoundNut-8")
        self._nut_center = self._id(site, "RoundNut")
        self._peg = self._id(mujoco.mjtObj.mjOBJ_BODY, "peg")
        self._peg_top = self._id(site, "pegTop")

    def _peg_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """The peg's body position and its ``pegTop`` site's (local) position ``[B, 3]`` each."""
        raise NotImplementedError

    def _model_fields(self) -> dict[str, np.ndarray]:
        sim = self._require_sim()
        body_pos = sim.model_field("body_pos").copy()
        site_pos = sim.model_field("site_pos").copy()
        body_pos[:, self._peg], site_pos[:, self._peg_top] = self._peg_positions()
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _objects(self) -> np.ndarray:
        fields = self._require_sim().fields
        return np.hstack([fields["site_xpos"][:, self._handle_end], fields["xquat"][:, self._obj]])

    def _reward_args(self) -> tuple[np.ndarray, ...]:
        site = self._require_sim().fields["site_xpos"]
        return (self.tcp_center(), site[:, self._nut_center], self.target_pos, self.obj_init_pos, self.init_tcp,
                *self._pads())


class Assembly(_Nut):
    """ML45 assembly-v3: pick the nut from ``(0, 0.6)`` and drop it over the peg, which stands below the goal
    ([-0.1, 0.1] x [0.75, 0.85], height 0.1: the peg's top); success once the ring's centre is within 0.02 of
    the peg's axis and below its top."""

    family = "assembly-v3"
    obj_low = (0.0, 0.6, 0.02)
    obj_high = (0.0, 0.6, 0.02)
    goal_low = (-0.1, 0.75, 0.1)
    goal_high = (0.1, 0.85, 0.1)
    hand_init_pos = HAND_INIT_FLOAT32

    def _peg_positions(self) -> tuple[np.ndarray, np.ndarray]:
        # reset_model writes the target as the site's local position (only drawn: the reward reads target_pos)
        return self.target_pos - np.array([0.0, 0.0, 0.05]), self.target_pos.copy()

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return assembly(action, obs, *self._reward_args())


class Disassemble(_Nut):
    """ML45 disassemble-v3: the nut starts around the peg at [0, 0.1] x [0.6, 0.75]; lift it off, until the
    handle's end is above the target, 0.15 above the nut's start."""

    family = "disassemble-v3"
    obj_low = (0.0, 0.6, 0.025)
    obj_high = (0.1, 0.75, 0.02501)
    goal_low = (-0.1, 0.6, 0.1699)
    goal_high = (0.1, 0.75, 0.1701)
    hand_init_pos = _float32(0.0, 0.4, 0.2)
    task_hand_reset = True  # the peg, moved to the nut's start, meets the nut resting at (0.1, 0.6)

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        obj = rand_vec[:, :3].copy()
        return obj, obj + np.array([0.0, 0.0, 0.15])

    def _peg_positions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.obj_init_pos + np.array([0.0, 0.0, 0.03]), self.obj_init_pos + np.array([0.0, 0.0, 0.08])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return disassemble(action, obs, *self._reward_args())


class PegUnplugSide(_BodyQuatObject):
    """ML45 peg-unplug-side-v3: the wall stands at the goal vector ([-0.25, -0.15] x [0.6, 0.8]) with the plug
    in it; pull the plug out sideways until its end is within 0.07 of a hidden target 0.15 further in x.

    The reset puts the plug into the wall upright and stops its translation but not its rotation
    (metaworld's ``_set_obj_xyz`` override zeroes ``qvel[9:12]`` only): the plug keeps the spin it had after
    falling, during the hand reset, against the moved wall (``task_hand_reset``). ``obj_init_pos`` is the
    plug's end after the reset's forward pass.
    """

    xml = "sawyer_xyz/sawyer_peg_unplug_side.xml"
    family = "peg-unplug-side-v3"
    obj_body = "plug1"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    obj_low = (-0.25, 0.6, -0.001)
    obj_high = (-0.15, 0.8, 0.001)
    goal_low = (-0.056, 0.6, 0.13)  # metaworld's goal_space (obj box + (0.194, 0, 0.131)); not drawn
    goal_high = (0.044, 0.8, 0.132)
    plug_offset = np.array([0.044, 0.0, 0.131])  # the plug's start from the wall's position
    pull = np.array([0.15, 0.0, 0.0])  # the target from the plug's start
    task_hand_reset = True

    rand_vec_is_object_start = True  # the wall's position box alone (``SawyerPegUnplugSideEnvV3._random_reset_space``)

    def _family_ids(self) -> None:
        super()._family_ids()
        self._box = self._id(mujoco.mjtObj.mjOBJ_BODY, "box")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")
        self._peg_end = self._id(mujoco.mjtObj.mjOBJ_SITE, "pegEnd")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the plug's end (obj_init_pos) is read after the reset's forward pass (_after_reset)
        return np.full_like(rand_vec, np.nan), rand_vec + self.plug_offset + self.pull

    def _model_fields(self) -> dict[str, np.ndarray]:
        sim = self._require_sim()
        body_pos = sim.model_field("body_pos").copy()
        body_pos[:, self._box] = self.task_array("rand_vec")
        site_pos = sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos  # a world site: only drawn
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """The plug at its start, upright, its translation stopped (its rotation keeps the hand reset's)."""
        q, v = self._obj_qpos, self._obj_dof
        sim.qpos[:, q:q + 3] = self.task_array("rand_vec") + self.plug_offset
        sim.qpos[:, q + 3:q + 7] = (1.0, 0.0, 0.0, 0.0)
        sim.qvel[:, v:v + 3] = 0.0

    def _after_reset(self) -> None:
        self.obj_init_pos = self._plug_end()

    def _plug_end(self) -> np.ndarray:
        return self._require_sim().fields["site_xpos"][:, self._peg_end].copy()

    def _objects(self) -> np.ndarray:
        return np.hstack([self._plug_end(), self._require_sim().fields["xquat"][:, self._obj]])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return peg_unplug_side(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                               *self._pads())


class BinPicking(_BodyQuatObject):
    """ML45 bin-picking-v3 (a test family): move the cube from the left bin ([-0.21, -0.03] x [0.65, 0.75]) into
    the right bin, whose centre ``(0.12, 0.7, 0)`` is the target (success within 0.05)."""

    xml = "sawyer_xyz/sawyer_bin_picking.xml"
    family = "bin-picking-v3"
    obj_body = "obj"
    hand_low = (-0.5, 0.40, 0.07)
    hand_high = HAND_HIGH
    obj_low = (-0.21, 0.65, 0.02)
    obj_high = (-0.03, 0.75, 0.02)
    goal_low = (0.1199, 0.699, -0.001)  # drawn into the goal vector, unused: the target is the bin's body
    goal_high = (0.1201, 0.701, 0.001)
    episode_constants = (*SawyerMetaEnv.episode_constants, "target_to_obj_init")

    @classmethod
    def rand_vec_acceptable(cls, vec: np.ndarray) -> bool:
        """``reset_model`` keeps every draw."""
        return True

    def _family_ids(self) -> None:
        super()._family_ids()
        self._bin_goal = self._id(mujoco.mjtObj.mjOBJ_BODY, "bin_goal")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the cube at the drawn x-y and its height after the hand reset; the target the right bin's body
        n = rand_vec.shape[0]
        obj = np.hstack([rand_vec[:, :2], np.full((n, 1), self.rest.xpos[self._obj][2])])
        return obj, np.broadcast_to(self.rest.xpos[self._bin_goal], (n, 3)).copy()

    def _after_reset(self) -> None:
        """``target_to_obj_init`` is unknown until the episode's first reward (``_reward``)."""
        self.target_to_obj_init = np.full((self.num_copies, 1), np.nan)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        first = np.isnan(self.target_to_obj_init[:, 0])
        if first.any():
            self.target_to_obj_init[first, 0] = _norm(obs[first, 4:7] - self.target_pos[first])
        return bin_picking(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos,
                           self.target_to_obj_init[:, 0], self.init_tcp, *self._pads())


class BoxClose(_BodyQuatObject):
    """ML45 box-close-v3 (a test family): pick the lid from [-0.05, 0.05] x [0.5, 0.55] by its handle and put it
    on the box, which stands at the goal ([-0.1, 0.1] x [0.7, 0.8]; the target 0.133 above the floor), upright
    (the reward is scaled by the lid's uprightness; success within 0.08).

    The lid starts on the box's default place and rests against the box moved for the task during the hand
    reset (``task_hand_reset``); the reset moves it to its start keeping that orientation, after one more env
    step (``reset_substeps``).
    """

    xml = "sawyer_xyz/sawyer_box.xml"
    family = "box-close-v3"
    obj_body = "boxbodytop"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    obj_low = (-0.05, 0.5, 0.02)
    obj_high = (0.05, 0.55, 0.02)
    goal_low = (-0.1, 0.7, 0.133)
    goal_high = (0.1, 0.8, 0.133)
    min_obj_goal_xy = 0.25
    hand_init_pos = HAND_INIT_FLOAT32
    lid_init_z = _float32(0.02)[0]  # metaworld's float32 obj_init_pos supplies the lid's height
    task_hand_reset = True
    reset_substeps = SawyerMetaEnv.frame_skip

    def _family_ids(self) -> None:
        super()._family_ids()
        body = mujoco.mjtObj.mjOBJ_BODY
        self._top_link = self._id(body, "top_link")
        self._box = self._id(body, "boxbody")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = rand_vec.shape[0]
        return np.hstack([rand_vec[:, :2], np.full((n, 1), self.lid_init_z)]), rand_vec[:, 3:].copy()

    def _model_fields(self) -> dict[str, np.ndarray]:
        """The box under the target in x-y, at its height after the hand reset; the goal site at the target."""
        sim = self._require_sim()
        body_pos = sim.model_field("body_pos").copy()
        body_pos[:, self._box, :2] = self.target_pos[:, :2]
        body_pos[:, self._box, 2] = self.rest.xpos[self._box][2]
        site_pos = sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _objects(self) -> np.ndarray:
        """The lid's body ``top_link`` (above the free body ``boxbodytop``): position and quaternion."""
        fields = self._require_sim().fields
        return np.hstack([fields["xpos"][:, self._top_link], fields["xquat"][:, self._top_link]])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return box_close(action, obs, self.target_pos)
