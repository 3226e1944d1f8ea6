"""Learning curves of the main comparison (docs/algorithms.md §10.4): ``compute`` (settings, the grid's
configs) and ``report`` (the grid of runs, aggregated curves, figure, CSV, JSON, summary)."""
