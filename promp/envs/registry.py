"""Meta-environment registry: ids -> factories (a class, a callable or a lazy ``"module:attr"`` path).

Built-in ids are registered on import of ``promp.envs``; the MuJoCo ones by path, so that MuJoCo is
imported only when such an env is made. A user registers their own class with
``register_env("my-env", MyMetaEnv)`` (no package edits), or names it on the command line as
``--env my_package.my_module:MyMetaEnv``. Hyper-parameter presets live in ``promp.presets``;
``register_env(..., defaults=..., algo_defaults=...)`` writes the env's rows there.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from typing import Any, Callable

import gymnasium

from .. import presets
from .base import MetaEnv

Factory = Callable[..., MetaEnv]

GYM_ENTRY_POINT = "promp.envs.gym_wrapper:make_single_task_env"
"""gymnasium's entry point of every ``promp/<id>-v0``: a path, so registering imports no env."""


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """A registered meta-environment.

    ``factory`` is a class or callable, or a ``"module:attr"`` path imported by ``load_factory``
    on first use. ``defaults`` and ``algo_defaults`` are the env's rows of ``promp.presets``:
    config-field overrides for every algorithm, and per algorithm family (docs/algorithms.md §6.2).
    """

    id: str
    factory: Factory | str
    description: str = ""

    @property
    def defaults(self) -> dict[str, Any]:
        """Config overrides for every algorithm on this env (``promp.presets.ENV_PRESETS``)."""
        return presets.env_presets(self.id)

    @property
    def algo_defaults(self) -> dict[str, dict[str, Any]]:
        """Per-family config overrides on this env (``promp.presets.FAMILY_PRESETS``)."""
        return presets.family_presets(self.id)

    def load_factory(self) -> Factory:
        """The factory itself, importing its module if it was registered as ``"module:attr"``."""
        if not isinstance(self.factory, str):
            return self.factory
        module_name, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module_name), attr)


_REGISTRY: dict[str, EnvSpec] = {}


def register_gym_id(env_id: str) -> str:
    """Register ``promp/<env_id>-v0`` with gymnasium (idempotent) and return the gymnasium id."""
    gym_id = f"promp/{env_id}-v0"
    if gym_id not in gymnasium.registry:
        gymnasium.register(id=gym_id, entry_point=GYM_ENTRY_POINT, kwargs={"env_id": env_id})
    return gym_id


def add_env_spec(spec: EnvSpec, gym: bool = True) -> EnvSpec:
    """Put ``spec`` in the registry (and ``promp/<id>-v0`` in gymnasium's) without touching its presets."""
    _REGISTRY[spec.id] = spec
    if gym:
        register_gym_id(spec.id)
    return spec


def register_env(
    env_id: str,
    factory: Factory | str,
    description: str = "",
    defaults: dict[str, Any] | None = None,
    algo_defaults: dict[str, dict[str, Any]] | None = None,
    gym: bool = True,
) -> EnvSpec:
    """Register a meta-env under ``env_id`` (and as gymnasium id ``promp/<env_id>-v0`` if ``gym``);
    ``defaults`` and ``algo_defaults`` (``{family: overrides}``) become its rows in ``promp.presets``."""
    presets.set_env_presets(env_id, defaults, algo_defaults)
    return add_env_spec(EnvSpec(env_id, factory, description), gym)


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
    factory = get_env_spec(env_id).load_factory()
    try:
        return factory(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot construct env {env_id!r} with {kwargs}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a user env's constructor failed: say which env
        raise ValueError(f"cannot construct env {env_id!r}: {type(exc).__name__}: {exc}") from None
