"""The data types shared by every layer: policy parameters, tasks, sampled and processed batches.

This module imports nothing of ``promp``, so any layer can use these types without pulling in
the layers above or below it (importing ``promp.algorithms.adaptation`` must not import an environment).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:  # annotations only: the environment layer uses these types without loading JAX
    import jax

Params = dict[str, "jax.Array"]
"""Policy parameters: a flat dict ``name -> array`` (see ``promp.policy``)."""

Task = dict[str, Any]
"""A task is a JSON-able dict, e.g. ``{"goal": [2.0, -2.0]}`` or ``{"direction": -1.0}``."""


class Trajectories(NamedTuple):
    """One sampling round. Shapes ``[T, R, H, ...]`` (tasks, rollouts, time).

    ``success`` holds the env's per-step success flags (``MetaEnv.reports_success``), ``None`` for an
    env without a success criterion.
    """

    obs: np.ndarray  # [T, R, H, obs_dim]
    actions: np.ndarray  # [T, R, H, act_dim], unclipped policy-unit actions
    rewards: np.ndarray  # [T, R, H]; 0 where masked
    mask: np.ndarray  # [T, R, H] float, 1 on simulated steps
    means: np.ndarray  # [T, R, H, act_dim] sampling distribution
    log_stds: np.ndarray  # [T, R, H, act_dim]
    success: np.ndarray | None = None  # [T, R, H] float, 1 where the env reported success; 0 where masked

    @property
    def env_steps(self) -> int:
        """Number of env steps actually simulated (unmasked)."""
        return int(self.mask.sum())

    @classmethod
    def concatenate(cls, parts: Sequence["Trajectories"]) -> "Trajectories":
        """The parts of one round (consecutive slices of its tasks) as one, along the task axis; ``success``
        stays ``None`` when no part has it (all parts come from the same kind of env)."""
        fields = []
        for name in cls._fields:
            arrays = [getattr(p, name) for p in parts]
            if all(a is None for a in arrays):
                fields.append(None)
            elif any(a is None for a in arrays):
                raise ValueError(f"Trajectories.concatenate: {name} is missing from some parts")
            else:
                fields.append(np.concatenate(arrays, axis=0))
        return cls(*fields)


class Batch(NamedTuple):
    """Processed samples of one sampling round as float32 device arrays, leaves ``[T, R, H, ...]``.

    ``means``/``log_stds`` are the recorded sampling distribution (constants in every objective).
    ``adj_avg_rewards`` are per-step rewards standardised over all tasks (E-MAML, docs/algorithms.md §3 step 7).
    ``dice_rewards`` are DiCE's adjusted rewards and ``padded_advantages`` the GAE advantages
    standardised over the padded array (docs/algorithms.md §3 steps 5-6); both 0 where masked.
    """

    obs: jax.Array
    actions: jax.Array
    advantages: jax.Array
    mask: jax.Array
    means: jax.Array
    log_stds: jax.Array
    rewards: jax.Array
    adj_avg_rewards: jax.Array
    dice_rewards: jax.Array | None = None
    padded_advantages: jax.Array | None = None
