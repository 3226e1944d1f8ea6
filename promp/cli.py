"""The ``promp`` command line: ``promp train|eval|plot|rollout|reproduce|bench|envs|algos|doctor ...`` (tyro
subcommands) and ``promp --version``.

Bad input ends with one line ``promp: error: ...`` on stderr and exit code 2 (docs/design.md, Contracts).
"""

from __future__ import annotations

from .threads import configure_threads

configure_threads()  # before numpy / JAX are imported

import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import tyro  # noqa: E402

from .commands import CommandError  # noqa: E402
from .config import ConfigError  # noqa: E402
from .envs import env_ids, get_env_spec  # noqa: E402
from .interrupts import DEFAULT_NOTE  # noqa: E402
from .presets import ALGORITHMS  # noqa: E402
from .rundir import ResumeError, RunDirError, describe_os_error  # noqa: E402
from .rundir_lock import DirectoryLockedError  # noqa: E402
from .threads import configure_compilation_cache, thread_settings  # noqa: E402
from .versions import package_version  # noqa: E402


def envs_command() -> None:
    """List the registered meta-environments."""
    for env_id in env_ids():
        print(f"{env_id:24s} {get_env_spec(env_id).description}")


def algos_command() -> None:
    """List the algorithm presets with their composition."""
    for a in ALGORITHMS.values():
        extra = " + E-MAML term" if a.emaml else ""
        print(f"{a.id:12s} inner={a.inner_estimator}, outer={a.outer}{extra}: {a.description}")


def doctor_command() -> None:
    """Print what promp runs on here: versions (as recorded in every run's versions.json), devices, threads."""
    from .versions import describe, environment_record

    for line in describe(environment_record()):
        print(line)
    for name, value in thread_settings().items():
        print(f"{name} {value}")


from .commands.bench import bench_command  # noqa: E402
from .commands.eval import eval_command  # noqa: E402
from .commands.plot import plot_command  # noqa: E402
from .commands.reproduce import reproduce_command  # noqa: E402
from .commands.rollout import rollout_command  # noqa: E402
from .commands.train import train_command  # noqa: E402

COMMANDS: dict[str, Any] = {
    "train": train_command,
    "eval": eval_command,
    "plot": plot_command,
    "rollout": rollout_command,
    "reproduce": reproduce_command,
    "bench": bench_command,
    "envs": envs_command,
    "algos": algos_command,
    "doctor": doctor_command,
}


def _user_errors() -> tuple[type[BaseException], ...]:
    from .checkpoint import CheckpointError  # JAX: not loaded for --help, envs, algos

    return (CommandError, ConfigError, CheckpointError, RunDirError, DirectoryLockedError, ResumeError)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``promp`` command."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        print(f"promp {package_version('promp')}")
        return
    configure_compilation_cache()
    try:
        tyro.extras.subcommand_cli_from_dict(COMMANDS, prog="promp", args=argv, config=(tyro.conf.OmitArgPrefixes,))
    except _user_errors() as exc:
        print(f"promp: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as exc:
        detail = str(exc) or DEFAULT_NOTE
        signum = int(getattr(exc, "signum", signal.SIGINT))
        print(f"promp: {'interrupted' if signum == signal.SIGINT else 'terminated'}: {detail}", file=sys.stderr)
        sys.exit(128 + signum)
    except OSError as exc:  # disk full, read-only or vanished location mid-run: one line naming path and reason
        print(f"promp: error: {describe_os_error(exc)}", file=sys.stderr)
        sys.exit(1)
    except MemoryError as exc:
        print(f"promp: error: out of memory ({exc or 'allocation failed'}); use smaller --meta-batch-size, "
              "--rollouts-per-task or --horizon", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # NonFiniteUpdateError and friends: one line, non-zero
        from .distributed import DistributedError
        from .learner import NonFiniteUpdateError
        from .sampling import NonFiniteSampleError

        if isinstance(exc, (NonFiniteUpdateError, NonFiniteSampleError, DistributedError)):
            print(f"promp: error: {exc}", file=sys.stderr)
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
