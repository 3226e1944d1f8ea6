"""Diagonal-Gaussian MLP policy as pure functions over a flat params dict (docs/algorithms.md §2).

Parameters are a flat ``dict[str, Array]``: ``hidden_<i>/kernel``, ``hidden_<i>/bias``,
``output/kernel``, ``output/bias`` and ``log_std`` (shape ``[act_dim]``, state independent). All
entries are adapted by the inner step, including ``log_std``. Hidden layers use tanh, weights are
Glorot-uniform, biases zero, ``log_std`` starts at ``log(init_std)``.
"""

from __future__ import annotations

import math
from typing import Sequence

import jax
import jax.numpy as jnp

from .types import Params

LOG_STD_FLOOR = math.log(1e-6)
"""The original floors the *pre-update* policy's log-std at log(1e-6); adapted params are not floored."""


def init_policy(key: jax.Array, obs_dim: int, act_dim: int, hidden: Sequence[int], init_std: float = 1.0) -> Params:
    """Glorot-uniform weights, zero biases, ``log_std = log(init_std)`` (docs/algorithms.md §2)."""
    sizes = [obs_dim, *hidden, act_dim]
    names = [f"hidden_{i}" for i in range(len(hidden))] + ["output"]
    params: Params = {}
    keys = jax.random.split(key, len(names))
    for name, k, fan_in, fan_out in zip(names, keys, sizes[:-1], sizes[1:]):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        params[f"{name}/kernel"] = jax.random.uniform(k, (fan_in, fan_out), jnp.float32, -limit, limit)
        params[f"{name}/bias"] = jnp.zeros((fan_out,), jnp.float32)
    params["log_std"] = jnp.full((act_dim,), math.log(init_std), jnp.float32)
    return params


def num_hidden_layers(params: Params) -> int:
    """Number of tanh hidden layers in ``params``."""
    return sum(1 for k in params if k.startswith("hidden_") and k.endswith("/kernel"))


def policy_mean(params: Params, obs: jax.Array) -> jax.Array:
    """Mean action of the MLP for ``obs[..., obs_dim]``."""
    x = obs
    for i in range(num_hidden_layers(params)):
        x = jnp.tanh(x @ params[f"hidden_{i}/kernel"] + params[f"hidden_{i}/bias"])
    return x @ params["output/kernel"] + params["output/bias"]


def distribution(params: Params, obs: jax.Array, floor_log_std: bool = False) -> tuple[jax.Array, jax.Array]:
    """``(mean, log_std)`` of the action distribution at ``obs``, log-std broadcast to the mean's shape.

    ``floor_log_std`` applies the original's ``max(log_std, log 1e-6)`` (pre-update policy only).
    """
    mean = policy_mean(params, obs)
    log_std = params["log_std"]
    if floor_log_std:
        log_std = jnp.maximum(log_std, LOG_STD_FLOOR)
    return mean, jnp.broadcast_to(log_std, mean.shape)


def log_prob(mean: jax.Array, log_std: jax.Array, action: jax.Array) -> jax.Array:
    """Diagonal-Gaussian log-density summed over action dims (docs/algorithms.md §2)."""
    z = (action - mean) * jnp.exp(-log_std)
    return -jnp.sum(log_std, -1) - 0.5 * jnp.sum(z**2, -1) - 0.5 * mean.shape[-1] * math.log(2.0 * math.pi)


def kl_divergence(old_mean: jax.Array, old_log_std: jax.Array, new_mean: jax.Array, new_log_std: jax.Array) -> jax.Array:
    """``KL(old || new)`` summed over action dims, with the original's ``+1e-8`` (docs/algorithms.md §2)."""
    old_var, new_var = jnp.exp(2.0 * old_log_std), jnp.exp(2.0 * new_log_std)
    num = (old_mean - new_mean) ** 2 + old_var - new_var
    return jnp.sum(num / (2.0 * new_var + 1e-8) + new_log_std - old_log_std, -1)


def entropy(log_std: jax.Array) -> jax.Array:
    """Differential entropy of the diagonal Gaussian, summed over action dims."""
    return jnp.sum(log_std + 0.5 * math.log(2.0 * math.pi * math.e), -1)


def sample_action(mean: jax.Array, log_std: jax.Array, noise: jax.Array) -> jax.Array:
    """Reparameterised sample ``mean + noise * exp(log_std)`` (noise ~ N(0, I))."""
    return mean + noise * jnp.exp(log_std)


def params_log_prob(params: Params, obs: jax.Array, action: jax.Array, floor_log_std: bool = False) -> jax.Array:
    """``log pi_params(action | obs)``."""
    mean, log_std = distribution(params, obs, floor_log_std)
    return log_prob(mean, log_std, action)
