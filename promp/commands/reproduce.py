"""``promp reproduce NAME [--quick|--full] [--out DIR] [--seeds ...]``: one paper figure, end to end.

A thin command: the experiments (computation, figures, files, summary) live in ``promp.experiments``,
one package per experiment, listed in ``promp.experiments.registry.EXPERIMENTS``. Each experiment says
which scales it offers, its default seeds and which fields of its setup dataclass the flags below may
override; this module checks the flags against that and dispatches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import tyro

from ..config import check_seed
from . import CommandError

SIZE_FLAGS = ("iterations", "meta_batch_size", "rollouts_per_task")


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def check_overrides(name: str, experiments: dict, given: dict) -> None:
    """Raise ``CommandError`` for a flag the experiment ``name`` does not take (one that is not among
    its ``Experiment.flags``) or a size below 1. ``given`` maps setup fields to the flags' values
    (``None``/``False`` = not given)."""
    flags = experiments[name].flags
    for field, value in given.items():
        if field in SIZE_FLAGS and value is not None and value < 1:
            raise CommandError(f"{_flag(field)} must be >= 1")
        if field == "algos" and value is not None and field in flags and len(value) == 0:
            raise CommandError("--algos needs at least one algorithm")
        if value in (None, False) or field in flags:
            continue
        owners = [e for e in experiments.values() if field in e.flags]
        if len(owners) == 1:  # the flags only that one experiment takes, named together
            only = [f for f in owners[0].flags if sum(f in e.flags for e in experiments.values()) == 1]
            verb = "applies" if len(only) == 1 else "apply"
            raise CommandError(f"{' and '.join(map(_flag, only))} {verb} to the {owners[0].name} experiment only, not {name}")
        if len(owners) == 2:  # e.g. the campaign flags (figure2 and metaworld)
            raise CommandError(f"{_flag(field)} applies to the {owners[0].name} and {owners[1].name} experiments only, "
                               f"not {name}")
        raise CommandError(f"{_flag(field)} does not apply to the {name} experiment")


def reproduce_command(
    name: tyro.conf.Positional[str],
    quick: Annotated[bool, tyro.conf.arg(help="small scale, finishes in well under a minute (the default)")] = False,
    full: Annotated[bool, tyro.conf.arg(help="the paper's settings (docs/algorithms.md §6, §10)")] = False,
    medium: Annotated[bool, tyro.conf.arg(help="a reduced scale that shows the effect in ~10 minutes on 2 cores "
                                                "(the one in docs/results.md; not every experiment has it)")] = False,
    out: Annotated[Optional[str], tyro.conf.arg(help="output directory (default runs/reproduce/NAME-SCALE)", metavar="DIR")] = None,
    seeds: Annotated[Optional[tuple[int, ...]], tyro.conf.arg(help="seeds (default: formulation 0 1 2 for --quick, 0..4 for --full; exploration 0 / 1 / 1..5, gradient-variance 0 / 22 / 22 35 76 34 92, learning-curves 0 1 / 1 2 3 / 1 2 3 for quick / medium / full)", metavar="INT [INT ...]")] = None,
    iterations: Annotated[Optional[int], tyro.conf.arg(
        help="override the scale's number of iterations (not formulation); for the trainer-based experiments "
             "(exploration, learning-curves) a larger value in the same --out extends the existing runs",
        metavar="N")] = None,
    meta_batch_size: Annotated[Optional[int], tyro.conf.arg(
        help="override the scale's number of tasks per iteration (not formulation); runs of another size are "
             "new runs: give them their own --out", metavar="N")] = None,
    rollouts_per_task: Annotated[Optional[int], tyro.conf.arg(
        help="override the scale's number of rollouts per task (not formulation); as --meta-batch-size",
        metavar="N")] = None,
    algos: Annotated[Optional[tuple[str, ...]], tyro.conf.arg(
        help="run only these of the experiment's algorithms (not formulation), e.g. --algos lvc-trpo maml-trpo",
        metavar="ALGO [ALGO ...]")] = None,
    convention: Annotated[Optional[str], tyro.conf.arg(
        help="formulation only: weighting of the meta-gradient terms, 'original' (the hand-coded 1-D script, "
             "default), 'exact' (alpha times the exact gradients of J^I and J^II: no alpha on the E-MAML term) "
             "or 'paper' (alpha times eqs. 1-4 as printed)", metavar="{original,exact,paper}")] = None,
    score_raw_action: Annotated[bool, tyro.conf.arg(
        help="formulation only: score the unclipped Gaussian action (unbiased) instead of the recorded clipped "
             "action (the original)")] = False,
    scale: Annotated[Optional[str], tyro.conf.arg(
        help="the scale by name instead of --quick/--medium/--full: quick, reduced (= medium) or paper (= full)",
        metavar="{quick,reduced,paper}")] = None,
    envs: Annotated[Optional[tuple[str, ...]], tyro.conf.arg(
        help="figure2 and metaworld only: run only these envs (default: the scale's; figure2: any of the paper's six; "
             "metaworld: the ML1 families and metaworld-ml10)",
        metavar="ENV [ENV ...]")] = None,
    parallel: Annotated[Optional[int], tyro.conf.arg(
        help="figure2 and metaworld only: training runs at once, one core each (default: the core count; with --ray-address: "
             "Ray tasks in flight, default every CPU of the cluster)", metavar="N")] = None,
    ray_address: Annotated[Optional[str], tyro.conf.arg(
        help="figure2 and metaworld only: run each training run as a Ray task (num_cpus=1) on the cluster at this address "
             "('auto', 'host:port', or 'local' for a Ray runtime on this machine); --out must be on a filesystem "
             "every node sees", metavar="ADDRESS")] = None,
    report_only: Annotated[bool, tyro.conf.arg(
        help="figure2 and metaworld only: train nothing, write the figure and table from the run directories as they are")] = False,
) -> None:
    """Reproduce one of the paper's experiments: writes NAME.png, NAME.csv, NAME.json into the output
    directory and prints a one-paragraph summary. Experiments (docs/algorithms.md §10): formulation (§10.1),
    gradient-variance (§10.2), exploration (§10.3), learning-curves (§10.4; a resumable grid: re-invoke to
    continue), figure2 (Fig. 2 on the six MuJoCo envs: a campaign of parallel runs, on Ray with --ray-address;
re-invoke to continue), metaworld (ProMP and MAML-TRPO on Meta-World ML1 reach and push, meta-tested on the
held-out goals: a campaign like figure2's)."""
    from ..experiments.options import ReproduceOptions  # heavy: JAX, matplotlib and the trainer, only when run
    from ..experiments.registry import EXPERIMENTS

    if name not in EXPERIMENTS:
        raise CommandError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    experiment = EXPERIMENTS[name]
    if quick + full + medium + (scale is not None) > 1:
        raise CommandError("give at most one of --quick, --medium, --full and --scale")
    names = {"quick": "quick", "reduced": "medium", "medium": "medium", "paper": "full", "full": "full"}
    if scale is not None and scale not in names:
        raise CommandError(f"--scale must be quick, reduced or paper, got {scale!r}")
    scale = names[scale] if scale is not None else "full" if full else "medium" if medium else "quick"
    if scale not in experiment.scales:
        raise CommandError(f"{name} has no --{scale} scale; available: {', '.join('--' + s for s in experiment.scales)}")
    check_overrides(name, EXPERIMENTS, {"convention": convention, "score_raw_action": score_raw_action,
                                        "iterations": iterations, "meta_batch_size": meta_batch_size,
                                        "rollouts_per_task": rollouts_per_task, "algos": algos, "envs": envs,
                                        "parallel": parallel, "ray_address": ray_address, "report_only": report_only})
    if parallel is not None and parallel < 1:
        raise CommandError(f"--parallel must be >= 1, got {parallel}")
    if envs is not None and len(envs) == 0:
        raise CommandError("--envs needs at least one env")
    if seeds is not None and len(seeds) == 0:
        raise CommandError("--seeds needs at least one seed")
    if seeds is not None and len(set(seeds)) != len(seeds):
        raise CommandError(f"--seeds has duplicates: {' '.join(map(str, seeds))}")
    for s in seeds or ():
        check_seed(s, "--seeds")
    out_dir = Path(out) if out else Path("runs") / "reproduce" / f"{name}-{scale}"
    if out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"--out {out_dir} exists and is not a directory")
    experiment.run(ReproduceOptions(scale=scale, out=out_dir, seeds=tuple(seeds) if seeds else experiment.seeds[scale],
                                    convention=convention, score_raw_action=score_raw_action, iterations=iterations,
                                    meta_batch_size=meta_batch_size, rollouts_per_task=rollouts_per_task,
                                    algos=tuple(algos) if algos else None, envs=tuple(envs) if envs else None,
                                    parallel=parallel, ray_address=ray_address, report_only=report_only))
