"""Inner adaptation: ``theta' = theta - alpha * grad L_inner(theta)``, differentiable and vmapped over tasks.

The same ``inner_step`` computes the post-update sampling policies (``adapt_tasks``, between
sampling rounds) and the adapted parameters inside every meta-objective (``adapt``), so the two agree
exactly (docs/algorithms.md §8 item 10, §9 fact 20). Alpha applies to every parameter, log-std
included (docs/algorithms.md §2, §4.1). Inner losses are the ``TaskLoss``es of ``promp.losses``.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

from .losses import INNER_LOSSES, TaskLoss, sampling_kl
from .policy import distribution
from .types import Batch, Params

__all__ = ["INNER_LOSSES", "adapt", "adapt_tasks", "inner_step"]  # INNER_LOSSES (promp.losses) also by its old path


def inner_step_and_kl(params: Params, batch: Batch, alpha: float, inner_loss: TaskLoss,
                      floor_log_std: bool = False) -> tuple[Params, jax.Array]:
    """One differentiable inner policy-gradient step on one task's batch (docs/algorithms.md §4.1) and
    ``KL(recorded sampling dist || pi_params)`` on that batch, both from one network pass: the outer
    gradient of a KL penalty then shares the step's backward pass through the network (ProMP: 14% fewer
    flops per Adam step; the float32 sums associate differently, so the last bits differ)."""

    def loss_and_kl(p):
        outputs = distribution(p, batch.obs, floor_log_std)
        return inner_loss(outputs, batch), sampling_kl(outputs, batch)

    grads, kl = jax.grad(loss_and_kl, has_aux=True)(params)
    return jax.tree_util.tree_map(lambda p, g: p - alpha * g, params, grads), kl


def inner_step(params: Params, batch: Batch, alpha: float, inner_loss: TaskLoss, floor_log_std: bool = False) -> Params:
    """One differentiable inner policy-gradient step on one task's batch (docs/algorithms.md §4.1)."""
    return inner_step_and_kl(params, batch, alpha, inner_loss, floor_log_std)[0]


def adapt(params: Params, task_batches: Sequence[Batch], alpha: float, inner_loss: TaskLoss) -> tuple[Params, jax.Array]:
    """One task's K inner steps on rounds ``0..K-1`` of ``task_batches`` (the K+1 rounds; the last, the
    post-update round, is not used). Returns ``(theta_K, kls)``: ``kls[k]`` is
    ``KL(recorded sampling dist of round k || pi_theta_k)`` on round k's data, the KL term of ProMP
    eq. 13 per inner step (docs/algorithms.md §5.1). Step 0 floors the log-std as the sampler did."""
    theta, kls = params, []
    for k, batch in enumerate(task_batches[:-1]):
        theta, kl = inner_step_and_kl(theta, batch, alpha, inner_loss, k == 0)
        kls.append(kl)
    return theta, jnp.stack(kls) if kls else jnp.zeros((0,))


def adapt_tasks(params_per_task: Params, batches: Batch, alpha: float, inner_loss: TaskLoss, floor_log_std: bool = False) -> Params:
    """``inner_step`` for every task: per-task params and batches with a leading task axis."""
    return jax.vmap(lambda p, b: inner_step(p, b, alpha, inner_loss, floor_log_std))(params_per_task, batches)
