"""``promp plot RUN_DIR... --out FILE.png``: learning curves of several runs, seeds grouped (I/O around ``promp.compare``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ..compare import aggregate, group_runs
from ..rundir import RunDir, RunDirError
from . import CommandError


def plot_command(
    run_dirs: tyro.conf.Positional[list[str]],
    out: Annotated[str, tyro.conf.arg(help="PNG file to write")] = "learning_curves.png",
    band: Annotated[Literal["std", "minmax"], tyro.conf.arg(help="shaded band of a seed group: mean +- std, or min..max")] = "std",
    metric: Annotated[str, tyro.conf.arg(help="progress.csv column on the y axis")] = "return_post",
    x: Annotated[Literal["env_steps", "iteration"], tyro.conf.arg(help="progress.csv column on the x axis")] = "env_steps",
    title: Annotated[str, tyro.conf.arg(help="figure title")] = "",
    reference: Annotated[tyro.conf.UseAppendAction[list[str]], tyro.conf.arg(
        help="a reference point LABEL=Y@X drawn as a marker, e.g. 'ProMP (paper Fig. 2)=310@1.2e8'",
        metavar="LABEL=Y@X")] = [],  # noqa: B006 (tyro copies the default)
) -> None:
    """Plot the learning curves of several runs in one PNG; runs whose config.json differ only by
    seed (and length) are drawn as their mean with a shaded band."""
    from ..plotting import plot_curves, save_figure_atomically

    if not run_dirs:
        raise CommandError("give at least one run directory")
    references = [parse_reference(r) for r in reference]
    out_path = Path(out)
    if out_path.suffix.lower() != ".png":
        raise CommandError(f"--out must be a .png file, got {out}")
    configs, progress, versions = [], {}, {}
    stray = [name for name in run_dirs if Path(name).exists() and not Path(name).is_dir()]
    for name in stray:  # e.g. `promp plot runs/*` with a PNG or log file next to the runs
        print(f"skipping {name}: not a run directory", file=sys.stderr)
    run_dirs = [name for name in run_dirs if name not in stray]
    if not run_dirs:
        raise CommandError("no run directory among the arguments")
    for name in run_dirs:
        run = RunDir(name)
        cfg = run.read_config_dict()
        try:
            rows = run.read_progress()
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{run.progress_path} is unreadable or corrupt: {exc}") from None
        if not rows:
            raise RunDirError(f"{run.path} has no progress rows yet")
        if name in progress:
            raise CommandError(f"run directory {name} given twice")
        configs.append((name, cfg))
        progress[name] = rows
        records = run.read_versions()
        if records:
            versions[name] = records[-1]
    _warn_mixed_versions(versions)
    curves = []
    for group in group_runs(configs):
        try:
            curve = aggregate(group.label, [progress[n] for n in group.names], metric, x, band)
            curve.seeds = len(set(group.seeds))  # the legend says "(N seeds)" only for N distinct seeds
            curves.append(curve)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    if out_path.parent != Path("") and not out_path.parent.is_dir():
        out_path.parent.mkdir(parents=True, exist_ok=True)
    ylabel = {"return_post": "post-update average return", "return_pre": "pre-update average return"}.get(metric, metric)
    save_figure_atomically(out_path, lambda p: plot_curves(curves, p, ylabel, title, x.replace("_", " "), references))
    for c, g in zip(curves, group_runs(configs)):
        print(f"{c.label}: {c.n} run(s) (seeds {', '.join(map(str, g.seeds))}), last {metric} {c.mean[-1]:.4g}")
    print(f"wrote {out_path}")


def _warn_mixed_versions(versions: dict[str, dict]) -> None:
    """Warn on stderr when the plotted runs were trained under different versions (``promp.versions``)."""
    from ..versions import differences

    names = list(versions)
    for name in names[1:]:
        changed = differences(versions[names[0]], versions[name])
        if changed:
            print(f"warning: {name} was trained under other versions than {names[0]}: {'; '.join(changed)}", file=sys.stderr)


def parse_reference(text: str) -> tuple[str, float, float]:
    """``'LABEL=Y@X'`` -> ``(LABEL, X, Y)`` (``CommandError`` naming the bad value)."""
    label, sep, rest = text.rpartition("=")
    y, at, x = rest.partition("@")
    try:
        if not (sep and at and label):
            raise ValueError
        return label, float(x), float(y)
    except ValueError:
        raise CommandError(f"--reference must look like LABEL=Y@X (e.g. 'ProMP (paper)=310@1.2e8'), got {text!r}") from None
