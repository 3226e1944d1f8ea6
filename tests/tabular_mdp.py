"""A tiny tabular MDP with a softmax policy and exact enumeration of all trajectories (docs/algorithms.md §9).

2 states, 2 actions, horizon 3: 64 trajectories. Everything an estimator test needs:
per-trajectory log-probabilities as a differentiable function of the logits ``theta [S, A]``, the
environment part of each trajectory's probability, rewards, and the exact expected return.
Use inside ``jax.enable_x64(True)``.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

S, A, H = 2, 2, 3
P0 = np.array([0.6, 0.4])
TRANS = np.array([[[0.7, 0.3], [0.2, 0.8]], [[0.5, 0.5], [0.9, 0.1]]])  # [s, a, s']
REWARD = np.array([[1.0, -0.5], [0.3, 2.0]])  # [s, a]
THETA0 = np.array([[0.3, -0.2], [-0.4, 0.5]])


def enumerate_trajectories():
    """All trajectories: states ``[N, H]``, actions ``[N, H]``, env probability ``[N]``, rewards ``[N, H]``."""
    states, actions, env_prob, rewards = [], [], [], []
    for s_seq in itertools.product(range(S), repeat=H):
        for a_seq in itertools.product(range(A), repeat=H):
            p = P0[s_seq[0]]
            for t in range(H - 1):
                p *= TRANS[s_seq[t], a_seq[t], s_seq[t + 1]]
            states.append(s_seq)
            actions.append(a_seq)
            env_prob.append(p)
            rewards.append([REWARD[s, a] for s, a in zip(s_seq, a_seq)])
    return (np.array(states), np.array(actions), np.array(env_prob), np.array(rewards, dtype=np.float64))


STATES, ACTIONS, ENV_PROB, REWARDS = enumerate_trajectories()


def step_logp(theta: jax.Array) -> jax.Array:
    """``log pi_theta(a_t | s_t)`` for every trajectory and step: ``[N, H]``."""
    return jax.nn.log_softmax(theta, axis=-1)[STATES, ACTIONS]


def traj_prob(theta: jax.Array) -> jax.Array:
    """Probability of every trajectory under ``theta``: ``[N]``."""
    return ENV_PROB * jnp.exp(step_logp(theta).sum(-1))


def expected_return(theta: jax.Array) -> jax.Array:
    """Exact ``E[R(tau)]`` by enumeration (the ground truth for gradients and Hessians)."""
    return jnp.sum(traj_prob(theta) * REWARDS.sum(-1))


def expectation(per_traj: jax.Array, theta0) -> jax.Array:
    """``E_{tau ~ theta0}[f(tau)]`` for per-trajectory values ``per_traj [N, ...]`` (weights constant)."""
    w = traj_prob(jnp.asarray(theta0))
    return jnp.tensordot(w, per_traj, axes=1)
