"""The meta-objective every outer update optimises (docs/algorithms.md §5):

``L(theta) = mean_i [surrogate(theta'_i(theta), D'_i) + c_E * E-MAML_i(theta)]``

with ``theta'_i`` built symbolically from ``theta`` through the K inner steps (``promp.adaptation.adapt``,
so second derivatives flow). One adaptation per task gives the loss and the KLs the updates need:
``kl_pre`` (per inner step, ProMP's penalty and guard) and ``kl_post`` (TRPO's constraint, the guard's
post-update bound), plus any per-task diagnostics of the adapted policy. Unused outputs cost nothing
under ``jit`` (dead code).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax

from ..adaptation import adapt
from ..losses import INNER_LOSSES, Outputs, TaskLoss, emaml_term, sampling_kl
from ..policy import distribution
from ..types import Batch, Params

PostTerm = Callable[[Outputs, Batch], jax.Array]
"""A per-task statistic of the adapted policy's outputs on the post-update batch (e.g. a clip fraction)."""


class MetaObjective(NamedTuple):
    """``surrogate`` of the adapted parameters (inner step ``inner_loss`` with step size ``alpha``) plus
    ``emaml_coef`` times the E-MAML term (docs/algorithms.md §5, §5.6)."""

    alpha: float
    inner_loss: TaskLoss
    surrogate: TaskLoss
    emaml_coef: float = 0.0

    def per_task(self, params: Params, batches: Sequence[Batch], **post_terms: PostTerm) -> dict[str, jax.Array]:
        """One adaptation per task (``batches``: the K+1 rounds, leaves ``[T, R, H, ...]``); returns
        ``value`` ``[T]`` (surrogate plus E-MAML term), ``kl_pre`` ``[T, K]``, ``kl_post`` ``[T]`` and
        each ``post_terms[name](outputs of theta'_i on post_i, post_i)`` ``[T]``."""

        def task(task_batches):
            theta, kl_pre = adapt(params, task_batches, self.alpha, self.inner_loss)
            post = task_batches[-1]
            outputs = distribution(theta, post.obs, len(task_batches) == 1)
            value = self.surrogate(outputs, post)
            if self.emaml_coef:
                value = value + self.emaml_coef * emaml_term(params, task_batches[0], post)
            extra = {name: fn(outputs, post) for name, fn in post_terms.items()}
            return {"value": value, "kl_pre": kl_pre, "kl_post": sampling_kl(outputs, post), **extra}

        return jax.vmap(task)(tuple(batches))

    def __call__(self, params: Params, batches: Sequence[Batch], **post_terms: PostTerm) -> tuple[jax.Array, dict[str, jax.Array]]:
        """``(loss, aux)``: the task mean of ``per_task``'s ``value`` and of everything else (``kl_pre``
        keeps its inner-step axis ``[K]``)."""
        out = self.per_task(params, batches, **post_terms)
        aux = {name: value.mean(0) for name, value in out.items() if name != "value"}
        return out["value"].mean(), aux


def emaml_coefficient(cfg: Any) -> float:
    """0 without ``cfg.emaml``; 1 as in the original code; ``inner_lr`` with ``cfg.emaml_alpha_scaled`` (ProMP eq. 3)."""
    if not getattr(cfg, "emaml", False):
        return 0.0
    return float(cfg.inner_lr) if getattr(cfg, "emaml_alpha_scaled", False) else 1.0


def meta_objective(cfg: Any, surrogate: TaskLoss) -> MetaObjective:
    """The meta-objective of ``cfg`` (inner estimator, ``inner_lr``, E-MAML flags) with ``surrogate``."""
    return MetaObjective(cfg.inner_lr, INNER_LOSSES[cfg.inner_estimator], surrogate, emaml_coefficient(cfg))
