"""Helpers shared by the commands that load a trained policy from a run directory."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from ..config import ConfigError, validate_config
from ..rundir import RunDir
from . import CommandError


@dataclasses.dataclass
class LoadedRun:
    """A run's config, a learner built from it (possibly with overrides) and the checkpoint's policy."""

    run_dir: Path
    cfg: Any  # TrainConfig (with overrides applied)
    learner: Any  # MetaLearner
    params: Any  # policy parameters of the checkpoint
    iteration: int  # iteration (as in progress.csv) after which the checkpoint was written


def load_run(run_dir: str | Path, checkpoint: int | str | None = None, **overrides: Any) -> LoadedRun:
    """Load ``run_dir``'s config and the policy of checkpoint ``checkpoint`` (an iteration, ``"best"`` or
    ``"latest"``; default: the latest).

    ``overrides`` replace config fields (e.g. ``rollouts_per_task``) for the learner that is
    returned; they do not change the policy's shape.
    """
    from ..checkpoint import restore_state
    from ..learner import MetaLearner

    run = RunDir(run_dir)
    run_dir = run.path
    cfg = run.read_config()
    try:
        checkpoint = run.resolve_checkpoint(checkpoint)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    validate_config(cfg)
    try:
        learner = MetaLearner(cfg)
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot build env {cfg.env!r} of {run_dir}: {exc}") from None
    try:
        state = restore_state(learner, run_dir, checkpoint)
    except BaseException:
        learner.env.close()
        raise
    return LoadedRun(run_dir, cfg, learner, state.params, state.iteration - 1)


def warn_other_versions(run: RunDir, current: dict[str, Any], what: str) -> None:
    """Print a one-line warning on stderr when ``run`` was last trained under other versions than ``current``
    (``promp.versions``): ``what`` (e.g. "evaluating") then reproduces its numbers only to round-off."""
    from ..versions import differences

    records = run.read_versions()
    changed = differences(records[-1], current) if records else []
    if changed:
        print(f"warning: {what} {run.path} under other versions than it was trained with: {'; '.join(changed)}",
              file=sys.stderr)


def parse_json_object(name: str, text: str, example: str = "") -> dict:
    """``text`` parsed as a JSON object; otherwise ``CommandError`` naming the flag ``name`` (and an example)."""
    hint = f", e.g. '{example}'" if example else ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{name} must be a JSON object{hint}: {exc}") from None
    if not isinstance(value, dict):
        raise CommandError(f"{name} must be a JSON object{hint}")
    return value


def parse_task(text: str, env: Any) -> dict:
    """A ``--task`` JSON object, validated and canonicalised by the env's ``validate_task``."""
    task = parse_json_object("--task", text, '{"goal": [2, 2]}')
    try:
        return env.validate_task(task)
    except (ValueError, TypeError, KeyError) as exc:
        raise CommandError(f"invalid --task for env {type(env).__name__}: {exc}") from None


