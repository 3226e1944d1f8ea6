"""promp: gradient-based meta-reinforcement learning (ProMP and its baselines) in JAX.

The layers and the data flow are described in docs/design.md. Importing ``promp`` is cheap: it
registers the built-in meta-env ids (``promp.envs.BUILTIN_ENVS``) with gymnasium as
``promp/<id>-v0`` without importing MuJoCo or JAX; import the submodules you need.
"""

__version__ = "0.1.0"

from . import envs  # noqa: E402,F401  (registers the built-in ids)
