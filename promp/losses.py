"""Per-task losses: one task's processed batch -> a scalar, used both as inner losses and as outer surrogates.

A ``TaskLoss`` is ``loss(params, batch, floor_log_std) -> scalar`` on one task's ``Batch`` (leaves
``[R, H, ...]``); ``params`` are the policy parameters the loss is evaluated at (``theta`` in an
inner step, the adapted ``theta'`` in an outer surrogate). The maths on log-probabilities lives in
``promp.objectives``; these functions only pick the batch's fields. ``INNER_LOSSES`` names the inner
estimators (``--inner-estimator``): adding one is adding a function and a row there.
"""

from __future__ import annotations

from typing import Callable

import jax

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

TaskLoss = Callable[[Params, Batch, bool], jax.Array]
"""``loss(params, task_batch, floor_log_std) -> scalar`` on one task's batch (leaves ``[R, H, ...]``)."""


def sampling_log_prob(batch: Batch) -> jax.Array:
    """Log-probabilities of the batch's actions under the recorded sampling distribution (a constant)."""
    return log_prob(batch.means, batch.log_stds, batch.actions)


def likelihood_ratio(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """Negative ``J^LR`` (ProMP eq. 12; docs/algorithms.md §4.6): ``-mean_t pi_params/pi_sampling * A``.

    ProMP's and LVC's inner loss; TRPO's outer surrogate on post-update data (docs/algorithms.md §5.2).
    """
    logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
    return likelihood_ratio_loss(logp, sampling_log_prob(batch), batch.advantages, batch.mask)


def log_likelihood(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """Negative score-function surrogate ``-mean_t log pi_params * A`` (MAML, arXiv 1703.03400, eq. 4;
    docs/algorithms.md §4.3): MAML's inner loss and VPG's outer surrogate (§5.3); Hessian H2 only."""
    logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
    return log_likelihood_loss(logp, batch.advantages, batch.mask)


def dice(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """Negative DiCE objective (ProMP eqs. 7-8, DiCE arXiv 1802.05098 eq. 5; docs/algorithms.md §4.4, §5.4):
    MagicBox of cumulative log-probs times DiCE's adjusted rewards; inner loss and DiCE-MAML's surrogate."""
    logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
    return dice_loss(logp, batch.dice_rewards, batch.mask)


def padded_log_likelihood(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """VPG-DiCE's surrogate ``-mean(log pi_params * A * mask)`` over all padded entries, with the GAE
    advantages standardised over the padded array (docs/algorithms.md §3 step 6, §5.5)."""
    logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
    return padded_log_likelihood_loss(logp, batch.padded_advantages, batch.mask)


def clipped(clip_eps: float) -> TaskLoss:
    """Negative ``J^CLIP`` (ProMP eq. 13's surrogate; docs/algorithms.md §5.1) with clip range ``clip_eps``."""

    def clipped_loss(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
        logp = params_log_prob(params, batch.obs, batch.actions, floor_log_std)
        return clipped_surrogate_loss(logp, sampling_log_prob(batch), batch.advantages, batch.mask, clip_eps)

    return clipped_loss


def sampling_kl(params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """``mean_t KL(recorded sampling dist || pi_params)`` on one task's batch: ProMP's KL term per inner
    step (eq. 13, docs/algorithms.md §5.1) and TRPO's post-update constraint (§5.2)."""
    mean, log_std = distribution(params, batch.obs, floor_log_std)
    return masked_mean(kl_divergence(batch.means, batch.log_stds, mean, log_std), batch.mask)


def clip_fraction(params: Params, batch: Batch, floor_log_std: bool = False, clip_eps: float = 0.2) -> jax.Array:
    """Share of unmasked steps whose ratio to the sampling policy lies outside ``[1 - eps, 1 + eps]``
    (where eq. 13's clip is active); a diagnostic, not a loss."""
    mean, log_std = distribution(params, batch.obs, floor_log_std)
    ratio = jax.numpy.exp(log_prob(mean, log_std, batch.actions) - sampling_log_prob(batch))
    return masked_mean((jax.numpy.abs(ratio - 1.0) > clip_eps).astype(ratio.dtype), batch.mask)


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
