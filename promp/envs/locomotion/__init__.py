"""MuJoCo locomotion meta-environments of the paper (docs/algorithms.md §7.3), batched in C threads.

Layout: ``base.py`` (``MujocoMetaEnv`` on ``mujoco_batch``), ``tasks.py`` (task distributions), one
module per robot composing a robot class with a task distribution (``HalfCheetahFwdBack =
Direction1DTasks + _HalfCheetah``). A class is named after its id (``halfcheetah-fwd-back``);
``promp.envs.BUILTIN_ENVS`` registers the ids by module path, so this package, and MuJoCo with it, loads
only when such an env is made; the presets are in ``promp.presets``.

Every class steps all ``tasks x copies_per_task`` copies together with ``mujoco.batch.Batch``
(see ``mujoco_batch.py``) on gymnasium's model files, with the original code's task
distributions, rewards, termination rules, observations, frame skips and reset noise.

Common to all of them (docs/algorithms.md §7.1, §7.3):

* Actions arrive in policy units ``[-10, 10]^d`` and are mapped onto the actuators' control
  range by ``MetaEnv.step``; rewards use the mapped (clipped) action.
* ``dt = model.opt.timestep * frame_skip``; the env has no time limit of its own.
* ``done`` is sticky within an episode: a copy that terminated is frozen (no longer stepped,
  reward 0, observation held) until the next ``reset``; the sampler masks it anyway.
* Positions read from derived quantities (the Ant torso's ``xpos``, the Humanoid centre of mass
  from ``xipos``) have ``mj_step``'s one-substep lag, as ``sim.data`` had in the original envs.

What differs from the original and why (also in each class docstring):

* The simulator is MuJoCo 4 with gymnasium's XMLs instead of mujoco-py 1.50 (MuJoCo 1.50) with
  gym 0.10.5's XMLs (MuJoCo 1.31 with rand_param_envs' XMLs for the RandParams envs), because
  the old stacks no longer install. Trajectories are therefore not bit-identical to the paper's.
* ``cfrc_ext`` (Ant and Humanoid observations and contact costs) is computed through
  ``mj_rnePostConstraint`` in every forward pass, as MuJoCo 1.50 did; plain MuJoCo >= 2 leaves
  it at zero (docs/algorithms.md §7.5).
* Reset noise is drawn from the ``rng`` passed to ``reset`` (the original used each env's
  unseeded ``np_random``), so runs are reproducible.
* The RandParams envs recompute derived model constants (``mj_setConst``) after writing the
  sampled masses and inertias; MuJoCo 1.31 in the original did not.
* ``SwimmerVel`` (unused in the paper) has its reward sign fixed.
"""

from __future__ import annotations

from .base import MujocoMetaEnv

__all__ = ["MujocoMetaEnv"]
