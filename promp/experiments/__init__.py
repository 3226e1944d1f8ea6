"""Pure computations behind ``promp reproduce NAME`` (docs/algorithms.md §10): one module per paper figure.

Each module exposes its settings as frozen dataclasses (a ``quick`` and a ``full`` scale) and pure,
seeded functions that return arrays; all file and terminal I/O lives in ``promp.commands.reproduce``.
"""
