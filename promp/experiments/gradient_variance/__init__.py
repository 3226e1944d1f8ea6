"""Meta-gradient variance, LVC vs DiCE (docs/algorithms.md §10.2): ``compute`` (settings, the sampling-round protocol,
spread statistics) and ``report`` (training loop, figure, CSV, JSON, summary)."""
