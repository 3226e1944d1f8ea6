"""DiCE-MAML's outer update (docs/algorithms.md §5.4): one Adam step on the DiCE loss of the post-update data."""

from __future__ import annotations

from typing import Any

from ..adaptation import InnerLoss
from .base import OuterUpdate
from .meta import dice_surrogate
from .vpg import make_adam_update


def make_dice_update(cfg: Any, inner_loss: InnerLoss) -> OuterUpdate:
    """One Adam step (lr ``cfg.outer_lr``) on ``mean_i DiCE-loss(theta'_i)``; with the DiCE inner
    estimator the meta-gradient is DiCE's unbiased second-order estimate (formulation I)."""
    return make_adam_update(cfg, inner_loss, dice_surrogate)
