"""Command implementations, one module per command: ``train``, ``eval``, ``plot``, ``rollout``, ``reproduce``, ``bench``.

Each module's function is listed in ``promp.cli.COMMANDS``; heavy imports (JAX, matplotlib,
MuJoCo) happen inside the functions so that ``promp --help`` stays fast.
"""


class CommandError(Exception):
    """Bad input to a command detected after parsing (reported as ``promp: error: ...``, exit 2)."""
