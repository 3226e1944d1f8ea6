"""Hopper: hop forward under randomised physics."""

from __future__ import annotations

import numpy as np

from .base import MujocoMetaEnv
from .tasks import RandParamsTasks


class _Hopper(MujocoMetaEnv):
    xml = "hopper.xml"
    frame_skip = 4
    obs_dim = 11
    act_dim = 3

    def _terminated(self) -> np.ndarray:
        sim = self._require_sim()
        s = np.concatenate([sim.qpos, sim.qvel], axis=1)
        ok = np.isfinite(s).all(1) & (np.abs(s[:, 2:]) < 100).all(1)
        ok &= (sim.qpos[:, 1] > 0.7) & (np.abs(sim.qpos[:, 2]) < 0.2)
        return ~ok

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        return np.concatenate([sim.qpos[:, 1:], np.clip(sim.qvel, -10.0, 10.0)], axis=1)


class HopperRandParams(RandParamsTasks, _Hopper):
    """HopperRandParams: hop forward under randomised masses, inertias, damping and friction.

    Reward ``dx/dt + 1 - 1e-3 |a|^2``; done unless the state is finite, all ``|s[2:]| < 100``
    (``s = (qpos, qvel)``), height > 0.7 and ``|angle| < 0.2``; obs ``qpos[1:]`` (5) +
    ``clip(qvel, -10, 10)`` (6); reset noise U(-0.005, 0.005). Timestep 0.004 with frame skip 4
    (dt 0.016) as in the edited XML of rand_param_envs. Differences: the original ran on MuJoCo
    1.31 with rand_param_envs' XML and wrote the parameters without ``mj_setConst``; here
    gymnasium's ``hopper.xml`` on MuJoCo 4, and derived constants are recomputed for consistency.
    """
