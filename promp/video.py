"""Offscreen video of a meta-env's copies: frames via MuJoCo's ``Renderer`` (EGL/OSMesa), MP4 via imageio.

Rendering hook (part of the meta-task protocol, optional): a ``MetaEnv`` subclass may define

    def render_frame(self, copy_index: int, width: int, height: int) -> np.ndarray  # uint8 [H, W, 3]

returning a picture of copy ``copy_index`` in its current state. Envs without it are rendered
here if they are MuJoCo envs in the style of ``promp.envs.locomotion.MujocoMetaEnv``: an
``MjModel`` in ``env.model`` and batched state arrays ``env.sim.qpos`` / ``env.sim.qvel``
(``[num_copies, nq]`` / ``[num_copies, nv]``); the state of the copy is copied into a private
``MjData`` and drawn with a camera tracking the root body.

Offscreen OpenGL without a GPU: MuJoCo picks its GL back end from ``MUJOCO_GL`` when ``mujoco``
is first imported; ``default_offscreen_gl`` (called by ``promp rollout`` before it makes an env, and by
this module before it imports MuJoCo) defaults it to ``egl`` when libEGL is installed, which works with Mesa's software rasteriser (llvmpipe) from the Debian packages
``libegl1`` and ``libegl-mesa0``.
``MUJOCO_GL=osmesa`` needs ``libosmesa6`` instead. MP4 encoding needs the optional extra
``pip install 'promp[video]'`` (imageio + imageio-ffmpeg, which ships its own ffmpeg binary).
"""

from __future__ import annotations

import ctypes.util
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .atomic import atomic_path


def default_offscreen_gl() -> str | None:
    """Set ``MUJOCO_GL=egl`` unless it is set or libEGL is absent; returns the value in effect.

    Only effective before the first ``import mujoco``. (A back end whose library is missing makes
    ``import mujoco`` itself fail, hence the check.)
    """
    if "MUJOCO_GL" not in os.environ and ctypes.util.find_library("EGL"):
        os.environ["MUJOCO_GL"] = "egl"
    return os.environ.get("MUJOCO_GL")


def _mujoco() -> Any:
    """The ``mujoco`` module (heavy, so imported on first use), with ``MUJOCO_GL`` defaulted first."""
    default_offscreen_gl()
    import mujoco

    return mujoco


class RenderError(RuntimeError):
    """Offscreen rendering or video encoding is not available (the message says what to install)."""


FrameFn = Callable[[int], np.ndarray]


def can_render(env: Any) -> bool:
    """Whether ``frame_source`` supports ``env`` (a ``render_frame`` hook or a batched MuJoCo env)."""
    if callable(getattr(env, "render_frame", None)):
        return True
    mujoco = _mujoco()
    return isinstance(getattr(env, "model", None), mujoco.MjModel) and hasattr(env, "sim")


def frame_source(env: Any, width: int = 320, height: int = 240) -> tuple[FrameFn, Callable[[], None]]:
    """``(frame(copy_index) -> uint8 [height, width, 3], close)`` for ``env`` (see the module docstring)."""
    hook = getattr(env, "render_frame", None)
    if callable(hook):
        return (lambda i: np.asarray(hook(i, width, height), dtype=np.uint8)), (lambda: None)
    if not can_render(env) or not hasattr(getattr(env, "sim", None), "qpos"):
        raise RenderError(f"{type(env).__name__} cannot be rendered: define render_frame(copy_index, width, height) on it")
    mujoco = _mujoco()
    model = env.model
    try:
        renderer = mujoco.Renderer(model, height, width)
    except Exception as exc:  # the GL back end raises various types
        raise RenderError(
            f"offscreen rendering failed ({exc.__class__.__name__}: {exc}); MUJOCO_GL={os.environ.get('MUJOCO_GL')!r}. "
            "Set MUJOCO_GL=egl before Python starts (Debian: apt-get install -y libegl1 libegl-mesa0) "
            "or MUJOCO_GL=osmesa (apt-get install -y libosmesa6)"
        ) from None
    data = mujoco.MjData(model)
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    camera.trackbodyid = 1 if model.nbody > 1 else 0
    camera.distance = _camera_distance(model, data)
    camera.elevation = -15.0
    camera.azimuth = 90.0

    def frame(i: int) -> np.ndarray:
        data.qpos[:] = env.sim.qpos[i]
        data.qvel[:] = env.sim.qvel[i]
        mujoco.mj_forward(model, data)
        renderer.update_scene(data, camera)
        return renderer.render().copy()

    return frame, renderer.close


