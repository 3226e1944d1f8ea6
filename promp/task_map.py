"""Mapping a per-task function over the task axis, the way that is fastest on the backend in use."""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

AXIS = "tasks"

_one_device = threading.local()  # .on: inside ``tasks_on_one_device()``
_tracing = threading.local()  # .jit_tasks: tracing a ``jit_tasks`` function; .group: tracing a task group


def map_tasks(fn: Callable[[Any], Any], xs: Any) -> Any:
    """``fn`` over the leading task axis of ``xs``, stacking the outputs (as ``jax.vmap(fn)(xs)``).

    On a CPU the tasks go one at a time (``jax.lax.map``): a task's activations (e.g. 2,000 steps x 64
    units) stay in cache, where the vmapped form streams every task's through memory (README, Speed, has
    the measured difference). Where JAX has
    several CPU devices (``promp.threads.configure_threads`` makes one per XLA thread), the tasks are
    split into equal groups, one per device, that run side by side (``jax.shard_map``), each group one
    task at a time: one task's matrices are too small to keep two cores busy. A task count that is not
    a multiple of the device count is padded with copies of the last task, whose outputs are dropped.
    Only functions jitted with ``jit_tasks`` spread tasks (it passes their arguments suitably);
    anywhere else (eagerly, under a plain ``jax.jit``) the tasks go one at a time. On an accelerator the
    tasks are vmapped (one kernel per operation for all tasks). Same numbers up to float32 round-off
    (the order of sums over tasks).
    """
    if not one_at_a_time():
        return jax.vmap(fn)(xs)
    mesh = task_mesh()
    if mesh is None or not getattr(_tracing, "jit_tasks", False) or getattr(_tracing, "group", False):
        return jax.lax.map(fn, xs)
    n_tasks = jax.tree_util.tree_leaves(xs)[0].shape[0]
    pad = -n_tasks % mesh.size
    if pad:
        xs = jax.tree_util.tree_map(lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]), xs)

    def group(local):
        _tracing.group = True
        try:
            return jax.lax.map(fn, local)
        finally:
            _tracing.group = False

    spec = PartitionSpec(AXIS)
    out = jax.shard_map(group, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)(xs)
    return jax.tree_util.tree_map(lambda y: y[:n_tasks], out) if pad else out


def one_at_a_time() -> bool:
    """Whether ``map_tasks`` maps sequentially: on the CPU backend (decided when a function is traced)."""
    return jax.default_backend() == "cpu"


def sharded() -> bool:
    """Whether ``map_tasks`` spreads tasks over several CPU devices (CPU backend, more than one device,
    not inside ``tasks_on_one_device``)."""
    return one_at_a_time() and len(jax.devices("cpu")) > 1 and not getattr(_one_device, "on", False)


@contextlib.contextmanager
def tasks_on_one_device():
    """Within this block ``jit_tasks`` functions run on the first CPU device, tasks one at a time (the
    path of a one-device JAX), e.g. to time both paths in one process (``promp.bench``)."""
    outer, _one_device.on = getattr(_one_device, "on", False), True
    try:
        yield
    finally:
        _one_device.on = outer


def task_mesh() -> Mesh | None:
    """The mesh of all CPU devices ``map_tasks`` spreads tasks over, or ``None`` where it does not."""
    return _cpu_mesh() if sharded() else None


@functools.cache
def _cpu_mesh() -> Mesh:
    """All CPU devices on the task axis (JAX's devices are fixed once it has started)."""
    return Mesh(np.array(jax.devices("cpu")), (AXIS,))


def jit_tasks(fn: Callable[..., Any], **jit_kwargs: Any) -> Callable[..., Any]:
    """``jax.jit(fn, **jit_kwargs)`` for a function that calls ``map_tasks``, which then spreads tasks over
    CPU devices where there are several. A computation may only take arrays placed on its own devices,
    so arrays committed to devices are passed as uncommitted copies (a copy of the batches per call where
    they are committed) and array results come back uncommitted on the default device, like the results
    of a one-device computation: every other computation (e.g. the sampler's policy) takes them, and
    the placements, so the compiled programs, stay the same from call to call.
    Called while another transformation traces it (``jax.grad``, a plain ``jax.jit``) other than a
    ``jit_tasks`` function's, and where there is one device, it is ``jax.jit(fn)``: tasks one at a time."""
    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        outer, _tracing.jit_tasks = getattr(_tracing, "jit_tasks", False), True
        try:
            return fn(*args, **kwargs)
        finally:
            _tracing.jit_tasks = outer

    plain, spread = jax.jit(fn, **jit_kwargs), jax.jit(traced, **jit_kwargs)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        traced_args = any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves((args, kwargs)))
        if task_mesh() is None or (traced_args and not getattr(_tracing, "jit_tasks", False)):
            return plain(*args, **kwargs)
        if traced_args:  # inside a jit_tasks function: traced inline, as jit in jit is
            return fn(*args, **kwargs)
        args, kwargs = jax.tree_util.tree_map(_uncommitted, (args, kwargs))
        return jax.tree_util.tree_map(_uncommitted, spread(*args, **kwargs))

    return call


def _uncommitted(x: Any) -> Any:
    """``x``, or for an array committed to devices the same values in an uncommitted array on the default
    device (which any computation may take, and which compiles like a fresh array)."""
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer) and x.committed:
        return jnp.asarray(np.asarray(x))
    return x
