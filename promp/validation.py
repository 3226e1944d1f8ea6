"""Checks of a run's config before anything is written: the JSON types of a ``config.json``, and a
memory estimate. The value checks themselves are declared on ``TrainConfig``'s fields and run by
``promp.config.validate_config``, so a value is judged by the same code whether it came from
``--flag`` or from an edited ``config.json``; ``check_config_types`` is the extra step for JSON,
where nothing has converted the types yet.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from typing import Any

from .config import TrainConfig
from .settings import MAX_SEED, ConfigError, canonical_keys, check_seed, flag

__all__ = ["MAX_SEED", "check_config_types", "check_memory", "check_seed", "estimate_sample_memory", "flag"]

GIB = 1024**3


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


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), ``None`` if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def estimate_sample_memory(cfg: Any, obs_dim: int, act_dim: int) -> int:
    """A lower estimate of the bytes one meta-iteration holds at once: the K+1 sampling rounds'
    buffers (float32 observations, actions, means, log-stds; float64 rewards), their task-major
    copies, the float64 processing arrays and the float32 batch handed to the update."""
    steps = cfg.meta_batch_size * cfg.rollouts_per_task * cfg.horizon  # env steps per sampling round
    per_step = 2 * 4 * (obs_dim + 3 * act_dim) + 2 * (8 + 4)  # sampling buffers + task-major copies
    per_step += 8 * (2 * obs_dim + 4) / max(cfg.meta_batch_size, 1)  # baseline features (one task at a time)
    per_step += 8 * 8  # returns, values, advantages, ... (float64)
    per_step += 4 * (obs_dim + 3 * act_dim + 6)  # the float32 Batch
    return int(steps * per_step * (cfg.inner_steps + 1))


def check_memory(cfg: Any, obs_dim: int, act_dim: int) -> None:
    """Raise ``ConfigError`` with the estimate if a run's samples cannot fit in the available memory."""
    need = estimate_sample_memory(cfg, obs_dim, act_dim)
    have = available_memory()
    if have is not None and need > have:
        steps = cfg.meta_batch_size * cfg.rollouts_per_task * cfg.horizon
        raise ConfigError(
            f"this run needs at least {need / GIB:.3g} GiB of memory for its samples ({cfg.meta_batch_size} tasks x "
            f"{cfg.rollouts_per_task} rollouts x horizon {cfg.horizon} = {steps:,} env steps per round, "
            f"{cfg.inner_steps + 1} rounds); {have / GIB:.3g} GiB are available: reduce --meta-batch-size, "
            "--rollouts-per-task or --horizon"
        )
