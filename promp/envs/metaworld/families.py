"""The Meta-World task families promp implements, by metaworld's name without ``-v3``, and the families of
the ML10 benchmark (metaworld 3.1.1's ``ML10_V3``: ten train families to meta-train on, five held-out test
families to meta-test on, in the benchmark's order, which fixes its goal sets; ``tasks.py``).

Each family is a ``SawyerMetaEnv`` subclass (``sawyer.py``) loaded by path when it is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .sawyer import SawyerMetaEnv

FAMILIES: dict[str, str] = {
    "reach": "promp.envs.metaworld.ml1:MetaworldMl1Reach",
    "push": "promp.envs.metaworld.ml1:MetaworldMl1Push",
    "pick-place": "promp.envs.metaworld.ml1:MetaworldMl1PickPlace",
    "door-open": "promp.envs.metaworld.doors:DoorOpen",
    "door-close": "promp.envs.metaworld.doors:DoorClose",
    "window-open": "promp.envs.metaworld.doors:WindowOpen",
    "drawer-open": "promp.envs.metaworld.drawers:DrawerOpen",
    "drawer-close": "promp.envs.metaworld.drawers:DrawerClose",
    "lever-pull": "promp.envs.metaworld.drawers:LeverPull",
    "button-press-topdown": "promp.envs.metaworld.placing:ButtonPressTopdown",
    "peg-insert-side": "promp.envs.metaworld.placing:PegInsertSide",
    "shelf-place": "promp.envs.metaworld.placing:ShelfPlace",
    "sweep": "promp.envs.metaworld.sweeping:Sweep",
    "sweep-into": "promp.envs.metaworld.sweeping:SweepInto",
    "basketball": "promp.envs.metaworld.sweeping:Basketball",
}
"""Family name -> ``module:Class``."""

ML10_TRAIN: tuple[str, ...] = ("reach", "push", "pick-place", "door-open", "drawer-close", "button-press-topdown",
                               "peg-insert-side", "window-open", "sweep", "basketball")
ML10_TEST: tuple[str, ...] = ("drawer-open", "door-close", "shelf-place", "sweep-into", "lever-pull")


def family_class(name: str) -> type[SawyerMetaEnv]:
    """The env class of family ``name`` (e.g. ``"door-open"``); ``KeyError`` naming the known ones."""
    if name not in FAMILIES:
        raise KeyError(f"unknown Meta-World family {name!r}; known: {', '.join(FAMILIES)}")
    module, cls = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module), cls)
