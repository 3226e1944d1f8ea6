"""Mapping a per-task function over the task axis, the way that is fastest on the backend in use."""

from __future__ import annotations

from typing import Any, Callable

import jax


def map_tasks(fn: Callable[[Any], Any], xs: Any) -> Any:
    """``fn`` over the leading task axis of ``xs``, stacking the outputs (as ``jax.vmap(fn)(xs)``).

    On a CPU the tasks go one at a time (``jax.lax.map``): a task's activations (e.g. 2,000 steps x 64
    units) stay in cache, where the vmapped form streams every task's through memory; one meta-objective
    evaluation is 2.4x (point-nav, 20 tasks) to 2.7x (HalfCheetah, 40 tasks) faster. On an accelerator
    the tasks are vmapped (one kernel per operation for all tasks). Same numbers up to float32
    round-off (summation order).
    """
    if one_at_a_time():
        return jax.lax.map(fn, xs)
    return jax.vmap(fn)(xs)


def one_at_a_time() -> bool:
    """Whether ``map_tasks`` maps sequentially: on the CPU backend (decided when a function is traced)."""
    return jax.default_backend() == "cpu"
