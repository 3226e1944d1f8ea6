"""Exploration on point-momentum (spec 11.7): ``compute`` (settings, configs, paths of one task)
and ``report`` (the grid of runs, figures, CSV, JSON, summary)."""
