"""Ant: run forward or backward, in a 2-D direction, or to a goal position."""

from __future__ import annotations

import numpy as np

from .base import MujocoMetaEnv
from .tasks import Direction1DTasks, Direction2DTasks, GoalTasks


class _Ant(MujocoMetaEnv):
    xml = "ant.xml"
    frame_skip = 5
    contact_forces = True
    fields = ("xpos", "cfrc_ext")
    obs_dim = 111
    act_dim = 8
    torso = 1  # body id of the torso
    ctrl_cost_coef = 0.5
    contact_cost_coef = 0.5e-3
    survive_reward = 1.0

    def _position(self) -> np.ndarray:
        return self._require_sim().fields["xpos"][:, self.torso, :2].copy()

    def _contact_cost(self) -> np.ndarray:
        cfrc = self._require_sim().fields["cfrc_ext"].reshape(self.num_copies, -1)
        return self.contact_cost_coef * np.square(np.clip(cfrc, -1.0, 1.0)).sum(1)

    def _terminated(self) -> np.ndarray:
        sim = self._require_sim()
        finite = np.isfinite(sim.qpos).all(1) & np.isfinite(sim.qvel).all(1)
        z = sim.qpos[:, 2]
        return ~(finite & (z >= 0.0) & (z <= 1.0))

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        cfrc = np.clip(sim.fields["cfrc_ext"].reshape(self.num_copies, -1), -1.0, 1.0)
        return np.concatenate([sim.qpos[:, 2:], sim.qvel, cfrc], axis=1)


class AntFwdBack(Direction1DTasks, _Ant):
    """AntFwdBack: run along +x or -x, each with probability 1/2.

    Reward ``dir * dx_torso/dt - 0.5 |a|^2 - 0.5e-3 |clip(cfrc_ext, -1, 1)|^2 + 1`` (dt 0.05);
    done when the state is non-finite or the torso height leaves [0, 1] (gym's Ant: [0.2, 1]);
    obs ``qpos[2:]`` (13) + ``qvel`` (14) + clipped ``cfrc_ext`` (84) = 111; reset noise qpos
    U(-0.1, 0.1), qvel 0.1 N(0, 1). Differences: ``cfrc_ext`` made non-zero on MuJoCo 4 through
    ``mj_rnePostConstraint`` (as MuJoCo 1.50 computed it), simulator/XML version, seeded noise.
    """

    def _reward(self, before, after, action):
        forward = self._dir * (after[:, 0] - before[:, 0]) / self.dt
        return forward - self.ctrl_cost_coef * np.square(action).sum(1) - self._contact_cost() + self.survive_reward


class AntDir2D(Direction2DTasks, _Ant):
    """AntDir2D (the paper's AntRandDir): run along a unit direction in the xy-plane (uniform angle).

    Reward ``dir . d(x, y)_torso/dt - 0.5 |a|^2 - contact cost + 1``; termination, observation and
    reset noise as ``AntFwdBack``. Directions are normalised 2-D Gaussians as in the original.
    Differences: as ``AntFwdBack``.
    """

    def _reward(self, before, after, action):
        forward = np.sum(self._dir * (after - before), axis=1) / self.dt
        return forward - self.ctrl_cost_coef * np.square(action).sum(1) - self._contact_cost() + self.survive_reward


class AntGoal(GoalTasks, _Ant):
    """AntGoal: walk to a goal drawn uniformly from the disc of radius 3.

    Reward ``-(|x - gx| + |y - gy|) - 0.1 |a|^2 - contact cost`` (L1 distance of the torso, no
    survive bonus); never terminates; obs full ``qpos`` (15) + ``qvel`` (14) + clipped
    ``cfrc_ext`` (84) = 113. Goal angle ~ U(0, 2 pi), radius ``3 sqrt(U(0, 1))``. The paper ran it
    with horizon 200 and two inner steps. Differences: as ``AntFwdBack``.
    """

    obs_dim = 113
    ctrl_cost_coef = 0.1

    def _reward(self, before, after, action):
        goal_reward = -np.abs(after - self._goal).sum(1)
        return goal_reward - self.ctrl_cost_coef * np.square(action).sum(1) - self._contact_cost()

    def _terminated(self) -> np.ndarray:
        return np.zeros(self.num_copies, dtype=bool)

    def _obs(self) -> np.ndarray:
        sim = self._require_sim()
        cfrc = np.clip(sim.fields["cfrc_ext"].reshape(self.num_copies, -1), -1.0, 1.0)
        return np.concatenate([sim.qpos, sim.qvel, cfrc], axis=1)
