"""Formulation I vs II on the 1-D two-parameter task (docs/algorithms.md §10.1): ``compute`` (the task, both
meta-gradients by autodiff, training, the optimum check) and ``report`` (figure, CSV, JSON, summary)."""
