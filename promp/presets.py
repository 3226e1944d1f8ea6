"""The paper's hyper-parameter tables (docs/algorithms.md §6.2) as config overrides keyed by env and family.

Resolution (``promp.config.resolve_config``), later wins: ``TrainConfig``'s defaults (docs/algorithms.md
§6.1, the ProMP HalfCheetah row) <- ``ENV_PRESETS[env]`` (every algorithm on that env) <-
``FAMILY_PRESETS[(env, family)]`` (one algorithm family: ``"promp"``, ``"trpo"``, ``"vpg"``,
``"dice"``) <- the algorithm preset's own settings <- command-line flags.

``ALGORITHMS`` names the ``--algo`` presets: a composition (inner estimator, outer update, E-MAML
term; docs/algorithms.md §5, §6.3) and the family whose rows apply. An env registered with ``promp.envs.register_env(..., defaults=..., algo_defaults=...)`` adds its rows
here through ``set_env_presets``. This module imports nothing of ``promp``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_H200: dict[str, Any] = {"horizon": 200}
_RAND_PARAMS_PROMP: dict[str, Any] = {"outer_steps": 3, "adaptive_kl": True, "kl_coef": 1e-3, "kl_target": 1e-2}
# docs/algorithms.md §6.2: the DiCE sweep used H 100, alpha 0.1 and (64, 64) on every env.
_DICE_H100: dict[str, Any] = {"horizon": 100}

ENV_PRESETS: dict[str, dict[str, Any]] = {
    # point envs (docs/algorithms.md §7.2)
    "point-corner": {"horizon": 100, "inner_steps": 1},
    "point-momentum": {"horizon": 100, "inner_steps": 3},
    "point-nav": {"horizon": 100, "inner_steps": 1, "meta_batch_size": 20},
    # MuJoCo locomotion (docs/algorithms.md §6.2): ProMP, TRPO and VPG variants share H, K, alpha and hidden sizes
    "halfcheetah-fwd-back": {},
    "halfcheetah-vel": dict(_H200),
    "ant-fwd-back": {},
    "ant-dir-2d": {},
    "ant-goal": {"horizon": 200, "inner_steps": 2},
    "walker-fwd-back": dict(_H200),
    "walker-vel": dict(_H200),
    "walker-rand-params": {"horizon": 200, "inner_lr": 0.05},
    "hopper-rand-params": {"horizon": 200, "inner_lr": 0.05},
    "humanoid-fwd-back": {"horizon": 200, "hidden": (128, 128)},
    "humanoid-dir-2d": {"horizon": 200, "hidden": (128, 128)},
    "swimmer-vel": {},
    # Meta-World ML1 (promp.envs.metaworld): the benchmark's episode length
    "metaworld-ml1-reach": {"horizon": 500},
    "metaworld-ml1-push": {"horizon": 500},
    "metaworld-ml1-pick-place": {"horizon": 500},
    "metaworld-ml10": {"horizon": 500},
    "metaworld-ml45": {"horizon": 500},
}
"""Per-env config overrides for every algorithm family."""

FAMILY_PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    ("point-momentum", "promp"): {"horizon": 200, "hidden": (128, 128)},
    ("point-momentum", "trpo"): {"horizon": 200},
    ("halfcheetah-vel", "dice"): dict(_DICE_H100),
    ("ant-goal", "dice"): dict(_DICE_H100),
    ("walker-fwd-back", "dice"): dict(_DICE_H100),
    ("walker-vel", "dice"): dict(_DICE_H100),
    ("walker-rand-params", "promp"): dict(_RAND_PARAMS_PROMP),
    ("walker-rand-params", "dice"): {"horizon": 100, "inner_lr": 0.1},
    ("hopper-rand-params", "promp"): dict(_RAND_PARAMS_PROMP),
    ("hopper-rand-params", "dice"): {"horizon": 100, "inner_lr": 0.1},
    ("humanoid-fwd-back", "dice"): {"horizon": 100, "hidden": (64, 64)},
    ("humanoid-dir-2d", "dice"): {"horizon": 100, "hidden": (64, 64)},
}
"""Per-(env, family) config overrides on top of ``ENV_PRESETS``."""


def env_presets(env_id: str) -> dict[str, Any]:
    """A copy of the overrides every algorithm gets on ``env_id`` (empty for an unknown id)."""
    return dict(ENV_PRESETS.get(env_id, {}))


def family_presets(env_id: str) -> dict[str, dict[str, Any]]:
    """A copy of ``env_id``'s per-family overrides: ``{family: overrides}``."""
    return {family: dict(values) for (env, family), values in FAMILY_PRESETS.items() if env == env_id}


