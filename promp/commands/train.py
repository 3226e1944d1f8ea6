"""``promp train``: start a run in ``--out DIR`` or continue one with ``--resume DIR``.

The flags are derived from ``TrainConfig``'s fields; this module parses them into a config and
hands it to ``promp.trainer.train``, then prints the summary line.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Annotated, Any, Optional

import tyro
from rich.console import Console

from ..config import TrainConfig, field_default, field_help, flag, preset_fields, resolve_config
from ..rundir import RunDir
from . import CommandError
from .common import parse_json_object

_RUN_FLAGS: list[tuple[str, str]] = [
    ("out", "run directory to create (must be absent or empty)"),
    ("resume", "continue the run in this directory from its last checkpoint; --iterations then sets the new total"),
]


def _metavar(typ: Any) -> str:
    """The metavar shown in ``--help`` for a field of type ``typ``."""
    names = {int: "INT", float: "FLOAT", str: "STR", bool: "{True,False}"}
    if typing.get_origin(typ) is dict:
        return "JSON"
    return names.get(typ, "INT [INT ...]" if typ == tuple[int, ...] else "VALUE")


def _default_hint(f: dataclasses.Field, from_preset: set[str]) -> str:
    """``(default: ...)`` for ``--help``: the field's default, or that the preset gives it."""
    if f.name in from_preset:
        return "(default: from the preset)"
    default = field_default(f)
    return f"(default: {json.dumps(default) if isinstance(default, dict) else default})"


def make_train_args(config_cls: type = TrainConfig) -> type:
    """The ``promp train`` arguments, derived from ``config_cls``: ``--out``, ``--resume`` and one optional
    flag per field (unset = from the preset), with the field's help; a dict field is given as JSON; each
    deprecated alias of a field is one more flag (``--ppo-steps``) that stands for it."""
    hints = typing.get_type_hints(config_cls)
    from_preset = preset_fields()
    fields: list[tuple[str, Any]] = [
        (name, Annotated[Optional[str], tyro.conf.arg(help=text, metavar="DIR", help_behavior_hint="")])
        for name, text in _RUN_FLAGS
    ] + [
        ("workers", Annotated[Optional[int], tyro.conf.arg(
            help="sample with N Ray actors, each stepping a slice of the tasks (needs pip install 'promp[ray]'); "
                 "the numbers are the same for any N and without it, so a run may be resumed with another N",
            metavar="N", help_behavior_hint="(default: sample in this process)")]),
        ("ray_address", Annotated[Optional[str], tyro.conf.arg(
            help="join a running Ray cluster (auto, or HOST:PORT of its head) instead of starting a local runtime; "
                 "--workers defaults to 1 there", metavar="ADDRESS", help_behavior_hint="")]),
    ]
    for f in dataclasses.fields(config_cls):
        typ = str if typing.get_origin(hints[f.name]) is dict else hints[f.name]
        arg = tyro.conf.arg(help=field_help(f), help_behavior_hint=_default_hint(f, from_preset),
                            metavar=_metavar(hints[f.name]))
        fields.append((f.name, Annotated[Optional[typ], arg]))
        for alias in f.metadata.get("aliases", ()):
            arg = tyro.conf.arg(help=f"deprecated name of {flag(f.name)}", help_behavior_hint="",
                                metavar=_metavar(hints[f.name]))
            fields.append((alias, Annotated[Optional[typ], arg]))
    return dataclasses.make_dataclass(
        "TrainArgs", [(n, t, dataclasses.field(default=None)) for n, t in fields], frozen=True
    )


TrainArgs = make_train_args()


def given_settings(args: Any, config_cls: type = TrainConfig) -> dict[str, Any]:
    """The config fields set on the command line (``args``, a ``make_train_args`` instance), under their
    current names (a deprecated flag is reported on stderr); dict fields parsed from JSON."""
    given: dict[str, Any] = {}
    for f in dataclasses.fields(config_cls):
        names = [n for n in (f.name, *f.metadata.get("aliases", ())) if getattr(args, n, None) is not None]
        if len(names) > 1:
            raise CommandError(f"give {flag(f.name)} or its deprecated name {flag(names[1])}, not both")
        if not names:
            continue
        if names[0] != f.name:
            Console(stderr=True).print(f"[yellow]warning:[/] {flag(names[0])} is deprecated; use {flag(f.name)}",
                                       highlight=False, soft_wrap=True)
        value = getattr(args, names[0])
        if isinstance(field_default(f), dict):
            value = parse_json_object(flag(f.name), value)
        given[f.name] = value
    return given


def train_command(args: Annotated[TrainArgs, tyro.conf.arg(name="")]) -> None:  # type: ignore[valid-type]
    """Train a meta-policy; writes config.json, progress.csv, checkpoints/, tb/ and learning_curve.png."""
    given = given_settings(args)
    if args.resume:
        if args.out:
            raise CommandError("give either --out (new run) or --resume (existing run), not both")
        extra = sorted(set(given) - {"iterations"})
        if extra:
            raise CommandError(f"only --iterations can be changed when resuming (got {flag(extra[0])})")
        run_dir = Path(args.resume)

        cfg = RunDir(run_dir).read_config()
        if "iterations" in given:
            cfg = dataclasses.replace(cfg, iterations=given["iterations"])
    else:
        if not args.out:
            raise CommandError("--out DIR is required (or --resume DIR)")
        defaults = TrainConfig()
        env, algo = given.pop("env", defaults.env), given.pop("algo", defaults.algo)
        cfg = resolve_config(env, algo, given)
        run_dir = Path(args.out)
    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers must be >= 1, got {args.workers}")
    workers = args.workers if args.workers is not None else (1 if args.ray_address else None)
    from ..trainer import train  # JAX and the learner: not loaded for --help

    rows = train(cfg, run_dir, resume=bool(args.resume), workers=workers, ray_address=args.ray_address)
    first, last = rows[0], rows[-1]
    print(
        f"{cfg.algo} on {cfg.env}: return_post {first['return_post']:.3f} (iteration {int(first['iteration'])}) -> "
        f"{last['return_post']:.3f} (iteration {int(last['iteration'])}); "
        f"return_pre {first['return_pre']:.3f} -> {last['return_pre']:.3f}"
    )
    print(f"run directory: {run_dir}  (learning curve: {run_dir / 'learning_curve.png'})")
