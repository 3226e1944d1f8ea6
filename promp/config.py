"""Typed training configuration and its resolution from presets (docs/algorithms.md §6).

Resolution order, later wins: ``TrainConfig`` defaults (docs/algorithms.md §6.1, the ProMP HalfCheetah row) <- the
env's row of ``promp.presets`` <- its (env, family) row <- the algorithm preset's own settings
<- explicit command-line flags.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from . import presets
from .envs import get_env_spec
from .presets import ALGORITHMS


class ConfigError(ValueError):
    """A config value is impossible or an id is unknown."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run; saved as ``config.json`` in the run directory."""

    env: str = "point-corner"
    algo: str = "promp"
    seed: int = 1
    iterations: int = 100
    # sampling
    meta_batch_size: int = 40
    rollouts_per_task: int = 20
    horizon: int = 100
    # processing (docs/algorithms.md §3)
    gamma: float = 0.99
    gae_lambda: float = 1.0
    normalize_adv: bool = True
    # policy (docs/algorithms.md §2)
    hidden: tuple[int, ...] = (64, 64)
    init_std: float = 1.0
    # inner adaptation
    inner_steps: int = 1
    inner_lr: float = 0.1
    # outer update
    outer_lr: float = 1e-3
    ppo_steps: int = 5
    clip_eps: float = 0.3
    kl_coef: float = 5e-4
    adaptive_kl: bool = False
    kl_target: float = 0.01
    max_kl: float = 0.01
    cg_iters: int = 10
    cg_damping: float = 1e-5
    cg_tol: float = 1e-3
    hvp_subsample: float = 1.0
    guard_kl: float = 0.5
    guard_kl_post: float = 2.0
    # algorithm composition (set by the --algo preset; see promp.algorithms)
    inner_estimator: str = "likelihood-ratio"
    outer: str = "promp"
    emaml: bool = False
    emaml_alpha_scaled: bool = False
    # environment construction kwargs (e.g. {"reward_type": "dense"})
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    # run management
    keep_checkpoint_every: int = 25
    max_nonfinite_updates: int = 3

    def to_json(self) -> str:
        """The config as pretty JSON (tuples become lists)."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "TrainConfig":
        """Build a config from a dict (e.g. a loaded ``config.json``); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
        data = dict(data)
        if "hidden" in data:
            data["hidden"] = tuple(int(h) for h in data["hidden"])
        return TrainConfig(**data)


def config_field_names() -> list[str]:
    """Names of all ``TrainConfig`` fields."""
    return [f.name for f in dataclasses.fields(TrainConfig)]


FIELD_HELP: dict[str, str] = {
    "env": "meta-environment id (see `promp envs`), or module:Class for your own",
    "algo": "algorithm preset",
    "seed": "random seed (tasks, noise, initialisation)",
    "iterations": "total number of meta-iterations",
    "meta_batch_size": "tasks per meta-iteration",
    "rollouts_per_task": "trajectories per task and sampling round",
    "horizon": "time steps per trajectory",
    "gamma": "discount",
    "gae_lambda": "GAE lambda",
    "normalize_adv": "standardise advantages per task",
    "hidden": "hidden layer sizes of the policy MLP",
    "init_std": "initial policy standard deviation",
    "inner_steps": "inner adaptation steps K",
    "inner_lr": "inner step size alpha (all parameters, log-std included)",
    "outer_lr": "outer Adam learning rate",
    "ppo_steps": "ProMP: full-batch Adam steps per iteration",
    "clip_eps": "ProMP: clip range of the outer surrogate",
    "kl_coef": "ProMP: initial KL penalty coefficient eta",
    "adaptive_kl": "ProMP: adapt eta towards --kl-target",
    "kl_target": "ProMP: KL target of the adaptive coefficient",
    "guard_kl": "ProMP/VPG/DiCE guard: stop the outer Adam steps, undoing the last, once the KL of the pre-update "
                "policy to the sampling policy exceeds this (0 = no guard at all, the original update)",
    "guard_kl_post": "ProMP guard: the same bound on the KL of the post-update sampling policy to the adapted policy "
                     "(0 = only --guard-kl)",
    "max_kl": "TRPO: bound on the mean KL of the post-update policies (step size delta)",
    "cg_iters": "TRPO: most conjugate-gradient iterations per step",
    "cg_damping": "TRPO: damping added to the KL curvature in conjugate gradient (0 = undamped, as the original)",
    "cg_tol": "TRPO: stop conjugate gradient once the relative residual is at most this (0 = always run --cg-iters)",
    "hvp_subsample": "TRPO: fraction of each task's rollouts (pre- and post-update) used for the curvature products (1 = all)",
    "inner_estimator": "inner estimator (overrides the preset)",
    "outer": "outer update (overrides the preset)",
    "emaml": "add the E-MAML term (overrides the preset)",
    "emaml_alpha_scaled": "scale the E-MAML term by the inner step size alpha (paper eq. 3; the original code has no alpha)",
    "env_kwargs": "JSON dict of env constructor arguments",
    "keep_checkpoint_every": "keep every N-th checkpoint (the last two are always kept)",
    "max_nonfinite_updates": "stop after this many consecutive updates with NaN/inf (each is skipped)",
}


