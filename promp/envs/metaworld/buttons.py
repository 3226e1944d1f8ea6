"""Meta-World's button and dial families as promp meta-envs: button-press-topdown-wall, button-press,
button-press-wall, coffee-button and dial-turn (metaworld 3.1.1's ``SawyerButtonPressTopdownWallEnvV3``,
``SawyerButtonPressEnvV3``, ``SawyerButtonPressWallEnvV3``, ``SawyerCoffeeButtonEnvV3``,
``SawyerDialTurnEnvV3``, ``reward_function_version="v2"``).

A task is where the fixture stands: the goal vector ``rand_vec`` (3 numbers, every draw kept) is the position
of the button box (the body ``box``), the coffee machine (``coffee_machine``) or the dial (``dial``), which
``reset_model`` moves there (a per-copy ``body_pos``). The button boxes are button-press-topdown's
(``placing.py``): button-press and button-press-wall turn it to face the arm, so the button is pressed along
-y instead of -z; the target is the box's ``hole`` site, read from the kinematics after the reset.

What ``reset_model`` does besides (the facts these classes follow):

- button-press, button-press-wall: the button's slide is set to 0 at rest, then a forward pass;
- coffee-button: the mug (the free body ``obj``) is put 0.22 in front of the machine, and the velocities of
  ``qvel[9:15]`` are zeroed, which in this model are the arm's joints 3 to 6 and the two fingers (not the
  mug's, whose velocity stays the hand reset's); then a forward pass;
- dial-turn: no forward pass after the hand reset, so the reset observation holds the kinematics of the hand
  reset's last substep (``SawyerMetaEnv.stale_reset_obs``); ``dial_push_position``, which the reward reads,
  is the dial's knob point at the hand reset plus ``(0.05, 0.02, 0.09)``.

button-press-topdown-wall, button-press and button-press-wall keep ``hand_init_pos`` in float32 (the
float32 values of ``(0, 0.4, 0.2)``), dial-turn too (of ``(0, 0.6, 0.2)``); coffee-button in float64.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..mujoco_batch import BatchSim
from .placing import HAND_INIT_FLOAT32, HAND_LOW, ButtonPressTopdown, button_press_topdown
from .rewards import RewardResult, hamacher_product, tolerance
from .sawyer import SawyerMetaEnv

COFFEE_MAX_DIST = 0.03  # SawyerCoffeeButtonEnvV3.max_dist: how far the coffee machine's button travels
COFFEE_MUG_OFFSET = np.array([0.0, -0.22, 0.0])  # the mug's start, from the machine
COFFEE_BUTTON_OFFSET = np.array([0.0, -0.22, 0.3])  # the button's front at rest, from the machine
DIAL_RADIUS = 0.05  # the knob point's distance from the dial's axis (_get_pos_objects)
DIAL_PUSH_OFFSET = np.array([0.05, 0.02, 0.09])  # where the hand pushes the knob, from the knob point
DIAL_TARGET_RADIUS = 0.07  # SawyerDialTurnEnvV3.TARGET_RADIUS


def _norm(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x, axis=-1)


def _button_info(obs: np.ndarray, tcp_to_obj: np.ndarray, near: np.ndarray, pressed: np.ndarray,
                 obj_to_target: np.ndarray, reward: np.ndarray) -> dict[str, np.ndarray]:
    """The info fields the button families share (their ``evaluate_state``)."""
    return {"near_object": (tcp_to_obj <= 0.05).astype(np.float64),
            "grasp_success": (obs[:, 3] > 0).astype(np.float64), "grasp_reward": near,
            "in_place_reward": pressed, "obj_to_target": obj_to_target, "unscaled_reward": reward}


def button_press(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, init_tcp: np.ndarray,
                 obj_to_target_init: np.ndarray | float, success_radius: float) -> RewardResult:
    """button-press-v3 and coffee-button-v3 (metaworld 3.1.1 ``SawyerButtonPressEnvV3.compute_reward`` and
    ``SawyerCoffeeButtonEnvV3.compute_reward``, v2): ``2 * hamacher(max(gripper opening, 0), near)`` with
    ``near = tolerance(|tcp - button|, [0, 0.05])``, margin the button's distance to the start's tool centre;
    plus ``8 * pressed`` once the tool centre is within 0.05 of the button, ``pressed =
    tolerance(|target_y - button_y|, [0, 0.005], margin obj_to_target_init)`` (button-press: the start's y
    distance; coffee-button: 0.03). Success when the button is within ``success_radius`` of the target in y
    (0.02 in both)."""
    obj = obs[:, 4:7]
    tcp_to_obj = _norm(obj - tcp)
    obj_to_target = np.abs(target[:, 1] - obj[:, 1])
    near = tolerance(tcp_to_obj, 0.0, 0.05, _norm(obj - init_tcp))
    pressed = tolerance(obj_to_target, 0.0, 0.005, obj_to_target_init)
    reward = 2 * hamacher_product(np.maximum(obs[:, 3], 0.0), near)
    reward = np.where(tcp_to_obj <= 0.05, reward + 8 * pressed, reward)
    success = obj_to_target <= success_radius
    return RewardResult(reward, success, _button_info(obs, tcp_to_obj, near, pressed, obj_to_target, reward))


def button_press_wall(obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, init_tcp: np.ndarray,
                      obj_to_target_init: np.ndarray) -> RewardResult:
    """button-press-wall-v3 (metaworld 3.1.1 ``SawyerButtonPressWallEnvV3.compute_reward``, v2): farther than
    0.07 from the button, ``2 * hamacher((1 - gripper opening) / 2, near)`` with ``near = tolerance(|tcp -
    button|, [0, 0.01])``, margin the button's distance to the start's tool centre; within 0.07,
    ``2 + 2 (1 + gripper opening) + 4 pressed^2``, ``pressed = tolerance(|target_y - button_y|, [0, 0.005])``
    with margin the start's y distance. Success when the button is within 0.03 of the target in y."""
    obj = obs[:, 4:7]
    opening = obs[:, 3]
    tcp_to_obj = _norm(obj - tcp)
    obj_to_target = np.abs(target[:, 1] - obj[:, 1])
    near = tolerance(tcp_to_obj, 0.0, 0.01, _norm(obj - init_tcp))
    pressed = tolerance(obj_to_target, 0.0, 0.005, obj_to_target_init)
    reward = np.where(tcp_to_obj > 0.07, 2 * hamacher_product((1 - opening) / 2.0, near),
                      (2 + 2 * (1 + opening)) + 4 * pressed**2)
    success = obj_to_target <= 0.03
    return RewardResult(reward, success, _button_info(obs, tcp_to_obj, near, pressed, obj_to_target, reward))


