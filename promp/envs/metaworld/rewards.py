"""Meta-World's v3 reward functions and success criteria (metaworld 3.1.1, ``reward_function_version="v2"``,
the benchmark's default), in numpy over all copies at once: every argument and result has a leading
copy axis ``[B, ...]``.

The shaping terms are dm_control's ``tolerance`` with the ``long_tail`` sigmoid (value 0.1 at the
margin) and the Hamacher t-norm; the formulas (not code) follow metaworld's definitions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

VALUE_AT_MARGIN = 0.1
TARGET_RADIUS = 0.05


class RewardResult(NamedTuple):
    """What a family's reward function returns for every copy."""

    reward: np.ndarray  # [B]
    success: np.ndarray  # [B] bool
    info: dict[str, np.ndarray]  # metaworld's info fields, each [B]


def tolerance(x: np.ndarray, lower: float, upper: float, margin: np.ndarray | float,
              sigmoid: str = "long_tail") -> np.ndarray:
    """1 inside ``[lower, upper]``; outside, a sigmoid of ``d``, the distance to the nearest bound over
    ``margin``, that is 0.1 at ``d = 1``: ``"long_tail"`` ``1 / ((d * s)^2 + 1)`` with ``s = sqrt(1 / 0.1 - 1)``,
    or ``"gaussian"`` ``exp(-(d * s)^2 / 2)`` with ``s = sqrt(-2 ln 0.1)``; 0 outside where ``margin == 0``."""
    if sigmoid not in ("long_tail", "gaussian"):
        raise ValueError(f"tolerance: sigmoid must be 'long_tail' or 'gaussian', got {sigmoid!r}")
    x = np.asarray(x, dtype=np.float64)
    margin = np.broadcast_to(np.asarray(margin, dtype=np.float64), x.shape)
    if (margin < 0).any():
        raise ValueError("tolerance: the margin must be non-negative")
    in_bounds = (lower <= x) & (x <= upper)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.where(x < lower, lower - x, x - upper) / margin
        if sigmoid == "long_tail":
            sig = 1 / ((d * np.sqrt(1 / VALUE_AT_MARGIN - 1)) ** 2 + 1)
        else:
            sig = np.exp(-0.5 * (d * np.sqrt(-2 * np.log(VALUE_AT_MARGIN))) ** 2)
    outside = np.where(margin == 0, 0.0, sig)
    return np.where(in_bounds, 1.0, outside)


