"""ProMP's outer update (docs/algorithms.md §5.1): clipped post-update surrogate + eta * KL, N full-batch Adam steps.

For each task the adapted parameters are built symbolically from the trainable ``theta`` through
K inner steps (second derivatives flow), the clipped surrogate is evaluated on post-update data
against the recorded post-update sampling distribution, and ``KL(recorded pre || current pre)``
is penalised per inner step. The whole update (all N Adam steps) is one jitted function.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..adaptation import InnerLoss, inner_step
from ..objectives import clipped_surrogate_loss, masked_mean
from ..policy import distribution, kl_divergence, log_prob, params_log_prob
from ..types import Batch, Params
from .base import OuterUpdate
from .emaml import emaml_coefficient, emaml_task_term
from .guard import guard_update, scan_replay


def pre_update_kl(params: Params, batch: Batch, floor_log_std: bool) -> jax.Array:
    """``mean_t KL(recorded sampling dist || pi_params)`` on one task's batch (docs/algorithms.md §5.1)."""
    mean, log_std = distribution(params, batch.obs, floor_log_std)
    return masked_mean(kl_divergence(batch.means, batch.log_stds, mean, log_std), batch.mask)


def adapted_chain(params: Params, task_batches: Sequence[Batch], alpha: float, inner_loss: InnerLoss):
    """Run the K inner steps on one task; returns ``(theta_K, [KL_1..KL_K])`` (KL_k on step k-1 data)."""
    theta, kls = params, []
    for k, batch in enumerate(task_batches[:-1]):
        kls.append(pre_update_kl(theta, batch, k == 0))
        theta = inner_step(theta, batch, alpha, inner_loss, k == 0)
    return theta, jnp.stack(kls)


