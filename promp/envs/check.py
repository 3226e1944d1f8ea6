"""A first look at a meta-env from outside the package before a run starts: declared sizes, and one
reset and one step of one copy, with readable one-line errors naming the env and what is wrong.

Built-in envs are not probed (their numbers must not depend on an extra reset); the probe of a user
env uses its own generator, so it draws nothing from the run's random stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class EnvCheckError(ValueError):
    """A meta-env does not follow the protocol of ``promp.envs.MetaEnv`` (the message says how)."""


def _is_builtin(env: Any) -> bool:
    return type(env).__module__.startswith("promp.")


def check_env(env: Any, env_id: str) -> None:
    """Raise ``EnvCheckError`` naming ``env_id`` if ``env`` lacks the protocol's attributes or its
    ``sample_tasks``/``set_tasks``/``reset``/``step`` (and ``step_success`` of an env that reports success)
    raise or return arrays of the wrong shape."""
    name = f"env {env_id!r} ({type(env).__name__})"
    for attr in ("obs_dim", "act_dim"):
        value = getattr(env, attr, None)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise EnvCheckError(f"{name}: class attribute {attr} must be a positive integer, got {value!r}")
    for attr in ("action_low", "action_high"):
        value = np.asarray(getattr(env, attr, None), dtype=object)
        if value.shape != (env.act_dim,):
            raise EnvCheckError(f"{name}: {attr} must have shape ({env.act_dim},) (act_dim), got {getattr(env, attr, None)!r}")
    if _is_builtin(env):
        return
    rng = np.random.default_rng(0)
    stage = "sample_tasks(rng, 1)"
    try:
        tasks = env.sample_tasks(rng, 1)
        stage = "set_tasks(tasks, 1)"
        env.set_tasks(list(tasks), 1)
        stage = "reset(rng)"
        obs = np.asarray(env.reset(rng))
        _shape(name, "reset() observations", obs, (1, env.obs_dim))
        stage = "step(actions)"
        out = env.step(np.zeros((1, env.act_dim)))
        if not isinstance(out, tuple) or len(out) != 3:
            raise EnvCheckError(f"{name}: step() must return (obs, reward, done), got {type(out).__name__}")
        obs, reward, done = (np.asarray(x) for x in out)
        _shape(name, "step() observations", obs, (1, env.obs_dim))
        _shape(name, "step() rewards", reward, (1,))
        _shape(name, "step() done flags", done, (1,))
        if getattr(env, "reports_success", False):
            stage = "step_success()"
            _shape(name, "step_success() flags", np.asarray(env.step_success()), (1,))
    except EnvCheckError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the user's code raised, say where
        raise EnvCheckError(f"{name}: {stage} raised {type(exc).__name__}: {exc}") from None


def _shape(name: str, what: str, value: np.ndarray, expected: tuple[int, ...]) -> None:
    if value.shape != expected:
        raise EnvCheckError(f"{name}: {what} have shape {value.shape}, expected {expected} for 1 copy")
