"""The training configuration: ``TrainConfig``, how its fields are declared and checked, and its
resolution from the presets (docs/algorithms.md §6).

A field is declared once::

    horizon: int = setting(100, "time steps per trajectory", check=at_least(1))

and everything else is read from the dataclass: the ``promp train`` flags and their help
(``promp.commands.train.make_train_args``), the range checks (run once, when a ``TrainConfig`` is
built: a config that exists is valid), the accepted ``config.json`` keys and their deprecated old
names (``canonical_keys``). Adding a field is one edit, plus its preset value where it has one
(``promp.presets``). Resolution order, later wins: ``TrainConfig`` defaults (docs/algorithms.md §6.1,
the ProMP HalfCheetah row) <- the env's row of ``promp.presets`` <- its (env, family) row <- the
algorithm preset's own settings <- explicit command-line flags.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import presets
from .envs import get_env_spec
from .presets import ALGORITHMS

__all__ = ["ConfigError", "TrainConfig", "check_seed", "flag", "preset_fields", "resolve_config", "setting"]


# ------------------------------------------------------------------------- declaring and checking a field
Check = Callable[[str, Any], None]
"""``check(field_name, value)`` raises ``ConfigError`` naming the flag if ``value`` is impossible."""

MAX_SEED = 2**32 - 1  # JAX keys keep only the low 32 bits of a seed: larger seeds would collide
FLOAT32_MAX = 3.4028234663852886e38


class ConfigError(ValueError):
    """A config value is impossible or an id is unknown."""


def flag(name: str) -> str:
    """The command-line spelling of a config field (``outer_lr`` -> ``--outer-lr``)."""
    return "--" + name.replace("_", "-")


def setting(default: Any = dataclasses.MISSING, help: str = "", *, check: Check | None = None,
            aliases: Iterable[str] = (), default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its help text, its value check and its deprecated old names (``aliases``,
    still accepted as flags and ``config.json`` keys)."""
    metadata = {"help": help, "check": check, "aliases": tuple(aliases)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


# ----------------------------------------------------------------------------------------- checks
def at_least(low: float) -> Check:
    """Check ``value >= low`` (``--horizon must be >= 1, got 0``)."""
    def check(name: str, value: Any) -> None:
        if not value >= low:
            raise ConfigError(f"{flag(name)} must be >= {low}, got {value}")
    return check


def above(low: float) -> Check:
    """Check ``value > low`` (``--outer-lr must be > 0, got 0.0``)."""
    def check(name: str, value: Any) -> None:
        if not value > low:
            raise ConfigError(f"{flag(name)} must be > {low}, got {value}")
    return check


def within(low: float, high: float, *, open_low: bool = False) -> Check:
    """Check ``low <= value <= high`` (``low < value`` with ``open_low``): ``--gamma must be in (0, 1]``."""
    def check(name: str, value: Any) -> None:
        if not ((low < value) if open_low else (low <= value)) or not value <= high:
            raise ConfigError(f"{flag(name)} must be in {'(' if open_low else '['}{low}, {high}], got {value}")
    return check


def positive_sizes(name: str, value: Any) -> None:
    """Check a non-empty sequence of positive integers (layer sizes)."""
    if not value or min(value) < 1:
        raise ConfigError(f"{flag(name)} must be positive layer sizes, got {list(value)}")


def check_seed(seed: Any, name: str = "--seed") -> None:
    """Raise ``ConfigError`` unless ``seed`` is an integer in ``[0, 2**32 - 1]``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{name} must be an integer in [0, {MAX_SEED}], got {seed!r}")


def seed_range(name: str, value: Any) -> None:
    """Check a seed field (``check_seed`` with the field's flag)."""
    check_seed(value, flag(name))


def one_of(table: Callable[[], Iterable[str]]) -> Check:
    """Check that the value is a key of ``table()`` (called at check time, so a heavy table loads late)."""
    def check(name: str, value: Any) -> None:
        known = sorted(table())
        if value not in known:
            raise ConfigError(f"unknown {flag(name)} {value!r}; known: {', '.join(known)}")
    return check


# ----------------------------------------------------------------------------------------- readers
def field_help(f: dataclasses.Field) -> str:
    """The help text declared with ``setting`` (empty if none)."""
    return f.metadata.get("help", "")


def field_default(f: dataclasses.Field) -> Any:
    """The field's default value (calling its ``default_factory`` if it has one)."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def field_aliases(cls: Any) -> dict[str, str]:
    """``{deprecated name: field name}`` over the fields of the dataclass ``cls``."""
    return {alias: f.name for f in dataclasses.fields(cls) for alias in f.metadata.get("aliases", ())}


def canonical_keys(cls: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with deprecated field names replaced by the current ones (``ConfigError`` if both are given)."""
    aliases = field_aliases(cls)
    out = {k: v for k, v in data.items() if k not in aliases}
    for old, new in aliases.items():
        if old in data:
            if new in data:
                raise ConfigError(f"{new} and its deprecated name {old} are both given; keep {new}")
            out[new] = data[old]
    return out


def check_finite(obj: Any) -> None:
    """Raise ``ConfigError`` for a float field of ``obj`` that is NaN, infinite or overflows float32."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ConfigError(f"{flag(f.name)} must be a finite number, got {value}")
            if abs(value) > FLOAT32_MAX:
                raise ConfigError(f"{flag(f.name)} {value:g} overflows float32, the precision the policy is computed in")


def check_fields(obj: Any) -> None:
    """Run every field's declared check on the dataclass instance ``obj``, in field order."""
    for f in dataclasses.fields(obj):
        check = f.metadata.get("check")
        if check is not None:
            check(f.name, getattr(obj, f.name))


def _json_type_ok(value: Any, typ: Any) -> tuple[bool, str] | None:
    """Whether a JSON ``value`` fits the field type ``typ``, and what was wanted; ``None`` for a type
    this check does not know (left to the dataclass)."""
    if typ is bool:
        return isinstance(value, bool), "true or false"
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool), "an integer"
    if typ is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
    if typ is str:
        return isinstance(value, str), "a string"
    origin, args = typing.get_origin(typ), typing.get_args(typ)
    if origin is tuple and args[1:] == (Ellipsis,) and args[0] is int:
        ok = isinstance(value, (list, tuple)) and all(isinstance(h, int) and not isinstance(h, bool) for h in value)
        return ok, "a list of integers"
    if origin is dict:
        return isinstance(value, dict), "a JSON object"
    return None


def check_json_types(data: dict[str, Any], cls: Any) -> None:
    """Raise ``ConfigError`` naming the first field of a config dict (e.g. a loaded ``config.json``)
    whose JSON type does not fit the dataclass ``cls``; deprecated key names are checked as the field
    they stand for. Nothing has converted JSON's types yet, so this runs before the value checks."""
    data = canonical_keys(cls, data)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        verdict = _json_type_ok(data[f.name], hints[f.name])
        if verdict is not None and not verdict[0]:
            raise ConfigError(f"{f.name} must be {verdict[1]}, got {data[f.name]!r}")


# ------------------------------------------------------------------------------------------- the config
def _algo_help() -> str:
    """The ``algo`` help: one line per algorithm preset."""
    return "\n".join(["algorithm preset:", *(f"  {a.id}: {a.description}" for a in ALGORITHMS.values())])


def _inner_losses() -> Any:
    """The inner estimator ids (``--inner-estimator``)."""
    from .algorithms.losses import INNER_LOSSES  # JAX: loaded when a config is validated, not for --help

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
    has one flag per field (``outer_lr`` -> ``--outer-lr``) with that help, construction runs the
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
                                   "the pre-update policy to the sampling policy exceeds this; a first step that "
                                   "crosses it is shortened (halved up to 10 times) instead (0 = no guard at all, "
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

    def __post_init__(self) -> None:
        """Check every value (``ConfigError`` naming the first impossible one): non-finite numbers, then
        each field's declared check, in field order. ``dataclasses.replace`` checks again."""
        check_finite(self)
        check_fields(self)

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

    @classmethod
    def from_json(cls, data: Any, source: str | Path = "config") -> "TrainConfig":
        """A config from loaded JSON (e.g. a run's ``config.json``): the JSON types first (``"gamma": "0.9"``,
        ``"horizon": 20.7`` and ``null`` are refused), then the same checks as for command-line flags;
        ``ConfigError`` naming ``source`` and the field otherwise."""
        try:
            if not isinstance(data, dict):
                raise ConfigError("must be a JSON object")
            check_json_types(data, cls)
            return cls.from_dict(data)
        except (ConfigError, ValueError, TypeError) as exc:
            raise ConfigError(f"{source}: {exc}") from None


def preset_fields() -> set[str]:
    """The fields some preset row sets (``promp.presets``): their default depends on ``--env`` and ``--algo``."""
    rows = [*presets.ENV_PRESETS.values(), *presets.FAMILY_PRESETS.values(), *(a.settings() for a in ALGORITHMS.values())]
    return {name for row in rows for name in canonical_keys(TrainConfig, row)}


def resolve_config(env: str, algo: str, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Presets for (env, algo) with ``overrides`` (``None`` values ignored) on top (checked on construction)."""
    _known_env("env", env)
    _known_algo("algo", algo)
    preset = ALGORITHMS[algo]
    values: dict[str, Any] = canonical_keys(TrainConfig, presets.preset(get_env_spec(env).id, preset.family))
    values.update(canonical_keys(TrainConfig, preset.settings()))
    values.update(canonical_keys(TrainConfig, {k: v for k, v in (overrides or {}).items() if v is not None}))
    values.update(env=env, algo=algo)
    return TrainConfig.from_dict(values)
