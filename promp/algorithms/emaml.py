"""The E-MAML term (formulation II's pre-update credit assignment, docs/algorithms.md §5.6 and §8 item 5)."""

from __future__ import annotations

from typing import Any

import jax

from ..objectives import emaml_loss
from ..policy import params_log_prob
from ..types import Batch, Params


def emaml_task_term(params: Params, pre: Batch, post: Batch) -> jax.Array:
    """One task's E-MAML loss: post-update batch statistic times the mean pre-update log-likelihood.

    Uses the original's normalisation (``adj_avg_rewards``, standardised over all tasks' steps).
    With K > 1 inner steps only the step-0 batch gets the term.
    """
    logp = params_log_prob(params, pre.obs, pre.actions, True)
    return emaml_loss(logp, pre.mask, post.adj_avg_rewards, post.mask)


def emaml_coefficient(cfg: Any) -> float:
    """0 without ``cfg.emaml``; 1 as in the original code; ``inner_lr`` with ``cfg.emaml_alpha_scaled`` (paper eq. 3)."""
    if not getattr(cfg, "emaml", False):
        return 0.0
    return float(cfg.inner_lr) if getattr(cfg, "emaml_alpha_scaled", False) else 1.0
