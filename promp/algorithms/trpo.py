"""TRPO outer update (spec 5.1): natural-gradient step on the post-update surrogate under a KL bound.

Loss ``-mean_i mean_t ratio_t * A'_t`` (plus the optional E-MAML term); constraint
``mean_i mean_t KL(recorded post || pi_theta'_i(theta)) <= max_kl``. The search direction comes
from 10 conjugate-gradient iterations on the exact Hessian of the constraint (forward-over-reverse
Hessian-vector products), the step is scaled to the KL bound and shrunk by 0.8 at most 15 times
until the loss improves and the bound holds; otherwise the old parameters are kept.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from ..adaptation import InnerLoss
from ..optim import conjugate_gradient, hessian_vector_product
from .base import OuterUpdate
from .emaml import emaml_coefficient
from .meta import per_task, post_update_kl, ratio_surrogate


def trpo_step(
    loss_fn: Callable[[Any], jax.Array],
    kl_fn: Callable[[Any], jax.Array],
    params: Any,
    max_kl: float,
    cg_iters: int = 10,
    backtrack_ratio: float = 0.8,
    max_backtracks: int = 15,
) -> tuple[Any, dict[str, jax.Array]]:
    """One constrained step ``min loss s.t. kl <= max_kl`` from ``params`` (a pytree); jit-compatible.

    ``s = CG(H_kl, grad loss)``, initial step ``sqrt(2 max_kl / (s^T H s + 1e-8)) s``, backtracking
    line search; a step with NaN, or no acceptable step, leaves ``params`` unchanged.
    """
    flat, unravel = ravel_pytree(params)
    f_loss = lambda x: loss_fn(unravel(x))  # noqa: E731
    f_kl = lambda x: kl_fn(unravel(x))  # noqa: E731
    loss_before, grad = jax.value_and_grad(f_loss)(flat)
    hvp = hessian_vector_product(f_kl, flat)  # linearised once, applied cg_iters + 1 times
    direction = conjugate_gradient(hvp, grad, cg_iters)
    shs = jnp.vdot(direction, hvp(direction))
    full_step = jnp.sqrt(2.0 * max_kl / (shs + 1e-8)) * direction
    step_finite = jnp.all(jnp.isfinite(full_step))

    def cond(carry):
        n, accepted = carry[0], carry[1]
        return (n < max_backtracks) & ~accepted & step_finite

    def body(carry):
        n = carry[0]
        x = flat - backtrack_ratio**n * full_step
        loss, kl = f_loss(x), f_kl(x)
        ok = (loss < loss_before) & (kl <= max_kl) & jnp.isfinite(loss) & jnp.isfinite(kl)
        return n + 1, ok, x, loss, kl

    init = (jnp.asarray(0), jnp.asarray(False), flat, loss_before, jnp.zeros_like(loss_before))
    tries, accepted, x, loss, kl = jax.lax.while_loop(cond, body, init)
    new_flat = jnp.where(accepted, x, flat)
    stats = {
        "loss_before": loss_before,
        "loss_after": jnp.where(accepted, loss, loss_before),
        "kl_post": jnp.where(accepted, kl, f_kl(flat)),
        "step_accepted": accepted.astype(jnp.float32),
        "backtracks": tries,
        "grad_norm": jnp.linalg.norm(grad),
    }
    return unravel(new_flat), stats


def make_trpo_update(cfg: Any, inner_loss: InnerLoss) -> OuterUpdate:
    """Build the jitted TRPO meta-update (KL bound ``cfg.max_kl``); no optimiser state."""
    alpha, max_kl, coef = cfg.inner_lr, cfg.max_kl, emaml_coefficient(cfg)

    def loss_fn(params, batches, eta=None):
        loss = per_task(params, batches, alpha, inner_loss, ratio_surrogate, coef).mean()
        kl = per_task(params, batches, alpha, inner_loss, post_update_kl).mean()
        return loss, {"kl_post": kl}

    @jax.jit
    def update(params, state, batches, eta=None):
        new_params, stats = trpo_step(
            lambda p: per_task(p, batches, alpha, inner_loss, ratio_surrogate, coef).mean(),
            lambda p: per_task(p, batches, alpha, inner_loss, post_update_kl).mean(),
            params,
            max_kl,
        )
        return new_params, state, stats

    return OuterUpdate(init=lambda params: optax.EmptyState(), update=update, loss=jax.jit(loss_fn))