def resolve_config(env: str, algo: str, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Presets for (env, algo) with ``overrides`` (``None`` values ignored) on top; validated."""
    try:
        spec = get_env_spec(env)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None
    if algo not in ALGORITHMS:
        raise ConfigError(f"unknown algo {algo!r}; known ids: {', '.join(sorted(ALGORITHMS))}")
    preset = ALGORITHMS[algo]
    values: dict[str, Any] = presets.preset(spec.id, preset.family)
    values.update(preset.settings())
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    values.update(env=env, algo=algo)
    cfg = TrainConfig.from_dict(values)
    validate_config(cfg)
    return cfg


def validate_config(cfg: TrainConfig) -> None:
    """Raise ``ConfigError`` naming the first impossible value."""
    from .adaptation import INNER_LOSSES  # JAX: the estimator and update tables load when a config is validated
    from .algorithms import OUTER_UPDATES
    from .validation import check_values  # validation imports this module (it checks TrainConfig)

    check_values(cfg)  # finite numbers, seed range, known ids (shared with config.json, see promp.validation)

    positive_ints = ["iterations", "meta_batch_size", "rollouts_per_task", "horizon", "inner_steps", "ppo_steps",
                     "keep_checkpoint_every", "max_nonfinite_updates", "cg_iters"]
    for name in positive_ints:
        if int(getattr(cfg, name)) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(cfg, name)}")
    for name in ["outer_lr", "init_std", "clip_eps", "kl_target", "max_kl"]:
        if not getattr(cfg, name) > 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be > 0, got {getattr(cfg, name)}")
    for name in ["inner_lr", "kl_coef", "guard_kl", "guard_kl_post", "cg_damping", "cg_tol"]:
        if not getattr(cfg, name) >= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(cfg, name)}")
    if not 0 < cfg.hvp_subsample <= 1:
        raise ConfigError(f"--hvp-subsample must be in (0, 1], got {cfg.hvp_subsample}")
    if not 0 < cfg.gamma <= 1:
        raise ConfigError(f"--gamma must be in (0, 1], got {cfg.gamma}")
    if not 0 <= cfg.gae_lambda <= 1:
        raise ConfigError(f"--gae-lambda must be in [0, 1], got {cfg.gae_lambda}")
    if not cfg.hidden or min(cfg.hidden) < 1:
        raise ConfigError(f"--hidden must be positive layer sizes, got {list(cfg.hidden)}")
    if cfg.inner_estimator not in INNER_LOSSES:
        raise ConfigError(f"unknown --inner-estimator {cfg.inner_estimator!r}; known: {', '.join(sorted(INNER_LOSSES))}")
    if cfg.outer not in OUTER_UPDATES:
        raise ConfigError(f"unknown --outer {cfg.outer!r}; known: {', '.join(sorted(OUTER_UPDATES))}")
