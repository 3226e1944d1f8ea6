"""Second-order helpers for TRPO (docs/algorithms.md, TRPO section): Hessian-vector products and
conjugate gradient."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


def hessian_vector_product(
    f: Callable[[jax.Array], jax.Array], x: jax.Array, v: jax.Array | None = None
) -> jax.Array | Callable[[jax.Array], jax.Array]:
    """Exact ``hess f(x) @ v`` by forward-over-reverse differentiation (``jvp`` of ``grad``).

    Without ``v``, returns the linear map ``v -> hess f(x) @ v`` (``jax.linearize`` of ``grad f``, so
    the primal pass is shared by repeated products, e.g. in conjugate gradient). Replaces the
    original's symmetric finite differences of the constraint gradient.
    """
    if v is None:
        return jax.linearize(jax.grad(f), x)[1]
    return jax.jvp(jax.grad(f), (x,), (v,))[1]


class CGResult(NamedTuple):
    """Conjugate-gradient solution with its diagnostics."""

    x: jax.Array
    iterations: jax.Array  # matrix-vector products spent in the loop
    relative_residual: jax.Array  # ||b - A x|| / ||b|| as tracked by the recursion
    residual: jax.Array  # b - A x as tracked by the recursion, so A x = b - residual without a product


def conjugate_gradient(
    matvec: Callable[[jax.Array], jax.Array], b: jax.Array, iters: int = 10, tol: float = 0.0
) -> CGResult:
    """Approximately solve ``A x = b`` for symmetric positive-definite ``A`` given as ``matvec``.

    Standard CG from ``x = 0`` (Nocedal & Wright, Algorithm 5.2): at most ``iters`` iterations,
    stopping early once the relative residual ``||r|| / ||b||`` is at most ``tol`` (``tol = 0``
    runs all ``iters``). ``b = 0`` gives ``x = 0`` without a product.
    """
    bb = jnp.vdot(b, b)
    threshold = (tol**2) * bb

    def cond(carry):
        i, _, _, _, rr = carry
        return (i < iters) & (rr > threshold)

    def body(carry):
        i, x, r, p, rr = carry
        ap = matvec(p)
        step = rr / jnp.vdot(p, ap)
        x = x + step * p
        r = r - step * ap
        rr_new = jnp.vdot(r, r)
        p = r + (rr_new / rr) * p
        return i + 1, x, r, p, rr_new

    init = (jnp.asarray(0), jnp.zeros_like(b), b, b, bb)
    i, x, r, _, rr = jax.lax.while_loop(cond, body, init)
    return CGResult(x, i, jnp.sqrt(rr / jnp.maximum(bb, jnp.finfo(bb.dtype).tiny)), r)
