"""Meta-World's tool families as promp meta-envs: hammer, stick-push, stick-pull, coffee-pull and coffee-push
(metaworld 3.1.1's ``SawyerHammerEnvV3``, ``SawyerStickPushEnvV3``, ``SawyerStickPullEnvV3``,
``SawyerCoffeePullEnvV3``, ``SawyerCoffeePushEnvV3``, rewards ``reward_function_version="v2"``).

- hammer: pick the hammer from [-0.1, 0.1] x [0.4, 0.5] and drive the nail into its box, which stands fixed at
  ``(0.24, 0.85, 0)``; the goal vector is the hammer's start alone and every draw is kept; success once the
  nail's slide exceeds 0.09;
- stick-push, stick-pull: pick the stick (its start x-y is the goal vector's first two numbers) and push the
  container, or pull the handle, on two slide joints to a target (the goal vector's fourth and fifth numbers);
  draws closer than 0.1 in x-y are redrawn;
- coffee-pull, coffee-push: move the mug from the goal vector's first three numbers to its last three, away
  from or under the coffee machine, which stands 0.22 behind the mug's start (pull) or the goal (push); draws
  closer than 0.15 in x-y are redrawn.

metaworld's ``touching_main_object`` (both pads in contact with the object's geom with a positive force)
decides stick-push's success and the stick families' ``grasp_success``; promp reads it from two contact
sensors it adds to the stick model (``_touch_sensors``), which agree with that rule on every recorded and
perturbed state checked under MuJoCo 4; the contacts themselves are MuJoCo 4's, whose box-box collider (pads and
stick are boxes) differs from 3.3.0's (tests/test_metaworld.py). coffee's ``grasp_success`` reads the mug's geom
``mug``, which is visual only (contype and conaffinity 0): it never touches anything, so the field is 0.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .assets import load_model
from .rewards import RewardResult, gripper_caging, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv, quat_from_matrix

HAND_LOW = (-0.5, 0.40, 0.05)
HAND_HIGH = (0.5, 1.0, 0.5)
HAMMER_HEAD_OFFSET = np.array([0.16, 0.06, 0.0])  # from the hammer's body to its head (the reward's)
HAMMER_HANDLE_HALF = 0.07  # SawyerHammerEnvV3.HAMMER_HANDLE_LENGTH / 2
NAIL_DRIVEN = 0.09  # the nail's slide beyond which the hammer succeeds
STICK_INIT_Z = 0.02  # the stick's start height (init_config's stick_init_pos)
COFFEE_MACHINE_OFFSET = np.array([0.0, 0.22, 0.0])  # from the mug's start (pull) or goal (push) to the machine
CONTACT_MAXFORCE = 2  # a contact sensor's ``reduce="maxforce"``: the matching contact with the largest force


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=-1)


# ----------------------------------------------------------------------------------------------- rewards
def hammer_reward(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                  obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray,
                  nail_slide: np.ndarray) -> RewardResult:
    """hammer-v3 (metaworld 3.1.1 ``SawyerHammerEnvV3.compute_reward``, v2): ``(2 grab + 6 in_place) * upright``,
    10 once the nail's slide exceeds 0.09 (success) with that product above 5.

    ``upright`` is ``max(1 - |hammer quaternion - (1, 0, 0, 0)| / 0.4, 0)``; ``grab`` is ``gripper_caging``
    (radius 0.015, pads 0.02, x-z 0.01, high density) of the hammer's position with its x replaced by the
    hand's while they are within half the handle's length (0.07) in x; ``in_place`` is 0.1 once the head
    (the hammer's position plus ``(0.16, 0.06, 0)``) is above 0.02, plus 0.9 times ``tolerance(|target -
    head|, [0, 0.02], margin 0.2)``. The info's ``near_object`` is ``upright``, ``obj_to_target`` 0.
    """
    hand, hammer = obs[:, :3], obs[:, 4:7]
    head = hammer + HAMMER_HEAD_OFFSET
    threshed = hammer.copy()
    threshed[:, 0] = np.where(np.abs(hammer[:, 0] - hand[:, 0]) < HAMMER_HANDLE_HALF, hand[:, 0], hammer[:, 0])
    upright = np.maximum(1.0 - _norm(obs[:, 7:11] - np.array([1.0, 0.0, 0.0, 0.0])) / 0.4, 0.0)
    grab = gripper_caging(action, threshed, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                          pad_success_thresh=0.02, object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
    in_place = 0.1 * (head[:, 2] > 0.02) + 0.9 * tolerance(_norm(target - head), 0.0, 0.02, 0.2)
    reward = (2.0 * grab + 6.0 * in_place) * upright
    success = nail_slide > NAIL_DRIVEN
    reward = np.where(success & (reward > 5.0), 10.0, reward)
    info = {"near_object": upright, "grasp_success": (grab >= 0.5).astype(np.float64), "grasp_reward": grab,
            "in_place_reward": in_place, "obj_to_target": np.zeros_like(reward), "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def stick_push_reward(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                      obj_init_pos: np.ndarray, stick_init_pos: np.ndarray, init_tcp: np.ndarray,
                      left_pad: np.ndarray, right_pad: np.ndarray, touching: np.ndarray) -> RewardResult:
    """stick-push-v3 (metaworld 3.1.1 ``SawyerStickPushEnvV3.compute_reward`` and ``evaluate_state``, v2).

    The stick is the observed one moved 0.015 in x, the container ``obs[11:14]``; both ``in_place`` terms are
    ``tolerance(|. - target|, [0, 0.12])`` with margin the start's distance less 0.12. ``grasped`` is
    ``gripper_caging`` around the stick (radius 0.04, pads 0.05, x-z 0.01, high density; the margins from the
    stick's start, as the family's own ``_gripper_caging_reward``), the reward; while the stick is held (tool
    centre within 0.02, gripper open reading above 0, stick 0.01 above its start) ``grasped`` is 1 and the
    reward ``2 + 5 stick_in_place + 3 container_in_place``, 10 with the container within 0.12 of the target.
    Success: the container within 0.12 and ``grasp_success`` (both pads ``touching`` the stick, the gripper
    open reading above 0 and the stick 0.01 above its start).
    """
    radius = 0.12
    stick = obs[:, 4:7] + np.array([0.015, 0.0, 0.0])
    container = obs[:, 11:14]
    tcp_opened = obs[:, 3]
    tcp_to_stick = _norm(stick - tcp)
    stick_in_place = tolerance(_norm(stick - target), 0.0, radius, _norm(stick_init_pos - target) - radius)
    container_to_target = _norm(container - target)
    container_in_place = tolerance(container_to_target, 0.0, radius, _norm(obj_init_pos - target) - radius)
    grasped = gripper_caging(action, stick, stick_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.04,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
    held = (tcp_to_stick < 0.02) & (tcp_opened > 0) & (stick[:, 2] - 0.01 > stick_init_pos[:, 2])
    reward = np.where(held, 2.0 + 5.0 * stick_in_place + 3.0 * container_in_place, grasped)
    reward = np.where(held & (container_to_target <= radius), 10.0, reward)
    grasped = np.where(held, 1.0, grasped)
    grasp_success = touching & (tcp_opened > 0) & (obs[:, 6] - 0.01 > stick_init_pos[:, 2])
    success = grasp_success & (container_to_target <= radius)
    info = {"near_object": (tcp_to_stick <= 0.03).astype(np.float64),
            "grasp_success": grasp_success.astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": stick_in_place, "obj_to_target": container_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def stick_inserted(handle: np.ndarray, stick_end: np.ndarray) -> np.ndarray:
    """stick-pull's ``_stick_is_inserted``: the stick's end at or past the handle in x, within 0.04 of it in y
    and 0.06 in z."""
    return ((stick_end[:, 0] >= handle[:, 0]) & (np.abs(stick_end[:, 1] - handle[:, 1]) <= 0.040)
            & (np.abs(stick_end[:, 2] - handle[:, 2]) <= 0.060))


def stick_pull_reward(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, stick_end: np.ndarray,
                      target: np.ndarray, obj_init_pos: np.ndarray, stick_init_pos: np.ndarray,
                      init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray,
                      touching: np.ndarray) -> RewardResult:
    """stick-pull-v3 (metaworld 3.1.1 ``SawyerStickPullEnvV3.compute_reward`` and ``evaluate_state``, v2).

    The handle is ``obs[11:14]``, the container 0.05 beyond it in x. Three tolerances within 0.05, margins
    the start's distances: ``stick_in_place`` of the stick to the container with z counted twice,
    ``stick_in_place_2`` of the stick to the target, ``container_in_place`` of the container to the target
    (margin from the object's start ``obj_init_pos``, not the container's). ``grasped`` is ``gripper_caging``
    around the stick (radius 0.014, pads 0.05, x-z 0.01, high density) with the base class's margins, from
    ``obj_init_pos`` (stick-pull does not override it as stick-push does); it is 1 while the stick is held
    (tool centre within 0.02, gripper open reading above 0, stick 0.01 above its start). Reward ``hamacher(grasped, stick_in_place)``; held, ``1 + that + 5 stick_in_place``; held with
    the stick inserted (``stick_inserted``), ``1 + that + 5 + 2 stick_in_place_2 + container_in_place``, and
    10 with the handle within 0.12 of the target. Success: handle within 0.12 and the stick inserted.
    ``grasp_success``: both pads ``touching`` the stick, the gripper open and the stick 0.02 above ``obj_init_pos``.
    """
    radius = 0.05
    stick, handle = obs[:, 4:7], obs[:, 11:14]
    offset = np.array([0.05, 0.0, 0.0])
    container, container_init = handle + offset, obj_init_pos + offset
    tcp_opened = obs[:, 3]
    tcp_to_stick = _norm(stick - tcp)
    handle_to_target = _norm(handle - target)
    scale = np.array([1.0, 1.0, 2.0])
    stick_in_place = tolerance(_norm((stick - container) * scale), 0.0, radius,
                               _norm((stick_init_pos - container_init) * scale))
    stick_in_place_2 = tolerance(_norm(stick - target), 0.0, radius, _norm(stick_init_pos - target))
    container_in_place = tolerance(_norm(container - target), 0.0, radius, _norm(obj_init_pos - target))
    grasped = gripper_caging(action, stick, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.014,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.01, high_density=True)
    held = (tcp_to_stick < 0.02) & (tcp_opened > 0) & (stick[:, 2] - 0.01 > stick_init_pos[:, 2])
    grasped = np.where(held, 1.0, grasped)
    in_place_and_grasped = hamacher_product(grasped, stick_in_place)
    inserted = stick_inserted(handle, stick_end)
    reward = np.where(held, 1.0 + in_place_and_grasped + 5.0 * stick_in_place, in_place_and_grasped)
    reward = np.where(held & inserted,
                      1.0 + in_place_and_grasped + 5.0 + 2.0 * stick_in_place_2 + 1.0 * container_in_place, reward)
    reward = np.where(held & inserted & (handle_to_target <= 0.12), 10.0, reward)
    success = (handle_to_target <= 0.12) & inserted
    grasp_success = touching & (tcp_opened > 0) & (stick[:, 2] - 0.02 > obj_init_pos[:, 2])
    info = {"near_object": (tcp_to_stick <= 0.03).astype(np.float64),
            "grasp_success": grasp_success.astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": stick_in_place, "obj_to_target": handle_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def coffee_reward(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray,
                  obj_init_pos: np.ndarray, init_tcp: np.ndarray, left_pad: np.ndarray,
                  right_pad: np.ndarray) -> RewardResult:
    """coffee-pull-v3 and coffee-push-v3 (metaworld 3.1.1 ``SawyerCoffeePullEnvV3.compute_reward``, the same in
    ``SawyerCoffeePushEnvV3``, v2): ``hamacher(grasped, in_place)``, plus ``1 + 5 in_place`` while the tool
    centre is within 0.04 of the mug with the gripper open reading above 0, 10 once the mug is within 0.05
    of the target with x and y counted twice.

    ``in_place`` is ``tolerance(|(mug - target) * (2, 2, 1)|, [0, 0.05])``, margin the start's same distance;
    ``grasped`` is ``gripper_caging`` (radius 0.02, pads 0.05, x-z 0.05, reach 0.04, full effort at 0.7,
    medium density). Success: the mug within 0.07 of the target (plain distance, the info's
    ``obj_to_target``). ``grasp_success`` is 0: the mug's geom never touches the pads (module docstring).
    """
    obj = obs[:, 4:7]
    scale = np.array([2.0, 2.0, 1.0])
    target_to_obj = _norm((obj - target) * scale)
    in_place = tolerance(target_to_obj, 0.0, 0.05, _norm((obj_init_pos - target) * scale))
    tcp_opened = obs[:, 3]
    tcp_to_obj = _norm(obj - tcp)
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.02,
                             pad_success_thresh=0.05, object_reach_radius=0.04, xz_thresh=0.05,
                             desired_gripper_effort=0.7, medium_density=True)
    reward = hamacher_product(grasped, in_place)
    reward = np.where((tcp_to_obj < 0.04) & (tcp_opened > 0), reward + (1.0 + 5.0 * in_place), reward)
    reward = np.where(target_to_obj < 0.05, 10.0, reward)
    obj_to_target = _norm(obj - target)
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_success": np.zeros_like(reward),
            "grasp_reward": grasped, "in_place_reward": in_place, "obj_to_target": obj_to_target,
            "unscaled_reward": reward}
    return RewardResult(reward, obj_to_target <= 0.07, info)


# ---------------------------------------------------------------------------------------------- families
class Hammer(SawyerMetaEnv):
    """ML45 hammer-v3: pick the hammer from [-0.1, 0.1] x [0.4, 0.5] and hammer the nail of the box at
    ``(0.24, 0.85, 0)`` in by more than 0.09; the target is the box's ``goal`` site, ``(0.24, 0.74, 0.11)``."""

    xml = "sawyer_xyz/sawyer_hammer.xml"
    family = "hammer-v3"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    obj_low = (-0.1, 0.4, 0.0)
    obj_high = (0.1, 0.5, 0.0)
    goal_low = (0.2399, 0.7399, 0.109)  # metaworld's goal space: not part of the goal vector
    goal_high = (0.2401, 0.7401, 0.111)
    hand_init_pos = (0.0, 0.4, 0.2)
    data_fields = ("xquat",)

    rand_vec_is_object_start = True  # the hammer's start box alone (``SawyerHammerEnvV3._random_reset_space``)

    def _family_ids(self) -> None:
        body = mujoco.mjtObj.mjOBJ_BODY
        joint = int(self.model.body_jntadr[self._id(body, "hammerbody")])  # the hammer's free joint has no name
        self._obj_qpos = int(self.model.jnt_qposadr[joint])
        self._obj_dof = int(self.model.jnt_dofadr[joint])
        self._hammer = self._id(body, "hammer")
        self._nail = self._id(body, "nail_link")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")
        self._nail_qpos = int(self.model.jnt_qposadr[self._id(mujoco.mjtObj.mjOBJ_JOINT, "NailSlideJoint")])

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the box does not move (reset_model writes its default position), so neither does its goal site
        target = np.broadcast_to(self.rest.site_xpos[self._goal_site], rand_vec.shape).copy()
        return rand_vec.copy(), target

    def _objects(self) -> np.ndarray:
        """The hammer's and the nail's body positions and quaternions (``xquat``)."""
        sim = self._require_sim()
        xpos, xquat = sim.fields["xpos"], sim.fields["xquat"]
        return np.hstack([xpos[:, self._hammer], xquat[:, self._hammer], xpos[:, self._nail], xquat[:, self._nail]])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return hammer_reward(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                             self.body_pos(self._leftpad), self.body_pos(self._rightpad),
                             self._require_sim().qpos[:, self._nail_qpos])


