"""``promp eval RUN_DIR``: meta-test a trained policy on held-out tasks (I/O around ``promp.evaluation``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import tyro
from rich.console import Console
from rich.table import Table

from ..atomic import atomic_write_text
from ..config import check_seed
from ..rundir import RunDir, check_output_dir
from ..rundir_lock import EVAL_LOCK_NAME, hold_directory_lock
from ..versions import environment_record
from . import CommandError
from .common import parse_json_object, parse_task, warn_other_versions


def eval_command(
    run_dir: Annotated[tyro.conf.Positional[str], tyro.conf.arg(help="run directory written by promp train", metavar="RUN_DIR")],
    checkpoint: Annotated[Optional[str], tyro.conf.arg(
        help="checkpoint to load: 'latest' (default), 'best' (the best smoothed return_post, checkpoints/best.json) "
             "or an iteration number as in progress.csv", metavar="latest|best|N", help_behavior_hint="")] = None,
    tasks: Annotated[Optional[int], tyro.conf.arg(
        help="number of held-out tasks (default: the run's meta-batch size)", metavar="N", help_behavior_hint="")] = None,
    adapt_steps: Annotated[Optional[int], tyro.conf.arg(
        help="inner adaptation steps K, may exceed the training K (default: the run's)", metavar="K",
        help_behavior_hint="")] = None,
    rollouts: Annotated[Optional[int], tyro.conf.arg(
        help="rollouts per task and step (default: the run's)", metavar="N", help_behavior_hint="")] = None,
    seed: Annotated[Optional[int], tyro.conf.arg(
        help="meta-test seed (default: the run's seed, on a stream separate from training)", metavar="INT",
        help_behavior_hint="")] = None,
    task: Annotated[Optional[str], tyro.conf.arg(
        help="evaluate one given task instead, as JSON, e.g. '{\"goal\": [2, 2]}' (default: sampled tasks)",
        metavar="JSON", help_behavior_hint="")] = None,
    confidence: Annotated[float, tyro.conf.arg(help="confidence level of the interval (default: 0.95)", metavar="FLOAT",
                                               help_behavior_hint="")] = 0.95,
    env_kwargs: Annotated[Optional[str], tyro.conf.arg(
        help="env constructor arguments as JSON, merged over the run's, e.g. '{\"split\": \"test\"}' for a Meta-World "
             "env's held-out goals (default: the run's)", metavar="JSON", help_behavior_hint="")] = None,
    out: Annotated[Optional[str], tyro.conf.arg(
        help="directory for eval.json and eval.png (default: RUN_DIR)", metavar="DIR", help_behavior_hint="")] = None,
) -> None:
    """Adapt the trained policy to held-out tasks; print the return at every step 0..K with a
    confidence interval (and the success rate, for an env that reports success; the mean path length,
    where episodes end before the horizon) and write eval.json and the adaptation-curve eval.png."""
    if tasks is not None and tasks < 1:
        raise CommandError(f"--tasks must be >= 1, got {tasks}")
    if adapt_steps is not None and adapt_steps < 0:
        raise CommandError(f"--adapt-steps must be >= 0, got {adapt_steps}")
    if rollouts is not None and rollouts < 1:
        raise CommandError(f"--rollouts must be >= 1, got {rollouts}")
    if not 0 < confidence < 1:
        raise CommandError(f"--confidence must be in (0, 1), got {confidence}")
    if task is not None and tasks is not None:
        raise CommandError("give either --task (one given task) or --tasks N (sampled tasks), not both")

    given_kwargs = parse_json_object("--env-kwargs", env_kwargs, '{"split": "test"}') if env_kwargs is not None else None
    if seed is not None:
        check_seed(seed)
    if out is not None:
        check_output_dir(Path(out))

    from ..checkpoint import load_run
    from ..evaluation import eval_rng, meta_test, report
    from ..plotting import plot_adaptation_curve, save_figure_atomically

    run = load_run(run_dir, checkpoint, env_kwargs=given_kwargs, rollouts_per_task=rollouts)
    cfg, learner = run.cfg, run.learner
    versions = environment_record()
    warn_other_versions(RunDir(run.run_dir), versions, "evaluating")
    try:
        out_dir = Path(out) if out else run.run_dir
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"--out {out_dir} exists and is not a directory")
        k = cfg.inner_steps if adapt_steps is None else adapt_steps
        seed_used = cfg.seed if seed is None else seed
        rng = eval_rng(seed_used)
        task_list = [parse_task(task, learner.env)] if task is not None else learner.env.sample_tasks(rng, tasks or cfg.meta_batch_size)
        result = meta_test(learner, run.params, task_list, rng, k)
    finally:
        learner.env.close()

    record = report(
        result,
        confidence,
        run_dir=str(run.run_dir),
        env=cfg.env,
        env_kwargs=cfg.env_kwargs,
        algo=cfg.algo,
        checkpoint_iteration=run.iteration,
        eval_seed=seed_used,
        training_seed=cfg.seed,
        training_inner_steps=cfg.inner_steps,
        horizon=cfg.horizon,
        given_task=task is not None,
    )
    record["versions"] = versions
    table = Table(title=f"{cfg.algo} on {cfg.env}, checkpoint {run.iteration}: {record['num_tasks']} task(s) x {record['rollouts_per_task']} rollouts")
    with_success = "per_task_success" in record
    # episodes that ended before the horizon: show their length (how much of the return is a per-step bonus)
    with_length = any(s.get("mean_path_length", cfg.horizon) < cfg.horizon for s in record["steps"])
    interval = f"{confidence:.0%} CI ({record['interval_over']})"
    columns = ["step", "average return", interval, "std", "vs step 0"]
    columns += [f"success rate ({confidence:.0%} CI)"] if with_success else []
    columns += [f"path length (of {cfg.horizon})"] if with_length else []
    for col in columns:
        table.add_column(col, justify="right")
    base = record["steps"][0]["mean"]
    for s in record["steps"]:
        cells = [str(s["step"]), f"{s['mean']:.4g}", f"[{s['ci_low']:.4g}, {s['ci_high']:.4g}]", f"{s['std']:.3g}", f"{s['mean'] - base:+.4g}"]
        if with_success:
            cells.append(f"{s['success_rate']:.0%} [{s['success_ci_low']:.0%}, {s['success_ci_high']:.0%}]")
        if with_length:
            cells.append(f"{s['mean_path_length']:.1f}")
        table.add_row(*cells)
    Console().print(table)
    if "by_family" in record:
        Console().print(family_table(record))

    json_path, png_path = out_dir / "eval.json", out_dir / "eval.png"
    with hold_directory_lock(out_dir, "promp eval", EVAL_LOCK_NAME):  # one eval writing into out_dir at a time
        atomic_write_text(json_path, json.dumps(record, indent=1))
        title = f"{cfg.algo} on {cfg.env} (checkpoint {run.iteration})"
        save_figure_atomically(png_path, lambda p: plot_adaptation_curve(record["steps"], p, title, confidence))
    print(f"wrote {json_path} and {png_path}")


def family_table(record: dict) -> Table:
    """Per task family: tasks, and the success rate (or, for an env without one, the mean return) at step 0
    and after the last adaptation step (``record["by_family"]``)."""
    last = record["adapt_steps"]
    table = Table(title="per task family")
    key, fmt = ("success_rate", "{:.0%}") if "per_task_success" in record else ("mean_return", "{:.4g}")
    label = "success rate" if key == "success_rate" else "average return"
    for col in ("family", "tasks", f"{label}, step 0", f"{label}, step {last}"):
        table.add_column(col, justify="right")
    for family, entry in record["by_family"].items():
        table.add_row(family, str(entry["tasks"]), fmt.format(entry[key][0]), fmt.format(entry[key][last]))
    return table
