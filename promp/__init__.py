"""promp: gradient-based meta-reinforcement learning (ProMP and its baselines) in JAX.

The package is organised as in DESIGN.md: ``envs`` (meta-task environments) -> ``sampling``
-> ``processing`` -> ``objectives`` -> ``adaptation`` -> ``algorithms`` -> ``trainer``/``cli``.
Importing ``promp`` itself is cheap; import the submodules you need.
"""

__version__ = "0.1.0"
