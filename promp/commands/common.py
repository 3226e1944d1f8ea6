"""Helpers shared by the commands: JSON-valued flags, ``--task``, the versions warning."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..rundir import RunDir
from . import CommandError


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


