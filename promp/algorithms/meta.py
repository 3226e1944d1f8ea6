"""Pieces shared by the outer updates: adapted parameters and the per-task meta-loss (docs/algorithms.md §5).

A ``TaskSurrogate`` maps ``(theta_K, post-update batch, floor_log_std)`` to the outer loss of one
task; ``meta_loss`` builds ``theta_K`` symbolically from ``theta`` through the K inner steps (so
second derivatives flow), adds the optional E-MAML term and averages over tasks.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax

from ..adaptation import InnerLoss, inner_step
from ..objectives import (
    dice_loss,
    likelihood_ratio_loss,
    log_likelihood_loss,
    masked_mean,
    padded_log_likelihood_loss,
)
from ..policy import distribution, kl_divergence, log_prob, params_log_prob
from ..types import Batch, Params
from .emaml import emaml_task_term

TaskSurrogate = Callable[[Params, Batch, bool], jax.Array]


def adapted_params(params: Params, task_batches: Sequence[Batch], alpha: float, inner_loss: InnerLoss) -> Params:
    """``theta_K`` of one task: K differentiable inner steps on rounds 0..K-1 (step 0 floors log-std)."""
    theta = params
    for k, batch in enumerate(task_batches[:-1]):
        theta = inner_step(theta, batch, alpha, inner_loss, k == 0)
    return theta


def ratio_surrogate(theta: Params, post: Batch, floor: bool) -> jax.Array:
    """TRPO's outer loss ``-mean_t ratio_t * A'_t`` vs the recorded post-update distribution (docs/algorithms.md §5.2)."""
    logp = params_log_prob(theta, post.obs, post.actions, floor)
    return likelihood_ratio_loss(logp, log_prob(post.means, post.log_stds, post.actions), post.advantages, post.mask)


def log_likelihood_surrogate(theta: Params, post: Batch, floor: bool) -> jax.Array:
    """VPG's outer loss ``-mean_t log pi_theta'(a'|s') * A'_t`` (docs/algorithms.md §5.3)."""
    return log_likelihood_loss(params_log_prob(theta, post.obs, post.actions, floor), post.advantages, post.mask)


def dice_surrogate(theta: Params, post: Batch, floor: bool) -> jax.Array:
    """DiCE-MAML's outer loss: the DiCE loss on post-update data (docs/algorithms.md §5.4)."""
    return dice_loss(params_log_prob(theta, post.obs, post.actions, floor), post.dice_rewards, post.mask)


def padded_advantage_surrogate(theta: Params, post: Batch, floor: bool) -> jax.Array:
    """VPG-DiCE's outer loss ``-mean(log pi_theta'(a') * A' * mask)`` over padded entries (docs/algorithms.md §5.5)."""
    logp = params_log_prob(theta, post.obs, post.actions, floor)
    return padded_log_likelihood_loss(logp, post.dice_advantages, post.mask)


def post_update_kl(theta: Params, post: Batch, floor: bool) -> jax.Array:
    """``mean_t KL(recorded post-update dist || pi_theta')`` on one task's post-update batch (docs/algorithms.md §5.2)."""
    mean, log_std = distribution(theta, post.obs, floor)
    return masked_mean(kl_divergence(post.means, post.log_stds, mean, log_std), post.mask)


def per_task(
    params: Params,
    batches: Sequence[Batch],
    alpha: float,
    inner_loss: InnerLoss,
    fn: Callable[[Params, Batch, bool], jax.Array],
    emaml_coef: float = 0.0,
) -> jax.Array:
    """``fn(theta_K,i, post_i) [+ emaml_coef * E-MAML_i(theta)]`` for every task i, shape ``[T]``."""

    def task(task_batches):
        theta = adapted_params(params, task_batches, alpha, inner_loss)
        value = fn(theta, task_batches[-1], len(task_batches) == 1)
        if emaml_coef:
            value = value + emaml_coef * emaml_task_term(params, task_batches[0], task_batches[-1])
        return value

    return jax.vmap(task)(tuple(batches))


def meta_loss(
    params: Params,
    batches: Sequence[Batch],
    alpha: float,
    inner_loss: InnerLoss,
    surrogate: TaskSurrogate,
    emaml_coef: float = 0.0,
) -> jax.Array:
    """``mean_i [surrogate(theta'_i(theta), D'_i) + emaml_coef * E-MAML_i(theta)]`` (docs/algorithms.md §5)."""
    return per_task(params, batches, alpha, inner_loss, surrogate, emaml_coef).mean()
