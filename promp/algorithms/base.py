"""What every outer update provides (the trainer only sees this interface)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple


class OuterUpdate(NamedTuple):
    """An algorithm's outer update.

    * ``init(params) -> state``: optimiser state (kept across iterations, saved in checkpoints);
    * ``update(params, state, batches, eta) -> (params, state, stats)``: one meta-iteration's update
      on the K+1 processed sampling rounds; ``stats`` is a dict of scalars/arrays for logging;
    * ``loss(params, batches, eta) -> (loss, aux)``: the meta-objective it minimises, for tests.
    """

    init: Callable[[Any], Any]
    update: Callable[..., Any]
    loss: Callable[..., Any]