class _Stick(SawyerMetaEnv):
    """The stick model (``sawyer_stick_obj.xml``): a free stick (body ``stick``, box geom ``objGeom``) and an
    object on two slide joints (body ``object``, site ``insertion``). The goal vector is the stick's start
    (x-y; z is drawn but the stick starts at 0.02) and the target (x-y), redrawn while closer than 0.1."""

    xml = "sawyer_xyz/sawyer_stick_obj.xml"
    hand_high = HAND_HIGH
    hand_init_pos = (0.0, 0.6, 0.2)
    min_obj_goal_xy = 0.1
    data_fields = ("xmat", "sensordata")
    episode_constants = (*SawyerMetaEnv.episode_constants, "stick_init_pos")
    obj_init_qpos: tuple[float, float]  # the object's two slides at the start

    def _load_model(self) -> mujoco.MjModel:
        return load_model(self.xml, edit=self._touch_sensors)

    @staticmethod
    def _touch_sensors(spec: mujoco.MjSpec) -> None:
        """One contact sensor per pad (``leftpad_geom``, ``rightpad_geom``) with the stick's ``objGeom``: the
        force (contact frame, normal first) of the matching contact with the largest force, 0 without one.

        metaworld's ``touching_object`` sums ``efc_force[efc_address]`` over a pad's contacts with the geom and
        asks for a positive sum. The model's cones are elliptic, so that row is the contact's normal force,
        which is non-negative and bounds the friction: the sum is positive if and only if the largest contact's
        normal force is non-zero. A sensor computes in the forward pass and changes nothing in the dynamics.
        """
        for pad in ("leftpad_geom", "rightpad_geom"):
            spec.add_sensor(name=f"promp_touch_{pad}", type=mujoco.mjtSensor.mjSENS_CONTACT,
                            objtype=mujoco.mjtObj.mjOBJ_GEOM, objname=pad, reftype=mujoco.mjtObj.mjOBJ_GEOM,
                            refname="objGeom", intprm=[1 << int(mujoco.mjtConDataField.mjCONDATA_FORCE),
                                                       CONTACT_MAXFORCE, 1])

    def _family_ids(self) -> None:
        body, site, joint = mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_SITE, mujoco.mjtObj.mjOBJ_JOINT
        self._stick = self._id(body, "stick")
        free = int(self.model.body_jntadr[self._stick])  # the stick's free joint has no name
        self._obj_qpos = int(self.model.jnt_qposadr[free])
        self._obj_dof = int(self.model.jnt_dofadr[free])
        self._object = self._id(body, "object")
        self._insertion = self._id(site, "insertion")
        self._stick_end = self._id(site, "stick_end")
        self._goal_site = self._id(site, "goal")
        slides = [self._id(joint, name) for name in ("obj_slidex", "obj_slidey")]
        self._slide_qpos = [int(self.model.jnt_qposadr[j]) for j in slides]
        self._slide_dofs = [int(self.model.jnt_dofadr[j]) for j in slides]
        self._touch = [int(self.model.sensor_adr[self._id(mujoco.mjtObj.mjOBJ_SENSOR, f"promp_touch_{pad}")])
                       for pad in ("leftpad_geom", "rightpad_geom")]

    def _stick_start(self) -> np.ndarray:
        """The stick's start ``[B, 3]``: the goal vector's x-y at height 0.02."""
        rand_vec = self.task_array("rand_vec")
        return np.hstack([rand_vec[:, :2], np.full((rand_vec.shape[0], 1), STICK_INIT_Z)])

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the object's start is its body's position after the reset (_after_reset); the target's height is the
        # family's (_target_z)
        n = rand_vec.shape[0]
        return np.full((n, 3), np.nan), np.hstack([rand_vec[:, 3:5], np.full((n, 1), self._target_z())])

    def _target_z(self) -> float:
        raise NotImplementedError

    def _model_fields(self) -> dict[str, np.ndarray]:
        """``reset_model`` moves the goal site (a world site) to the target."""
        site_pos = self._require_sim().model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"site_pos": site_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """The stick at its start, at rest (its orientation stays the hand reset's); the object's slides at
        ``obj_init_qpos``. metaworld zeroes ``qvel[16:18]`` for the slides, which stops at the model's 17 dofs:
        the y slide's velocity is zeroed and the x slide's (dof 15) keeps the hand reset's."""
        sim.qpos[:, self._obj_qpos:self._obj_qpos + 3] = self._stick_start()
        sim.qvel[:, self._obj_dof:self._obj_dof + 6] = 0.0
        sim.qpos[:, self._slide_qpos] = self.obj_init_qpos
        sim.qvel[:, self._slide_dofs[1]] = 0.0

    def _after_reset(self) -> None:
        self.stick_init_pos = self._stick_start()
        self.obj_init_pos = self.body_pos(self._object)

    def _touching(self) -> np.ndarray:
        """Both pads in contact with the stick with a positive normal force (``_touch_sensors``)."""
        data = self._require_sim().fields["sensordata"]
        return (data[:, self._touch[0]] != 0) & (data[:, self._touch[1]] != 0)

    def _stick_obs(self) -> np.ndarray:
        """The stick's body position and quaternion (``x, y, z, w``, from its ``xmat``)."""
        sim = self._require_sim()
        xmat = sim.fields["xmat"][:, self._stick].reshape(-1, 3, 3)
        return np.hstack([sim.fields["xpos"][:, self._stick], quat_from_matrix(xmat)])

    def _pads(self) -> tuple[np.ndarray, np.ndarray]:
        return self.body_pos(self._leftpad), self.body_pos(self._rightpad)


