"""Declaring a config field once: ``setting(default, help, check=..., aliases=...)``.

A field of ``promp.config.TrainConfig`` is written as::

    horizon: int = setting(100, "time steps per trajectory", check=at_least(1))

and everything else is read from the dataclass: the ``promp train`` flags and their help
(``promp.commands.train.make_train_args``), the range checks (``check_fields``, called by
``validate_config``), the accepted ``config.json`` keys and their deprecated old names
(``canonical_keys``). Adding a field is therefore one edit, plus its preset value where it has
one (``promp.presets``). This module imports nothing of ``promp``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Iterable, Mapping

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
