"""Meta-environment registry: ids -> factories and per-environment hyper-parameter presets.

Built-in ids are registered on import of ``promp.envs``. A user registers their own class with
``register_env("my-env", MyMetaEnv)`` (no package edits), or names it on the command line as
``--env my_package.my_module:MyMetaEnv``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from typing import Any, Callable

from .base import MetaEnv


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """A registered meta-environment.

    ``defaults`` are config-field overrides for every algorithm on this env (e.g. horizon,
    inner steps, hidden sizes); ``algo_defaults`` maps an algorithm family (``"promp"``, ``"trpo"``,
    ``"vpg"``, ``"dice"``) to further overrides (docs/algorithms.md §6.2).
    """

    id: str
    factory: Callable[..., MetaEnv]
    description: str = ""
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)
    algo_defaults: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


_REGISTRY: dict[str, EnvSpec] = {}


def register_env(
    env_id: str,
    factory: Callable[..., MetaEnv],
    description: str = "",
    defaults: dict[str, Any] | None = None,
    algo_defaults: dict[str, dict[str, Any]] | None = None,
    gym: bool = True,
) -> EnvSpec:
    """Register a meta-env under ``env_id`` (and as gymnasium id ``promp/<env_id>-v0`` if ``gym``)."""
    spec = EnvSpec(env_id, factory, description, dict(defaults or {}), dict(algo_defaults or {}))
    _REGISTRY[env_id] = spec
    if gym:
        from .gym_wrapper import register_gym_id

        register_gym_id(env_id)
    return spec


def env_ids() -> list[str]:
    """All registered meta-environment ids, sorted."""
    return sorted(_REGISTRY)


def get_env_spec(env_id: str) -> EnvSpec:
    """Look up ``env_id``; ``module:Class`` imports a user class. Raises ``KeyError`` if unknown."""
    if env_id in _REGISTRY:
        return _REGISTRY[env_id]
    if ":" in env_id:
        module_name, _, attr = env_id.partition(":")
        try:
            factory = getattr(_import_user_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise KeyError(f"cannot import meta-env {env_id!r}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the user's module failed while importing
            raise KeyError(f"cannot import meta-env {env_id!r}: importing {module_name} raised {type(exc).__name__}: {exc}") from None
        return EnvSpec(env_id, factory, getattr(factory, "__doc__", "") or "")
    raise KeyError(
        f"unknown env {env_id!r}; known ids: {', '.join(env_ids())} (an env registered with register_env() in a "
        "script exists only in that script: train it as --env module:Class to use it from the command line)"
    )


def _import_user_module(module_name: str) -> Any:
    """Import ``module_name``, also from the current directory (as ``python -m`` would; the ``promp``
    script's own directory is first on ``sys.path`` instead)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        cwd = os.getcwd()
        if exc.name != module_name.split(".")[0] or cwd in sys.path:
            raise
        sys.path.append(cwd)
        return importlib.import_module(module_name)


def make_env(env_id: str, **kwargs: Any) -> MetaEnv:
    """Construct the meta-env registered as ``env_id``; bad constructor arguments raise ``ValueError``."""
    factory = get_env_spec(env_id).factory
    try:
        return factory(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot construct env {env_id!r} with {kwargs}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a user env's constructor failed: say which env
        raise ValueError(f"cannot construct env {env_id!r}: {type(exc).__name__}: {exc}") from None
