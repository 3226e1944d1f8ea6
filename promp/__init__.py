"""promp: gradient-based meta-reinforcement learning (ProMP and its baselines) in JAX.

The layers and the data flow are described in docs/design.md. Importing ``promp`` is cheap: it
registers the built-in meta-env ids (``promp.envs.BUILTIN_ENVS``) with gymnasium as
``promp/<id>-v0`` without importing MuJoCo or JAX; import the submodules you need. Registering loads
numpy, whose BLAS pool is sized when it loads, so the BLAS/OpenMP variables are pinned to one thread
first (``promp.threads.pin_blas_threads``; a variable you set yourself is left alone). When this process
is the ``promp`` command, its SIGINT/SIGTERM handling (``promp.interrupts``) starts before anything else
loads, so a signal at any moment from launch ends it with one line and ``128 + signum``.
"""

import os
import sys

__version__ = "0.1.0"


def _is_the_promp_command() -> bool:
    """Whether this process runs the command line (the ``promp`` script or ``python -m promp``)."""
    argv = list(getattr(sys, "orig_argv", []))
    if "-m" in argv[1:]:
        at = argv.index("-m", 1)
        return argv[at + 1:at + 2] == ["promp"]
    return os.path.basename(sys.argv[0] if sys.argv else "") == "promp"


if _is_the_promp_command():
    from .interrupts import exit_on_signal  # the standard library only

    exit_on_signal()

from .threads import pin_blas_threads  # noqa: E402

pin_blas_threads()

from . import envs  # noqa: E402,F401  (registers the built-in ids)
