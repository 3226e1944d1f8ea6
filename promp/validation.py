"""Checks of a run's config before anything is written: the JSON types of a ``config.json``. The value checks themselves are declared on ``TrainConfig``'s fields and run by
``promp.config.validate_config``, so a value is judged by the same code whether it came from
``--flag`` or from an edited ``config.json``; ``check_config_types`` is the extra step for JSON,
where nothing has converted the types yet.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from .config import TrainConfig
from .settings import MAX_SEED, ConfigError, canonical_keys, check_seed, flag

__all__ = ["MAX_SEED", "check_config_types", "check_seed", "flag"]


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


def check_config_types(data: dict[str, Any], cls: Any = TrainConfig) -> None:
    """Raise ``ConfigError`` naming the first field of a config dict (e.g. a loaded ``config.json``)
    whose JSON type does not fit the dataclass ``cls`` (``"gamma": "0.9"``, ``"horizon": 20.7``, ``null``);
    deprecated key names are checked as the field they stand for."""
    data = canonical_keys(cls, data)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        verdict = _json_type_ok(data[f.name], hints[f.name])
        if verdict is not None and not verdict[0]:
            raise ConfigError(f"{f.name} must be {verdict[1]}, got {data[f.name]!r}")