def promp_loss(
    params: Params, batches: Sequence[Batch], eta: jax.Array, alpha: float, clip_eps: float, inner_loss: InnerLoss,
    emaml_coef: float = 0.0,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """ProMP loss (ProMP eq. 13, in the code form of docs/algorithms.md §5.1): ``mean_i surr_i + mean_k eta_k * mean_i KL_{k,i}``.

    ``batches`` holds the K+1 sampling rounds (leaves ``[T, R, H, ...]``); ``eta`` has length K.
    ``emaml_coef`` > 0 adds that multiple of the E-MAML term to each task's surrogate (docs/algorithms.md §5.6).
    """

    def task_loss(task_batches):
        theta, kls = adapted_chain(params, task_batches, alpha, inner_loss)
        post = task_batches[-1]
        logp = params_log_prob(theta, post.obs, post.actions, len(task_batches) == 1)
        logp_old = log_prob(post.means, post.log_stds, post.actions)
        surr = clipped_surrogate_loss(logp, logp_old, post.advantages, post.mask, clip_eps)
        if emaml_coef:
            surr = surr + emaml_coef * emaml_task_term(params, task_batches[0], post)
        return surr, kls

    surr, kls = jax.vmap(task_loss)(tuple(batches))
    mean_kl = kls.mean(0)
    loss = surr.mean() + jnp.mean(eta * mean_kl)
    return loss, {"surrogate": surr.mean(), "kl_pre": mean_kl}


def post_update_stats(theta: Params, post: Batch, floor_log_std: bool, clip_eps: float) -> tuple[jax.Array, jax.Array]:
    """Diagnostics of the adapted policy ``theta`` on one task's post-update data (not part of the loss).

    ``clip_fraction``: share of (unmasked) steps whose likelihood ratio to the recorded post-update
    sampling policy lies outside ``[1 - eps, 1 + eps]`` (where eq. 13's clip is active);
    ``kl_post``: ``mean_t KL(recorded post-update sampling dist || pi_theta)``.
    """
    mean, log_std = distribution(theta, post.obs, floor_log_std)
    ratio = jnp.exp(log_prob(mean, log_std, post.actions) - log_prob(post.means, post.log_stds, post.actions))
    clipped = (jnp.abs(ratio - 1.0) > clip_eps).astype(ratio.dtype)
    kl = kl_divergence(post.means, post.log_stds, mean, log_std)
    return masked_mean(clipped, post.mask), masked_mean(kl, post.mask)


def promp_diagnostics(params: Params, batches: Sequence[Batch], alpha: float, clip_eps: float, inner_loss: InnerLoss) -> dict[str, jax.Array]:
    """``clip_fraction`` and ``kl_post`` (see ``post_update_stats``) of ``params``' adapted policies, mean over tasks."""

    def task_stats(task_batches):
        theta, _ = adapted_chain(params, task_batches, alpha, inner_loss)
        return post_update_stats(theta, task_batches[-1], len(task_batches) == 1, clip_eps)

    clip_fraction, kl_post = jax.vmap(task_stats)(tuple(batches))
    return {"clip_fraction": clip_fraction.mean(), "kl_post": kl_post.mean()}


def adapt_kl_coef(eta: np.ndarray, kl: np.ndarray, target: float) -> np.ndarray:
    """Adaptive KL coefficient per inner step: halve iff KL < target/1.5, double iff KL > 1.5 target (docs/algorithms.md §5.1, §9 fact 14)."""
    eta = np.asarray(eta, dtype=np.float64)
    kl = np.asarray(kl, dtype=np.float64)
    return np.where(kl < target / 1.5, eta / 2.0, np.where(kl > target * 1.5, eta * 2.0, eta))


def make_promp_update(cfg: Any, inner_loss: InnerLoss) -> OuterUpdate:
    """Build ProMP's outer update: ``cfg.outer_steps`` Adam steps (lr ``cfg.outer_lr``, one jitted function), moments persist.

    With ``cfg.guard_kl > 0`` (bound on ``kl_pre``; plus ``cfg.guard_kl_post`` on ``kl_post`` unless that
    is 0) the update is guarded (``promp.algorithms.guard.guard_update``); ``guard_kl = 0`` gives the original. Either way the stats add ``adam_steps``, ``guard_fired``, ``clip_fraction``
    and ``kl_post`` (computed after the update, outside its jitted function).
    """
    optimizer = optax.adam(cfg.outer_lr)
    alpha, clip_eps, n_steps = cfg.inner_lr, cfg.clip_eps, cfg.outer_steps
    coef = emaml_coefficient(cfg)

    def loss_fn(params, batches, eta):
        return promp_loss(params, batches, eta, alpha, clip_eps, inner_loss, coef)

    @jax.jit
    def update(params, opt_state, batches, eta):
        def adam_step(carry, _):
            p, s = carry
            (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, batches, eta)
            updates, s = optimizer.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), (loss, optax.tree.norm(grads))

        (new_params, new_state), (losses, grad_norms) = jax.lax.scan(adam_step, (params, opt_state), None, length=n_steps)
        loss_after, aux = loss_fn(new_params, batches, eta)
        stats = {
            "loss_before": losses[0],
            "loss_after": loss_after,
            "grad_norm": grad_norms[0],
            "surrogate": aux["surrogate"],
            "kl_pre": aux["kl_pre"],
        }
        return new_params, new_state, stats

    def diagnostics(p, b):
        return promp_diagnostics(p, b, alpha, clip_eps, inner_loss)

    on = float(getattr(cfg, "guard_kl", 0.0)) > 0  # --guard-kl 0 turns the whole guard off
    bounds = {"kl_pre": float(cfg.guard_kl) if on else 0.0, "kl_post": float(getattr(cfg, "guard_kl_post", 0.0)) if on else 0.0}
    replay = scan_replay(loss_fn, optimizer, n_steps, bounds, diagnostics)
    guarded = guard_update(update, replay, bounds, n_steps, diagnostics=jax.jit(diagnostics))
    return OuterUpdate(init=optimizer.init, update=guarded, loss=jax.jit(loss_fn))
