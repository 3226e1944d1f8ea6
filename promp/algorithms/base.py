"""What every outer update provides (the trainer only sees this interface)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple


class OuterUpdate(NamedTuple):
    """An algorithm's outer update: an optimiser over its meta-objective, with its own state.

    * ``init(params) -> state``: optimiser state (kept across iterations, saved in checkpoints);
    * ``update(params, state, batches) -> (params, state, stats)``: one meta-iteration's update on the
      K+1 processed sampling rounds; ``stats`` is a dict of scalars/arrays for logging;
    * ``loss(params, state, batches) -> (loss, aux)``: the objective it minimises (which may depend on
      the state, e.g. ProMP's KL coefficient), for tests and experiments.
    """

    init: Callable[[Any], Any]
    update: Callable[..., Any]
    loss: Callable[..., Any]


class PenaltyState(NamedTuple):
    """State of an optimiser of a KL-penalised objective (ProMP): the optimiser's own state and the KL
    coefficient per inner step (``[K]``, float64 on the host, adapted between iterations)."""

    optimizer: Any
    kl_coef: Any
