"""Meta-gradient variance, LVC vs DiCE (spec 11.5): ``compute`` (settings, the sampling-round protocol,
spread statistics) and ``report`` (training loop, figure, CSV, JSON, summary)."""
