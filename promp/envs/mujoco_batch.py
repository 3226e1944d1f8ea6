"""The batched MuJoCo engine behind the locomotion meta-envs: many copies of one model in C threads.

``BatchSim`` wraps ``mujoco.batch.Batch`` (mujoco >= 4.0): every env copy is one simulation of
the batch, stepped ``frame_skip`` substeps per env step on a pool of ``nthread`` C threads with
no Python in the inner loop. Results are bit-identical to a loop over one ``MjData`` per copy,
at any thread count, so the envs are deterministic for a fixed seed.

Semantics kept from ``mj_step`` (and from the MuJoCo 1.50 stack of the original code): after a
step, the state fields (``qpos``, ``qvel``) describe the new state while the derived fields
(``xpos``, ``xipos``, ``cinert``, ``cvel``, ``qfrc_actuator``, ``cfrc_ext``) come from the
forward pass at the start of the last substep, exactly what ``sim.data`` held after
``do_simulation`` in the original envs.

Contact forces: MuJoCo >= 2 computes ``cfrc_ext`` lazily (only inside ``mj_rnePostConstraint``,
which ``mj_forward`` calls only if a sensor needs it; gym issues #1541, #2593). MuJoCo 1.50
computed it in every forward pass. ``load_model(..., contact_forces=True)`` therefore adds an
invisible site and an accelerometer on the root body: the sensor makes every forward pass of
``mj_step`` run ``mj_rnePostConstraint``, so ``cfrc_ext`` is filled exactly as in 1.50, in C,
with no extra Python call. The sensor changes no physics.
"""

from __future__ import annotations

import os
import warnings
from typing import Iterable

import gymnasium
import mujoco
import mujoco.batch
import numpy as np

RNE_POST_SITE = "_promp_rnepost"


def asset_path(xml_name: str) -> str:
    """Path of one of gymnasium's MuJoCo model files, e.g. ``asset_path("ant.xml")``."""
    path = os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets", xml_name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"gymnasium MuJoCo asset {xml_name!r} not found at {path}")
    return path


def load_model(xml_name: str, timestep: float | None = None, contact_forces: bool = False) -> mujoco.MjModel:
    """Compile gymnasium's ``xml_name``; optionally override the timestep and enable ``cfrc_ext``.

    ``contact_forces=True`` adds a site and an accelerometer to the first body below the world,
    which makes ``mj_step`` call ``mj_rnePostConstraint`` in every forward pass (module docstring).
    """
    spec = mujoco.MjSpec.from_file(asset_path(xml_name))
    if timestep is not None:
        spec.option.timestep = float(timestep)
    if contact_forces:
        root = spec.worldbody.first_body()
        root.add_site(name=RNE_POST_SITE, group=5)
        spec.add_sensor(
            name=RNE_POST_SITE,
            type=mujoco.mjtSensor.mjSENS_ACCELEROMETER,
            objtype=mujoco.mjtObj.mjOBJ_SITE,
            objname=RNE_POST_SITE,
        )
    with warnings.catch_warnings():
        # gymnasium's XMLs use the deprecated 'settotalmass' compiler attribute; it still works
        warnings.filterwarnings("ignore", message=".*settotalmass.*")
        return spec.compile()


def available_cores() -> int:
    """Number of CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """MuJoCo thread count: ``$PROMP_MUJOCO_THREADS`` if set, else all available cores."""
    env = os.environ.get("PROMP_MUJOCO_THREADS")
    if env:
        return max(1, int(env))
    return available_cores()


class BatchSim:
    """``nsim`` copies of ``model`` stepped together; per-copy physics via ``expand``.

    The bound arrays (``qpos``, ``qvel``, ``ctrl`` and any ``fields`` requested) are live
    ``[nsim, ...]`` numpy views: write ``ctrl`` and call ``step``; read the others afterwards.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        nsim: int,
        frame_skip: int,
        nthread: int | None = None,
        fields: Iterable[str] = (),
    ) -> None:
        if nsim <= 0:
            raise ValueError(f"nsim must be positive, got {nsim}")
        self.model = model
        self.nsim = int(nsim)
        self.frame_skip = int(frame_skip)
        self.nthread = max(1, min(int(nthread or default_threads()), self.nsim))
        self.batch = mujoco.batch.Batch(model, self.nsim, nthread=self.nthread)
        self.qpos = self.batch.bind("qpos")
        self.qvel = self.batch.bind("qvel")
        self.ctrl = self.batch.bind("ctrl")
        self.fields = {name: self.batch.bind(name) for name in fields}
        self._expanded: dict[str, np.ndarray] = {}

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Reset every copy (time, warm start, controls) to the given state and run ``mj_forward``."""
        self.batch.reset(stage=mujoco.mjtStage.mjSTAGE_NONE)
        self.qpos[:] = qpos
        self.qvel[:] = qvel
        self.batch.forward()

    def step(self, ids: np.ndarray | None = None, stage: mujoco.mjtStage = mujoco.mjtStage.mjSTAGE_NONE) -> None:
        """Advance the copies ``ids`` (all if ``None``) by ``frame_skip`` substeps with the current ``ctrl``.

        ``stage`` (e.g. ``mjSTAGE_POS``) also computes the forward stages up to it at the new state, so
        the bound derived fields describe the new state instead of the one before the last substep.
        """
        self.batch.step(ids=ids, nstep=self.frame_skip, stage=stage)

    def expand(self, name: str) -> np.ndarray:
        """Per-copy values of the model field ``name`` (live ``[nsim, ...]`` array), expanding it once."""
        if name not in self._expanded:
            self._expanded[name] = self.batch.expand(name)
        return self._expanded[name]

    def model_field(self, name: str) -> np.ndarray:
        """Every copy's value of the model field ``name`` ``[nsim, ...]``: the per-copy values if it was
        expanded, else the shared model's value repeated (a read-only view)."""
        if name in self._expanded:
            return self._expanded[name]
        value = np.asarray(getattr(self.model, name))
        return np.broadcast_to(value, (self.nsim, *value.shape))

    def set_model_fields(self, values: dict[str, np.ndarray]) -> None:
        """Write per-copy model fields ``{name: [nsim, ...]}`` and recompute derived constants.

        ``mj_setConst`` runs when a field it reads (e.g. ``body_mass``, ``body_inertia``) changed,
        so the constraint solver's scalings follow the new masses.
        """
        setconst = False
        for name, val in values.items():
            arr = self.expand(name)
            arr[:] = val
            setconst |= name in mujoco.MjModel._setconst_inputs
        if setconst:
            self.batch.set_const()

    def close(self) -> None:
        """Drop the batch (its threads and memory)."""
        self.batch = None  # type: ignore[assignment]
        self.fields = {}
        self._expanded = {}
