"""Meta-World's handle and faucet families as promp meta-envs: handle-press, handle-press-side, handle-pull,
handle-pull-side, faucet-open and faucet-close (metaworld 3.1.1's ``SawyerHandlePressEnvV3``,
``SawyerHandlePressSideEnvV3``, ``SawyerHandlePullEnvV3``, ``SawyerHandlePullSideEnvV3``,
``SawyerFaucetOpenEnvV3``, ``SawyerFaucetCloseEnvV3``, rewards ``reward_function_version="v2"``).

A task is where the fixture stands: the goal vector ``rand_vec`` is the position of the handle's body
``box`` (in front of the robot, or to its left for the side variants) or of the faucet's body
``faucetBase``, and ``reset_model`` moves that body there (a per-copy ``body_pos``); every draw is kept.
The handle's slide joint starts near its top (press: -0.001) or pushed down (pull: -0.1), at rest, and the
target is a site on the box (``goalPress``, ``goalPull``) read after the reset's forward pass. The faucet's
target is 0.175 to the right (open) or left (close) of its base and 0.125 up, where its world goal site is
moved. The goal is hidden from the policy as in every ML benchmark.

faucet-open's ``reset_model`` builds its observation without a forward pass after the hand reset, so its
reset observation holds the kinematics of the hand reset's last substep (``SawyerMetaEnv.stale_reset_obs``);
faucet-close's runs one (``mj_forward``) and the handles' set the slide through ``set_state``, which does too.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .drawers import _Fixture
from .rewards import RewardResult, gripper_caging, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv

HANDLE_PRESS_RADIUS = 0.02  # SawyerHandlePress(Side)EnvV3.TARGET_RADIUS
HANDLE_PULL_RADIUS = 0.05  # the base class's TARGET_RADIUS, which handle-pull(-side) read
FAUCET_RADIUS = 0.07  # SawyerFaucet{Open,Close}EnvV3._target_radius
FAUCET_HANDLE_LENGTH = 0.175  # SawyerFaucet{Open,Close}EnvV3._handle_length


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=-1)


# ----------------------------------------------------------------------------------------------- rewards
def handle_press(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, handle_init_pos: np.ndarray,
                 init_tcp: np.ndarray) -> RewardResult:
    """handle-press-v3 and handle-press-side-v3 (metaworld 3.1.1 ``SawyerHandlePressEnvV3.compute_reward`` and
    ``SawyerHandlePressSideEnvV3.compute_reward``, v2, the same formula): ``10 H(reach, in_place)``, 10 once
    the handle's height is within 0.02 of the target's (success).

    ``in_place`` is ``tolerance(|handle_z - target_z|, [0, 0.02])``, margin ``| |handle_init_z - target_z| -
    0.02 |``; ``reach`` ``tolerance(|handle - tcp|, [0, 0.02])``, margin ``| |handle_init - init_tcp| - 0.02 |``.
    The handle is site ``handleStart`` (the observation's ``obs[4:7]``).
    """
    handle = obs[:, 4:7]
    target_to_obj = np.abs(handle[:, 2] - target[:, 2])
    target_to_obj_init = np.abs(handle_init_pos[:, 2] - target[:, 2])
    in_place = tolerance(target_to_obj, 0.0, HANDLE_PRESS_RADIUS, np.abs(target_to_obj_init - HANDLE_PRESS_RADIUS))
    handle_radius = 0.02
    tcp_to_obj = _norm(handle - tcp)
    tcp_to_obj_init = _norm(handle_init_pos - init_tcp)
    reach = tolerance(tcp_to_obj, 0.0, handle_radius, np.abs(tcp_to_obj_init - handle_radius))
    success = target_to_obj <= HANDLE_PRESS_RADIUS
    reward = np.where(success, 1.0, hamacher_product(reach, in_place)) * 10
    info = {"near_object": (tcp_to_obj <= 0.05).astype(np.float64), "grasp_success": np.ones_like(reward),
            "grasp_reward": reach, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def handle_pull(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
                init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """handle-pull-v3 (metaworld 3.1.1 ``SawyerHandlePullEnvV3.compute_reward``, v2): ``H(caging, in_place)``,
    plus ``1 + 5 in_place`` once the tool centre is within 0.035 of the handle with the gripper open and the
    handle's *y* more than 0.01 above the box's start *height* (metaworld compares ``obj[1]`` with
    ``obj_init_pos[2]``); 10 once the handle's height is within 0.05 of the target's (success).

    ``in_place`` is ``tolerance(|target_z - handle_z|, [0, 0.05])``, margin ``|target_z - obj_init_z|``
    (``obj_init_pos`` is the box's position, ``rand_vec``); caging is ``gripper_caging`` (radius 0.022, pads
    0.05, x-z 0.01, high density). The handle is site ``handleRight`` (``obs[4:7]``).
    """
    handle = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    target_to_obj = np.abs(target[:, 2] - handle[:, 2])
    in_place = tolerance(target_to_obj, 0.0, HANDLE_PULL_RADIUS, np.abs(target[:, 2] - obj_init_pos[:, 2]))
    grasped = gripper_caging(action, handle, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.022,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
    reward = hamacher_product(grasped, in_place)
    tcp_to_obj = _norm(handle - tcp)
    bonus = (tcp_to_obj < 0.035) & (tcp_opened > 0) & (handle[:, 1] - 0.01 > obj_init_pos[:, 2])
    reward = np.where(bonus, reward + (1.0 + 5.0 * in_place), reward)
    reward = np.where(target_to_obj < HANDLE_PULL_RADIUS, 10.0, reward)
    grasp_success = (tcp_opened > 0) & (handle[:, 2] - 0.03 > obj_init_pos[:, 2])
    info = {"near_object": (tcp_to_obj <= 0.05).astype(np.float64), "grasp_success": grasp_success.astype(np.float64),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, target_to_obj <= HANDLE_PULL_RADIUS, info)


def handle_pull_side(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                     obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
                     right_pad: np.ndarray) -> RewardResult:
    """handle-pull-side-v3 (metaworld 3.1.1 ``SawyerHandlePullSideEnvV3.compute_reward``, v2):
    ``H(caging, in_place)``, plus ``1 + 5 in_place`` once the tool centre is within 0.035 of the handle with
    the gripper open and the handle 0.01 above its start; 10 once the handle is within 0.05 of the target;
    success within 0.08.

    ``in_place`` is ``tolerance(|handle - target|, [0, 0.05])``, margin ``|handle_init - target|`` (the
    handle's start, site ``handleCenter`` after the reset, is ``obj_init_pos``); caging is ``gripper_caging``
    (radius 0.032, pads 0.06, x-z 0.01, high density).
    """
    handle = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    target_to_obj = _norm(handle - target)
    in_place = tolerance(target_to_obj, 0.0, HANDLE_PULL_RADIUS, _norm(obj_init_pos - target))
    grasped = gripper_caging(action, handle, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.032,
                             pad_success_thresh=0.06, object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
    reward = hamacher_product(grasped, in_place)
    tcp_to_obj = _norm(handle - tcp)
    lifted = (tcp_to_obj < 0.035) & (tcp_opened > 0) & (handle[:, 2] - 0.01 > obj_init_pos[:, 2])
    reward = np.where(lifted, reward + (1.0 + 5.0 * in_place), reward)
    reward = np.where(target_to_obj < HANDLE_PULL_RADIUS, 10.0, reward)
    grasp_success = (tcp_opened > 0) & (handle[:, 2] - 0.03 > obj_init_pos[:, 2])
    info = {"near_object": (tcp_to_obj <= 0.05).astype(np.float64), "grasp_success": grasp_success.astype(np.float64),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, target_to_obj <= 0.08, info)


def faucet(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray,
           handle_offset: np.ndarray) -> RewardResult:
    """faucet-open-v3 and faucet-close-v3 (metaworld 3.1.1 ``SawyerFaucetOpenEnvV3.compute_reward`` and
    ``SawyerFaucetCloseEnvV3.compute_reward``, v2): ``2 (2 reach + 3 in_place)``, 10 once the handle is within
    0.07 of the target (success).

    The handle is the observation's ``obs[4:7]`` moved by ``handle_offset`` (open: ``(-0.04, 0, 0.03)``,
    close: none). ``in_place`` is ``tolerance(|handle - target|, [0, 0.07])``, margin ``| |base - target| -
    0.07 |`` (``obj_init_pos`` is the faucet's base); ``reach`` a Gaussian ``tolerance(|handle - tcp|,
    [0, 0.01])``, margin ``| |base - init_tcp| - 0.01 |``.
    """
    handle = obs[:, 4:7] + handle_offset
    target_to_obj = _norm(handle - target)
    target_to_obj_init = _norm(obj_init_pos - target)
    in_place = tolerance(target_to_obj, 0.0, FAUCET_RADIUS, np.abs(target_to_obj_init - FAUCET_RADIUS))
    reach_radius = 0.01
    tcp_to_obj = _norm(handle - tcp)
    tcp_to_obj_init = _norm(obj_init_pos - init_tcp)
    reach = tolerance(tcp_to_obj, 0.0, reach_radius, np.abs(tcp_to_obj_init - reach_radius), sigmoid="gaussian")
    success = target_to_obj <= FAUCET_RADIUS
    reward = np.where(success, 10.0, (2 * reach + 3 * in_place) * 2)
    info = {"near_object": (tcp_to_obj <= 0.01).astype(np.float64), "grasp_success": np.ones_like(reward),
            "grasp_reward": reach, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, success, info)


# ---------------------------------------------------------------------------------------------- families
class _Handle(_Fixture):
    """The handle box (``sawyer_handle_press.xml`` or ``..._sideways.xml``): ``reset_model`` moves body ``box``
    to ``rand_vec``, sets the handle's slide (``handle_link``'s joint) to ``slide_start`` at rest, and reads
    the target from site ``target_site`` on the box. The observed object is site ``handle_site`` (and a zero
    quaternion)."""

    fixture_body = "box"
    slide_start: float
    target_site: str
    handle_site: str

    def _family_ids(self) -> None:
        site = mujoco.mjtObj.mjOBJ_SITE
        self._fixture = self._id(mujoco.mjtObj.mjOBJ_BODY, self.fixture_body)
        slide = int(self.model.body_jntadr[self._id(mujoco.mjtObj.mjOBJ_BODY, "handle_link")])  # unnamed joint
        self._slide_qpos = int(self.model.jnt_qposadr[slide])
        self._slide_dof = int(self.model.jnt_dofadr[slide])
        self._target_site = self._id(site, self.target_site)
        self._handle_site = self._id(site, self.handle_site)

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the target is a site on the box, known after the reset's forward pass (_after_reset)
        return rand_vec.copy(), np.full_like(rand_vec, np.nan)

    def _model_fields(self) -> dict[str, np.ndarray]:
        """``reset_model`` moves the box to ``rand_vec`` (the models have no world goal site)."""
        body_pos = self._require_sim().model_field("body_pos").copy()
        body_pos[:, self._fixture] = self.task_array("rand_vec")
        return {"body_pos": body_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """The slide at ``slide_start`` with zero velocity (metaworld's ``_set_obj_xyz``, then ``set_state``)."""
        sim.qpos[:, self._slide_qpos] = self.slide_start
        sim.qvel[:, self._slide_dof] = 0.0

    def _after_reset(self) -> None:
        self.target_pos = self._site(self._target_site)

    def _site(self, site: int) -> np.ndarray:
        return self._require_sim().fields["site_xpos"][:, site].copy()

    def _objects(self) -> np.ndarray:
        return np.hstack([self._site(self._handle_site), np.zeros((self.num_copies, 4))])


class _HandlePress(_Handle):
    """Press the handle down to site ``goalPress`` (success: its height within 0.02). ``handle_init_pos`` is
    site ``handleStart`` after the reset."""

    slide_start = -0.001
    target_site = "goalPress"
    handle_site = "handleStart"
    episode_constants = (*SawyerMetaEnv.episode_constants, "handle_init_pos")

    def _after_reset(self) -> None:
        super()._after_reset()
        self.handle_init_pos = self._site(self._handle_site)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return handle_press(obs, self.tcp_center(), self.target_pos, self.handle_init_pos, self.init_tcp)


class HandlePress(_HandlePress):
    """ML45 handle-press-v3: press the handle of a box placed in [-0.1, 0.1] x [0.8, 0.9] in front of the
    robot down."""

    xml = "sawyer_xyz/sawyer_handle_press.xml"
    family = "handle-press-v3"
    obj_low = (-0.1, 0.8, -0.001)
    obj_high = (0.1, 0.9, 0.001)


class HandlePressSide(_HandlePress):
    """ML45 handle-press-side-v3: press down the handle of a box placed in [-0.35, -0.25] x [0.65, 0.75],
    to the robot's left and facing it sideways."""

    xml = "sawyer_xyz/sawyer_handle_press_sideways.xml"
    family = "handle-press-side-v3"
    obj_low = (-0.35, 0.65, -0.001)
    obj_high = (-0.25, 0.75, 0.001)


class HandlePull(_Handle):
    """ML45 handle-pull-v3: pull up the handle, pushed down at the start, of a box placed in [-0.1, 0.1] x
    [0.8, 0.9] until its height is within 0.05 of site ``goalPull``."""

    xml = "sawyer_xyz/sawyer_handle_press.xml"
    family = "handle-pull-v3"
    obj_low = (-0.1, 0.8, -0.001)
    obj_high = (0.1, 0.9, 0.001)
    slide_start = -0.1
    target_site = "goalPull"
    handle_site = "handleRight"

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return handle_pull(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                           self.body_pos(self._leftpad), self.body_pos(self._rightpad))


class HandlePullSide(_Handle):
    """ML45 handle-pull-side-v3: pull up the handle, pushed down at the start, of a box placed in
    [-0.35, -0.25] x [0.65, 0.75] to the robot's left until it is within 0.08 of site ``goalPull``.

    ``obj_init_pos`` is the handle's start (site ``handleCenter`` after the reset), not ``rand_vec``.
    """

    xml = "sawyer_xyz/sawyer_handle_press_sideways.xml"
    family = "handle-pull-side-v3"
    obj_low = (-0.35, 0.65, 0.0)
    obj_high = (-0.25, 0.75, 0.0)
    slide_start = -0.1
    target_site = "goalPull"
    handle_site = "handleCenter"

    def _after_reset(self) -> None:
        super()._after_reset()
        self.obj_init_pos = self._site(self._handle_site)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return handle_pull_side(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                                self.body_pos(self._leftpad), self.body_pos(self._rightpad))


class _Faucet(_Fixture):
    """The faucet (``sawyer_faucet.xml``): ``reset_model`` moves body ``faucetBase`` to ``rand_vec`` and the
    world site ``goal_site`` to the target; the knob's joint keeps the hand reset's state. The observed object
    is site ``handle_site`` lowered by 0.01 and ``faucetBase``'s orientation."""

    xml = "sawyer_xyz/sawyer_faucet.xml"
    hand_low = (-0.5, 0.40, -0.15)
    hand_high = (0.5, 1.0, 0.5)
    hand_init_pos = (0.0, 0.4, 0.2)
    fixture_body = "faucetBase"
    data_fields = ("xquat",)
    goal_site: str
    handle_site: str
    handle_offset: np.ndarray  # where the reward takes the handle, from the observed position

    def _family_ids(self) -> None:
        self._fixture = self._id(mujoco.mjtObj.mjOBJ_BODY, self.fixture_body)
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, self.goal_site)
        self._handle_site = self._id(mujoco.mjtObj.mjOBJ_SITE, self.handle_site)

    def _objects(self) -> np.ndarray:
        fields = self._require_sim().fields
        handle = fields["site_xpos"][:, self._handle_site] + np.array([0.0, 0.0, -0.01])
        return np.hstack([handle, fields["xquat"][:, self._fixture]])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return faucet(obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp, self.handle_offset)


class FaucetOpen(_Faucet):
    """ML45 faucet-open-v3: turn the faucet's handle to the right; the faucet stands in [-0.05, 0.05] x
    [0.8, 0.85] (success: handle within 0.07 of the target)."""

    family = "faucet-open-v3"
    obj_low = (-0.05, 0.8, 0.0)
    obj_high = (0.05, 0.85, 0.0)
    target_offset = (FAUCET_HANDLE_LENGTH, 0.0, 0.125)
    goal_site = "goal_open"
    handle_site = "handleStartOpen"
    handle_offset = np.array([-0.04, 0.0, 0.03])
    stale_reset_obs = True


class FaucetClose(_Faucet):
    """ML45 faucet-close-v3: turn the faucet's handle to the left; the faucet stands in [-0.1, 0.1] x
    [0.8, 0.85] (success: handle within 0.07 of the target)."""

    family = "faucet-close-v3"
    obj_low = (-0.1, 0.8, 0.0)
    obj_high = (0.1, 0.85, 0.0)
    target_offset = (-FAUCET_HANDLE_LENGTH, 0.0, 0.125)
    goal_site = "goal_close"
    handle_site = "handleStartClose"
    handle_offset = np.zeros(3)
