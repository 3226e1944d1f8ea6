"""Meta-World ML1 families as promp meta-envs: one Sawyer task family, its 50 train goals to meta-train on
and 50 test goals to meta-test on (``split="test"``), the goal hidden from the policy.

The constants are metaworld 3.1.1's (``SawyerReachEnvV3``, ``SawyerPushEnvV3``, ``SawyerPickPlaceEnvV3``);
the rewards are in ``rewards.py``.
"""

from __future__ import annotations

import numpy as np

from . import rewards
from .rewards import RewardResult
from .sawyer import SawyerMetaEnv


class MetaworldMl1Reach(SawyerMetaEnv):
    """ML1 reach-v3: move the tool centre point to a hidden goal in [-0.1, 0.1] x [0.8, 0.9] x [0.05, 0.3]."""

    xml = "sawyer_xyz/sawyer_reach_v3.xml"
    family = "reach-v3"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.6, 0.02)
    obj_high = (0.1, 0.7, 0.02)
    goal_low = (-0.1, 0.8, 0.05)
    goal_high = (0.1, 0.9, 0.3)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return rewards.reach(self.tcp_center(), self.target_pos, self._hand_init)


class MetaworldMl1Push(SawyerMetaEnv):
    """ML1 push-v3: push the puck from [-0.1, 0.1] x [0.6, 0.7] to a hidden goal in [-0.1, 0.1] x [0.8, 0.9]."""

    xml = "sawyer_xyz/sawyer_push_v3.xml"
    family = "push-v3"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.6, 0.02)
    obj_high = (0.1, 0.7, 0.02)
    goal_low = (-0.1, 0.8, 0.01)
    goal_high = (0.1, 0.9, 0.02)

    def _task_positions(self, rand_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # reset_model keeps the object's height after the hand reset for both the object and the goal
        z = np.full((rand_vec.shape[0], 1), self.rest.xpos[self._obj][2])
        return np.hstack([rand_vec[:, :2], z]), np.hstack([rand_vec[:, 3:5], z])

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return rewards.push(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                            self.body_pos(self._leftpad), self.body_pos(self._rightpad))


class MetaworldMl1PickPlace(SawyerMetaEnv):
    """ML1 pick-place-v3: pick the puck from [-0.1, 0.1] x [0.6, 0.7] and place it at a hidden goal in
    [-0.1, 0.1] x [0.8, 0.9] x [0.05, 0.3] (success within 0.07)."""

    xml = "sawyer_xyz/sawyer_pick_place_v3.xml"
    family = "pick-place-v3"
    hand_low = (-0.5, 0.40, 0.05)
    hand_high = (0.5, 1.0, 0.5)
    obj_low = (-0.1, 0.6, 0.02)
    obj_high = (0.1, 0.7, 0.02)
    goal_low = (-0.1, 0.8, 0.05)
    goal_high = (0.1, 0.9, 0.3)

    def _reward(self, obs: np.ndarray, action: np.ndarray) -> RewardResult:
        return rewards.pick_place(action, obs, self.tcp_center(), self.target_pos, self.obj_init_pos, self.init_tcp,
                                  self.body_pos(self._leftpad), self.body_pos(self._rightpad))
