"""Meta-task environments. Importing this package registers the built-in ids of ``BUILTIN_ENVS``.

Point tasks (docs/algorithms.md §7.2) live in ``point.py``; MuJoCo locomotion tasks (§7.3) in the
``locomotion`` package and Meta-World's Sawyer tasks in the ``metaworld`` package, each imported (and
MuJoCo with it) only when one of them is made. Their
hyper-parameter presets are in ``promp.presets``.
"""

from .base import MetaEnv, StepResult, Task, rescale_action
from .point import PointCorner, PointMomentum, PointNav
from .registry import EnvSpec, add_env_spec, env_ids, get_env_spec, make_env, register_env

BUILTIN_ENVS: dict[str, tuple[str, str]] = {
    # id: (module:Class, the class named after the id; description, with the paper's and the original code's names)
    "point-corner": ("promp.envs.point:PointCorner",
                     "2-D point, four corner goals, sparse progress reward (original: MetaPointEnvCorner)"),
    "point-momentum": ("promp.envs.point:PointMomentum",
                       "2-D point with momentum, four corner goals, reward max(2-dist,0): the paper's exploration env "
                       "(original: MetaPointEnvMomentum)"),
    "point-nav": ("promp.envs.point:PointNav", "MAML's 2-D navigation: goal uniform in [-0.5,0.5]^2, reward -distance"),
    "halfcheetah-fwd-back": ("promp.envs.locomotion.halfcheetah:HalfCheetahFwdBack",
                             "HalfCheetah, run forward or backward (paper: HalfCheetahFwdBack; original: HalfCheetahRandDirecEnv)"),
    "halfcheetah-vel": ("promp.envs.locomotion.halfcheetah:HalfCheetahVel",
                        "HalfCheetah, goal velocity U(0, 3) (original: HalfCheetahRandVelEnv)"),
    "ant-fwd-back": ("promp.envs.locomotion.ant:AntFwdBack", "Ant, run forward or backward (original: AntRandDirecEnv)"),
    "ant-dir-2d": ("promp.envs.locomotion.ant:AntDir2D",
                   "Ant, run in a random 2-D direction (paper: AntRandDir; original: AntRandDirec2DEnv)"),
    "ant-goal": ("promp.envs.locomotion.ant:AntGoal", "Ant, reach a goal in the radius-3 disc (original: AntRandGoalEnv)"),
    "walker-fwd-back": ("promp.envs.locomotion.walker:WalkerFwdBack",
                        "Walker2D, walk forward or backward (paper: WalkerFwdBack; original: Walker2DRandDirecEnv)"),
    "walker-vel": ("promp.envs.locomotion.walker:WalkerVel", "Walker2D, goal velocity U(0, 10) (original: Walker2DRandVelEnv)"),
    "walker-rand-params": ("promp.envs.locomotion.walker:WalkerRandParams",
                           "Walker2D with randomised physics (paper: WalkerRandParams; original: Walker2DRandParamsEnv)"),
    "hopper-rand-params": ("promp.envs.locomotion.hopper:HopperRandParams",
                           "Hopper with randomised physics (paper: HopperRandParams; original: HopperRandParamsEnv)"),
    "humanoid-fwd-back": ("promp.envs.locomotion.humanoid:HumanoidFwdBack",
                          "Humanoid, run forward or backward (original: HumanoidRandDirecEnv)"),
    "humanoid-dir-2d": ("promp.envs.locomotion.humanoid:HumanoidDir2D",
                        "Humanoid, run in a random 2-D direction (paper: HumanoidRandDir; original: HumanoidRandDirec2DEnv)"),
    "swimmer-vel": ("promp.envs.locomotion.swimmer:SwimmerVel",
                    "Swimmer, goal velocity U(0.1, 0.2), reward sign fixed (original: SwimmerRandVelEnv; unused in the paper)"),
    "metaworld-ml1-reach": ("promp.envs.metaworld.ml1:MetaworldMl1Reach",
                            "Meta-World ML1 reach-v3: Sawyer arm, reach a hidden goal; 50 train goals (split='test': 50 "
                            "others); needs metaworld's assets (scripts/install_metaworld_assets.py)"),
    "metaworld-ml1-push": ("promp.envs.metaworld.ml1:MetaworldMl1Push",
                           "Meta-World ML1 push-v3: Sawyer arm, push a puck to a hidden goal; 50 train goals (split='test': "
                           "50 others); needs metaworld's assets (scripts/install_metaworld_assets.py)"),
    "metaworld-ml1-pick-place": ("promp.envs.metaworld.ml1:MetaworldMl1PickPlace",
                                 "Meta-World ML1 pick-place-v3: Sawyer arm, pick a puck and place it at a hidden goal; 50 "
                                 "train goals (split='test': 50 others); needs metaworld's assets "
                                 "(scripts/install_metaworld_assets.py)"),
    "metaworld-ml10": ("promp.envs.metaworld.benchmarks:MetaworldMl10",
                       "Meta-World ML10: Sawyer arm, 10 task families x 50 goals to meta-train on (split='test': 5 "
                       "held-out families); needs metaworld's assets (scripts/install_metaworld_assets.py)"),
    "metaworld-ml45": ("promp.envs.metaworld.benchmarks:MetaworldMl45",
                       "Meta-World ML45: Sawyer arm, 45 task families x 50 goals to meta-train on (split='test': 5 "
                       "held-out families); needs metaworld's assets (scripts/install_metaworld_assets.py)"),
}
"""The one table of built-in env ids (docs/algorithms.md §7), registered here by path, and with gymnasium
as ``promp/<id>-v0``; the classes load when an env is made."""

for _id, (_target, _desc) in BUILTIN_ENVS.items():
    add_env_spec(EnvSpec(_id, _target, _desc))

__all__ = [
    "BUILTIN_ENVS",
    "EnvSpec",
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