class StickPush(_Stick):
    """ML45 stick-push-v3: pick the stick from [-0.08, -0.03] x [0.58, 0.62] and push the container with it to
    a target in x = 0.4, y in [0.55, 0.6] (success: container within 0.12 while both pads hold the stick)."""

    family = "stick-push-v3"
    hand_low = HAND_LOW
    obj_low = (-0.08, 0.58, 0.000)
    obj_high = (-0.03, 0.62, 0.001)
    goal_low = (0.399, 0.55, 0.1319)
    goal_high = (0.401, 0.6, 0.1321)
    obj_init_qpos = (0.0, 0.0)
    container_offset = np.array([0.0, 0.09, 0.0])  # from the insertion site to the container

    def _target_z(self) -> float:
        """The insertion site's height after the hand reset (``reset_model`` reads it before placing anything)."""
        return float(self.rest.site_xpos[self._insertion][2])

    def _objects(self) -> np.ndarray:
        """The stick, then the container (the insertion site plus ``(0, 0.09, 0)``) with a zero quaternion."""
        container = self._require_sim().fields["site_xpos"][:, self._insertion] + self.container_offset
        return np.hstack([self._stick_obs(), container, np.zeros((self.num_copies, 4))])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return stick_push_reward(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos,
                                 self.stick_init_pos, self.init_tcp, *self._pads(), self._touching())


