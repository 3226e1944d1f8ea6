"""The Meta-World task families promp implements, by metaworld's name without ``-v3``, and the families of
the ML10 and ML45 benchmarks (metaworld 3.1.1's ``ML10_V3`` and ``ML45_V3``: ten or 45 train families to
meta-train on, five held-out test families to meta-test on, in the benchmark's order, which fixes its goal
sets; ``tasks.py``).

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
    "button-press-topdown-wall": "promp.envs.metaworld.buttons:ButtonPressTopdownWall",
    "button-press": "promp.envs.metaworld.buttons:ButtonPress",
    "button-press-wall": "promp.envs.metaworld.buttons:ButtonPressWall",
    "coffee-button": "promp.envs.metaworld.buttons:CoffeeButton",
    "dial-turn": "promp.envs.metaworld.buttons:DialTurn",
    "handle-press": "promp.envs.metaworld.handles:HandlePress",
    "handle-press-side": "promp.envs.metaworld.handles:HandlePressSide",
    "handle-pull": "promp.envs.metaworld.handles:HandlePull",
    "handle-pull-side": "promp.envs.metaworld.handles:HandlePullSide",
    "faucet-open": "promp.envs.metaworld.handles:FaucetOpen",
    "faucet-close": "promp.envs.metaworld.handles:FaucetClose",
    "push-back": "promp.envs.metaworld.pushing:PushBack",
    "push-wall": "promp.envs.metaworld.pushing:PushWall",
    "reach-wall": "promp.envs.metaworld.pushing:ReachWall",
    "pick-place-wall": "promp.envs.metaworld.pushing:PickPlaceWall",
    "pick-out-of-hole": "promp.envs.metaworld.pushing:PickOutOfHole",
    "plate-slide": "promp.envs.metaworld.plates:PlateSlide",
    "plate-slide-side": "promp.envs.metaworld.plates:PlateSlideSide",
    "plate-slide-back": "promp.envs.metaworld.plates:PlateSlideBack",
    "plate-slide-back-side": "promp.envs.metaworld.plates:PlateSlideBackSide",
    "soccer": "promp.envs.metaworld.plates:Soccer",
    "hammer": "promp.envs.metaworld.tools:Hammer",
    "stick-push": "promp.envs.metaworld.tools:StickPush",
    "stick-pull": "promp.envs.metaworld.tools:StickPull",
    "coffee-pull": "promp.envs.metaworld.tools:CoffeePull",
    "coffee-push": "promp.envs.metaworld.tools:CoffeePush",
    "assembly": "promp.envs.metaworld.assembly:Assembly",
    "disassemble": "promp.envs.metaworld.assembly:Disassemble",
    "peg-unplug-side": "promp.envs.metaworld.assembly:PegUnplugSide",
    "bin-picking": "promp.envs.metaworld.assembly:BinPicking",
    "box-close": "promp.envs.metaworld.assembly:BoxClose",
    "door-lock": "promp.envs.metaworld.locks:DoorLock",
    "door-unlock": "promp.envs.metaworld.locks:DoorUnlock",
    "window-close": "promp.envs.metaworld.locks:WindowClose",
    "hand-insert": "promp.envs.metaworld.locks:HandInsert",
}
"""Family name -> ``module:Class``."""

ML10_TRAIN: tuple[str, ...] = ("reach", "push", "pick-place", "door-open", "drawer-close", "button-press-topdown",
                               "peg-insert-side", "window-open", "sweep", "basketball")
ML10_TEST: tuple[str, ...] = ("drawer-open", "door-close", "shelf-place", "sweep-into", "lever-pull")
ML45_TRAIN: tuple[str, ...] = ("assembly", "basketball", "button-press-topdown", "button-press-topdown-wall",
                               "button-press", "button-press-wall", "coffee-button", "coffee-pull", "coffee-push",
                               "dial-turn", "disassemble", "door-close", "door-open", "drawer-close", "drawer-open",
                               "faucet-open", "faucet-close", "hammer", "handle-press-side", "handle-press",
                               "handle-pull-side", "handle-pull", "lever-pull", "pick-place-wall",
                               "pick-out-of-hole", "push-back", "pick-place", "plate-slide", "plate-slide-side",
                               "plate-slide-back", "plate-slide-back-side", "peg-insert-side", "peg-unplug-side",
                               "soccer", "stick-push", "stick-pull", "push-wall", "push", "reach-wall", "reach",
                               "shelf-place", "sweep-into", "sweep", "window-open", "window-close")
ML45_TEST: tuple[str, ...] = ("bin-picking", "box-close", "hand-insert", "door-lock", "door-unlock")


def family_class(name: str) -> type[SawyerMetaEnv]:
    """The env class of family ``name`` (e.g. ``"door-open"``); ``KeyError`` naming the known ones."""
    if name not in FAMILIES:
        raise KeyError(f"unknown Meta-World family {name!r}; known: {', '.join(FAMILIES)}")
    module, cls = FAMILIES[name].split(":")
    return getattr(importlib.import_module(module), cls)
