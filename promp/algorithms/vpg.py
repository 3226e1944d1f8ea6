"""One-Adam-step outer updates ("VPG", docs/algorithms.md §5.3-5.5), parameterised by the per-task surrogate.

``vpg``: ``-mean_i mean_t log pi_theta'(a') A'`` (MAML-VPG, E-MAML-VPG, LVC-VPG);
``vpg-dice``: the same over padded entries with DiCE-processed GAE advantages (VPG-DiCE).
Adam moments persist across iterations (one optimiser for the whole run).
"""

from __future__ import annotations

from typing import Any

import jax
import optax

from ..adaptation import InnerLoss
from .base import OuterUpdate
from .emaml import emaml_coefficient
from .guard import guard_update, rejecting_replay
from .promp import pre_update_kl
from .meta import TaskSurrogate, log_likelihood_surrogate, meta_loss, padded_advantage_surrogate


def make_adam_update(cfg: Any, inner_loss: InnerLoss, surrogate: TaskSurrogate) -> OuterUpdate:
    """A jitted single Adam step (lr ``cfg.outer_lr``) on ``meta_loss`` with ``surrogate``.

    With ``cfg.guard_kl > 0`` a step after which the pre-update policy's ``kl_pre`` (KL of the
    sampling policy to the new policy on the pre-update data) exceeds the bound is rejected: parameters
    and Adam state stay as they were (``promp.algorithms.guard``).
    """
    optimizer = optax.adam(cfg.outer_lr)
    alpha, coef = cfg.inner_lr, emaml_coefficient(cfg)

    def loss_fn(params, batches, eta=None):
        return meta_loss(params, batches, alpha, inner_loss, surrogate, coef), {}

    @jax.jit
    def update(params, opt_state, batches, eta=None):
        (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, batches)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        stats = {"loss_before": loss, "loss_after": loss_fn(new_params, batches)[0], "grad_norm": optax.tree.norm(grads)}
        return new_params, opt_state, stats

    @jax.jit
    def kl_fn(params, batches):
        return jax.vmap(lambda b: pre_update_kl(params, b, True))(batches[0]).mean()[None]

    bounds = {"kl_pre": float(getattr(cfg, "guard_kl", 0.0))}
    guarded = guard_update(update, rejecting_replay(jax.jit(loss_fn), kl_fn), bounds, 1, kl_fn=kl_fn)
    return OuterUpdate(init=optimizer.init, update=guarded, loss=jax.jit(loss_fn))


def make_vpg_update(cfg: Any, inner_loss: InnerLoss) -> OuterUpdate:
    """VPG-MAML's outer update: one Adam step on the post-update log-likelihood surrogate (docs/algorithms.md §5.3)."""
    return make_adam_update(cfg, inner_loss, log_likelihood_surrogate)


def make_vpg_dice_update(cfg: Any, inner_loss: InnerLoss) -> OuterUpdate:
    """VPG-DiCE's outer update: one Adam step on ``-mean(log pi' A' mask)`` over padded entries (docs/algorithms.md §5.5)."""
    return make_adam_update(cfg, inner_loss, padded_advantage_surrogate)
