"""Swimmer (unused in the paper): swim at a goal velocity."""

from __future__ import annotations

import numpy as np

from .base import MujocoMetaEnv
from .tasks import VelocityTasks


class SwimmerVel(VelocityTasks, MujocoMetaEnv):
    """SwimmerVel (unused in the paper): swim at a goal velocity ~ U(0.1, 0.2).

    Reward ``-|dx/dt - v_goal| - 1e-4 |a|^2``; never terminates; obs ``qpos[2:]`` (3) + ``qvel``
    (5); frame skip 4 (dt 0.04); reset noise U(-0.1, 0.1) on both. Difference: the original's
    reward had the wrong sign (``+|dx/dt - v_goal|``, rewarding distance from the goal
    velocity); here it is fixed. Also simulator/XML version and seeded noise.
    """

    xml = "swimmer.xml"
    frame_skip = 4
    qpos_noise = ("uniform", 0.1)
    qvel_noise = ("uniform", 0.1)
    obs_dim = 8
    act_dim = 2
    vel_low, vel_high = 0.1, 0.2

    def _reward(self, before, after, action):
        return -np.abs((after - before) / self.dt - self._vel) - 1e-4 * np.square(action).sum(1)

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 2:], sim.qvel], axis=1)
