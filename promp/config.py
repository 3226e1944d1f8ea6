"""Typed training configuration and its resolution from presets (docs/algorithms.md §6).

Every setting is one documented field of ``TrainConfig`` (``promp.settings.setting``: default, help,
check, deprecated old names); the ``promp train`` flags, their help, the checks and the accepted
``config.json`` keys are all derived from it. Resolution order, later wins: ``TrainConfig`` defaults
(docs/algorithms.md §6.1, the ProMP HalfCheetah row) <- the env's row of ``promp.presets`` <- its
(env, family) row <- the algorithm preset's own settings <- explicit command-line flags.
"""

from __future__ import annotations

import dataclasses
import json
import typing
import warnings
from typing import Any

from . import presets
from .envs import get_env_spec
from .presets import ALGORITHMS
from .settings import (ConfigError, above, at_least, canonical_keys, check_fields, check_finite, field_aliases, one_of,
                       positive_sizes, seed_range, setting, within)

__all__ = ["ConfigError", "TrainConfig", "preset_fields", "resolve_config", "validate_config"]


def _algo_help() -> str:
    """The ``algo`` help: one line per algorithm preset."""
    return "\n".join(["algorithm preset:", *(f"  {a.id}: {a.description}" for a in ALGORITHMS.values())])


def _inner_losses() -> Any:
    """The inner estimator ids (``--inner-estimator``)."""
    from .adaptation import INNER_LOSSES  # JAX: loaded when a config is validated, not for --help

    return INNER_LOSSES


def _outer_updates() -> Any:
    """The outer update ids (``--outer``)."""
    from .algorithms import OUTER_UPDATES  # JAX, as above

    return OUTER_UPDATES


def _known_env(name: str, value: Any) -> None:
    """Check that ``value`` is a registered env id (or a loadable ``module:Class``)."""
    try:
        get_env_spec(value)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None


