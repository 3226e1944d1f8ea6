"""Meta-World's lock, window-close and hand-insert families: door-lock, door-unlock and hand-insert (ML45 test)
and window-close (ML45 train).

The constants are metaworld 3.1.1's (``SawyerDoorLockEnvV3``, ``SawyerDoorUnlockEnvV3``,
``SawyerWindowCloseEnvV3``, ``SawyerHandInsertEnvV3``), the rewards their ``compute_reward`` with
``reward_function_version="v2"`` (the benchmark's default).

- door-lock, door-unlock: a safe whose door is locked by turning a small lever on a hinge from horizontal
  down (door-lock) or unlocked by pushing it from down back up to horizontal (door-unlock); the goal vector is the safe's position ([-0.1, 0.1] x
  [0.8, 0.85]), every draw kept, and the target a fixed offset from the lock's hinge. The lock stands within
  the hand's reach at its start, so the hand reset runs per task (``SawyerMetaEnv.task_hand_reset``).
  door-lock's ``reset_model`` runs one more ``frame_skip`` of substeps after the hand reset and observes
  without a forward pass (``reset_substeps``, ``stale_reset_obs``); door-unlock turns the lock down to 1.5708
  (at rest) and runs a forward pass.
- window-close: the window of window-open (``doors.WindowOpen``), slid open by 0.2 at the start, to be closed
  back to the goal vector's x ([0, 0] x [0.75, 0.9]).
- hand-insert: push the block of the table with a hole from [-0.1, 0.1] x [0.6, 0.7] into the hole, at the
  goal vector's last three numbers; a draw is redrawn while block and hole are closer than 0.15 in x-y.

The info field ``grasp_success`` of hand-insert (both pads touching the block with positive contact force)
is not computed, as in ``rewards.pick_place``: the batch does not expose the contacts, and neither the reward
nor the success flag reads it.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .doors import _float32, _ObjectOnlyReset, _SlidingWindow
from .rewards import TARGET_RADIUS, RewardResult, gripper_caging, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv
from .sweeping import _BodyQuatObject

LOCK_LENGTH = 0.1  # metaworld's _lock_length: the margin of the lock's travel
LOCK_SCALE = np.array([0.25, 1.0, 0.5])  # how the locks' reach distances weigh x, y and z
SHOULDER_OFFSET = np.array([0.0, 0.055, 0.07])  # door-unlock's reach point: the hand's "shoulder", not its fingers
WINDOW_CLOSE_SLIDE = 0.2  # how far open window-close's window starts
HAND_INSERT_Z = 0.05  # the block's start height (metaworld's init_config obj_init_pos[2])


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=-1)


def _lock_result(reward: np.ndarray, reach_distance: np.ndarray, obs: np.ndarray, reach: np.ndarray,
                 turned: np.ndarray, obj_to_target: np.ndarray) -> RewardResult:
    """door-lock's and door-unlock's ``evaluate_state``: success once the lock is within 0.02 of the target,
    near within 0.05 (the scaled reach distance), ``grasp_success`` the gripper opening positive."""
    info = {"near_object": (reach_distance <= 0.05).astype(np.float64),
            "grasp_success": (obs[:, 3] > 0).astype(np.float64), "grasp_reward": reach, "in_place_reward": turned,
            "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, obj_to_target <= 0.02, info)


# ----------------------------------------------------------------------------------------------- rewards
def door_lock(obs: np.ndarray, left_pad: np.ndarray, target: np.ndarray) -> RewardResult:
    """door-lock-v3 (metaworld 3.1.1 ``SawyerDoorLockEnvV3.compute_reward``, v2): ``2 H(opened, near) + 8 pressed``.

    ``near`` is ``tolerance(d, [0, 0.01])`` of ``d = |(lock - left_pad) * (0.25, 1, 0.5)|``, with margin the same
    distance from ``init_left_pad``: metaworld's ``init_left_pad`` is a view of the live ``data.xpos`` (its
    ``get_body_com`` returns no copy), so the margin is ``d`` itself. ``opened`` is the gripper opening
    ``max(obs[3], 0)``; ``pressed`` ``tolerance(|target_z - lock_z|, [0, 0.005], margin 0.1)``. The lock is
    ``obs[4:7]`` (site ``lockStartLock``).
    """
    lock = obs[:, 4:7]
    pad_to_lock = _norm((lock - left_pad) * LOCK_SCALE)
    near = tolerance(pad_to_lock, 0.0, 0.01, pad_to_lock)
    obj_to_target = np.abs(target[:, 2] - lock[:, 2])
    pressed = tolerance(obj_to_target, 0.0, 0.005, LOCK_LENGTH)
    reward = 2 * hamacher_product(np.maximum(obs[:, 3], 0.0), near) + 8 * pressed
    return _lock_result(reward, pad_to_lock, obs, near, pressed, obj_to_target)


def door_unlock(obs: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray) -> RewardResult:
    """door-unlock-v3 (metaworld 3.1.1 ``SawyerDoorUnlockEnvV3.compute_reward``, v2): ``2 ready + 8 pushed``.

    ``ready`` is ``tolerance(|(hand + (0, 0.055, 0.07) - lock) * (0.25, 1, 0.5)|, [0, 0.02])`` (the arm's
    shoulder at the lock), margin the same from the start's tool centre to the lock's hinge (``obj_init_pos``);
    ``pushed`` ``tolerance(|target_x - lock_x|, [0, 0.005], margin 0.1)``. The hand is ``obs[:3]``, the lock
    ``obs[4:7]`` (site ``lockStartUnlock``).
    """
    hand, lock = obs[:, :3], obs[:, 4:7]
    shoulder_to_lock = _norm((hand + SHOULDER_OFFSET - lock) * LOCK_SCALE)
    shoulder_to_lock_init = _norm((init_tcp + SHOULDER_OFFSET - obj_init_pos) * LOCK_SCALE)
    ready = tolerance(shoulder_to_lock, 0.0, 0.02, shoulder_to_lock_init)
    obj_to_target = np.abs(target[:, 0] - lock[:, 0])
    pushed = tolerance(obj_to_target, 0.0, 0.005, LOCK_LENGTH)
    reward = 2 * ready + 8 * pushed
    return _lock_result(reward, shoulder_to_lock, obs, ready, pushed, obj_to_target)


def window_close(handle: np.ndarray, tcp: np.ndarray, target: np.ndarray, handle_init_pos: np.ndarray,
                 init_tcp: np.ndarray) -> RewardResult:
    """window-close-v3 (metaworld 3.1.1 ``SawyerWindowCloseEnvV3.compute_reward``, v2): ``10 H(reach, in_place)``,
    ``in_place`` the handle's x within 0.05 of the goal's (margin ``|handle_init_x - goal_x| - 0.05``, absolute),
    ``reach`` a Gaussian tolerance of the tool centre within 0.02 of the handle (margin
    ``| |handle_init - init_tcp| - 0.02 |``); success within 0.05 in x. As ``doors.window_open`` but with the
    handle's start for the margin of ``in_place`` and the Gaussian sigmoid for ``reach``."""
    target_to_obj = np.abs(handle[:, 0] - target[:, 0])
    target_to_obj_init = np.abs(handle_init_pos[:, 0] - target[:, 0])
    in_place = tolerance(target_to_obj, 0.0, TARGET_RADIUS, np.abs(target_to_obj_init - TARGET_RADIUS))
    handle_radius = 0.02
    tcp_to_obj = _norm(handle - tcp)
    tcp_to_obj_init = _norm(handle_init_pos - init_tcp)
    reach = tolerance(tcp_to_obj, 0.0, handle_radius, np.abs(tcp_to_obj_init - handle_radius), sigmoid="gaussian")
    reward = 10 * hamacher_product(reach, in_place)
    info = {"near_object": (tcp_to_obj <= 0.05).astype(np.float64), "grasp_success": np.ones_like(reward),
            "grasp_reward": reach, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, target_to_obj <= TARGET_RADIUS, info)


