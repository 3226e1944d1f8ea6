"""Algorithms as compositions: (inner estimator, outer update, optional E-MAML term) (docs/algorithms.md §5, §6.3).

``ALGORITHMS`` holds the named presets for ``--algo``; ``OUTER_UPDATES`` the outer-update builders
by name; ``promp.adaptation.INNER_LOSSES`` the inner estimators by name.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..adaptation import INNER_LOSSES, InnerLoss
from .base import OuterUpdate
from .dice import make_dice_update
from .promp import make_promp_update
from .trpo import make_trpo_update
from .vpg import make_vpg_dice_update, make_vpg_update


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
        Algorithm("maml-trpo", "log-likelihood", "trpo", False, "trpo",
                  "MAML-TRPO: original MAML surrogate inner step (Hessian H2 only), TRPO outer step"),
        Algorithm("emaml-trpo", "log-likelihood", "trpo", True, "trpo",
                  "E-MAML-TRPO: MAML-TRPO plus the E-MAML pre-update REINFORCE term (formulation II)"),
        Algorithm("lvc-trpo", "likelihood-ratio", "trpo", False, "trpo",
                  "LVC-TRPO: LVC inner step (Hessian H1 + H2), TRPO outer step"),
        Algorithm("maml-vpg", "log-likelihood", "vpg", False, "vpg",
                  "MAML-VPG: original MAML surrogate inner step, one Adam step on the outer surrogate"),
        Algorithm("emaml-vpg", "log-likelihood", "vpg", True, "vpg",
                  "E-MAML-VPG: MAML-VPG plus the E-MAML pre-update REINFORCE term (formulation II)"),
        Algorithm("lvc-vpg", "likelihood-ratio", "vpg", False, "vpg",
                  "LVC-VPG: LVC inner step, one Adam step on the outer surrogate"),
        Algorithm("dice-vpg", "dice", "dice", False, "dice",
                  "DiCE-MAML: DiCE inner and outer losses (unbiased Hessian), one Adam step, 80 rollouts",
                  overrides=(("rollouts_per_task", 80),)),
        Algorithm("vpg-dice", "dice", "vpg-dice", False, "dice",
                  "VPG-DiCE: DiCE inner step, log-likelihood outer with GAE advantages, one Adam step"),
    ]
}

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
