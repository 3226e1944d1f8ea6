"""Experiment name -> ``Experiment`` (docs/algorithms.md §10), in the order ``promp reproduce`` lists them."""

from __future__ import annotations

from .exploration.report import EXPERIMENT as EXPLORATION
from .figure2.report import EXPERIMENT as FIGURE2
from .formulation.report import EXPERIMENT as FORMULATION
from .gradient_variance.report import EXPERIMENT as GRADIENT_VARIANCE
from .learning_curves.report import EXPERIMENT as LEARNING_CURVES
from .metaworld.report import EXPERIMENT as METAWORLD
from .options import Experiment

EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (LEARNING_CURVES, FIGURE2, GRADIENT_VARIANCE, FORMULATION,
                                                            EXPLORATION, METAWORLD)}
"""Experiment name -> description and runner."""
