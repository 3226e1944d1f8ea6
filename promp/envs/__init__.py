"""Meta-task environments. Importing this package registers the built-in ids (their presets are in ``promp.presets``).

Point tasks (docs/algorithms.md §7.2) live in ``point.py``; MuJoCo locomotion tasks (§7.3) in the
``locomotion`` package, which is imported (and MuJoCo with it) only when one of them is made.
"""

from .base import MetaEnv, StepResult, Task, rescale_action
from .point import PointCorner, PointMomentum, PointNav
from .registry import EnvSpec, add_env_spec, env_ids, get_env_spec, make_env, register_env

_POINT_ENVS = {
    "point-corner": (PointCorner, "2-D point, four corner goals, sparse progress reward (MetaPointEnvCorner)"),
    "point-momentum": (PointMomentum, "2-D point with momentum, four corner goals, reward max(2-dist,0): the paper's exploration env"),
    "point-nav": (PointNav, "MAML's 2-D navigation: goal uniform in [-0.5,0.5]^2, reward -distance"),
}

MUJOCO_ENVS: dict[str, tuple[str, str]] = {
    # id: (module:class under promp.envs.locomotion, description)
    "halfcheetah-fwd-back": ("halfcheetah:HalfCheetahRandDirec", "HalfCheetah, run forward or backward (HalfCheetahRandDirec)"),
    "halfcheetah-vel": ("halfcheetah:HalfCheetahRandVel", "HalfCheetah, goal velocity U(0, 3) (HalfCheetahRandVel)"),
    "ant-fwd-back": ("ant:AntRandDirec", "Ant, run forward or backward (AntRandDirec)"),
    "ant-dir-2d": ("ant:AntRandDirec2D", "Ant, run in a random 2-D direction (AntRandDirec2D)"),
    "ant-goal": ("ant:AntRandGoal", "Ant, reach a goal in the radius-3 disc (AntRandGoal)"),
    "walker-fwd-back": ("walker:Walker2DRandDirec", "Walker2D, walk forward or backward (Walker2DRandDirec)"),
    "walker-vel": ("walker:Walker2DRandVel", "Walker2D, goal velocity U(0, 10) (Walker2DRandVel)"),
    "walker-rand-params": ("walker:Walker2DRandParams", "Walker2D with randomised physics (Walker2DRandParams)"),
    "hopper-rand-params": ("hopper:HopperRandParams", "Hopper with randomised physics (HopperRandParams)"),
    "humanoid-fwd-back": ("humanoid:HumanoidRandDirec", "Humanoid, run forward or backward (HumanoidRandDirec)"),
    "humanoid-dir-2d": ("humanoid:HumanoidRandDirec2D", "Humanoid, run in a random 2-D direction (HumanoidRandDirec2D)"),
    "swimmer-vel": ("swimmer:SwimmerRandVel",
                    "Swimmer, goal velocity U(0.1, 0.2), reward sign fixed (SwimmerRandVel; unused in the paper)"),
}
"""The MuJoCo locomotion ids (docs/algorithms.md §7.3), registered by path: MuJoCo loads when one is made."""

for _id, (_cls, _desc) in _POINT_ENVS.items():
    add_env_spec(EnvSpec(_id, _cls, _desc))
for _id, (_target, _desc) in MUJOCO_ENVS.items():
    add_env_spec(EnvSpec(_id, f"{__name__}.locomotion.{_target}", _desc))

__all__ = [
    "EnvSpec",
    "MUJOCO_ENVS",
    "MetaEnv",
    "PointCorner",
    "PointMomentum",
    "PointNav",
    "StepResult",
    "Task",
    "add_env_spec",
    "env_ids",
    "get_env_spec",
    "make_env",
    "register_env",
    "rescale_action",
]