def _known_algo(name: str, value: Any) -> None:
    """Check that ``value`` is an ``--algo`` preset."""
    if value not in ALGORITHMS:
        raise ConfigError(f"unknown algo {value!r}; known ids: {', '.join(sorted(ALGORITHMS))}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run; saved as ``config.json`` in the run directory.

    Each field is declared once with ``setting(default, help, check=..., aliases=...)``: ``promp train``
    has one flag per field (``outer_lr`` -> ``--outer-lr``) with that help, ``validate_config`` runs the
    checks, and the aliases are deprecated old names still accepted as flags and ``config.json`` keys.
    """

    env: str = setting("point-corner", "meta-environment id (see `promp envs`), or module:Class for your own",
                       check=_known_env)
    algo: str = setting("promp", _algo_help(), check=_known_algo)
    seed: int = setting(1, "random seed (tasks, noise, initialisation)", check=seed_range)
    iterations: int = setting(100, "total number of meta-iterations", check=at_least(1))
    # sampling
    meta_batch_size: int = setting(40, "tasks per meta-iteration", check=at_least(1))
    rollouts_per_task: int = setting(20, "trajectories per task and sampling round", check=at_least(1))
    horizon: int = setting(100, "time steps per trajectory", check=at_least(1))
    # processing (docs/algorithms.md §3)
    gamma: float = setting(0.99, "discount", check=within(0, 1, open_low=True))
    gae_lambda: float = setting(1.0, "GAE lambda", check=within(0, 1))
    normalize_adv: bool = setting(True, "standardise advantages per task")
    # policy (docs/algorithms.md §2)
    hidden: tuple[int, ...] = setting((64, 64), "hidden layer sizes of the policy MLP", check=positive_sizes)
    init_std: float = setting(1.0, "initial policy standard deviation", check=above(0))
    # inner adaptation
    inner_steps: int = setting(1, "inner adaptation steps K", check=at_least(1))
    inner_lr: float = setting(0.1, "inner step size alpha (all parameters, log-std included)", check=at_least(0))
    # outer update
    outer_lr: float = setting(1e-3, "outer Adam learning rate beta", check=above(0))
    outer_steps: int = setting(5, "ProMP: full-batch Adam steps N per iteration on the same samples",
                               check=at_least(1), aliases=("ppo_steps",))
    clip_eps: float = setting(0.3, "ProMP: clip range epsilon of the outer surrogate", check=above(0))
    kl_coef: float = setting(5e-4, "ProMP: initial KL penalty coefficient (eta in the paper), one per inner step",
                             check=at_least(0))
    adaptive_kl: bool = setting(False, "ProMP: adapt --kl-coef towards --kl-target after every iteration")
    kl_target: float = setting(0.01, "ProMP: KL target of --adaptive-kl", check=above(0))
    max_kl: float = setting(0.01, "TRPO: bound on the mean KL of the post-update policies (step size delta)",
                            check=above(0))
    cg_iters: int = setting(10, "TRPO: most conjugate-gradient iterations per step", check=at_least(1))
    cg_damping: float = setting(1e-5, "TRPO: damping added to the KL curvature in conjugate gradient "
                                      "(0 = undamped, as the original)", check=at_least(0))
    cg_tol: float = setting(1e-3, "TRPO: stop conjugate gradient once the relative residual is at most this "
                                  "(0 = always run --cg-iters)", check=at_least(0))
    hvp_subsample: float = setting(1.0, "TRPO: fraction of each task's rollouts (pre- and post-update) used for the "
                                        "curvature products (1 = all)", check=within(0, 1, open_low=True))
    guard_kl: float = setting(0.5, "ProMP/VPG/DiCE guard: stop the outer Adam steps, undoing the last, once the KL of "
                                   "the pre-update policy to the sampling policy exceeds this (0 = no guard at all, "
                                   "the original update)", check=at_least(0))
    guard_kl_post: float = setting(2.0, "ProMP guard: the same bound on the KL of the post-update sampling policy to "
                                        "the adapted policy (0 = only --guard-kl)", check=at_least(0))
    # algorithm composition (set by the --algo preset; see promp.algorithms)
    inner_estimator: str = setting("likelihood-ratio", "inner estimator (overrides the preset)", check=one_of(_inner_losses))
    outer: str = setting("promp", "outer update (overrides the preset)", check=one_of(_outer_updates))
    emaml: bool = setting(False, "add the E-MAML term (overrides the preset)")
    emaml_alpha_scaled: bool = setting(False, "scale the E-MAML term by the inner step size alpha (paper eq. 3; the "
                                              "original code has no alpha)")
    # environment construction
    env_kwargs: dict[str, Any] = setting(help='JSON object of env constructor arguments (e.g. {"reward_type": "dense"})',
                                         default_factory=dict)
    # run management
    keep_checkpoint_every: int = setting(25, "keep every N-th checkpoint (the last two are always kept)",
                                         check=at_least(1))
    max_nonfinite_updates: int = setting(3, "stop after this many consecutive updates with NaN/inf (each is skipped)",
                                         check=at_least(1))

    def __getattr__(self, name: str) -> Any:
        """A deprecated field name (``ppo_steps``) reads the current field, with a ``DeprecationWarning``."""
        new = field_aliases(type(self)).get(name)
        if new is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        warnings.warn(f"TrainConfig.{name} is deprecated; use {new}", DeprecationWarning, stacklevel=2)
        return getattr(self, new)

    def to_json(self) -> str:
        """The config as pretty JSON (tuples become lists)."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build a config from a dict (e.g. a loaded ``config.json``); deprecated key names are accepted,
        unknown keys are an error."""
        data = canonical_keys(cls, data)
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
        hints = typing.get_type_hints(cls)
        for name, value in data.items():  # JSON lists -> tuple fields (``hidden``)
            if typing.get_origin(hints[name]) is tuple and isinstance(value, (list, tuple)):
                data[name] = tuple(typing.get_args(hints[name])[0](v) for v in value)
        return cls(**data)


def preset_fields() -> set[str]:
    """The fields some preset row sets (``promp.presets``): their default depends on ``--env`` and ``--algo``."""
    rows = [*presets.ENV_PRESETS.values(), *presets.FAMILY_PRESETS.values(), *(a.settings() for a in ALGORITHMS.values())]
    return {name for row in rows for name in canonical_keys(TrainConfig, row)}


def resolve_config(env: str, algo: str, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Presets for (env, algo) with ``overrides`` (``None`` values ignored) on top; validated."""
    _known_env("env", env)
    _known_algo("algo", algo)
    preset = ALGORITHMS[algo]
    values: dict[str, Any] = canonical_keys(TrainConfig, presets.preset(get_env_spec(env).id, preset.family))
    values.update(canonical_keys(TrainConfig, preset.settings()))
    values.update(canonical_keys(TrainConfig, {k: v for k, v in (overrides or {}).items() if v is not None}))
    values.update(env=env, algo=algo)
    cfg = TrainConfig.from_dict(values)
    validate_config(cfg)
    return cfg


def validate_config(cfg: TrainConfig) -> None:
    """Raise ``ConfigError`` naming the first impossible value: non-finite numbers, then each field's check."""
    check_finite(cfg)
    check_fields(cfg)
