"""The ``promp`` command line: ``promp train|eval|plot|rollout|envs|algos ...`` (tyro subcommands).

Bad input ends with one line ``promp: error: ...`` on stderr and exit code 2 (DESIGN.md contract).
"""

from __future__ import annotations

from .threads import configure_threads

configure_threads()  # before numpy / JAX are imported
from .video import default_offscreen_gl  # noqa: E402

default_offscreen_gl()  # MUJOCO_GL=egl before MuJoCo is imported: offscreen rendering for promp rollout

import dataclasses  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import typing  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Any, Optional  # noqa: E402

import tyro  # noqa: E402

from .config import FIELD_HELP, ConfigError, TrainConfig  # noqa: E402


class UsageError(Exception):
    """Bad command-line usage detected after parsing."""


def _algo_help() -> str:
    from .algorithms import ALGORITHMS

    lines = [f"  {a.id}: {a.description}" for a in ALGORITHMS.values()]
    return "\n".join(["algorithm preset (default promp):", *lines])


PRESET_FIELDS = {"algo", "env", "meta_batch_size", "rollouts_per_task", "horizon", "hidden", "inner_steps", "inner_lr",
                 "outer_lr", "ppo_steps", "clip_eps", "kl_coef", "adaptive_kl", "kl_target", "inner_estimator", "outer",
                 "emaml"}


def _metavar(typ: Any) -> str:
    names = {int: "INT", float: "FLOAT", str: "STR", bool: "{True,False}"}
    return names.get(typ, "INT [INT ...]" if typ == tuple[int, ...] else "VALUE")


def _make_train_args() -> type:
    """A dataclass with one optional flag per ``TrainConfig`` field, plus --out and --resume."""
    hints = typing.get_type_hints(TrainConfig)
    fields: list[tuple[str, Any, Any]] = [
        ("out", Annotated[Optional[str], tyro.conf.arg(help="run directory to create (must be absent or empty)", metavar="DIR",
                                                        help_behavior_hint="")], None),
        ("resume", Annotated[Optional[str], tyro.conf.arg(help="continue the run in this directory from its last checkpoint; "
                                                           "--iterations then sets the new total", metavar="DIR",
                                                           help_behavior_hint="")], None),
    ]
    for f in dataclasses.fields(TrainConfig):
        typ = str if f.name == "env_kwargs" else hints[f.name]
        help_text = _algo_help() if f.name == "algo" else FIELD_HELP.get(f.name, f.name)
        default = f.default if f.default is not dataclasses.MISSING else "{}"
        hint = "(default: from the preset)" if f.name in PRESET_FIELDS else f"(default: {default})"
        arg = tyro.conf.arg(help=help_text, help_behavior_hint=hint, metavar=_metavar(typ))
        fields.append((f.name, Annotated[Optional[typ], arg], None))
    return dataclasses.make_dataclass(
        "TrainArgs", [(n, t, dataclasses.field(default=d)) for n, t, d in fields], frozen=True
    )


TrainArgs = _make_train_args()


