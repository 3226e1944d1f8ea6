"""The outer-update guard: a KL trust bound on the pre-update policy, checked inside the jitted update.

ProMP takes N full-batch Adam steps per iteration on the clipped surrogate + kl_coef * KL (paper eq. 13, eta there).
The KL penalty is soft (kl_coef = 5e-4 by default), so nothing stops one iteration from moving the
pre-update policy far from the policy that sampled the data; a run at paper scale on
halfcheetah-fwd-back collapsed after such a jump (docs/results.md, "Late collapse of ProMP on
HalfCheetah"). The guard is the hard counterpart of that penalty, in the spirit of the target-KL
early stopping of PPO implementations: before each Adam step it looks at the ``kl_pre`` quantity of
the current parameters (``mean_t KL(recorded sampling dist || pi_theta)`` on the pre-update data,
per inner step; the ``KL`` term of eq. 13) and

* if it is within ``bound``, takes the step;
* if it exceeds ``bound`` (or is NaN), reverts the parameters *and* the Adam state to those before
  the step that crossed the bound, and takes no further step this iteration.

The same check runs on the parameters after the last step. Where the bound is never crossed, the
parameters, Adam state and statistics are exactly those of the unguarded update (``jnp.where``
selects the unguarded values), so a run where the guard does not fire gives the same numbers.

If already the first step crosses the bound, reverting it would keep nothing; the Adam state would be
reverted too, so the next iteration's first step would be as long again, and the run would never move
(humanoid-dir-2d, whose contact-force observations reach thousands, did exactly that for 200 iterations:
docs/results.md). The guard then shortens that first step instead (``shrinking_step``): the largest
``2^-j`` of it (``j <= 10``) within the bounds, the Adam moments advanced as for the full step. The
``guard_step_scale`` statistic records the fraction kept (1 for an unshortened update, 0 if even
``2^-10`` of the step crosses the bound: nothing is kept).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..task_map import jit_tasks


def _select(pred: jax.Array, a: Any, b: Any) -> Any:
    """``a`` where ``pred`` else ``b``, leaf by leaf (``pred`` a scalar bool)."""
    return jax.tree_util.tree_map(lambda x, y: jnp.where(pred, x, y), a, b)


def exceeds(stats: dict[str, Any], bounds: dict[str, float]) -> jax.Array:
    """True iff, for some ``name`` with ``bounds[name] > 0`` present in ``stats``, the largest value of
    ``stats[name]`` (e.g. the per-inner-step KLs) is above the bound or not a number."""
    out = jnp.asarray(False)
    for name, bound in bounds.items():
        if bound > 0 and name in stats:
            out = out | ~(jnp.max(stats[name]) <= bound)
    return out


def guarded_adam_steps(
    loss_fn: Callable[[Any], tuple[jax.Array, dict]],
    optimizer: optax.GradientTransformation,
    params: Any,
    opt_state: Any,
    n_steps: int,
    bounds: dict[str, float],
    value_and_grad: Callable[[Any], tuple[tuple[jax.Array, dict], Any]] | None = None,
) -> tuple[Any, Any, dict[str, jax.Array]]:
    """Up to ``n_steps`` Adam steps on ``loss_fn`` (``p -> (loss, aux)``), stopped and rolled back one step
    once a statistic in ``aux`` exceeds its bound (``exceeds(aux, bounds)``, e.g. ``{"kl_pre": 0.5}``).

    Returns ``(params, opt_state, info)``; ``info`` has ``steps`` (Adam steps kept), ``fired`` (the
    bound was crossed), ``loss``/``aux`` at the returned parameters, and ``loss_before``/``grad_norm``
    of the first step (at the incoming parameters). ``value_and_grad`` (default: ``jax.value_and_grad`` of
    ``loss_fn`` with ``has_aux``) computes the same values and gradient by another route.
    """

    value_and_grad = value_and_grad or jax.value_and_grad(loss_fn, has_aux=True)

    def step(carry, _):
        p, s, p_prev, s_prev, stopped, taken = carry
        (loss, aux), grads = value_and_grad(p)
        updates, s_new = optimizer.update(grads, s, p)
        p_new = optax.apply_updates(p, updates)
        crossed = exceeds(aux, bounds) & ~stopped
        advance = ~(stopped | crossed)
        p_out = _select(advance, p_new, _select(crossed, p_prev, p))
        s_out = _select(advance, s_new, _select(crossed, s_prev, s))
        taken = taken + advance.astype(jnp.int32) - crossed.astype(jnp.int32)
        return (p_out, s_out, p, s, stopped | crossed, taken), (loss, aux, optax.tree.norm(grads))

    init = (params, opt_state, params, opt_state, jnp.asarray(False), jnp.asarray(0, jnp.int32))
    (p, s, p_prev, s_prev, stopped, taken), (losses, auxes, grad_norms) = jax.lax.scan(step, init, None, length=n_steps)
    loss_last, aux_last = loss_fn(p)
    crossed = exceeds(aux_last, bounds) & ~stopped
    p, s = _select(crossed, p_prev, p), _select(crossed, s_prev, s)
    taken = taken - crossed.astype(jnp.int32)
    all_losses = jnp.concatenate([losses, loss_last[None]])
    all_aux = jax.tree_util.tree_map(lambda xs, x: jnp.concatenate([xs, x[None]]), auxes, aux_last)
    info = {
        "steps": taken,
        "fired": stopped | crossed,
        "loss": all_losses[taken],
        "aux": jax.tree_util.tree_map(lambda x: x[taken], all_aux),
        "loss_before": losses[0],
        "grad_norm": grad_norms[0],
    }
    return p, s, info


def guard_update(
    update: Callable[..., tuple[Any, Any, dict]],
    replay: Callable[..., tuple[Any, Any, dict, jax.Array]] | None,
    shrink: Callable[..., tuple[Any, Any, dict, jax.Array]],
    bounds: dict[str, float],
    n_steps: int,
) -> Callable[..., tuple[Any, Any, dict]]:
    """Wrap an outer ``update(params, opt_state, batches, *args) -> (params, opt_state, stats)`` with the guard.

    The original ``update`` always runs first, unchanged, and reports the statistics the bounds name
    (``kl_pre``, ``kl_post``) at its result. Only if one exceeds its bound (``exceeds(stats, bounds)``)
    is its result discarded and ``replay(params, opt_state, batches, *args) -> (params, opt_state,
    stats, steps)`` run instead: the guarded steps from the same starting point. So where the guard
    does not fire, every number is the original's. If the replay keeps no step, or there is none to run
    (``replay`` ``None``: a one-step update, whose only step crossed), ``shrink`` (same arguments,
    ``-> (params, opt_state, stats, scale)``, ``shrinking_step``) takes a shortened first step instead, or
    none. Bounds ``<= 0`` are off. Adds ``adam_steps``, ``guard_fired`` and ``guard_step_scale`` (the
    fraction of the first step kept when it was shortened, else 1; 0 when nothing was kept) to the stats.
    """

    def guarded(params, opt_state, batches, *args):
        new_params, new_state, stats = update(params, opt_state, batches, *args)
        steps, fired, scale = n_steps, False, 1.0
        if bool(exceeds(stats, bounds)):
            fired, steps = True, 0
            if replay is not None:
                new_params, new_state, stats, steps = replay(params, opt_state, batches, *args)
            if int(steps) == 0:
                new_params, new_state, stats, scale = shrink(params, opt_state, batches, *args)
                scale = float(scale)
                steps = int(scale > 0)
        stats = {**stats, "adam_steps": np.int32(steps), "guard_fired": np.int32(fired),
                 "guard_step_scale": np.float32(scale)}
        return new_params, new_state, stats

    return guarded


def shrinking_step(loss_fn: Callable[..., tuple[jax.Array, dict]], optimizer: optax.GradientTransformation,
                   bounds: dict[str, float], stats_fn: Callable[..., dict], halvings: int = 10,
                   value_and_grad: Callable[..., tuple[tuple[jax.Array, dict], Any]] | None = None):
    """The guard's shortened first step (``guard_update``'s ``shrink``), jitted: the optimiser's first step
    ``u`` from ``params`` (gradient of ``loss_fn(params, batches, *args) -> (loss, aux)``, or by
    ``value_and_grad``), then ``params + 2^-j u`` for ``j = 1, 2, ...`` until ``aux`` at that point is within
    ``bounds`` (at most ``halvings`` tries). Returns ``(params, opt_state, stats, scale)``: the shortened
    step with the optimiser state of the full step and ``scale = 2^-j``; or, when no try fits, the
    incoming parameters and state with ``scale = 0``. ``stats_fn(loss_before, loss_after, grad_norm, aux)``
    arranges the statistics at the returned parameters."""

    @jit_tasks
    def shrink(params, opt_state, batches, *args):
        def f(q):
            return loss_fn(q, batches, *args)

        vg = (lambda q: value_and_grad(q, batches, *args)) if value_and_grad else jax.value_and_grad(f, has_aux=True)
        (loss0, aux0), grads = vg(params)
        updates, state_new = optimizer.update(grads, opt_state, params)

        def keep_going(carry):
            j, fits = carry[0], carry[1]
            return ~fits & (j < halvings)

        def halve(carry):
            j = carry[0] + 1
            q = jax.tree_util.tree_map(lambda p, u: p + jnp.asarray(0.5, u.dtype) ** j * u, params, updates)
            loss, aux = f(q)
            return j, ~exceeds(aux, bounds), q, loss, aux

        init = (jnp.asarray(0, jnp.int32), jnp.asarray(False), params, loss0, aux0)
        j, fits, q, loss, aux = jax.lax.while_loop(keep_going, halve, init)
        q, state = _select(fits, q, params), _select(fits, state_new, opt_state)
        loss, aux = jnp.where(fits, loss, loss0), _select(fits, aux, aux0)
        scale = jnp.where(fits, jnp.asarray(0.5, jnp.float32) ** j, 0.0)
        return q, state, stats_fn(loss0, loss, optax.tree.norm(grads), aux), scale

    return shrink


def scan_replay(loss_fn: Callable[..., tuple[jax.Array, dict]], optimizer: optax.GradientTransformation, n_steps: int,
                bounds: dict[str, float], stats_fn: Callable[..., dict],
                value_and_grad: Callable[..., tuple[tuple[jax.Array, dict], Any]] | None = None):
    """The replay of an N-Adam-step update: ``guarded_adam_steps`` on ``loss_fn(params, batches, *args)``
    (whose ``aux`` holds the bounded statistics), jitted; ``stats_fn(loss_before, loss_after,
    grad_norm, aux)`` arranges the statistics; ``value_and_grad(params, batches, *args)``, if given,
    is ``loss_fn``'s value and gradient by another route (``guarded_adam_steps``)."""

    @jit_tasks
    def replay(params, opt_state, batches, *args):
        vg = (lambda q: value_and_grad(q, batches, *args)) if value_and_grad else None
        p, s, info = guarded_adam_steps(lambda q: loss_fn(q, batches, *args), optimizer, params, opt_state, n_steps, bounds, vg)
        return p, s, stats_fn(info["loss_before"], info["loss"], info["grad_norm"], info["aux"]), info["steps"]

    return replay