def dial_turn(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, init_tcp: np.ndarray,
              dial_push_position: np.ndarray) -> RewardResult:
    """dial-turn-v3 (metaworld 3.1.1 ``SawyerDialTurnEnvV3.compute_reward``, v2): ``10 * hamacher(reach,
    in_place)``.

    ``in_place`` is ``tolerance(|knob - target|, [0, 0.07])``, margin ``| |push_init - target| - 0.07 |``;
    ``reach`` the Hamacher product of a Gaussian ``tolerance(|push - tcp|, [0, 0.005])`` (margin
    ``| |push_init - init_tcp| - 0.005 |``) and the gripper effort ``clip(action[3], 0, 1)``, where ``push``
    is the knob point (``obs[4:7]``) plus ``(0.05, 0.02, 0.09)`` and ``push_init`` its value at the reset
    (``dial_push_position``). Success when the knob point is within 0.07 of the target.
    """
    obj = obs[:, 4:7]
    push = obj + DIAL_PUSH_OFFSET
    target_to_obj = _norm(obj - target)
    margin = np.abs(_norm(dial_push_position - target) - DIAL_TARGET_RADIUS)
    in_place = tolerance(target_to_obj, 0.0, DIAL_TARGET_RADIUS, margin)
    reach_radius = 0.005
    tcp_to_obj = _norm(push - tcp)
    reach_margin = np.abs(_norm(dial_push_position - init_tcp) - reach_radius)
    reach = tolerance(tcp_to_obj, 0.0, reach_radius, reach_margin, sigmoid="gaussian")
    reach = hamacher_product(reach, np.minimum(np.maximum(0.0, action[:, -1]), 1.0))
    reward = 10 * hamacher_product(reach, in_place)
    info = {"near_object": (tcp_to_obj <= 0.01).astype(np.float64), "grasp_success": np.ones_like(reward),
            "grasp_reward": reach, "in_place_reward": in_place, "obj_to_target": target_to_obj,
            "unscaled_reward": reward}
    return RewardResult(reward, target_to_obj <= DIAL_TARGET_RADIUS, info)


