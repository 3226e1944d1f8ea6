"""HalfCheetah: run forward or backward, or at a goal velocity."""

from __future__ import annotations

import numpy as np

from .base import MujocoMetaEnv
from .tasks import Direction1DTasks, VelocityTasks


class _HalfCheetah(MujocoMetaEnv):
    xml = "half_cheetah.xml"
    frame_skip = 5
    obs_dim = 17
    act_dim = 6
    ctrl_cost_coef = 0.05

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 1:], sim.qvel], axis=1)


class HalfCheetahFwdBack(Direction1DTasks, _HalfCheetah):
    """HalfCheetahFwdBack: run forward (+1) or backward (-1), each with probability 1/2.

    Reward ``dir * dx_root/dt - 0.05 |a|^2`` (dt 0.05, frame skip 5); never terminates; obs
    ``qpos[1:]`` (8) + ``qvel`` (9); reset noise qpos U(-0.1, 0.1), qvel 0.1 N(0, 1). The control
    cost 0.05 is the original's (gym's HalfCheetah uses 0.1). Differences from the original: the
    simulator and XML version and the seeded reset noise (module docstring).
    """

    def _reward(self, before, after, action):
        return self._dir * (after - before) / self.dt - self.ctrl_cost_coef * np.square(action).sum(1)


class HalfCheetahVel(VelocityTasks, _HalfCheetah):
    """HalfCheetahVel: run at a goal velocity ~ U(0, 3).

    Reward ``-|dx/dt - v_goal| - 0.05 |a|^2``; otherwise as ``HalfCheetahFwdBack``. Not in the
    paper's figures (the original sweep used horizon 200). Differences: simulator/XML version and
    seeded reset noise.
    """

    vel_low, vel_high = 0.0, 3.0

    def _reward(self, before, after, action):
        return -np.abs((after - before) / self.dt - self._vel) - self.ctrl_cost_coef * np.square(action).sum(1)
