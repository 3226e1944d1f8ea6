"""The meta-objective every outer update optimises (docs/algorithms.md §5):

``L(theta) = mean_i [surrogate(theta'_i(theta), D'_i) + c_E * E-MAML_i(theta)]``

with ``theta'_i`` built symbolically from ``theta`` through the K inner steps (``promp.algorithms.adaptation.adapt``,
so second derivatives flow). One adaptation per task gives the loss and the KLs the updates need:
``kl_pre`` (per inner step, ProMP's penalty and guard) and ``kl_post`` (TRPO's constraint, the guard's
post-update bound), plus any per-task diagnostics of the adapted policy. Unused outputs cost nothing
under ``jit`` (dead code).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp

from ..policy import distribution
from ..task_map import map_tasks
from ..types import Batch, Params
from .adaptation import adapt, adapt_with_pullback
from .losses import INNER_LOSSES, Outputs, TaskLoss, task_emaml_term, task_sampling_kl

PostTerm = Callable[[Outputs, Batch], jax.Array]
"""A per-task statistic of the adapted policy's outputs on the post-update batch (e.g. a clip fraction)."""


class MetaObjective(NamedTuple):
    """``surrogate`` of the adapted parameters (inner step ``inner_loss`` with step size ``alpha``) plus
    ``emaml_coef`` times the E-MAML term (docs/algorithms.md §5, §5.6)."""

    alpha: float
    inner_loss: TaskLoss
    surrogate: TaskLoss
    emaml_coef: float = 0.0

    def task_outputs(self, params: Params, task_batches: Sequence[Batch], **post_terms: PostTerm) -> tuple[Params, dict[str, jax.Array]]:
        """One task's adaptation (``task_batches``: its K+1 rounds, leaves ``[R, H, ...]``): the adapted
        parameters ``theta'_i`` and the scalars ``value`` (surrogate plus E-MAML term), ``kl_pre`` ``[K]``,
        ``kl_post`` and each ``post_terms[name](outputs of theta'_i on post_i, post_i)``."""
        theta, kl_pre = adapt(params, task_batches, self.alpha, self.inner_loss)
        value, out = self.post_outputs(theta, task_batches, **post_terms)
        if self.emaml_coef:
            value = value + self.emaml_coef * task_emaml_term(params, task_batches[0], task_batches[-1])
        return theta, {"value": value, "kl_pre": kl_pre, **out}

    def post_outputs(self, theta: Params, task_batches: Sequence[Batch], **post_terms: PostTerm) -> tuple[jax.Array, dict[str, jax.Array]]:
        """The surrogate of the adapted ``theta`` on the task's post-update round, and ``kl_post`` and the
        ``post_terms`` there (the floored log-std when there are no inner steps, as the sampler)."""
        post = task_batches[-1]
        outputs = distribution(theta, post.obs, len(task_batches) == 1)
        extra = {name: fn(outputs, post) for name, fn in post_terms.items()}
        return self.surrogate(outputs, post), {"kl_post": task_sampling_kl(outputs, post), **extra}

    def per_task(self, params: Params, batches: Sequence[Batch], **post_terms: PostTerm) -> dict[str, jax.Array]:
        """``task_outputs`` for every task (``batches``: the K+1 rounds, leaves ``[T, R, H, ...]``):
        ``value`` ``[T]``, ``kl_pre`` ``[T, K]``, ``kl_post`` ``[T]`` and the ``post_terms`` ``[T]``."""
        return map_tasks(lambda task_batches: self.task_outputs(params, task_batches, **post_terms)[1], tuple(batches))

    def __call__(self, params: Params, batches: Sequence[Batch], **post_terms: PostTerm) -> tuple[jax.Array, dict[str, jax.Array]]:
        """``(loss, aux)``: the task mean of ``per_task``'s ``value`` and of everything else (``kl_pre``
        keeps its inner-step axis ``[K]``)."""
        return task_means(self.per_task(params, batches, **post_terms))

    def task_value_and_grad(self, params: Params, task_batches: Sequence[Batch], kl_weights: jax.Array | None = None,
                            **post_terms: PostTerm) -> tuple[jax.Array, dict[str, jax.Array], Params, Params]:
        """One task's ``loss = value + sum_k kl_weights[k] * kl_pre[k]`` (``kl_weights`` ``[K]``, default 0),
        ``task_outputs``' dict, the gradient of ``loss`` in ``params`` and the adapted parameters.

        The gradient is the chain rule through the K inner steps by hand (``adapt_with_pullback``:
        forward-over-reverse), which the tests check against ``jax.grad`` of ``task_outputs``.
        """
        theta, kl_pre, pullback = adapt_with_pullback(params, task_batches, self.alpha, self.inner_loss)
        (value, out), grad_theta = jax.value_and_grad(
            lambda q: self.post_outputs(q, task_batches, **post_terms), has_aux=True)(theta)
        weights = jnp.zeros_like(kl_pre) if kl_weights is None else jnp.asarray(kl_weights, kl_pre.dtype)
        grad = pullback(grad_theta, weights)
        if self.emaml_coef:
            term, term_grad = jax.value_and_grad(task_emaml_term)(params, task_batches[0], task_batches[-1])
            value = value + self.emaml_coef * term
            grad = jax.tree_util.tree_map(lambda g, e: g + self.emaml_coef * e, grad, term_grad)
        return value + jnp.sum(weights * kl_pre), {"value": value, "kl_pre": kl_pre, **out}, grad, theta

    def value_and_grad(self, params: Params, batches: Sequence[Batch], kl_weights: jax.Array | None = None,
                       **post_terms: PostTerm) -> tuple[tuple[jax.Array, dict[str, jax.Array]], Params]:
        """``((loss, aux), grad)`` of ``loss = mean_i [value_i + sum_k kl_weights[k] * kl_pre_{k,i}]``, as
        ``jax.value_and_grad(..., has_aux=True)`` would give; ``aux`` holds the task means of all of
        ``task_outputs`` (``value`` included).

        The meta-gradient is a mean of per-task gradients, so each task's is taken on its own
        (``task_value_and_grad`` under ``map_tasks``): on a CPU a task's passes through the adaptation
        stay in cache (``python -m promp.bench.promp_update`` times ProMP's Adam step).
        """
        def task(task_batches):
            return self.task_value_and_grad(params, task_batches, kl_weights, **post_terms)[:3]

        losses, outs, grads = map_tasks(task, tuple(batches))
        aux = {name: value.mean(0) for name, value in outs.items()}
        return (losses.mean(), aux), jax.tree_util.tree_map(lambda g: g.mean(0), grads)


def task_means(out: dict[str, jax.Array]) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``(mean of value, task means of the rest)`` of ``per_task``-shaped outputs."""
    aux = {name: value.mean(0) for name, value in out.items() if name != "value"}
    return out["value"].mean(0), aux


def emaml_coefficient(cfg: Any) -> float:
    """0 without ``cfg.emaml``; 1 as in the original code; ``inner_lr`` with ``cfg.emaml_alpha_scaled`` (ProMP eq. 3)."""
    if not getattr(cfg, "emaml", False):
        return 0.0
    return float(cfg.inner_lr) if getattr(cfg, "emaml_alpha_scaled", False) else 1.0


def meta_objective(cfg: Any, surrogate: TaskLoss) -> MetaObjective:
    """The meta-objective of ``cfg`` (inner estimator, ``inner_lr``, E-MAML flags) with ``surrogate``."""
    return MetaObjective(cfg.inner_lr, INNER_LOSSES[cfg.inner_estimator], surrogate, emaml_coefficient(cfg))
