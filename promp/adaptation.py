"""Inner adaptation: ``theta' = theta - alpha * grad L_inner(theta)``, differentiable and vmapped over tasks.

The same ``inner_step`` is used to compute the post-update sampling policies and inside the
meta-objective, so the two agree exactly (docs/algorithms.md §8 item 10, §9 fact 20). Alpha applies to every
parameter, log-std included (docs/algorithms.md §2, §4.1).
"""

from __future__ import annotations

from typing import Callable

import jax

from .objectives import dice_loss, likelihood_ratio_loss, log_likelihood_loss
from .policy import log_prob, params_log_prob
from .types import Batch, Params

InnerLoss = Callable[[Params, Batch, bool], jax.Array]
"""``inner_loss(params, task_batch, floor_log_std) -> scalar`` on one task's batch (leaves ``[R, H, ...]``)."""


def likelihood_ratio_inner_loss(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """ProMP's / LVC's inner loss: negative ``J^LR`` against the recorded sampling distribution (eq. 12)."""
    logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
    logp_old = log_prob(batch.means, batch.log_stds, batch.actions)
    return likelihood_ratio_loss(logp, logp_old, batch.advantages, batch.mask)


def log_likelihood_inner_loss(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """The original MAML inner loss ``-mean log pi * A`` (docs/algorithms.md §4.3): same step, Hessian H2 only."""
    logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
    return log_likelihood_loss(logp, batch.advantages, batch.mask)


def dice_inner_loss(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """DiCE inner loss (docs/algorithms.md §4.4; ProMP eqs. 7-8): magic box over cumulative log-probs times
    adjusted rewards."""
    logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
    return dice_loss(logp, batch.dice_rewards, batch.mask)


INNER_LOSSES: dict[str, InnerLoss] = {
    "likelihood-ratio": likelihood_ratio_inner_loss,
    "log-likelihood": log_likelihood_inner_loss,
    "dice": dice_inner_loss,
}
"""Inner estimators by name. Adding an estimator = adding one function here."""


def inner_step(params: Params, batch: Batch, alpha: float, inner_loss: InnerLoss, floor_log_std: bool = False) -> Params:
    """One differentiable inner policy-gradient step on one task's batch."""
    grads = jax.grad(inner_loss)(params, batch, floor_log_std)
    return jax.tree_util.tree_map(lambda p, g: p - alpha * g, params, grads)


def adapt_tasks(params_t: Params, batch_t: Batch, alpha: float, inner_loss: InnerLoss, floor_log_std: bool = False) -> Params:
    """``inner_step`` for every task: per-task params and batches with a leading task axis."""
    return jax.vmap(lambda p, b: inner_step(p, b, alpha, inner_loss, floor_log_std))(params_t, batch_t)
