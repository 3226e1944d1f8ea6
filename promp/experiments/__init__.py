"""The paper's experiments behind ``promp reproduce NAME`` (docs/algorithms.md §10): one package per
paper figure.

Each package holds ``compute`` (the settings as frozen dataclasses, one per scale, and pure seeded
functions that return arrays) and ``report`` (the runner: training, figure, CSV, JSON and the printed
summary, plus the package's ``EXPERIMENT`` description). Shared: ``options`` (what a run is given and
the command line's overrides of a setup), ``grid`` (a grid of resumable trainer runs), ``output`` (CSV
and JSON files) and ``registry`` (name -> experiment). Adding an experiment = one package + one line
in ``registry.EXPERIMENTS``.
"""
