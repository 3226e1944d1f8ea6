"""One-Adam-step outer updates (docs/algorithms.md §5.3-5.5), parameterised by the per-task surrogate:
``vpg`` (log-likelihood: MAML-VPG, E-MAML-VPG, LVC-VPG), ``dice`` (DiCE-MAML), ``vpg-dice``
(padded log-likelihood with GAE advantages). Adam moments persist across iterations.
"""

from __future__ import annotations

from typing import Any

import optax

from ..task_map import jit_tasks
from .base import OuterUpdate
from .guard import guard_update, shrinking_step
from .losses import TaskLoss
from .meta_objective import meta_objective


def make_adam_update(cfg: Any, surrogate: TaskLoss) -> OuterUpdate:
    """One jitted Adam step (lr ``cfg.outer_lr``) on the meta-objective with ``surrogate``.

    With ``cfg.guard_kl > 0`` a step after which the pre-update policy's ``kl_pre`` (KL of the sampling
    policy to the new policy on the pre-update data) exceeds the bound is shortened to the largest
    ``2^-j`` of it within the bound, or rejected if none is (``promp.algorithms.guard``).
    """
    optimizer = optax.adam(cfg.outer_lr)
    objective = meta_objective(cfg, surrogate)

    def evaluate(params, batches):
        loss, aux = objective(params, batches)
        return loss, aux["kl_pre"][:1]  # the KL on the pre-update (step-0) data

    @jit_tasks
    def step(params, opt_state, batches):
        (loss, _), grads = objective.value_and_grad(params, batches)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        loss_after, kl_pre = evaluate(new_params, batches)
        stats = {"loss_before": loss, "loss_after": loss_after, "grad_norm": optax.tree.norm(grads), "kl_pre": kl_pre}
        return new_params, opt_state, stats

    def bounded(params, batches):
        loss, kl_pre = evaluate(params, batches)
        return loss, {"kl_pre": kl_pre}

    def bounded_value_and_grad(params, batches):
        (loss, aux), grads = objective.value_and_grad(params, batches)
        return (loss, {"kl_pre": aux["kl_pre"][:1]}), grads

    def step_stats(loss_before, loss_after, grad_norm, aux):
        return {"loss_before": loss_before, "loss_after": loss_after, "grad_norm": grad_norm, "kl_pre": aux["kl_pre"]}

    bounds = {"kl_pre": float(getattr(cfg, "guard_kl", 0.0))}
    shrink = shrinking_step(bounded, optimizer, bounds, step_stats, value_and_grad=bounded_value_and_grad)
    guarded = guard_update(step, None, shrink, bounds, 1)  # one step: nothing to replay, only to shorten
    loss = jit_tasks(lambda params, state, batches: objective(params, batches))
    return OuterUpdate(init=optimizer.init, update=lambda params, state, batches: guarded(params, state, batches), loss=loss)
