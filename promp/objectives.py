"""Objectives and losses of meta-policy-gradient estimators, as pure functions of log-probabilities.

Every function takes log-probabilities (not a policy object), so the same code serves the Gaussian
MLP policy and a tabular softmax policy in tests. Shapes: ``[..., H]`` with time last; ``mask`` is
1 on real steps. Functions named ``*_loss`` are minimised (mean over unmasked steps, as the original
code); functions named ``*_objective`` return the paper's per-trajectory objective (sum over time).
``stop_gradient`` plays the role of the paper's "⊥".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

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