def hamacher_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The Hamacher t-norm ``a b / (a + b - a b)`` of values in [0, 1] (0 where the denominator is 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denominator = a + b - (a * b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, (a * b) / np.where(denominator > 0, denominator, 1.0), 0.0)


def gripper_caging(
    action: np.ndarray, obj_pos: np.ndarray, obj_init_pos: np.ndarray, init_tcp: np.ndarray, tcp: np.ndarray,
    left_pad: np.ndarray, right_pad: np.ndarray, obj_radius: float, pad_success_thresh: float,
    object_reach_radius: float, xz_thresh: float, desired_gripper_effort: float = 1.0,
    high_density: bool = False, medium_density: bool = False,
) -> np.ndarray:
    """metaworld's ``_gripper_caging_reward``: the pads straddle the object in y (each pad's y distance to
    the object within ``[obj_radius, pad_success_thresh]``, margin from the object's initial y), the tool
    centre point is near it in x-z, and the gripper closes once caging exceeds 0.97."""
    if high_density and medium_density:
        raise ValueError("gripper_caging: high_density and medium_density exclude each other")
    pad_y = np.stack([left_pad[:, 1], right_pad[:, 1]], axis=1)  # [B, 2]
    pad_to_obj = np.abs(pad_y - obj_pos[:, 1:2])
    pad_to_obj_init = np.abs(pad_y - obj_init_pos[:, 1:2])
    lr_margin = np.abs(pad_to_obj_init - pad_success_thresh)
    caging_lr = tolerance(pad_to_obj, obj_radius, pad_success_thresh, lr_margin)
    caging_y = hamacher_product(caging_lr[:, 0], caging_lr[:, 1])

    xz = [0, 2]
    xz_margin = np.linalg.norm(obj_init_pos[:, xz] - init_tcp[:, xz], axis=-1) - xz_thresh
    caging_xz = tolerance(np.linalg.norm(tcp[:, xz] - obj_pos[:, xz], axis=-1), 0.0, xz_thresh, xz_margin)

    gripper_closed = np.minimum(np.maximum(0.0, action[:, -1]), desired_gripper_effort) / desired_gripper_effort
    caging = hamacher_product(caging_y, caging_xz)
    gripping = np.where(caging > 0.97, gripper_closed, 0.0)
    caging_and_gripping = hamacher_product(caging, gripping)
    if high_density:
        caging_and_gripping = (caging_and_gripping + caging) / 2
    if medium_density:
        tcp_to_obj = np.linalg.norm(obj_pos - tcp, axis=-1)
        tcp_to_obj_init = np.linalg.norm(obj_init_pos - init_tcp, axis=-1)
        reach_margin = np.abs(tcp_to_obj_init - object_reach_radius)
        reach = tolerance(tcp_to_obj, 0.0, object_reach_radius, reach_margin)
        caging_and_gripping = (caging_and_gripping + reach) / 2
    return caging_and_gripping


def reach(tcp: np.ndarray, target: np.ndarray, hand_init_pos: np.ndarray) -> RewardResult:
    """reach-v3: ``10 * tolerance(|tcp - target|, [0, 0.05], margin |hand_init - target|)``; success within 0.05."""
    tcp_to_target = np.linalg.norm(tcp - target, axis=-1)
    margin = np.linalg.norm(hand_init_pos - target, axis=-1)
    in_place = tolerance(tcp_to_target, 0.0, TARGET_RADIUS, margin)
    reward = 10 * in_place
    success = tcp_to_target <= 0.05
    info = {"near_object": tcp_to_target, "grasp_success": np.ones_like(reward), "grasp_reward": tcp_to_target,
            "in_place_reward": in_place, "obj_to_target": tcp_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def push(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
         init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """push-v3: caging (high density) doubled, a bonus ``1 + reward + 5 in_place`` once the tool centre is
    within 0.02 of the puck with the gripper open, 10 once the puck is within 0.05 of the target (success)."""
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    tcp_to_obj = np.linalg.norm(obj - tcp, axis=-1)
    target_to_obj = np.linalg.norm(obj - target, axis=-1)
    target_to_obj_init = np.linalg.norm(obj_init_pos - target, axis=-1)
    in_place = tolerance(target_to_obj, 0.0, TARGET_RADIUS, target_to_obj_init)
    grasped = gripper_caging(action, obj, obj_init_pos, init_tcp, tcp, left_pad, right_pad, obj_radius=0.015,
                             pad_success_thresh=0.05, object_reach_radius=0.01, xz_thresh=0.005, high_density=True)
    reward = 2 * grasped
    near = (tcp_to_obj < 0.02) & (tcp_opened > 0)
    reward = np.where(near, reward + (1.0 + reward + 5.0 * in_place), reward)  # metaworld: reward += 1 + reward + 5 in_place
    reward = np.where(target_to_obj < TARGET_RADIUS, 10.0, reward)
    success = target_to_obj <= TARGET_RADIUS
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": in_place, "obj_to_target": target_to_obj, "unscaled_reward": reward}
    return RewardResult(reward, success, info)


def pick_place(action: np.ndarray, obs: np.ndarray, tcp: np.ndarray, target: np.ndarray, obj_init_pos: np.ndarray,
               init_tcp: np.ndarray, left_pad: np.ndarray, right_pad: np.ndarray) -> RewardResult:
    """pick-place-v3: the Hamacher product of its own caging term and ``in_place``; a bonus ``1 + 5 in_place``
    once the tool centre is within 0.02 of the puck with the gripper open and the puck lifted by more than
    0.01; 10 once the puck is within 0.05 of the target; success within 0.07.

    The caging term is pick-place's override of ``_gripper_caging_reward`` (not ``gripper_caging``): each
    pad's *signed* y offset from the puck (left pad minus puck, puck minus right pad) within
    ``[0.015, 0.05]``, with margin ``| |puck_y - pad_y| - 0.05 |``; metaworld takes the pad positions of that
    margin from ``init_left_pad``/``init_right_pad``, which are views of the live ``data.xpos`` (its
    ``get_body_com`` returns no copy), so they are the current pads, as here. Then the x-z term as in
    ``gripper_caging``, the gripper term once caging exceeds 0.97, and the average of the two (high density).

    ``grasp_success`` of metaworld's info (pads touching the puck with positive contact force) is not
    computed; the reward and success do not use it.
    """
    obj = obs[:, 4:7]
    tcp_opened = obs[:, 3]
    obj_to_target = np.linalg.norm(obj - target, axis=-1)
    tcp_to_obj = np.linalg.norm(obj - tcp, axis=-1)
    in_place = tolerance(obj_to_target, 0.0, TARGET_RADIUS, np.linalg.norm(obj_init_pos - target, axis=-1))

    pad_margin, xz_margin_radius, obj_radius = 0.05, 0.005, 0.015
    left_y, right_y = left_pad[:, 1] - obj[:, 1], obj[:, 1] - right_pad[:, 1]
    left_margin = np.abs(np.abs(obj[:, 1] - left_pad[:, 1]) - pad_margin)
    right_margin = np.abs(np.abs(obj[:, 1] - right_pad[:, 1]) - pad_margin)
    caging_y = hamacher_product(tolerance(left_y, obj_radius, pad_margin, left_margin),
                                tolerance(right_y, obj_radius, pad_margin, right_margin))
    xz = [0, 2]
    xz_margin = np.linalg.norm(obj_init_pos[:, xz] - init_tcp[:, xz], axis=-1) - xz_margin_radius
    caging_xz = tolerance(np.linalg.norm(tcp[:, xz] - obj[:, xz], axis=-1), 0.0, xz_margin_radius, xz_margin)
    caging = hamacher_product(caging_y, caging_xz)
    gripper_closed = np.minimum(np.maximum(0.0, action[:, -1]), 1.0)
    gripping = np.where(caging > 0.97, gripper_closed, 0.0)
    grasped = (hamacher_product(caging, gripping) + caging) / 2

    reward = hamacher_product(grasped, in_place)
    lifted = (tcp_to_obj < 0.02) & (tcp_opened > 0) & (obj[:, 2] - 0.01 > obj_init_pos[:, 2])
    reward = np.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
    reward = np.where(obj_to_target < TARGET_RADIUS, 10.0, reward)
    success = obj_to_target <= 0.07
    info = {"near_object": (tcp_to_obj <= 0.03).astype(np.float64), "grasp_reward": grasped,
            "in_place_reward": in_place, "obj_to_target": obj_to_target, "unscaled_reward": reward}
    return RewardResult(reward, success, info)
