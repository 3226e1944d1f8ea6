"""The losses of meta-policy-gradient estimators: the maths on log-probabilities, then one task's ``Batch``.

**On log-probabilities** (first half). Every function takes log-probabilities, not a policy, so the
same code serves the Gaussian MLP policy and a tabular softmax policy (tests/test_estimators_tabular.py).
Shapes are ``[..., H]`` with time last; ``mask`` is 1 on real steps. ``*_objective`` functions return
the paper's per-trajectory objective (a sum over time, maximised); ``*_loss`` functions are minimised
(a mean over unmasked steps, as the original code). ``stop_gradient`` (``sg``) is the paper's "⊥".

**On a task's batch** (second half). A ``TaskLoss`` ``task_*(outputs, batch) -> scalar`` picks one
task's ``Batch`` fields (leaves ``[R, H, ...]``) and calls a function of the first half; ``outputs`` is
the policy's ``(mean, log_std)`` on the batch's observations at the parameters being evaluated
(``theta`` in an inner step, the adapted ``theta'`` in an outer surrogate), so losses and KLs at the same
parameters share one network pass; ``at`` evaluates a ``TaskLoss`` at given parameters. The same
``TaskLoss``es serve as inner losses and as outer surrogates. ``INNER_LOSSES`` names the inner
estimators (``--inner-estimator``): adding one is adding a function and a row there.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from ..policy import distribution, kl_divergence, log_prob, params_log_prob
from ..types import Batch, Params

sg = jax.lax.stop_gradient


def check_shapes(name: str, **arrays: jax.Array) -> None:
    """Raise ``ValueError`` unless all ``arrays`` have the same shape (checked while tracing, so free
    under ``jit``): a silently broadcast ``[R, H]`` against ``[R, H, 1]`` would give a wrong loss."""
    shapes = {key: tuple(jnp.shape(value)) for key, value in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"{name}: inputs must have one shape, got {shapes}")


def masked_mean(x: jax.Array, mask: jax.Array) -> jax.Array:
    """Mean of ``x`` over entries where ``mask`` is 1 (0 if there are none)."""
    return jnp.sum(x * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def reward_to_go(rewards: jax.Array) -> jax.Array:
    """``sum_{t' >= t} r_t'`` along the last (time) axis."""
    return jnp.flip(jnp.cumsum(jnp.flip(rewards, -1), -1), -1)


def magic_box(x: jax.Array) -> jax.Array:
    """DiCE's MagicBox ``exp(x - ⊥x)``: value 1, gradient that of ``x`` (docs/algorithms.md §1, §4.4)."""
    return jnp.exp(x - sg(x))


def dice_objective(logp: jax.Array, rewards: jax.Array) -> jax.Array:
    """Paper eq. 7: ``J^DiCE(tau) = sum_t [prod_{t'<=t} pi/⊥pi] r_t`` (unbiased to any order, docs/algorithms.md §4.4)."""
    check_shapes("dice_objective", logp=logp, rewards=rewards)
    return jnp.sum(magic_box(jnp.cumsum(logp, -1)) * rewards, -1)


def lvc_objective(logp: jax.Array, rewards: jax.Array) -> jax.Array:
    """Paper eq. 9: ``J^LVC(tau) = sum_t [pi_t/⊥pi_t] * sum_{t'>=t} r_t'`` (Hessian H1 + H2, docs/algorithms.md §4.5)."""
    check_shapes("lvc_objective", logp=logp, rewards=rewards)
    return jnp.sum(magic_box(logp) * reward_to_go(rewards), -1)


def score_function_objective(logp: jax.Array, rewards: jax.Array) -> jax.Array:
    """Standard policy-gradient surrogate ``sum_t log pi_t * reward-to-go_t`` (docs/algorithms.md §4.3; Hessian H2 only)."""
    check_shapes("score_function_objective", logp=logp, rewards=rewards)
    return jnp.sum(logp * sg(reward_to_go(rewards)), -1)


def likelihood_ratio_loss(logp: jax.Array, logp_old: jax.Array, advantages: jax.Array, mask: jax.Array) -> jax.Array:
    """Negative ``J^LR`` (ProMP eq. 12, docs/algorithms.md §4.6): ``-mean_t exp(logp - logp_old) * A`` with
    ``logp_old`` recorded."""
    check_shapes("likelihood_ratio_loss", logp=logp, logp_old=logp_old, advantages=advantages, mask=mask)
    return -masked_mean(jnp.exp(logp - sg(logp_old)) * advantages, mask)


def log_likelihood_loss(logp: jax.Array, advantages: jax.Array, mask: jax.Array) -> jax.Array:
    """Negative score-function surrogate ``-mean_t log pi * A`` (docs/algorithms.md §4.3, the original MAML inner loss)."""
    check_shapes("log_likelihood_loss", logp=logp, advantages=advantages, mask=mask)
    return -masked_mean(logp * advantages, mask)


def clipped_surrogate_loss(
    logp: jax.Array, logp_old: jax.Array, advantages: jax.Array, mask: jax.Array, clip_eps: float
) -> jax.Array:
    """Negative ``J^CLIP`` (ProMP eq. 13, docs/algorithms.md §5.1): ``-mean_t min(r A, clip(r, 1-eps, 1+eps) A)``."""
    check_shapes("clipped_surrogate_loss", logp=logp, logp_old=logp_old, advantages=advantages, mask=mask)
    ratio = jnp.exp(logp - sg(logp_old))
    clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    return -masked_mean(jnp.minimum(ratio * advantages, clipped * advantages), mask)


def dice_loss(logp: jax.Array, adjusted_rewards: jax.Array, mask: jax.Array) -> jax.Array:
    """Negative DiCE objective as the original code computes it (docs/algorithms.md §4.4, §5.4; ProMP eqs. 7-8).

    ``-mean_{paths, t} MagicBox(sum_{t'<=t} log pi_t') * adjusted_r_t * mask_t`` where the mean runs
    over *all* padded entries (masked ones contribute 0) and ``adjusted_r_t = gamma^t r_t - b(t)``
    (normalised, docs/algorithms.md §3 step 5). Any time-only baseline ``b(t)`` leaves every derivative's expectation
    unchanged because ``E[MagicBox] = 1`` identically in theta.
    """
    check_shapes("dice_loss", logp=logp, adjusted_rewards=adjusted_rewards, mask=mask)
    return -jnp.mean(magic_box(jnp.cumsum(logp * mask, -1)) * adjusted_rewards * mask)


def padded_log_likelihood_loss(logp: jax.Array, advantages: jax.Array, mask: jax.Array) -> jax.Array:
    """VPG-DiCE's outer loss ``-mean(log pi * A * mask)`` over all padded entries (docs/algorithms.md §5.5)."""
    check_shapes("padded_log_likelihood_loss", logp=logp, advantages=advantages, mask=mask)
    return -jnp.mean(logp * advantages * mask)


def emaml_loss(logp_pre: jax.Array, pre_mask: jax.Array, adj_post_rewards: jax.Array, post_mask: jax.Array) -> jax.Array:
    """E-MAML term of one task (docs/algorithms.md §5.6, formulation II's ``grad J_pre``, ProMP eq. 3 without alpha).

    ``-mean_t'(adj_avg_rewards of the post-update batch) * mean_t(log pi_theta on the pre-update batch)``:
    REINFORCE on the pre-update policy with one post-update "return" per task (batch-level credit).
    """
    check_shapes("emaml_loss (pre-update)", logp_pre=logp_pre, pre_mask=pre_mask)
    check_shapes("emaml_loss (post-update)", adj_post_rewards=adj_post_rewards, post_mask=post_mask)
    return -masked_mean(sg(adj_post_rewards), post_mask) * masked_mean(logp_pre, pre_mask)


# ------------------------------------------------------------------ on one task's Batch
Outputs = tuple[jax.Array, jax.Array]
"""``(mean, log_std)`` of the policy on a batch's observations (``promp.policy.distribution``)."""

TaskLoss = Callable[[Outputs, Batch], jax.Array]
"""``loss(outputs, task_batch) -> scalar``: a function of the policy's outputs on one task's batch
(leaves ``[R, H, ...]``), so that losses and KLs at the same parameters share one network pass."""


def at(loss: Callable[[Outputs, Batch], jax.Array], params: Params, batch: Batch, floor_log_std: bool = False) -> jax.Array:
    """``loss`` of the policy ``params`` on ``batch`` (``floor_log_std``: the pre-update policy's log-std floor)."""
    return loss(distribution(params, batch.obs, floor_log_std), batch)


def _sampling_log_prob(batch: Batch) -> jax.Array:
    """Log-probabilities of the batch's actions under the recorded sampling distribution (a constant)."""
    return log_prob(batch.means, batch.log_stds, batch.actions)


def task_likelihood_ratio(outputs: Outputs, batch: Batch) -> jax.Array:
    """Negative ``J^LR`` (ProMP eq. 12; docs/algorithms.md §4.6): ``-mean_t pi/pi_sampling * A``.

    ProMP's and LVC's inner loss; TRPO's outer surrogate on post-update data (docs/algorithms.md §5.2).
    """
    return likelihood_ratio_loss(log_prob(*outputs, batch.actions), _sampling_log_prob(batch), batch.advantages, batch.mask)


def task_log_likelihood(outputs: Outputs, batch: Batch) -> jax.Array:
    """Negative score-function surrogate ``-mean_t log pi * A`` (docs/algorithms.md §4.3; MAML, arXiv 1703.03400):
    MAML's inner loss and VPG's outer surrogate (§5.3); Hessian H2 only."""
    return log_likelihood_loss(log_prob(*outputs, batch.actions), batch.advantages, batch.mask)


def task_dice(outputs: Outputs, batch: Batch) -> jax.Array:
    """Negative DiCE objective (ProMP eqs. 7-8, DiCE arXiv 1802.05098; docs/algorithms.md §4.4, §5.4):
    MagicBox of cumulative log-probs times DiCE's adjusted rewards; inner loss and DiCE-MAML's surrogate."""
    return dice_loss(log_prob(*outputs, batch.actions), batch.dice_rewards, batch.mask)


def task_padded_log_likelihood(outputs: Outputs, batch: Batch) -> jax.Array:
    """VPG-DiCE's surrogate ``-mean(log pi * A * mask)`` over all padded entries, with the GAE advantages
    standardised over the padded array (docs/algorithms.md §3 step 6, §5.5)."""
    return padded_log_likelihood_loss(log_prob(*outputs, batch.actions), batch.padded_advantages, batch.mask)


def task_clipped(clip_eps: float) -> TaskLoss:
    """Negative ``J^CLIP`` (ProMP eq. 13's surrogate; docs/algorithms.md §5.1) with clip range ``clip_eps``."""

    def clipped_loss(outputs: Outputs, batch: Batch) -> jax.Array:
        logp = log_prob(*outputs, batch.actions)
        return clipped_surrogate_loss(logp, _sampling_log_prob(batch), batch.advantages, batch.mask, clip_eps)

    return clipped_loss


def task_sampling_kl(outputs: Outputs, batch: Batch) -> jax.Array:
    """``mean_t KL(recorded sampling dist || pi)`` on one task's batch: ProMP's KL term per inner step
    (eq. 13, docs/algorithms.md §5.1) and TRPO's post-update constraint (§5.2)."""
    return masked_mean(kl_divergence(batch.means, batch.log_stds, *outputs), batch.mask)


def task_clip_fraction(outputs: Outputs, batch: Batch, clip_eps: float = 0.2) -> jax.Array:
    """Share of unmasked steps whose ratio to the sampling policy lies outside ``[1 - eps, 1 + eps]``
    (where eq. 13's clip is active); a diagnostic, not a loss."""
    ratio = jnp.exp(log_prob(*outputs, batch.actions) - _sampling_log_prob(batch))
    return masked_mean((jnp.abs(ratio - 1.0) > clip_eps).astype(ratio.dtype), batch.mask)


def task_emaml_term(params: Params, pre: Batch, post: Batch) -> jax.Array:
    """One task's E-MAML term (E-MAML arXiv 1803.01118; ProMP eq. 3 without alpha; docs/algorithms.md §5.6):
    the post-update batch statistic ``adj_avg_rewards`` times the mean pre-update log-likelihood of
    ``params`` (the pre-update parameters). With K > 1 inner steps only the step-0 batch gets it."""
    logp = params_log_prob(params, pre.obs, pre.actions, True)
    return emaml_loss(logp, pre.mask, post.adj_avg_rewards, post.mask)


INNER_LOSSES: dict[str, TaskLoss] = {
    "likelihood-ratio": task_likelihood_ratio,
    "log-likelihood": task_log_likelihood,
    "dice": task_dice,
}
"""Inner estimators by name (``--inner-estimator``)."""
