"""Humanoid: run forward or backward, or in a 2-D direction."""

from __future__ import annotations

import numpy as np

from .base import MujocoMetaEnv
from .tasks import Direction1DTasks, Direction2DTasks


class _Humanoid(MujocoMetaEnv):
    xml = "humanoid.xml"
    frame_skip = 5
    contact_forces = True
    qpos_noise = ("uniform", 0.01)
    qvel_noise = ("uniform", 0.01)
    fields = ("xipos", "cinert", "cvel", "qfrc_actuator", "cfrc_ext")
    obs_dim = 376
    act_dim = 17
    ctrl_limit = 0.4
    alive_bonus = 5.0

    def __init__(self, nthread: int | None = None) -> None:
        super().__init__(nthread)
        mass = self.model.body_mass
        self._mass_weights = mass / mass.sum()

    def _position(self) -> np.ndarray:
        xipos = self._require_sim().fields["xipos"]
        return np.einsum("b,nbk->nk", self._mass_weights, xipos[:, :, :2])

    def _costs(self, action: np.ndarray) -> np.ndarray:
        cfrc = self._require_sim().fields["cfrc_ext"].reshape(self.num_copies, -1)
        impact = np.minimum(0.5e-6 * np.square(cfrc).sum(1), 10.0)
        return 0.1 * np.square(action).sum(1) + impact

    def _terminated(self) -> np.ndarray:
        z = self._require_sim().qpos[:, 2]
        return (z < 1.0) | (z > 2.0)

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        n, f = self.num_copies, sim.fields
        return np.concatenate(
            [
                sim.qpos[:, 2:],
                sim.qvel,
                f["cinert"].reshape(n, -1),
                f["cvel"].reshape(n, -1),
                f["qfrc_actuator"].reshape(n, -1),
                f["cfrc_ext"].reshape(n, -1),
            ],
            axis=1,
        )


class HumanoidFwdBack(Direction1DTasks, _Humanoid):
    """HumanoidFwdBack: run forward (+1) or backward (-1) along x.

    Reward ``0.25 * dir * dx_com / model.opt.timestep - 0.1 |ctrl|^2 - min(0.5e-6 |cfrc_ext|^2, 10)
    + 5`` (the velocity is divided by the physics timestep 0.003, not dt 0.015, as in the original
    and gym's Humanoid-v2); done when the root height leaves [1, 2]; obs ``qpos[2:]``, ``qvel``,
    ``cinert``, ``cvel``, ``qfrc_actuator``, ``cfrc_ext`` (376, all bodies incl. the world);
    reset noise U(-0.01, 0.01) on both. Differences: ``cfrc_ext`` via ``mj_rnePostConstraint`` on
    MuJoCo 4, gymnasium's XML, seeded noise.
    """

    def _reward(self, before, after, action):
        lin_vel = 0.25 * self._dir * (after[:, 0] - before[:, 0]) / self.model.opt.timestep
        return lin_vel - self._costs(action) + self.alive_bonus


class HumanoidDir2D(Direction2DTasks, _Humanoid):
    """HumanoidDir2D (the paper's HumanoidRandDir): run along a unit direction in the xy-plane.

    Reward ``0.25 * dir . d(x, y)_com / model.opt.timestep - ctrl cost - impact cost + 5``;
    otherwise as ``HumanoidFwdBack``.
    """

    def _reward(self, before, after, action):
        lin_vel = 0.25 * np.sum(self._dir * (after - before), axis=1) / self.model.opt.timestep
        return lin_vel - self._costs(action) + self.alive_bonus
