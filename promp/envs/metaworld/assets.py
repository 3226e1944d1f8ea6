"""Meta-World's Sawyer models, compiled with MuJoCo 4 from the metaworld package's own XML assets.

Where the assets come from, the first that exists: ``$PROMP_METAWORLD_ASSETS`` (a directory holding
``sawyer_xyz/``, ``objects/``, ``scene/``: the ``metaworld/assets`` folder of the metaworld 3.1.1 wheel);
the ``assets`` folder of an installed ``metaworld`` package, located with ``importlib.util.find_spec``
without importing it (its Python code targets MuJoCo 3.3 and is never run here); the assets alone in
``<sys.prefix>/share/promp/metaworld-3.1.1/assets``. metaworld 3.1.1 pins ``mujoco==3.3.0``, so pip
cannot install it beside MuJoCo 4 with its dependencies. Either of::

    python scripts/install_metaworld_assets.py   # the assets only (hash-checked wheel); pip check stays clean
    pip install --no-deps metaworld==3.1.1        # the package; pip check then reports the mujoco pin

The mend for MuJoCo 4 (why metaworld's own constructor fails there)
-------------------------------------------------------------------
Every Sawyer model moves the hand with a mocap body ``mocap`` welded to the body ``hand`` (a body-based
``<weld>`` without ``relpose``). metaworld's ``SawyerMocapBase.reset_mocap_welds`` overwrites each weld's
row of ``mjModel.eq_data`` after compiling with 11 numbers: anchor ``(0, 0, 0)``, relative position
``(0, 0, 0)``, relative orientation ``(-1, 0, 0, 0)`` (the identity rotation, sign-flipped) and
``torquescale = 5``. MuJoCo 4.0.0 raised ``mjNEQDATA``, the row length of ``eq_data``, from 11 to 12: the
new ``eq_data[11]`` marks body-based welds compiled without a ``relpose``, whose relative pose
``mj_setConst`` now recomputes from ``qpos0`` (MuJoCo 4.0.0 changelog, "mj_setConst now computes only
quantities derived from other fields"). Assigning an 11-vector to a 12-wide row is the ``ValueError``
(shape 11 vs 12) that ends metaworld's constructor under MuJoCo 4.

Writing the 11 numbers into ``eq_data[:11]`` alone would not be enough: the mark stays set, and any
``mj_setConst`` (``mujoco.batch.Batch.set_const``, an edit of a model field it reads) would overwrite
the relative pose with the one in ``qpos0``, which is not metaworld's. ``load_model`` therefore writes
metaworld's values into the weld's spec data (``MjSpec.equalities[i].data[:11]``) before compiling:
the relative orientation is then non-zero, i.e. a specified ``relpose``, so the compiler leaves
``eq_data[11] = 0`` and the row stays ``[0 0 0 0 0 0 -1 0 0 0 5 0]`` through ``mj_setConst``. The
constraint the solver sees is the one metaworld sets under MuJoCo 3.3.

Physics defaults that changed between MuJoCo 3.3.0 (the benchmark's) and 4.0
------------------------------------------------------------------------------
``load_model`` also restores two defaults of 3.3.0 that the XMLs do not set:

- ``multiccd`` (several contacts from one convex-convex collision) is on by default since 3.8 and
  covers cylinders since 3.12; under 3.3.0 it was off. A puck (a cylinder) resting on the table then
  touches it at 4 points instead of 1, which changes the object's motion from the first step (one-step
  error in the object's orientation 1.6e-3 with it, 5.6e-4 without, measured on the recorded reach
  states). ``mjDSBL_MULTICCD`` restores the single contact, the changelog's migration path.
- ``ccd_iterations`` went from 50 to 35; it is set back to 50.

What cannot be restored: since 3.7 the solver adds the term ``Jdot v`` to the reference acceleration of
``connect`` and ``weld`` constraints (velocity-dependent, no option turns it off). The mocap weld drives
the arm, so the arm's accelerations differ from 3.3.0's whenever it moves (at zero velocity they agree to
the last digit). Trajectories therefore agree with metaworld's to a tolerance, not exactly; the reward,
success and observation functions agree exactly on the same states (tests/test_metaworld.py).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Callable

import mujoco
import numpy as np

ASSETS_ENV = "PROMP_METAWORLD_ASSETS"
METAWORLD_VERSION = "3.1.1"
INSTALL_HINT = ("install Meta-World's assets with `python scripts/install_metaworld_assets.py` or "
                f"`pip install --no-deps metaworld=={METAWORLD_VERSION}` (its mujoco==3.3.0 pin must not replace "
                f"MuJoCo 4), or set ${ASSETS_ENV} to the wheel's metaworld/assets directory")

MOCAP_WELD_DATA = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0])
"""metaworld's mocap weld: anchor (3), relative position (3), relative quaternion (4), torquescale (1)."""


def asset_dir() -> Path:
    """The directory of Meta-World's XML assets (module docstring); raises ``FileNotFoundError`` if absent."""
    env = os.environ.get(ASSETS_ENV)
    if env:
        candidates = [Path(env)]
    else:
        candidates = []
        spec = importlib.util.find_spec("metaworld")
        if spec is not None and spec.submodule_search_locations:
            candidates.append(Path(list(spec.submodule_search_locations)[0]) / "assets")
        candidates.append(Path(sys.prefix) / "share" / "promp" / f"metaworld-{METAWORLD_VERSION}" / "assets")
    for path in candidates:
        if (path / "sawyer_xyz").is_dir():
            return path
    raise FileNotFoundError(f"no Meta-World assets at {' or '.join(map(str, candidates))} (expected sawyer_xyz/ "
                            f"there): {INSTALL_HINT}")


def load_model(xml: str, edit: Callable[[mujoco.MjSpec], None] | None = None) -> mujoco.MjModel:
    """Compile ``xml`` (relative to ``asset_dir()``, e.g. ``"sawyer_xyz/sawyer_reach_v3.xml"``) with
    metaworld's mocap welds set in the spec (the MuJoCo 4 mend of the module docstring); ``edit``, if given,
    amends the spec first (e.g. a family's sensors, which read the simulation without changing it)."""
    path = asset_dir() / xml
    if not path.is_file():
        raise FileNotFoundError(f"Meta-World model {xml!r} not found at {path}")
    spec = mujoco.MjSpec.from_file(str(path))
    if edit is not None:
        edit(spec)
    if any(body.mocap for body in spec.bodies):
        for eq in spec.equalities:
            if eq.type == mujoco.mjtEq.mjEQ_WELD:
                data = np.array(eq.data, dtype=np.float64)
                data[: MOCAP_WELD_DATA.size] = MOCAP_WELD_DATA
                eq.data = data
    model = spec.compile()
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_MULTICCD)
    model.opt.ccd_iterations = 50
    welds = model.eq_type == mujoco.mjtEq.mjEQ_WELD
    if model.nmocap and welds.any() and model.eq_data.shape[1] > MOCAP_WELD_DATA.size:
        # the compiler must not have marked the welds for mj_setConst's qpos0 pose (module docstring)
        assert not model.eq_data[welds, MOCAP_WELD_DATA.size:].any(), model.eq_data
    return model