def hand_insert(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """hand-insert-v3 (metaworld 3.1.1 ``SawyerHandInsertEnvV3.compute_reward``, v2): ``H(caging, in_place)``, a
    bonus ``1 + 7 in_place`` once the tool centre is within 0.02 of the block with the gripper open, 10 once the
    block is within 0.05 of the target (success).

    ``in_place`` is ``tolerance(|block - target|, [0, 0.05])``, margin the block's start distance; ``caging``
    ``gripper_caging`` (radius 0.015, pads 0.05, reach 0.01, x-z 0.005, high density).
    """
    obj = obs[:, 4:7]
    target_to_obj = _norm(obj - target)
    in_place = tolerance(target_to_obj, 0.0, TARGET_RADIUS, _norm(obj_init_pos - target))
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.005, high_density=True)
    reward = hamacher_product(grasped, in_place)
    tcp_to_obj = _norm(obj - tcp)
    near = (tcp_to_obj < 0.02) & (obs[:, 3] > 0)
    reward = np.where(near, reward + (1.0 + 7.0 * in_place), reward)
    reward = np.where(target_to_obj < TARGET_RADIUS, 10.0, reward)
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": in_place, "obj_to_target": target_to_obj, "unscaled_reward": reward}
    return RewardResult(reward, target_to_obj <= TARGET_RADIUS, info)


