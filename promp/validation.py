"""Checks shared by the command-line flags and a run's ``config.json``: types, finiteness, ranges,
seeds, known ids, and a memory estimate made before anything is written.

``validate_config`` (``promp.config``) calls ``check_values`` first, so a value is judged by the
same code whether it came from ``--flag`` or from an edited ``config.json``; ``check_config_types``
is the extra step for JSON, where nothing has converted the types yet.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from typing import Any

from .config import ConfigError, TrainConfig
from .envs import get_env_spec
from .presets import ALGORITHMS

MAX_SEED = 2**32 - 1  # JAX keys keep only the low 32 bits of a seed: larger seeds would collide
FLOAT32_MAX = 3.4028234663852886e38
GIB = 1024**3


def _error(message: str) -> Exception:
    return ConfigError(message)


def flag(name: str) -> str:
    """The command-line spelling of a config field (``outer_lr`` -> ``--outer-lr``)."""
    return "--" + name.replace("_", "-")


def check_seed(seed: Any, name: str = "--seed") -> None:
    """Raise ``ConfigError`` unless ``seed`` is an integer in ``[0, 2**32 - 1]``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise _error(f"{name} must be an integer in [0, {MAX_SEED}], got {seed!r}")


def check_config_types(data: dict[str, Any]) -> None:
    """Raise ``ConfigError`` naming the first field of a config dict (e.g. a loaded ``config.json``)
    whose JSON type does not fit ``TrainConfig`` (``"gamma": "0.9"``, ``"horizon": 20.7``, ``null``)."""
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        if f.name not in data:
            continue
        value, typ = data[f.name], hints[f.name]
        if typ is bool:
            ok, want = isinstance(value, bool), "true or false"
        elif typ is int:
            ok, want = isinstance(value, int) and not isinstance(value, bool), "an integer"
        elif typ is float:
            ok, want = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
        elif typ is str:
            ok, want = isinstance(value, str), "a string"
        elif f.name == "hidden":
            ok = isinstance(value, (list, tuple)) and all(isinstance(h, int) and not isinstance(h, bool) for h in value)
            want = "a list of integers"
        elif f.name == "env_kwargs":
            ok, want = isinstance(value, dict), "a JSON object"
        else:  # a field type this check does not know: leave it to TrainConfig
            continue
        if not ok:
            raise _error(f"{f.name} must be {want}, got {value!r}")


def check_values(cfg: Any) -> None:
    """Raise ``ConfigError`` for values no run can use: non-finite or float32-overflowing numbers,
    seeds outside ``[0, 2**32 - 1]``, unknown env or algorithm ids. (``validate_config`` checks the
    ranges after this.)"""
    check_seed(cfg.seed)
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise _error(f"{flag(f.name)} must be a finite number, got {value}")
            if abs(value) > FLOAT32_MAX:
                raise _error(f"{flag(f.name)} {value:g} overflows float32, the precision the policy is computed in")
    if cfg.algo not in ALGORITHMS:
        raise _error(f"unknown algo {cfg.algo!r}; known ids: {', '.join(sorted(ALGORITHMS))}")
    try:
        get_env_spec(cfg.env)
    except KeyError as exc:
        raise _error(exc.args[0]) from None


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
        raise _error(
            f"this run needs at least {need / GIB:.3g} GiB of memory for its samples ({cfg.meta_batch_size} tasks x "
            f"{cfg.rollouts_per_task} rollouts x horizon {cfg.horizon} = {steps:,} env steps per round, "
            f"{cfg.inner_steps + 1} rounds); {have / GIB:.3g} GiB are available: reduce --meta-batch-size, "
            "--rollouts-per-task or --horizon"
        )
