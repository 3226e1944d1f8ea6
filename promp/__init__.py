"""promp: gradient-based meta-reinforcement learning (ProMP and its baselines) in JAX.

The layers and the data flow are described in docs/design.md. Importing ``promp`` is cheap: it
registers the built-in meta-env ids (``promp.envs.BUILTIN_ENVS``) with gymnasium as
``promp/<id>-v0`` without importing MuJoCo or JAX; import the submodules you need. Registering loads
numpy, whose BLAS pool is sized when it loads, so the BLAS/OpenMP variables are pinned to one thread
first (``promp.threads.pin_blas_threads``; a variable you set yourself is left alone).
"""

__version__ = "0.1.0"

from .threads import pin_blas_threads  # noqa: E402

pin_blas_threads()

from . import envs  # noqa: E402,F401  (registers the built-in ids)
