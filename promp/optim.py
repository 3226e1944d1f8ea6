"""Second-order helpers for TRPO (spec 5.1): exact Hessian-vector products and conjugate gradient."""

from __future__ import annotations

from typing import Callable

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


def conjugate_gradient(matvec: Callable[[jax.Array], jax.Array], b: jax.Array, iters: int = 10, tol: float = 1e-10) -> jax.Array:
    """Approximately solve ``A x = b`` for symmetric positive-definite ``A`` given as ``matvec``.

    Standard CG from ``x = 0``; at most ``iters`` iterations, stopping early once the squared
    residual norm falls below ``tol`` (the original's settings: 10 iterations, tol 1e-10).
    """

    def cond(carry):
        i, _, _, _, rr = carry
        return (i < iters) & (rr >= tol)

    def body(carry):
        i, x, r, p, rr = carry
        ap = matvec(p)
        step = rr / jnp.vdot(p, ap)
        x = x + step * p
        r = r - step * ap
        rr_new = jnp.vdot(r, r)
        p = r + (rr_new / rr) * p
        return i + 1, x, r, p, rr_new

    init = (jnp.asarray(0), jnp.zeros_like(b), b, b, jnp.vdot(b, b))
    return jax.lax.while_loop(cond, body, init)[1]