def _camera_distance(model: Any, data: Any) -> float:
    """A distance that shows the whole robot: 3x its radius around the root body (floor planes excluded)."""
    mujoco = _mujoco()
    mujoco.mj_forward(model, data)
    own = model.geom_bodyid > 0
    if model.nbody < 2 or not own.any():
        return 2.0 * float(model.stat.extent)
    reach = np.linalg.norm(data.geom_xpos[own] - data.xpos[1], axis=1) + model.geom_rbound[own]
    return max(1.5, 3.0 * float(reach.max()))


class FrameRecorder:
    """Wraps a meta-env and grabs a frame of one copy after ``reset`` and after every ``step``.

    Pass it to ``promp.sampling.sample_trajectories`` in place of the env.
    """

    def __init__(self, env: Any, frame: FrameFn, copy_index: int = 0) -> None:
        self.env, self.frame, self.copy_index = env, frame, copy_index
        self.frames: list[np.ndarray] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Reset the wrapped env and record the first frame."""
        obs = self.env.reset(rng)
        self.frames = [self.frame(self.copy_index)]
        return obs

    def step(self, action: np.ndarray):
        """Step the wrapped env and record a frame."""
        out = self.env.step(action)
        self.frames.append(self.frame(self.copy_index))
        return out


def side_by_side(clips: Sequence[Sequence[np.ndarray]], gap: int = 4) -> list[np.ndarray]:
    """Frames of several clips placed left to right; a shorter clip holds its last frame."""
    n = max(len(c) for c in clips)
    out = []
    for t in range(n):
        tiles = [c[min(t, len(c) - 1)] for c in clips]
        h = max(x.shape[0] for x in tiles)
        sep = np.full((h, gap, 3), 255, dtype=np.uint8)
        row: list[np.ndarray] = []
        for j, x in enumerate(tiles):
            if j:
                row.append(sep)
            row.append(x)
        out.append(np.concatenate(row, axis=1))
    return out


def _pad16(frame: np.ndarray) -> np.ndarray:
    """Pad a frame with white to multiples of 16 pixels (what H.264 encoders and players expect)."""
    h, w = frame.shape[:2]
    ph, pw = -h % 16, -w % 16
    if ph or pw:
        frame = np.pad(frame, ((0, ph), (0, pw), (0, 0)), constant_values=255)
    return frame


def write_mp4(frames: Sequence[np.ndarray], path: Path, fps: float) -> Path:
    """Encode ``frames`` (uint8 ``[H, W, 3]``) as H.264 MP4 at ``fps`` via imageio-ffmpeg (written atomically)."""
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise RenderError("writing MP4 needs the optional extra: pip install 'promp[video]' (imageio, imageio-ffmpeg)") from None
    try:
        with atomic_path(path, keep_suffix=True) as tmp, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")  # ffmpeg is fork+exec'd
            with imageio.get_writer(str(tmp), format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1, quality=7) as writer:
                for f in frames:
                    writer.append_data(_pad16(np.asarray(f, dtype=np.uint8)))
    except ImportError as exc:  # imageio without imageio-ffmpeg
        raise RenderError(f"writing MP4 needs imageio-ffmpeg: pip install 'promp[video]' ({exc})") from None
    return path


def record_pre_post_mp4(learner: Any, params_pre: Any, params_post: Any, task: dict, rng: Any, width: int, height: int,
                        out_path: Path) -> None:
    """An MP4 of one episode of ``task`` with the pre-update policy (left) beside one with the adapted
    policy (right), rendered offscreen at ``width`` x ``height``."""
    import jax  # JAX and the sampler: not loaded for --help

    from .sampling import sample_trajectories

    env, cfg = learner.env, learner.cfg
    env.set_tasks([task], 1)
    frame, close = frame_source(env, width, height)
    try:
        clips = []
        for i, p in enumerate((params_pre, params_post)):
            one = jax.tree_util.tree_map(lambda x: x[:1], p)  # task axis of length 1
            rec = FrameRecorder(env, frame)
            sample_trajectories(rec, one, cfg.horizon, rng, floor_log_std=(i == 0))
            clips.append(rec.frames)
    finally:
        close()
    fps = 1.0 / float(getattr(env, "dt", 0.05))
    write_mp4(side_by_side(clips), out_path, fps)
