"""Meta-task environments. Importing this package registers the built-in ids.

Point tasks (docs/algorithms.md §7.2) live in ``point.py``; MuJoCo locomotion tasks (§7.3) in the ``locomotion`` package.
"""

from .base import MetaEnv, StepResult, Task, rescale_action
from .point import PointCorner, PointMomentum, PointNav
from .registry import EnvSpec, env_ids, get_env_spec, make_env, register_env

register_env(
    "point-corner",
    PointCorner,
    "2-D point, four corner goals, sparse progress reward (MetaPointEnvCorner)",
    defaults={"horizon": 100, "inner_steps": 1},
)
register_env(
    "point-momentum",
    PointMomentum,
    "2-D point with momentum, four corner goals, reward max(2-dist,0): the paper's exploration env",
    defaults={"horizon": 100, "inner_steps": 3},
    algo_defaults={"promp": {"horizon": 200, "hidden": (128, 128)}, "trpo": {"horizon": 200}},
)
register_env(
    "point-nav",
    PointNav,
    "MAML's 2-D navigation: goal uniform in [-0.5,0.5]^2, reward -distance",
    defaults={"horizon": 100, "inner_steps": 1, "meta_batch_size": 20},
)

__all__ = [
    "EnvSpec",
    "MetaEnv",
    "PointCorner",
    "PointMomentum",
    "PointNav",
    "StepResult",
    "Task",
    "env_ids",
    "get_env_spec",
    "make_env",
    "register_env",
    "rescale_action",
]

# MuJoCo locomotion meta-envs (docs/algorithms.md §7.3) with their presets (§6.2).
from .locomotion import ENV_CLASSES as _MUJOCO_ENV_CLASSES, PRESETS as _MUJOCO_PRESETS  # noqa: E402

for _id, (_desc, _defaults, _algo_defaults) in _MUJOCO_PRESETS.items():
    register_env(_id, _MUJOCO_ENV_CLASSES[_id], _desc, defaults=_defaults, algo_defaults=_algo_defaults)