def train_command(args: Annotated[TrainArgs, tyro.conf.arg(name="")]) -> None:  # type: ignore[valid-type]
    """Train a meta-policy; writes config.json, progress.csv, checkpoints/, tb/ and learning_curve.png."""
    from .config import resolve_config, validate_config
    from .trainer import load_run_config, train

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if getattr(args, f.name) is not None}
    if args.resume:
        if args.out:
            raise UsageError("give either --out (new run) or --resume (existing run), not both")
        extra = sorted(set(given) - {"iterations"})
        if extra:
            raise UsageError(f"only --iterations can be changed when resuming (got --{extra[0].replace('_', '-')})")
        run_dir = Path(args.resume)
        cfg = load_run_config(run_dir)
        if "iterations" in given:
            cfg = dataclasses.replace(cfg, iterations=given["iterations"])
        validate_config(cfg)
    else:
        if not args.out:
            raise UsageError("--out DIR is required (or --resume DIR)")
        if "env_kwargs" in given:
            try:
                given["env_kwargs"] = json.loads(given["env_kwargs"])
            except json.JSONDecodeError as exc:
                raise UsageError(f"--env-kwargs must be a JSON object: {exc}") from None
            if not isinstance(given["env_kwargs"], dict):
                raise UsageError("--env-kwargs must be a JSON object")
        env, algo = given.pop("env", "point-corner"), given.pop("algo", "promp")
        cfg = resolve_config(env, algo, given)
        run_dir = Path(args.out)
    rows = train(cfg, run_dir, resume=bool(args.resume))
    first, last = rows[0], rows[-1]
    print(
        f"{cfg.algo} on {cfg.env}: return_post {first['return_post']:.3f} (iteration {int(first['iteration'])}) -> "
        f"{last['return_post']:.3f} (iteration {int(last['iteration'])}); "
        f"return_pre {first['return_pre']:.3f} -> {last['return_pre']:.3f}"
    )
    print(f"run directory: {run_dir}  (learning curve: {run_dir / 'learning_curve.png'})")


def envs_command() -> None:
    """List the registered meta-environments."""
    from .envs import env_ids, get_env_spec

    for env_id in env_ids():
        print(f"{env_id:24s} {get_env_spec(env_id).description}")


def algos_command() -> None:
    """List the algorithm presets with their composition."""
    from .algorithms import ALGORITHMS

    for a in ALGORITHMS.values():
        extra = " + E-MAML term" if a.emaml else ""
        print(f"{a.id:12s} inner={a.inner_estimator}, outer={a.outer}{extra}: {a.description}")


from .commands.eval import eval_command  # noqa: E402
from .commands.plot import plot_command  # noqa: E402
from .commands.rollout import rollout_command  # noqa: E402
from .commands.reproduce import reproduce_command  # noqa: E402
from .commands.bench import bench_command  # noqa: E402

COMMANDS: dict[str, Any] = {
    "train": train_command,
    "eval": eval_command,
    "plot": plot_command,
    "rollout": rollout_command,
    "reproduce": reproduce_command,
    "bench": bench_command,
    "envs": envs_command,
    "algos": algos_command,
}


def _user_errors() -> tuple[type[BaseException], ...]:
    from .checkpoint import CheckpointError
    from .commands import CommandError
    from .rundir import ResumeError
    from .rundir_lock import DirectoryLockedError
    from .trainer import RunDirError

    return (UsageError, CommandError, ConfigError, CheckpointError, RunDirError, DirectoryLockedError, ResumeError)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``promp`` command."""
    from .threads import configure_compilation_cache

    configure_compilation_cache()
    try:
        tyro.extras.subcommand_cli_from_dict(COMMANDS, prog="promp", args=argv, config=(tyro.conf.OmitArgPrefixes,))
    except _user_errors() as exc:
        print(f"promp: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as exc:
        from .interrupts import DEFAULT_NOTE

        detail = str(exc) or DEFAULT_NOTE
        signum = int(getattr(exc, "signum", signal.SIGINT))
        print(f"promp: {'interrupted' if signum == signal.SIGINT else 'terminated'}: {detail}", file=sys.stderr)
        sys.exit(128 + signum)
    except OSError as exc:  # disk full, read-only or vanished location mid-run: one line naming path and reason
        from .rundir import describe_os_error

        print(f"promp: error: {describe_os_error(exc)}", file=sys.stderr)
        sys.exit(1)
    except MemoryError as exc:
        print(f"promp: error: out of memory ({exc or 'allocation failed'}); use smaller --meta-batch-size, "
              "--rollouts-per-task or --horizon", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # NonFiniteUpdateError and friends: one line, non-zero
        from .learner import NonFiniteUpdateError
        from .sampling import NonFiniteSampleError

        if isinstance(exc, (NonFiniteUpdateError, NonFiniteSampleError)):
            print(f"promp: error: {exc}", file=sys.stderr)
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