# ---------------------------------------------------------------------------------------------- families
class ButtonPressTopdownWall(ButtonPressTopdown):
    """ML45 button-press-topdown-wall-v3: button-press-topdown's box (in [-0.1, 0.1] x [0.8, 0.9]) behind a
    low wall; the reward's gripper term is ``max(gripper opening, 0)`` instead of ``1 - opening``."""

    xml = "sawyer_xyz/sawyer_button_press_topdown_wall.xml"
    family = "button-press-topdown-wall-v3"

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return button_press_topdown(obs, self.tcp_center(), self.target_pos, self.init_tcp,
                                    self.obj_to_target_init.reshape(-1), tcp_closed=np.maximum(obs[:, 3], 0.0))


class ButtonPress(ButtonPressTopdown):
    """ML45 button-press-v3: press the button of a box facing the arm, placed in [-0.1, 0.1] x [0.85, 0.9]
    (height 0.115), in along -y to the box's ``hole`` site (success within 0.02 in y)."""

    xml = "sawyer_xyz/sawyer_button_press.xml"
    family = "button-press-v3"
    obj_low = (-0.1, 0.85, 0.115)
    obj_high = (0.1, 0.9, 0.115)
    button_offset = np.array([0.0, -0.193, 0.0])  # metaworld observes the button's frame moved by this

    def _family_ids(self) -> None:
        super()._family_ids()
        joint = self._id(mujoco.mjtObj.mjOBJ_JOINT, "btnbox_joint")
        self._button_qpos = int(self.model.jnt_qposadr[joint])
        self._button_dof = int(self.model.jnt_dofadr[joint])

    def _place_objects(self, sim: BatchSim) -> None:
        """The button's slide at 0, at rest (``reset_model``'s ``_set_obj_xyz(0)``)."""
        sim.qpos[:, self._button_qpos] = 0.0
        sim.qvel[:, self._button_dof] = 0.0

    def _after_reset(self) -> None:
        """The target (site ``hole``) and the button's start distance to it in y (site ``buttonStart``)."""
        site = self._require_sim().fields["site_xpos"]
        self.target_pos = site[:, self._hole].copy()
        self.obj_to_target_init = np.abs(self.target_pos[:, 1] - site[:, self._button_start, 1])[:, None]

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return button_press(obs, self.tcp_center(), self.target_pos, self.init_tcp,
                            self.obj_to_target_init.reshape(-1), success_radius=0.02)


class ButtonPressWall(ButtonPress):
    """ML45 button-press-wall-v3: button-press's box, placed in [-0.05, 0.05] x [0.85, 0.9] (height
    0.1149 to 0.1151), behind a low wall (success within 0.03 in y)."""

    xml = "sawyer_xyz/sawyer_button_press_wall.xml"
    family = "button-press-wall-v3"
    obj_low = (-0.05, 0.85, 0.1149)
    obj_high = (0.05, 0.9, 0.1151)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return button_press_wall(obs, self.tcp_center(), self.target_pos, self.init_tcp,
                                 self.obj_to_target_init.reshape(-1))


