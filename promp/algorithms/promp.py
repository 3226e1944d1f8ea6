"""ProMP's outer update (docs/algorithms.md §5.1; ProMP arXiv 1810.06784, eq. 13 and Alg. 1): N full-batch
Adam steps on the clipped post-update surrogate plus ``kl_coef`` times the KL of every inner step.

The objective is ``promp.algorithms.meta_objective.MetaObjective`` with the clipped surrogate; the KL per
inner step comes from the same adaptation (``promp.algorithms.adaptation.adapt``). The optimiser state is
``PenaltyState(adam, kl_coef)``: the Adam moments persist across iterations and the KL coefficient
per inner step follows the adaptive rule when ``cfg.adaptive_kl`` is set. The N steps and the
statistics at the result (loss, KLs, clip fraction: one more adaptation) are one jitted call; the
guard (``promp.algorithms.guard``) replays the steps only when a bound is crossed.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..task_map import jit_tasks
from ..types import Batch, Params
from .base import OuterUpdate, PenaltyState
from .guard import guard_update, scan_replay, shrinking_step
from .losses import task_clip_fraction, task_clipped
from .meta_objective import MetaObjective, PostTerm, meta_objective


def promp_loss(objective: MetaObjective, params: Params, batches: Sequence[Batch], kl_coef: jax.Array,
               **post_terms: PostTerm) -> tuple[jax.Array, dict[str, jax.Array]]:
    """ProMP loss in the code form of docs/algorithms.md §5.1 (ProMP eq. 13): ``mean_i surr_i + mean_k
    kl_coef_k * mean_i KL_{k,i}``; ``kl_coef`` has length K. ``aux``: ``surrogate`` (the task mean of
    the surrogate, E-MAML term included), ``kl_pre`` ``[K]``, ``kl_post`` and the ``post_terms``."""
    surrogate, aux = objective(params, batches, **post_terms)
    return surrogate + jnp.mean(kl_coef * aux["kl_pre"]), {"surrogate": surrogate, **aux}


def promp_value_and_grad(objective: MetaObjective, params: Params, batches: Sequence[Batch], kl_coef: jax.Array,
                         **post_terms: PostTerm) -> tuple[tuple[jax.Array, dict[str, jax.Array]], Params]:
    """``jax.value_and_grad(promp_loss, has_aux=True)`` computed task by task: the loss is the task mean
    of ``surr_i + mean_k kl_coef_k * KL_{k,i}`` (``MetaObjective.value_and_grad``)."""
    kl_coef = jnp.asarray(kl_coef)
    (loss, aux), grads = objective.value_and_grad(params, batches, kl_coef / kl_coef.shape[0], **post_terms)
    aux = dict(aux)
    return (loss, {"surrogate": aux.pop("value"), **aux}), grads


def adapt_kl_coef(kl_coef: np.ndarray, kl: np.ndarray, target: float) -> np.ndarray:
    """Adaptive KL coefficient per inner step: halve iff KL < target/1.5, double iff KL > 1.5 target
    (docs/algorithms.md §5.1, §9 fact 14)."""
    kl_coef = np.asarray(kl_coef, dtype=np.float64)
    kl = np.asarray(kl, dtype=np.float64)
    return np.where(kl < target / 1.5, kl_coef / 2.0, np.where(kl > target * 1.5, kl_coef * 2.0, kl_coef))


def make_promp_update(cfg: Any) -> OuterUpdate:
    """ProMP's outer update: ``cfg.outer_steps`` Adam steps (lr ``cfg.outer_lr``) from ``PenaltyState``.

    With ``cfg.guard_kl > 0`` (bound on ``kl_pre``; plus ``cfg.guard_kl_post`` on ``kl_post`` unless that
    is 0) the update is guarded; ``guard_kl = 0`` gives the original. The stats hold ``loss_before``,
    ``loss_after``, ``grad_norm``, ``surrogate``, ``kl_pre``, ``clip_fraction``, ``kl_post``,
    ``adam_steps``, ``guard_fired`` and ``guard_step_scale`` (a first step that crossed a bound is shortened,
    ``promp.algorithms.guard``).
    """
    optimizer = optax.adam(cfg.outer_lr)
    objective = meta_objective(cfg, task_clipped(cfg.clip_eps))
    n_steps = cfg.outer_steps
    diagnostics = {"clip_fraction": partial(task_clip_fraction, clip_eps=cfg.clip_eps)}

    def loss_fn(params, batches, kl_coef, **post_terms):
        return promp_loss(objective, params, batches, kl_coef, **post_terms)

    @jit_tasks
    def steps(params, adam_state, batches, kl_coef):
        def adam_step(carry, _):
            p, s = carry
            (loss, _), grads = promp_value_and_grad(objective, p, batches, kl_coef)
            updates, s = optimizer.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), (loss, optax.tree.norm(grads))

        (new_params, new_state), (losses, grad_norms) = jax.lax.scan(adam_step, (params, adam_state), None, length=n_steps)
        loss_after, aux = loss_fn(new_params, batches, kl_coef, **diagnostics)
        return new_params, new_state, update_stats(losses[0], loss_after, grad_norms[0], aux)

    def diagnosed(q, batches, kl_coef):
        return loss_fn(q, batches, kl_coef, **diagnostics)

    on = float(getattr(cfg, "guard_kl", 0.0)) > 0  # --guard-kl 0 turns the whole guard off
    bounds = {"kl_pre": float(cfg.guard_kl) if on else 0.0, "kl_post": float(getattr(cfg, "guard_kl_post", 0.0)) if on else 0.0}
    def diagnosed_value_and_grad(q, batches, kl_coef):
        return promp_value_and_grad(objective, q, batches, kl_coef, **diagnostics)

    replay = scan_replay(diagnosed, optimizer, n_steps, bounds, update_stats, diagnosed_value_and_grad)
    shrink = shrinking_step(diagnosed, optimizer, bounds, update_stats, value_and_grad=diagnosed_value_and_grad)
    guarded = guard_update(steps, replay, shrink, bounds, n_steps)

    def update(params, state: PenaltyState, batches):
        new_params, adam_state, stats = guarded(params, state.optimizer, batches, np.asarray(state.kl_coef, np.float32))
        kl_coef = adapt_kl_coef(state.kl_coef, stats["kl_pre"], cfg.kl_target) if cfg.adaptive_kl else state.kl_coef
        return new_params, PenaltyState(adam_state, kl_coef), stats

    def init(params):
        return PenaltyState(optimizer.init(params), np.full(cfg.inner_steps, cfg.kl_coef, dtype=np.float64))

    @jit_tasks
    def loss(params, state: PenaltyState, batches):
        return loss_fn(params, batches, jnp.asarray(state.kl_coef, jnp.float32))

    return OuterUpdate(init=init, update=update, loss=loss)


def update_stats(loss_before, loss_after, grad_norm, aux):
    """The update's statistics in the progress-column order."""
    names = ("surrogate", "kl_pre", "clip_fraction", "kl_post")
    return {"loss_before": loss_before, "loss_after": loss_after, "grad_norm": grad_norm, **{k: aux[k] for k in names}}
