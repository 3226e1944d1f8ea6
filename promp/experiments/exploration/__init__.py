"""Exploration on point-momentum (docs/algorithms.md §10.3): ``compute`` (settings, configs, paths of one task)
and ``report`` (the grid of runs, figures, CSV, JSON, summary)."""
