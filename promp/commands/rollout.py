"""``promp rollout RUN_DIR``: pre- and post-update behaviour on one task.

Point tasks: a PNG of the 2-D paths before and after adaptation, with the goal(s) and reward
regions drawn. MuJoCo tasks (or any env with the ``render_frame`` hook, see ``promp.video``): an
MP4 with the pre-update episode on the left and the post-update episode on the right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import tyro

from ..config import check_seed
from ..envs.point import PointCorner, PointMomentum, PointNav
from ..video import RenderError, can_render, default_offscreen_gl, record_pre_post_mp4
from . import CommandError
from .common import parse_task


def rollout_command(
    run_dir: Annotated[tyro.conf.Positional[str], tyro.conf.arg(help="run directory written by promp train", metavar="RUN_DIR")],
    task: Annotated[Optional[str], tyro.conf.arg(
        help="task as JSON, e.g. '{\"goal\": [2, 2]}' (default: one sampled with --seed)", metavar="JSON",
        help_behavior_hint="")] = None,
    checkpoint: Annotated[Optional[str], tyro.conf.arg(
        help="checkpoint to load: 'latest' (default), 'best' (the best smoothed return_post, checkpoints/best.json) "
             "or an iteration number as in progress.csv", metavar="latest|best|N", help_behavior_hint="")] = None,
    adapt_steps: Annotated[Optional[int], tyro.conf.arg(
        help="inner steps before the post-update picture (default: the run's K)", metavar="K", help_behavior_hint="")] = None,
    paths: Annotated[int, tyro.conf.arg(help="point tasks: trajectories drawn per panel", metavar="N")] = 5,
    seed: Annotated[int, tyro.conf.arg(help="seed of the task draw, the action noise and the adaptation samples")] = 0,
    width: Annotated[int, tyro.conf.arg(help="MuJoCo video: width of each half in pixels", metavar="PIXELS")] = 320,
    height: Annotated[int, tyro.conf.arg(help="MuJoCo video: height in pixels", metavar="PIXELS")] = 240,
    out: Annotated[Optional[str], tyro.conf.arg(
        help="output file (default: RUN_DIR/rollout.png or RUN_DIR/rollout.mp4)", metavar="FILE",
        help_behavior_hint="")] = None,
) -> None:
    """Adapt the trained policy to one task and show its behaviour before and after the update."""
    default_offscreen_gl()  # effective only if MuJoCo is not imported yet (see promp.video)
    if paths < 1:
        raise CommandError(f"--paths must be >= 1, got {paths}")
    if adapt_steps is not None and adapt_steps < 0:
        raise CommandError(f"--adapt-steps must be >= 0, got {adapt_steps}")
    if width < 16 or height < 16:
        raise CommandError("--width and --height must be >= 16")
    check_seed(seed)

    from ..checkpoint import load_run  # JAX: not loaded for --help
    from ..evaluation import eval_rng  # JAX: loaded once the arguments are known to be good

    run = load_run(run_dir, checkpoint)
    cfg, learner, env = run.cfg, run.learner, run.learner.env
    try:
        is_point = isinstance(env, (PointCorner, PointMomentum, PointNav))
        if not is_point and not can_render(env):
            raise CommandError(f"rollout supports the point tasks and MuJoCo envs; {cfg.env} has no render_frame hook")
        suffix = ".png" if is_point else ".mp4"
        out_path = Path(out) if out else run.run_dir / f"rollout{suffix}"
        if out_path.suffix.lower() != suffix:
            raise CommandError(f"--out must be a {suffix} file for {cfg.env}, got {out_path}")
        rng = eval_rng(seed)
        the_task = parse_task(task, env) if task is not None else env.sample_tasks(rng, 1)[0]
        k = cfg.inner_steps if adapt_steps is None else adapt_steps
        res = learner.sample_adapted(run.params, [the_task], rng, steps=k)
        returns = [float((t.rewards * t.mask).sum(-1).mean()) for t in res.trajectories]
        out_path.parent.mkdir(parents=True, exist_ok=True)
        if is_point:
            from ..plotting import save_point_rollout  # matplotlib: not loaded for --help

            save_point_rollout(env, the_task, res, paths, k, returns, out_path, f"{cfg.algo} on {cfg.env}, checkpoint {run.iteration}")
        else:
            try:
                record_pre_post_mp4(learner, res.params[0], res.params[-1], the_task, rng, width, height, out_path)
            except RenderError as exc:
                raise CommandError(str(exc)) from None
    finally:
        env.close()
    print(f"task {the_task}: average return " + ", ".join(f"step {i}: {r:.4g}" for i, r in enumerate(returns)))
    print(f"wrote {out_path}")