class StickPull(_Stick):
    """ML45 stick-pull-v3: pick the stick from [-0.1, 0] x [0.55, 0.65], hook it into the handle and pull the
    handle to a target in [0.35, 0.45] x [0.45, 0.55] (success: handle within 0.12, stick inserted)."""

    family = "stick-pull-v3"
    hand_low = (-0.5, 0.35, 0.05)
    obj_low = (-0.1, 0.55, 0.000)
    obj_high = (0.0, 0.65, 0.001)
    goal_low = (0.35, 0.45, 0.0199)
    goal_high = (0.45, 0.55, 0.0201)
    obj_init_qpos = (0.0, 0.09)

    def _target_z(self) -> float:
        """The stick's start height."""
        return STICK_INIT_Z

    def _objects(self) -> np.ndarray:
        """The stick, then the handle (the insertion site) with a zero quaternion."""
        handle = self._require_sim().fields["site_xpos"][:, self._insertion]
        return np.hstack([self._stick_obs(), handle, np.zeros((self.num_copies, 4))])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        stick_end = self._require_sim().fields["site_xpos"][:, self._stick_end]
        return stick_pull_reward(action, obs, self.tcp_center(), stick_end, self.target_pos, self.obj_init_pos,
                                 self.stick_init_pos, self.init_tcp, *self._pads(), self._touching())


