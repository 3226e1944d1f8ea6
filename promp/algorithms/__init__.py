"""Algorithms as compositions: (inner estimator, outer update, optional E-MAML term) (docs/algorithms.md §5, §6.3).

The named presets for ``--algo`` are ``promp.presets.ALGORITHMS``;
``OUTER_UPDATES`` the outer-update builders ``cfg -> OuterUpdate`` by name; ``promp.algorithms.losses.INNER_LOSSES``
the inner estimators by name.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from . import losses
from .base import OuterUpdate
from .promp import make_promp_update
from .trpo import make_trpo_update
from .vpg import make_adam_update

OUTER_UPDATES: dict[str, Callable[[Any], OuterUpdate]] = {
    "promp": make_promp_update,  # clipped surrogate + KL penalty, N Adam steps (§5.1)
    "trpo": make_trpo_update,  # likelihood-ratio surrogate, KL-constrained natural step (§5.2)
    "vpg": partial(make_adam_update, surrogate=losses.task_log_likelihood),  # one Adam step (§5.3)
    "dice": partial(make_adam_update, surrogate=losses.task_dice),  # DiCE-MAML (§5.4)
    "vpg-dice": partial(make_adam_update, surrogate=losses.task_padded_log_likelihood),  # VPG-DiCE (§5.5)
}


PADDED_MEAN_LOSSES = {"outer": ("dice", "vpg-dice"), "inner_estimator": ("dice",)}
"""Config choices whose losses average over the whole padded ``[R, H]`` array (docs/algorithms.md §5.4-5.5)."""


def pads_matter(cfg: Any) -> bool:
    """Whether ``cfg``'s losses depend on the padding after paths end (``PADDED_MEAN_LOSSES``); when not,
    the learner drops the steps that are padding in every path (``promp.processing.trim_padding``)."""
    return any(getattr(cfg, field) in names for field, names in PADDED_MEAN_LOSSES.items())


def make_outer_update(cfg: Any) -> OuterUpdate:
    """The outer update ``cfg.outer`` over the meta-objective of ``cfg`` (inner estimator, E-MAML term)."""
    return OUTER_UPDATES[cfg.outer](cfg)


__all__ = ["OUTER_UPDATES", "PADDED_MEAN_LOSSES", "make_outer_update", "pads_matter"]