class CoffeeButton(SawyerMetaEnv):
    """ML45 coffee-button-v3: press the coffee machine's button, 0.3 up on its front, in by 0.03; the machine
    stands in [-0.1, 0.1] x [0.8, 0.9] (z within 0.001 of 0), the mug in front of it (success within 0.02
    in y). The observed object is the button's front (site ``buttonStart``) with a fixed quaternion."""

    xml = "sawyer_xyz/sawyer_coffee.xml"
    family = "coffee-button-v3"
    hand_low = HAND_LOW
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.8, -0.001)
    obj_high = (0.1, 0.9, 0.001)
    goal_low = tuple(np.array(obj_low) + np.array([-0.001, -0.22 + COFFEE_MAX_DIST, 0.299]))
    goal_high = tuple(np.array(obj_high) + np.array([0.001, -0.22 + COFFEE_MAX_DIST, 0.301]))
    hand_init_pos = (0.0, 0.4, 0.2)

    rand_vec_is_object_start = True  # the machine's position box (``SawyerCoffeeButtonEnvV3._random_reset_space``)

    def _family_ids(self) -> None:
        body = mujoco.mjtObj.mjOBJ_BODY
        self._machine = self._id(body, "coffee_machine")
        mug = self._id(body, "obj")
        joint = int(self.model.body_jntadr[mug])  # the mug's free joint has no name
        self._mug_qpos = int(self.model.jnt_qposadr[joint])
        self._button_start = self._id(mujoco.mjtObj.mjOBJ_SITE, "buttonStart")

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The machine at ``rand_vec``; the target is the button's front at rest moved in by 0.03."""
        return rand_vec.copy(), (rand_vec + COFFEE_BUTTON_OFFSET) + np.array([0.0, COFFEE_MAX_DIST, 0.0])

    def _model_fields(self) -> dict[str, np.ndarray]:
        body_pos = self._require_sim().model_field("body_pos").copy()
        body_pos[:, self._machine] = self.obj_init_pos
        return {"body_pos": body_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """The mug's position 0.22 in front of the machine (its orientation and velocity stay the hand
        reset's), and ``qvel[9:15]`` zeroed as metaworld's ``_set_obj_xyz`` of this family does."""
        sim.qpos[:, self._mug_qpos:self._mug_qpos + 3] = self.obj_init_pos + COFFEE_MUG_OFFSET
        sim.qvel[:, 9:15] = 0.0

    def _objects(self) -> np.ndarray:
        site = self._require_sim().fields["site_xpos"][:, self._button_start]
        return np.hstack([site, np.broadcast_to([1.0, 0.0, 0.0, 0.0], (self.num_copies, 4))])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return button_press(obs, self.tcp_center(), self.target_pos, self.init_tcp, COFFEE_MAX_DIST,
                            success_radius=0.02)


class DialTurn(SawyerMetaEnv):
    """ML45 dial-turn-v3: turn the dial, placed in [-0.1, 0.1] x [0.7, 0.8], until its knob point is within
    0.07 of a target 0.03 behind and 0.03 above the dial's base. The observed object is the knob point
    (0.05 from the axis at the knob's angle) with the dial body's (fixed) orientation."""

    xml = "sawyer_xyz/sawyer_dial.xml"
    family = "dial-turn-v3"
    hand_low = HAND_LOW
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.7, 0.0)
    obj_high = (0.1, 0.8, 0.0)
    goal_low = (-0.1, 0.73, 0.0299)
    goal_high = (0.1, 0.83, 0.0301)
    hand_init_pos = HAND_INIT_FLOAT32
    target_offset = np.array([0.0, 0.03, 0.03])
    data_fields = ("xquat",)
    stale_reset_obs = True
    episode_constants = (*SawyerMetaEnv.episode_constants, "dial_push_position")

    rand_vec_is_object_start = True  # the dial's position box (``SawyerDialTurnEnvV3._random_reset_space``)

    def _family_ids(self) -> None:
        self._dial = self._id(mujoco.mjtObj.mjOBJ_BODY, "dial")
        self._goal_site = self._id(mujoco.mjtObj.mjOBJ_SITE, "goal")
        self._knob_qpos = int(self.model.jnt_qposadr[self._id(mujoco.mjtObj.mjOBJ_JOINT, "knob_Joint_1")])

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rand_vec.copy(), rand_vec + self.target_offset

    def _model_fields(self) -> dict[str, np.ndarray]:
        """The dial's body to ``rand_vec`` and the goal site (a world site, never read) to the target."""
        sim = self._require_sim()
        body_pos = sim.model_field("body_pos").copy()
        body_pos[:, self._dial] = self.obj_init_pos
        site_pos = sim.model_field("site_pos").copy()
        site_pos[:, self._goal_site] = self.target_pos
        return {"body_pos": body_pos, "site_pos": site_pos}

    def _place_objects(self, sim: BatchSim) -> None:
        """Nothing is placed: the knob keeps the hand reset's state."""

    def _after_reset(self) -> None:
        """``dial_push_position``: the knob point at the reset (the dial's body is fixed and the knob keeps the
        hand reset's angle, so the reset's kinematics give metaworld's stale ones) plus the push offset."""
        self.dial_push_position = self._knob_point() + DIAL_PUSH_OFFSET

    def _knob_point(self) -> np.ndarray:
        """The dial's centre plus ``0.05 (sin a, -cos a, 0)`` at the knob's angle ``a``."""
        sim = self._require_sim()
        angle = sim.qpos[:, self._knob_qpos]
        offset = np.stack([np.sin(angle), -np.cos(angle), np.zeros_like(angle)], axis=-1) * DIAL_RADIUS
        return sim.fields["xpos"][:, self._dial] + offset

    def _objects(self) -> np.ndarray:
        return np.hstack([self._knob_point(), self._require_sim().fields["xquat"][:, self._dial]])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return dial_turn(action, obs, self.tcp_center(), self.target_pos, self.init_tcp, self.dial_push_position)