class _Coffee(SawyerMetaEnv):
    """The coffee model (``sawyer_coffee.xml``): the mug (body ``obj``, whose free joint comes first in
    ``qpos``, before the arm's) and the machine (body ``coffee_machine``), which stands 0.22 behind
    ``machine_anchor`` of the goal vector (``"start"``: the mug's first three numbers, ``"goal"``: its last three)."""

    xml = "sawyer_xyz/sawyer_coffee.xml"
    hand_low = HAND_LOW
    hand_high = HAND_HIGH
    hand_init_pos = (0.0, 0.4, 0.2)
    machine_anchor: str
    arm_dofs_zeroed = slice(9, 15)
    """metaworld's coffee ``_set_obj_xyz`` zeroes ``qvel[9:15]``, written for a model whose object's free joint
    follows the arm's; here those are the dofs of four arm joints (``right_j3..6``) and the two fingers, and
    the mug keeps the hand reset's velocity. (Its ``_objects`` are the default: body ``obj``, geom ``mug``.)"""

    def _family_ids(self) -> None:
        self._obj = self._id(mujoco.mjtObj.mjOBJ_BODY, "obj")
        joint = int(self.model.body_jntadr[self._obj])
        self._obj_qpos = int(self.model.jnt_qposadr[joint])
        self._obj_geom = self._id(mujoco.mjtObj.mjOBJ_GEOM, "mug")
        self._machine = self._id(mujoco.mjtObj.mjOBJ_BODY, "coffee_machine")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "mug_goal")

    def _model_fields(self) -> dict[str, np.ndarray]:
        """The machine moved behind its anchor, the goal site ``mug_goal`` (a world site) to the target."""
        sim = self._require_sim()
        anchor = self.obj_init_pos if self.machine_anchor == "start" else self.target_pos
        body_pos = sim.model_field("body_pos").copy()
        body_pos[:, self._machine] = anchor + COFFEE_MACHINE_OFFSET
        site_pos = sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """The mug at its start (its orientation and velocity the hand reset's), ``arm_dofs_zeroed`` at rest."""
        sim.qpos[:, self._obj_qpos:self._obj_qpos + 3] = self.obj_init_pos
        sim.qvel[:, self.arm_dofs_zeroed] = 0.0

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return coffee_reward(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                             self.body_pos(self._leftpad), self.body_pos(self._rightpad))


class CoffeePull(_Coffee):
    """ML45 coffee-pull-v3: pull the mug from under the machine, from [-0.05, 0.05] x [0.7, 0.75] to a target
    in [-0.1, 0.1] x [0.55, 0.65] (success within 0.07)."""

    family = "coffee-pull-v3"
    obj_low = (-0.05, 0.7, -0.001)
    obj_high = (0.05, 0.75, 0.001)
    goal_low = (-0.1, 0.55, -0.001)
    goal_high = (0.1, 0.65, 0.001)
    machine_anchor = "start"


class CoffeePush(_Coffee):
    """ML45 coffee-push-v3: push the mug from [-0.1, 0.1] x [0.55, 0.65] under the machine, to a target in
    [-0.05, 0.05] x [0.7, 0.75] (success within 0.07)."""

    family = "coffee-push-v3"
    obj_low = (-0.1, 0.55, -0.001)
    obj_high = (0.1, 0.65, 0.001)
    goal_low = (-0.05, 0.7, -0.001)
    goal_high = (0.05, 0.75, 0.001)
    machine_anchor = "goal"
