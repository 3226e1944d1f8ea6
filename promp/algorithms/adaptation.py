"""Inner adaptation: ``theta' = theta - alpha * grad L_inner(theta)``, differentiable and vmapped over tasks.

The same ``inner_step`` computes the post-update sampling policies (``adapt_tasks``, between
sampling rounds) and the adapted parameters inside every meta-objective (``adapt``), so the two agree
exactly (docs/algorithms.md §8 item 10, §9 fact 20). Alpha applies to every parameter, log-std
included (docs/algorithms.md §2, §4.1). Inner losses are the ``TaskLoss``es of ``promp.algorithms.losses``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from ..policy import distribution
from ..task_map import map_tasks
from ..types import Batch, Params
from .losses import TaskLoss, task_sampling_kl

__all__ = ["adapt", "adapt_tasks", "adapt_with_pullback", "inner_step"]


def loss_and_kl(params: Params, batch: Batch, inner_loss: TaskLoss, floor_log_std: bool) -> tuple[jax.Array, jax.Array]:
    """The inner loss on ``batch`` and ``KL(recorded sampling dist || pi_params)`` there, from one network pass."""
    outputs = distribution(params, batch.obs, floor_log_std)
    return inner_loss(outputs, batch), task_sampling_kl(outputs, batch)


def inner_step_and_kl(params: Params, batch: Batch, alpha: float, inner_loss: TaskLoss,
                      floor_log_std: bool = False) -> tuple[Params, jax.Array]:
    """One differentiable inner policy-gradient step on one task's batch (docs/algorithms.md §4.1) and
    ``KL(recorded sampling dist || pi_params)`` on that batch, both from one network pass: the outer
    gradient of a KL penalty then shares the step's backward pass through the network (fewer flops per
    ProMP Adam step than two passes; the float32 sums associate differently, so the last bits differ)."""

    grads, kl = jax.grad(lambda p: loss_and_kl(p, batch, inner_loss, floor_log_std), has_aux=True)(params)
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


def adapt_with_pullback(params: Params, task_batches: Sequence[Batch], alpha: float, inner_loss: TaskLoss
                        ) -> tuple[Params, jax.Array, Callable[[Params, jax.Array], Params]]:
    """``adapt`` (same ``theta_K`` and ``kls``) plus its pullback ``(g, w) -> d/dparams [<g, theta_K> +
    sum_k w[k] * kls[k]]``, the chain rule of docs/algorithms.md §4.1 run backwards by hand.

    Step k is ``theta_{k+1} = theta_k - alpha * grad L_k(theta_k)``, so the pullback of ``g`` through
    it is ``J_k^T g = g - alpha * H_k g`` (``H_k`` the Hessian of the inner loss, symmetric); with the
    KL term, ``g - alpha * H_k g + w[k] * grad KL_k(theta_k)``. Each step's gradient is linearised once
    in ``(theta, s)`` for ``grad[L_k + s * KL_k]`` at ``s = 0``: its primal is the step's gradient,
    its tangent at ``(-alpha * g, w[k])`` is exactly the two terms above, from one network pass
    (forward-over-reverse), which makes ProMP's Adam step faster than reverse-over-reverse
    differentiation of ``adapt`` (``python -m promp.bench.ab_promp_update`` times this tree against a
    checkout that differentiates ``adapt``).
    """
    theta, kls, tangents = params, [], []
    zero = jnp.zeros((), jax.tree_util.tree_leaves(params)[0].dtype)
    for k, batch in enumerate(task_batches[:-1]):
        def step_gradient(p, s, batch=batch, floor=(k == 0)):
            def loss(q):
                value, kl = loss_and_kl(q, batch, inner_loss, floor)
                return value + s * kl, kl

            return jax.grad(loss, has_aux=True)(p)

        (grads, kl), tangent = jax.linearize(step_gradient, theta, zero)
        theta = jax.tree_util.tree_map(lambda p, g: p - alpha * g, theta, grads)
        kls.append(kl)
        tangents.append(tangent)

    def pullback(g: Params, kl_weights: jax.Array) -> Params:
        for k in reversed(range(len(tangents))):
            d_grads, _ = tangents[k](jax.tree_util.tree_map(lambda x: -alpha * x, g), kl_weights[k].astype(zero.dtype))
            g = jax.tree_util.tree_map(jnp.add, g, d_grads)
        return g

    return theta, jnp.stack(kls) if kls else jnp.zeros((0,), zero.dtype), pullback


def adapt_tasks(params_per_task: Params, batches: Batch, alpha: float, inner_loss: TaskLoss, floor_log_std: bool = False) -> Params:
    """``inner_step`` for every task: per-task params and batches with a leading task axis."""
    return map_tasks(lambda pb: inner_step(pb[0], pb[1], alpha, inner_loss, floor_log_std), (params_per_task, batches))
