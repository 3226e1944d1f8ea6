"""Per-task losses: one task's processed batch -> a scalar, used both as inner losses and as outer surrogates.

A ``TaskLoss`` is ``loss(outputs, batch) -> scalar`` on one task's ``Batch`` (leaves ``[R, H, ...]``),
``outputs`` the policy's ``(mean, log_std)`` on the batch's observations at the parameters the loss is
evaluated at (``theta`` in an inner step, the adapted ``theta'`` in an outer surrogate; ``at`` evaluates
one at given parameters). The maths on log-probabilities lives in ``promp.objectives``; these
functions only pick the batch's fields. ``INNER_LOSSES`` names the inner
estimators (``--inner-estimator``): adding one is adding a function and a row there.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from .objectives import (
    clipped_surrogate_loss,
    dice_loss,
    emaml_loss,
    likelihood_ratio_loss,
    log_likelihood_loss,
    masked_mean,
    padded_log_likelihood_loss,
)
from .policy import distribution, kl_divergence, log_prob, params_log_prob
from .types import Batch, Params

Outputs = tuple[jax.Array, jax.Array]
"""``(mean, log_std)`` of the policy on a batch's observations (``promp.policy.distribution``)."""

TaskLoss = Callable[[Outputs, Batch], jax.Array]
"""``loss(outputs, task_batch) -> scalar``: a function of the policy's outputs on one task's batch
(leaves ``[R, H, ...]``), so that losses and KLs at the same parameters share one network pass."""


def at(loss: Callable[[Outputs, Batch], jax.Array], params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """``loss`` of the policy ``params`` on ``batch`` (``floor_log_std``: the pre-update policy's log-std floor)."""
    return loss(distribution(params, batch.obs, floor_log_std), batch)


def sampling_log_prob(batch: Batch) -> jax.Array:
    """Log-probabilities of the batch's actions under the recorded sampling distribution (a constant)."""
    return log_prob(batch.means, batch.log_stds, batch.actions)


def likelihood_ratio(outputs: Outputs, batch: Batch) -> jax.Array:
    """Negative ``J^LR`` (ProMP eq. 12; docs/algorithms.md §4.6): ``-mean_t pi/pi_sampling * A``.

    ProMP's and LVC's inner loss; TRPO's outer surrogate on post-update data (docs/algorithms.md §5.2).
    """
    return likelihood_ratio_loss(log_prob(*outputs, batch.actions), sampling_log_prob(batch), batch.advantages, batch.mask)


def log_likelihood(outputs: Outputs, batch: Batch) -> jax.Array:
    """Negative score-function surrogate ``-mean_t log pi * A`` (docs/algorithms.md §4.3; MAML, arXiv 1703.03400):
    MAML's inner loss and VPG's outer surrogate (§5.3); Hessian H2 only."""
    return log_likelihood_loss(log_prob(*outputs, batch.actions), batch.advantages, batch.mask)


def dice(outputs: Outputs, batch: Batch) -> jax.Array:
    """Negative DiCE objective (ProMP eqs. 7-8, DiCE arXiv 1802.05098; docs/algorithms.md §4.4, §5.4):
    MagicBox of cumulative log-probs times DiCE's adjusted rewards; inner loss and DiCE-MAML's surrogate."""
    return dice_loss(log_prob(*outputs, batch.actions), batch.dice_rewards, batch.mask)


def padded_log_likelihood(outputs: Outputs, batch: Batch) -> jax.Array:
    """VPG-DiCE's surrogate ``-mean(log pi * A * mask)`` over all padded entries, with the GAE advantages
    standardised over the padded array (docs/algorithms.md §3 step 6, §5.5)."""
    return padded_log_likelihood_loss(log_prob(*outputs, batch.actions), batch.padded_advantages, batch.mask)


def clipped(clip_eps: float) -> TaskLoss:
    """Negative ``J^CLIP`` (ProMP eq. 13's surrogate; docs/algorithms.md §5.1) with clip range ``clip_eps``."""

    def clipped_loss(outputs: Outputs, batch: Batch) -> jax.Array:
        logp = log_prob(*outputs, batch.actions)
        return clipped_surrogate_loss(logp, sampling_log_prob(batch), batch.advantages, batch.mask, clip_eps)

    return clipped_loss


def sampling_kl(outputs: Outputs, batch: Batch) -> jax.Array:
    """``mean_t KL(recorded sampling dist || pi)`` on one task's batch: ProMP's KL term per inner step
    (eq. 13, docs/algorithms.md §5.1) and TRPO's post-update constraint (§5.2)."""
    return masked_mean(kl_divergence(batch.means, batch.log_stds, *outputs), batch.mask)


def clip_fraction(outputs: Outputs, batch: Batch, clip_eps: float = 0.2) -> jax.Array:
    """Share of unmasked steps whose ratio to the sampling policy lies outside ``[1 - eps, 1 + eps]``
    (where eq. 13's clip is active); a diagnostic, not a loss."""
    ratio = jnp.exp(log_prob(*outputs, batch.actions) - sampling_log_prob(batch))
    return masked_mean((jnp.abs(ratio - 1.0) > clip_eps).astype(ratio.dtype), batch.mask)


def emaml_term(params: Params, pre: Batch, post: Batch) -> jax.Array:
    """One task's E-MAML term (E-MAML arXiv 1803.01118; ProMP eq. 3 without alpha; docs/algorithms.md §5.6):
    the post-update batch statistic ``adj_avg_rewards`` times the mean pre-update log-likelihood of
    ``params`` (the pre-update parameters). With K > 1 inner steps only the step-0 batch gets it."""
    logp = params_log_prob(params, pre.obs, pre.actions, True)
    return emaml_loss(logp, pre.mask, post.adj_avg_rewards, post.mask)


INNER_LOSSES: dict[str, TaskLoss] = {
    "likelihood-ratio": likelihood_ratio,
    "log-likelihood": log_likelihood,
    "dice": dice,
}
"""Inner estimators by name (``--inner-estimator``)."""
