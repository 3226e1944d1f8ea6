"""Algorithms as compositions: (inner estimator, outer update, optional E-MAML term) (spec section 5).

``ALGORITHMS`` holds the named presets for ``--algo``; ``OUTER_UPDATES`` the outer-update builders
by name; ``promp.adaptation.INNER_LOSSES`` the inner estimators by name.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..adaptation import INNER_LOSSES, InnerLoss
from .base import OuterUpdate
from .promp import make_promp_update


@dataclasses.dataclass(frozen=True)
class Algorithm:
    """A named combination; ``family`` selects the env's preset row (``promp``, ``trpo``, ``vpg``, ``dice``)."""

    id: str
    inner_estimator: str
    outer: str
    emaml: bool
    family: str
    description: str
    overrides: tuple[tuple[str, Any], ...] = ()

    def settings(self) -> dict[str, Any]:
        """Config values this preset fixes (composition plus any algorithm-specific defaults)."""
        return {"inner_estimator": self.inner_estimator, "outer": self.outer, "emaml": self.emaml, **dict(self.overrides)}


ALGORITHMS: dict[str, Algorithm] = {
    a.id: a
    for a in [
        Algorithm("promp", "likelihood-ratio", "promp", False, "promp",
                  "ProMP: LVC inner step, clipped surrogate + KL penalty, N Adam steps"),
    ]
}

OUTER_UPDATES: dict[str, Callable[[Any, InnerLoss], OuterUpdate]] = {
    "promp": make_promp_update,
}


def make_outer_update(cfg: Any) -> OuterUpdate:
    """The outer update for ``cfg.outer`` with the inner estimator ``cfg.inner_estimator``."""
    return OUTER_UPDATES[cfg.outer](cfg, INNER_LOSSES[cfg.inner_estimator])