# ---------------------------------------------------------------------------------------------- families
class _Lock(_ObjectOnlyReset):
    """The safe with its lock (``sawyer_door_lock.xml``): body ``door`` moved to the goal vector, the lock's
    hinge (body ``lock_link``, the model's one object joint) where the target is measured from, the observed
    object a site on the lock (``lock_site``) and the orientation of the door (body ``door_link``, fixed).

    ``obj_init_pos`` is the hinge's position after the reset and ``target_pos`` that plus ``goal_offset``, as
    ``reset_model`` reads them; metaworld moves no goal site in the model (it writes the goal sites' world
    positions each step, which the next forward pass overwrites).
    """

    xml = "sawyer_xyz/sawyer_door_lock.xml"
    hand_low = (-0.5, 0.40, -0.15)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.8, 0.15)
    obj_high = (0.1, 0.85, 0.15)
    hand_init_pos = _float32(0.0, 0.6, 0.2)
    body = "door"
    data_fields = ("xquat",)
    task_hand_reset = True
    lock_site: str

    def _family_ids(self) -> None:
        body = mujoco.mjtObj.mjOBJ_BODY
        self._body = self._id(body, self.body)
        self._door_link = self._id(body, "door_link")
        self._lock_link = self._id(body, "lock_link")
        self._lock_site = self._id(mujoco.mjtObj.mjOBJ_SITE, self.lock_site)
        joint = int(self.model.body_jntadr[self._lock_link])
        self._lock_qpos = int(self.model.jnt_qposadr[joint])
        self._lock_dof = int(self.model.jnt_dofadr[joint])

    def _model_fields(self) -> dict[str, np.ndarray]:
        body_pos = self._require_sim().model_field("body_pos").copy()
        body_pos[:, self._body] = self.task_array("rand_vec")
        return {"body_pos": body_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """Nothing is placed: the lock keeps the hand reset's state."""

    def _after_reset(self) -> None:
        self.obj_init_pos = self._require_sim().fields["xpos"][:, self._lock_link].copy()
        self.target_pos = self.obj_init_pos + np.array(self.goal_offset)

    def _objects(self) -> np.ndarray:
        fields = self._require_sim().fields
        return np.hstack([fields["site_xpos"][:, self._lock_site], fields["xquat"][:, self._door_link]])


class DoorLock(_Lock):
    """door-lock-v3 (ML45 test): turn the safe's lock down until its end (site ``lockStartLock``) is within 0.02
    in height of a hidden target 0.1 below the lock's hinge.

    ``reset_model`` runs ``frame_skip`` more substeps after the hand reset (``reset_substeps``) and builds the
    observation without a forward pass (``stale_reset_obs``).
    """

    family = "door-lock-v3"
    goal_offset = (0.0, -0.04, -0.1)
    lock_site = "lockStartLock"
    stale_reset_obs = True
    reset_substeps = SawyerMetaEnv.frame_skip

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return door_lock(obs, self.body_pos(self._leftpad), self.target_pos)


class DoorUnlock(_Lock):
    """door-unlock-v3 (ML45 test): the lock starts turned down (hinge at 1.5708, at rest); push it up until its
    end (site ``lockStartUnlock``) is within 0.02 in x of a hidden target 0.1 right of the lock's hinge."""

    family = "door-unlock-v3"
    goal_offset = (0.1, -0.04, 0.0)
    lock_site = "lockStartUnlock"
    lock_angle = 1.5708

    def _place_objects(self, sim: BatchSim) -> None:
        sim.qpos[:, self._lock_qpos] = self.lock_angle
        sim.qvel[:, self._lock_dof] = 0.0

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return door_unlock(obs, self.target_pos, self.obj_init_pos, self.init_tcp)


class WindowClose(_SlidingWindow):
    """window-close-v3 (ML45 train): the window of window-open, placed at x = 0, y in [0.75, 0.9], starts slid
    open by 0.2; slide it closed until its handle (site ``handleCloseStart``) is within 0.05 in x of the
    window's position (the hidden goal).

    The reset (``stale_reset_obs``) observes the kinematics its hand reset left, with the window moved and the
    slide where the hand reset left it (closed); ``handle_init_pos``, which the reward reads, is that
    observation's handle plus the 0.2 the window is then slid open (``reset``).
    """

    family = "window-close-v3"
    obj_low = (0.0, 0.75, 0.2)
    obj_high = (0.0, 0.9, 0.2)
    goal_offset = (0.0, 0.0, 0.0)
    handle_site = "handleCloseStart"

    def _place_objects(self, sim: BatchSim) -> None:
        sim.qpos[:, self._slide_qpos] = WINDOW_CLOSE_SLIDE  # metaworld sets the slide's position only

    def reset(self, rng: Any = None) -> np.ndarray:
        """The reset (``SawyerMetaEnv.reset``), then ``handle_init_pos``: the reset observation's handle (the hand
        reset's kinematics, window closed) plus the 0.2 the window is slid open, as ``reset_model`` computes it.
        (``_after_reset``, which ``restore`` also runs, reads the handle where the given state has it: for a reset's
        state, slid open by 0.2, equal to this sum up to rounding.)"""
        obs = super().reset(rng)
        self.handle_init_pos = obs[:, 4:7] + np.array([WINDOW_CLOSE_SLIDE, 0.0, 0.0])
        return obs

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return window_close(self._handle_pos(), self.tcp_center(), self.target_pos, self.handle_init_pos,
                            self.init_tcp)


class HandInsert(_BodyQuatObject):
    """hand-insert-v3 (ML45 test): push the block from [-0.1, 0.1] x [0.6, 0.7] into the table's hole, to a
    hidden target in [-0.04, 0.04] x [0.8, 0.88] at height -0.02 (success within 0.05).

    The block starts at height 0.05 (``init_config``'s, not its resting height) with the hand reset's
    orientation, at rest; the goal site moves to the target.
    """

    xml = "sawyer_xyz/sawyer_table_with_hole.xml"
    family = "hand-insert-v3"
    obj_body = "obj"
    hand_low = (-0.5, 0.40, -0.15)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.6, HAND_INSERT_Z)
    obj_high = (0.1, 0.7, HAND_INSERT_Z)
    goal_low = (-0.04, 0.8, -0.0201)
    goal_high = (0.04, 0.88, -0.0199)
    hand_init_pos = _float32(0.0, 0.6, 0.2)

    def _family_ids(self) -> None:
        super()._family_ids()
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        obj = np.hstack([rand_vec[:, :2], np.full((rand_vec.shape[0], 1), HAND_INSERT_Z)])
        return obj, rand_vec[:, 3:].copy()

    def _model_fields(self) -> dict[str, np.ndarray]:
        site_pos = self._require_sim().model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"site_pos": site_pos}

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return hand_insert(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                           *self._pads())
