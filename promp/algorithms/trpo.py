"""TRPO outer update (docs/algorithms.md, TRPO; Schulman et al. 2015, arXiv 1502.05477, eq. 14):
natural-gradient step on the post-update surrogate under a KL bound.

Loss ``-mean_i mean_t ratio_t * A'_t`` (plus the optional E-MAML term); constraint
``mean_i mean_t KL(recorded post || pi_theta'_i(theta)) <= max_kl``. The search direction comes
from conjugate gradient on the curvature of the constraint, the step is scaled to the KL bound
and shrunk by 0.8 at most 15 times until the loss improves and the bound holds; otherwise the old
parameters are kept.

Curvature of the meta-constraint. At the current ``theta`` the recorded post-update distribution
*is* ``pi_theta'_i``, so each task's KL has zero gradient in ``theta'_i`` and its Hessian in
``theta`` is exactly ``J_i^T H_i J_i``: ``J_i = d theta'_i / d theta`` (for one inner step
``I - alpha * hess L_inner``) and ``H_i`` the KL Hessian in the adapted parameters, which there
equals the Fisher matrix ``D_i^T F D_i`` of the network outputs (``D_i``: Jacobian of mean and
log-std, ``F = diag(1/sigma^2, 2)``). ``meta_trpo_step`` builds this product from one
linearisation of the adaptation map (``J`` and its transpose) and one of the network on the
post-update data, instead of differentiating the KL three times through the inner step; it
reuses the same linearisation for the loss gradient ``J^T grad_theta' L``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from ..adaptation import adapt
from ..losses import at, emaml_term, likelihood_ratio
from ..optim import conjugate_gradient, hessian_vector_product
from ..policy import distribution
from ..types import Batch
from .base import OuterUpdate
from .objective import MetaObjective, meta_objective


def line_search_step(
    flat: jax.Array,
    loss_before: jax.Array,
    grad: jax.Array,
    hvp: Callable[[jax.Array], jax.Array],
    evaluate: Callable[[jax.Array], tuple[jax.Array, jax.Array]],
    max_kl: float,
    cg_iters: int = 10,
    cg_tol: float = 0.0,
    backtrack_ratio: float = 0.8,
    max_backtracks: int = 15,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """TRPO's step from flat parameters given the loss gradient and a curvature product (TRPO, App. C).

    ``s = CG(hvp, grad)``, initial step ``sqrt(2 max_kl / (s^T H s + 1e-8)) s``, backtracking line
    search with ``evaluate(x) -> (loss, kl)``; a step with NaN, or no acceptable step, leaves
    ``flat`` unchanged. jit-compatible.
    """
    cg = conjugate_gradient(hvp, grad, cg_iters, cg_tol)
    direction = cg.x
    shs = jnp.vdot(direction, hvp(direction))
    full_step = jnp.sqrt(2.0 * max_kl / (shs + 1e-8)) * direction
    step_finite = jnp.all(jnp.isfinite(full_step))

    def cond(carry):
        n, accepted = carry[0], carry[1]
        return (n < max_backtracks) & ~accepted & step_finite

    def body(carry):
        n = carry[0]
        x = flat - backtrack_ratio**n * full_step
        loss, kl = evaluate(x)
        ok = (loss < loss_before) & (kl <= max_kl) & jnp.isfinite(loss) & jnp.isfinite(kl)
        return n + 1, ok, x, loss, kl

    init = (jnp.asarray(0), jnp.asarray(False), flat, loss_before, jnp.zeros_like(loss_before))
    tries, accepted, x, loss, kl = jax.lax.while_loop(cond, body, init)
    stats = {
        "loss_before": loss_before,
        "loss_after": jnp.where(accepted, loss, loss_before),
        "kl_post": jnp.where(accepted, kl, 0.0),
        "step_accepted": accepted.astype(jnp.float32),
        "backtracks": tries,
        "grad_norm": jnp.linalg.norm(grad),
        "cg_iterations": cg.iterations,
        "cg_residual": cg.relative_residual,
    }
    return jnp.where(accepted, x, flat), stats


def trpo_step(
    loss_fn: Callable[[Any], jax.Array],
    kl_fn: Callable[[Any], jax.Array],
    params: Any,
    max_kl: float,
    cg_iters: int = 10,
    cg_damping: float = 0.0,
    cg_tol: float = 0.0,
    backtrack_ratio: float = 0.8,
    max_backtracks: int = 15,
) -> tuple[Any, dict[str, jax.Array]]:
    """One constrained step ``min loss s.t. kl <= max_kl`` from ``params`` (a pytree), with the exact
    Hessian of ``kl_fn`` (forward-over-reverse) plus ``cg_damping * I`` as curvature; jit-compatible.

    The textbook form for any pair of functions; the meta-update uses ``meta_trpo_step``.
    """
    flat, unravel = ravel_pytree(params)
    f_loss = lambda x: loss_fn(unravel(x))  # noqa: E731
    f_kl = lambda x: kl_fn(unravel(x))  # noqa: E731
    loss_before, grad = jax.value_and_grad(f_loss)(flat)
    exact = hessian_vector_product(f_kl, flat)  # linearised once, applied cg_iters + 1 times
    hvp = lambda v: exact(v) + cg_damping * v  # noqa: E731
    new_flat, stats = line_search_step(flat, loss_before, grad, hvp, lambda x: (f_loss(x), f_kl(x)), max_kl,
                                       cg_iters, cg_tol, backtrack_ratio, max_backtracks)
    return unravel(new_flat), stats


def first_rollouts(batch: Batch, fraction: float) -> Batch:
    """The first ``ceil(fraction * R)`` rollouts of every task (leaves ``[T, R, ...]``)."""
    n_rollouts = batch.obs.shape[1]
    n = max(1, min(n_rollouts, math.ceil(fraction * n_rollouts)))
    if n == n_rollouts:
        return batch
    return jax.tree_util.tree_map(lambda x: x[:, :n], batch)


class TaskStack(NamedTuple):
    """Maps between a parameter pytree, its flat vector and per-task stacks ``[T, P]``."""

    unravel: Callable[[jax.Array], Any]
    n_tasks: int

    def stack(self, v: jax.Array) -> Any:
        """The same flat vector for every task, as a per-task pytree."""
        return jax.vmap(self.unravel)(jnp.broadcast_to(v, (self.n_tasks, v.shape[0])))

    def rows(self, tree: Any) -> jax.Array:
        """Per-task pytree -> ``[T, P]``."""
        return jax.vmap(lambda t: ravel_pytree(t)[0])(tree)

    def tree(self, rows: jax.Array) -> Any:
        """``[T, P]`` -> per-task pytree."""
        return jax.vmap(self.unravel)(rows)


def linearize_adaptation(adapt: Callable[[Any], Any], flat: jax.Array, f: TaskStack, symmetric: bool):
    """Linearise ``adapt`` (per-task params -> per-task adapted params) at ``theta`` for every task.

    Returns ``(theta', J, J^T)``: ``J`` maps a flat ``v`` to the per-task ``J_i v``, ``J^T`` maps
    per-task rows ``[T, P]`` to ``sum_i J_i^T u_i``. With ``symmetric`` (one inner step:
    ``J_i = I - alpha * hess L_inner`` is symmetric) ``J_i^T`` is applied as ``J_i`` by the same
    forward-mode linearisation, which costs about half of its transpose.
    """
    stacked = f.stack(flat)
    theta, j = jax.linearize(adapt, stacked)
    if symmetric:
        def j_transpose(rows):
            return f.rows(j(f.tree(rows))).sum(0)
    else:
        transpose = jax.linear_transpose(j, stacked)

        def j_transpose(rows):
            return f.rows(transpose(f.tree(rows))[0]).sum(0)

    return theta, lambda v: j(f.stack(v)), j_transpose


def kl_curvature(theta: Any, j: Callable, j_transpose: Callable, post: Batch, floor: bool, f: TaskStack):
    """``v -> mean_i J_i^T D_i^T F D_i J_i v``: the Hessian of the mean post-update KL at the current
    point (module docstring), ``D_i`` the Jacobian of mean and log-std on ``post`` at ``theta'_i``."""
    def net(th):
        return jax.vmap(lambda p, o: distribution(p, o, floor))(th, post.obs)

    (_, log_std), net_vjp = jax.vjp(net, theta)
    weight = post.mask / (jnp.maximum(post.mask.sum(axis=(1, 2), keepdims=True), 1.0) * f.n_tasks)
    w_mean = weight[..., None] * 2.0 / (2.0 * jnp.exp(2.0 * log_std) + 1e-8)  # d^2 KL / d mean^2 (with the +1e-8)
    w_log_std = weight[..., None] * 2.0  # d^2 KL / d log_std^2 where the distributions agree

    def hvp(v: jax.Array) -> jax.Array:
        d_mean, d_log_std = jax.jvp(net, (theta,), (j(v),))[1]
        return j_transpose(f.rows(net_vjp((w_mean * d_mean, w_log_std * d_log_std))[0]))

    return hvp


def meta_trpo_step(
    params: Any,
    batches: Sequence[Batch],
    objective: MetaObjective,
    max_kl: float,
    cg_iters: int = 10,
    cg_damping: float = 1e-5,
    cg_tol: float = 1e-3,
    hvp_subsample: float = 1.0,
) -> tuple[Any, dict[str, jax.Array]]:
    """TRPO step on ``objective`` (MAML, arXiv 1703.03400, Alg. 3 with TRPO as the outer optimiser;
    constraint: its ``kl_post``): loss gradient ``J^T grad L(theta')`` and curvature ``J^T F J`` from one linearisation
    of the K inner steps. ``hvp_subsample < 1`` computes the curvature products on the first
    fraction of every task's rollouts (pre- and post-update), as rllab's subsampled HVPs."""
    batches = tuple(batches)
    flat, unravel = ravel_pytree(params)
    post, floor, symmetric = batches[-1], len(batches) == 1, len(batches) == 2
    n_tasks = post.mask.shape[0]
    f = TaskStack(unravel, n_tasks)
    alpha, inner_loss, emaml_coef = objective.alpha, objective.inner_loss, objective.emaml_coef

    def adapter(data):
        return lambda stacked: jax.vmap(lambda p, tb: adapt(p, tb, alpha, inner_loss)[0])(stacked, data)

    theta, j, j_transpose = linearize_adaptation(adapter(batches), flat, f, symmetric)
    surr, surr_grads = jax.vmap(jax.value_and_grad(lambda th, b: at(objective.surrogate, th, b, floor)))(theta, post)
    grad = j_transpose(f.rows(surr_grads) / n_tasks)
    loss_before = surr.mean()
    if emaml_coef:
        def emaml(x):
            p = unravel(x)
            return jax.vmap(lambda pre, b: emaml_term(p, pre, b))(batches[0], post).mean()

        term, term_grad = jax.value_and_grad(emaml)(flat)
        loss_before, grad = loss_before + emaml_coef * term, grad + emaml_coef * term_grad
    if hvp_subsample < 1.0:
        sub = tuple(first_rollouts(b, hvp_subsample) for b in batches)
        _, j, j_transpose = linearize_adaptation(adapter(sub), flat, f, symmetric)
        post = sub[-1]
    kl_hvp = kl_curvature(theta, j, j_transpose, post, floor, f)

    def evaluate(x):
        loss, aux = objective(unravel(x), batches)
        return loss, aux["kl_post"]

    hvp = lambda v: kl_hvp(v) + cg_damping * v  # noqa: E731
    new_flat, stats = line_search_step(flat, loss_before, grad, hvp, evaluate, max_kl, cg_iters, cg_tol)
    return unravel(new_flat), stats


def make_trpo_update(cfg: Any) -> OuterUpdate:
    """The jitted TRPO meta-update on the likelihood-ratio surrogate (docs/algorithms.md §5.2; KL bound
    ``cfg.max_kl``, CG settings from ``cfg``); no optimiser state."""
    objective = meta_objective(cfg, likelihood_ratio)
    cg = dict(cg_iters=cfg.cg_iters, cg_damping=cfg.cg_damping, cg_tol=cfg.cg_tol, hvp_subsample=cfg.hvp_subsample)

    @jax.jit
    def update(params, state, batches):
        new_params, stats = meta_trpo_step(params, batches, objective, cfg.max_kl, **cg)
        return new_params, state, stats

    loss = jax.jit(lambda params, state, batches: objective(params, batches))
    return OuterUpdate(init=lambda params: optax.EmptyState(), update=update, loss=loss)
