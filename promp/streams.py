"""Per-task random streams: the noise of a sampling round does not depend on how tasks are split.

A sampling round draws one seed per task from the run's generator (``task_seeds``); every copy of
task ``i`` then takes its reset noise and its action noise from the generator ``task_streams(seeds)[i]``.
The numbers a task sees are therefore the same whether all tasks are stepped in one process or
the tasks are split over any number of sampler processes (``promp.distributed``).

``TaskStreams`` lets an env written against ``reset(rng)`` use the streams unchanged: it looks like
a ``numpy.random.Generator`` and serves a draw with one row per copy (``size=(num_copies, ...)``)
by drawing each task's rows from that task's stream.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

SEED_BOUND = 2**63 - 1


def task_seeds(rng: np.random.Generator, num_tasks: int) -> np.ndarray:
    """One seed per task for the next sampling round, drawn from the run's generator ``rng``."""
    return rng.integers(0, SEED_BOUND, size=num_tasks, dtype=np.int64)


def task_streams(seeds: Sequence[int] | np.ndarray) -> list[np.random.Generator]:
    """The generators of the tasks whose round seeds are ``seeds`` (PCG64 seeded through SeedSequence)."""
    return [np.random.Generator(np.random.PCG64(int(s))) for s in np.asarray(seeds).reshape(-1)]


# Generator methods whose ``size`` argument decides the shape of the draw, with the position of
# ``size`` among the positional arguments.
_SIZE_POSITION = {
    "random": 0, "standard_normal": 0, "standard_exponential": 0,
    "uniform": 2, "normal": 2, "integers": 2, "exponential": 1, "standard_gamma": 1, "beta": 2,
    "gamma": 2, "laplace": 2, "logistic": 2, "lognormal": 2, "poisson": 1, "binomial": 2,
}


class TaskStreams:
    """A stand-in for ``numpy.random.Generator`` in ``MetaEnv.reset``: per-task streams behind one object.

    A draw of ``size=(num_copies, ...)`` (copies task-major, ``copies_per_task`` per task, as the
    protocol lays them out) concatenates ``streams[i].<method>(..., size=(copies_per_task, ...))``
    over the tasks; array parameters with a leading ``num_copies`` axis (e.g. per-copy ``low``) are
    split the same way. Any other draw (a scalar, another shape) comes from ``shared``, a stream all
    sampler processes hold in the same state, so an env whose reset does not depend on which tasks
    a process holds still gives the same numbers for any split.
    """

    def __init__(self, streams: Sequence[np.random.Generator], copies_per_task: int, shared: np.random.Generator) -> None:
        self.streams = list(streams)
        self.copies_per_task = int(copies_per_task)
        self.num_copies = len(self.streams) * self.copies_per_task
        self.shared = shared

    def _draw(self, name: str, args: tuple, kwargs: dict) -> Any:
        pos = _SIZE_POSITION[name]
        args = list(args)
        size = kwargs.get("size", args[pos] if len(args) > pos else None)
        shape = (size,) if isinstance(size, (int, np.integer)) else (tuple(size) if size is not None else None)
        if not shape or shape[0] != self.num_copies:
            return getattr(self.shared, name)(*args, **kwargs)
        rows = (self.copies_per_task, *shape[1:])
        if "size" in kwargs:
            kwargs = {**kwargs, "size": rows}
        else:
            args[pos] = rows
        R = self.copies_per_task
        out = []
        for i, stream in enumerate(self.streams):
            part_args = [self._rows(a, i, R) if j != pos else a for j, a in enumerate(args)]
            part_kwargs = {k: (self._rows(v, i, R) if k != "size" else v) for k, v in kwargs.items()}
            out.append(getattr(stream, name)(*part_args, **part_kwargs))
        return np.concatenate(out, axis=0)

    def _rows(self, value: Any, task: int, R: int) -> Any:
        """Task ``task``'s rows of a per-copy array parameter (anything else unchanged)."""
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == self.num_copies:
            return value[task * R:(task + 1) * R]
        return value

    def __getattr__(self, name: str) -> Any:
        if name in _SIZE_POSITION:
            return lambda *args, **kwargs: self._draw(name, args, kwargs)
        return getattr(self.shared, name)
