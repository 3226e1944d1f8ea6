"""promp: gradient-based meta-reinforcement learning (ProMP and its baselines) in JAX.

The package is organised as in DESIGN.md: ``envs`` (meta-task environments) -> ``sampling``
-> ``processing`` -> ``objectives`` -> ``adaptation`` -> ``algorithms`` -> ``trainer``/``cli``.
Importing ``promp`` itself is cheap (it registers the gymnasium ids lazily); import the submodules you need.
"""

__version__ = "0.1.0"

# the built-in meta-env ids (promp.envs registers them with their presets); listed here so that
# `import promp` alone makes `gymnasium.make("promp/<id>-v0")` work without importing MuJoCo
BUILTIN_ENV_IDS = (
    "point-corner", "point-momentum", "point-nav", "halfcheetah-fwd-back", "halfcheetah-vel", "ant-fwd-back",
    "ant-dir-2d", "ant-goal", "walker-fwd-back", "walker-vel", "walker-rand-params", "hopper-rand-params",
    "humanoid-fwd-back", "humanoid-dir-2d", "swimmer-vel",
)


def _register_gymnasium_ids() -> None:
    """Register ``promp/<id>-v0`` for the built-in ids with a lazy entry point (nothing heavy is imported)."""
    try:
        import gymnasium
    except ImportError:  # gymnasium is a dependency; a broken install should not break `import promp`
        return
    for env_id in BUILTIN_ENV_IDS:
        if f"promp/{env_id}-v0" not in gymnasium.registry:
            gymnasium.register(id=f"promp/{env_id}-v0", entry_point="promp.envs.gym_wrapper:make_single_task_env",
                               kwargs={"env_id": env_id})


_register_gymnasium_ids()
