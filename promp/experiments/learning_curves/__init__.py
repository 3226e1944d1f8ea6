"""Learning curves of the main comparison (spec 11.1-11.3, 11.8): ``compute`` (settings, the grid's
configs) and ``report`` (the grid of runs, aggregated curves, figure, CSV, JSON, summary)."""