def preset(env_id: str, family: str) -> dict[str, Any]:
    """The merged overrides for (``env_id``, ``family``): the env's row, then the family's row on top."""
    return {**ENV_PRESETS.get(env_id, {}), **FAMILY_PRESETS.get((env_id, family), {})}


def set_env_presets(env_id: str, defaults: dict[str, Any] | None = None,
                    family_defaults: dict[str, dict[str, Any]] | None = None) -> None:
    """Replace ``env_id``'s rows with ``defaults`` and ``family_defaults`` (``{family: overrides}``)."""
    ENV_PRESETS[env_id] = dict(defaults or {})
    for key in [key for key in FAMILY_PRESETS if key[0] == env_id]:
        del FAMILY_PRESETS[key]
    for family, values in (family_defaults or {}).items():
        FAMILY_PRESETS[(env_id, family)] = dict(values)


@dataclasses.dataclass(frozen=True)
class Algorithm:
    """A named combination; ``family`` selects the env's preset row (``promp``, ``trpo``, ``vpg``, ``dice``)."""

    id: str
    inner_estimator: str
    outer: str
    emaml: bool
    family: str
    description: str
    overrides: tuple[tuple[str, Any], ...] = ()

    def settings(self) -> dict[str, Any]:
        """Config values this preset fixes (composition plus any algorithm-specific defaults)."""
        return {"inner_estimator": self.inner_estimator, "outer": self.outer, "emaml": self.emaml, **dict(self.overrides)}


ALGORITHMS: dict[str, Algorithm] = {
    a.id: a
    for a in [
        Algorithm("promp", "likelihood-ratio", "promp", False, "promp",
                  "ProMP: LVC inner step, clipped surrogate + KL penalty, N Adam steps"),
        Algorithm("maml-trpo", "log-likelihood", "trpo", False, "trpo",
                  "MAML-TRPO: original MAML surrogate inner step (Hessian H2 only), TRPO outer step"),
        Algorithm("emaml-trpo", "log-likelihood", "trpo", True, "trpo",
                  "E-MAML-TRPO: MAML-TRPO plus the E-MAML pre-update REINFORCE term (formulation II)"),
        Algorithm("lvc-trpo", "likelihood-ratio", "trpo", False, "trpo",
                  "LVC-TRPO: LVC inner step (Hessian H1 + H2), TRPO outer step"),
        Algorithm("maml-vpg", "log-likelihood", "vpg", False, "vpg",
                  "MAML-VPG: original MAML surrogate inner step, one Adam step on the outer surrogate"),
        Algorithm("emaml-vpg", "log-likelihood", "vpg", True, "vpg",
                  "E-MAML-VPG: MAML-VPG plus the E-MAML pre-update REINFORCE term (formulation II)"),
        Algorithm("lvc-vpg", "likelihood-ratio", "vpg", False, "vpg",
                  "LVC-VPG: LVC inner step, one Adam step on the outer surrogate"),
        Algorithm("dice-vpg", "dice", "dice", False, "dice",
                  "DiCE-MAML: DiCE inner and outer losses (unbiased Hessian), one Adam step, 80 rollouts",
                  overrides=(("rollouts_per_task", 80),)),
        Algorithm("vpg-dice", "dice", "vpg-dice", False, "dice",
                  "VPG-DiCE: DiCE inner step, log-likelihood outer with GAE advantages, one Adam step"),
    ]
}
