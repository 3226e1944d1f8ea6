"""Walker2D: walk forward or backward, at a goal velocity, or under randomised physics."""

from __future__ import annotations

import numpy as np

from .base import MujocoMetaEnv
from .tasks import Direction1DTasks, RandParamsTasks, VelocityTasks


class _Walker(MujocoMetaEnv):
    xml = "walker2d.xml"
    frame_skip = 8
    qpos_noise = ("uniform", 0.005)
    qvel_noise = ("uniform", 0.005)
    obs_dim = 17
    act_dim = 6
    alive_bonus = 1.0
    ctrl_cost_coef = 1e-3

    def _terminated(self) -> np.ndarray:
        qpos = self._require_sim().qpos
        height, ang = qpos[:, 1], qpos[:, 2]
        return ~((height > 0.8) & (height < 2.0) & (ang > -1.0) & (ang < 1.0))

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 1:], np.clip(sim.qvel, -10.0, 10.0)], axis=1)


class WalkerFwdBack(Direction1DTasks, _Walker):
    """WalkerFwdBack: walk forward (+1) or backward (-1).

    Reward ``dir * dx/dt + 1 - 1e-3 |a|^2``; done unless ``0.8 < z < 2`` and ``-1 < angle < 1``;
    obs ``qpos[1:]`` (8) + ``clip(qvel, -10, 10)`` (9); reset noise U(-0.005, 0.005) on both.
    Frame skip 8 (gym's default is 4) with the XML timestep 0.002, dt 0.016, as in the original.
    Differences: gymnasium's ``walker2d.xml`` (not the v5 variant), MuJoCo 4, seeded noise.
    """

    def _reward(self, before, after, action):
        return self._dir * (after - before) / self.dt + self.alive_bonus - self.ctrl_cost_coef * np.square(action).sum(1)


class WalkerVel(VelocityTasks, _Walker):
    """WalkerVel: walk at a goal velocity ~ U(0, 10).

    Reward ``-|dx/dt - v_goal| + 15 - 1e-3 |a|^2``; otherwise as ``WalkerFwdBack``. Not in the
    paper's figures. Differences: as ``WalkerFwdBack``.
    """

    vel_low, vel_high = 0.0, 10.0
    alive_bonus = 15.0

    def _reward(self, before, after, action):
        speed_err = np.abs((after - before) / self.dt - self._vel)
        return -speed_err + self.alive_bonus - self.ctrl_cost_coef * np.square(action).sum(1)


class WalkerRandParams(RandParamsTasks, _Walker):
    """WalkerRandParams: walk forward under randomised masses, inertias, damping and friction.

    Reward ``dx/dt + 1 - 1e-3 |a|^2``; done unless ``0.8 < z < 2`` and ``-1 < angle < 1``; obs
    ``qpos[1:]`` (8) + ``clip(qvel, -10, 10)`` (9); reset noise U(-0.005, 0.005). Timestep 0.004
    with frame skip 4 (dt 0.016). Differences: as ``HopperRandParams`` (gymnasium's
    ``walker2d.xml``, MuJoCo 4, ``mj_setConst`` after writing the parameters).
    """
