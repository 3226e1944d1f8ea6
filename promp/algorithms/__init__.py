"""Algorithms as compositions: (inner estimator, outer update, optional E-MAML term) (docs/algorithms.md §5, §6.3).

``ALGORITHMS`` (defined in ``promp.presets``, re-exported here) holds the named presets for ``--algo``;
``OUTER_UPDATES`` the outer-update builders by name; ``promp.adaptation.INNER_LOSSES`` the inner estimators by name.
"""

from __future__ import annotations

from typing import Any, Callable

from ..adaptation import INNER_LOSSES, InnerLoss
from ..presets import ALGORITHMS, Algorithm
from .base import OuterUpdate
from .dice import make_dice_update
from .promp import make_promp_update
from .trpo import make_trpo_update
from .vpg import make_vpg_dice_update, make_vpg_update


OUTER_UPDATES: dict[str, Callable[[Any, InnerLoss], OuterUpdate]] = {
    "promp": make_promp_update,
    "trpo": make_trpo_update,
    "vpg": make_vpg_update,
    "dice": make_dice_update,
    "vpg-dice": make_vpg_dice_update,
}


def make_outer_update(cfg: Any) -> OuterUpdate:
    """The outer update for ``cfg.outer`` with the inner estimator ``cfg.inner_estimator``."""
    return OUTER_UPDATES[cfg.outer](cfg, INNER_LOSSES[cfg.inner_estimator])


__all__ = ["ALGORITHMS", "OUTER_UPDATES", "Algorithm", "make_outer_update"]
