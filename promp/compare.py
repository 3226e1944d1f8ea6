"""Comparing runs as a computation (no file I/O): group runs that differ only by seed, aggregate curves.

Two runs belong to the same group when their configs are equal after dropping ``seed`` and
``iterations`` (the run length is not a hyper-parameter: a run extended with ``--resume
--iterations`` still groups with its siblings; curves are cut to the shortest run of a group).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Sequence

import numpy as np

IGNORED_KEYS = ("seed", "iterations")


@dataclasses.dataclass
class RunGroup:
    """Runs with the same config up to the seed, and the label that names the group in a legend."""

    key: str
    config: dict[str, Any]
    names: list[str]
    seeds: list[int]
    label: str = ""


@dataclasses.dataclass
class Curve:
    """Aggregated curve of a group: mean with a band (std or min/max), over ``n`` runs."""

    label: str
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int
    seeds: int | None = None  # distinct seeds among the n runs (None: not known)


def group_key(config: dict[str, Any]) -> str:
    """Canonical string of ``config`` without the ignored keys (equal keys = same group)."""
    return json.dumps({k: v for k, v in config.items() if k not in IGNORED_KEYS}, sort_keys=True, default=str)


def group_runs(configs: Sequence[tuple[str, dict[str, Any]]]) -> list[RunGroup]:
    """Group ``(name, config)`` pairs, keeping first-seen order; labels are ``algo on env`` plus,
    when two groups share algo and env, the settings that tell them apart."""
    groups: dict[str, RunGroup] = {}
    for name, cfg in configs:
        key = group_key(cfg)
        if key not in groups:
            groups[key] = RunGroup(key, {k: v for k, v in cfg.items() if k not in IGNORED_KEYS}, [], [])
        groups[key].names.append(name)
        groups[key].seeds.append(int(cfg.get("seed", 0)))
    out = list(groups.values())
    for g in out:
        base = f"{g.config.get('algo', '?')} on {g.config.get('env', '?')}"
        siblings = [h for h in out if h is not g and h.config.get("algo") == g.config.get("algo") and h.config.get("env") == g.config.get("env")]
        diffs = sorted({k for h in siblings for k in set(g.config) | set(h.config) if g.config.get(k) != h.config.get(k)})
        if diffs:
            base += " (" + ", ".join(f"{k}={_short(g.config.get(k))}" for k in diffs) + ")"
        g.label = base
    return out


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)


def aggregate(label: str, runs: Sequence[Sequence[dict[str, float]]], metric: str = "return_post", x_key: str = "env_steps", band: str = "std") -> Curve:
    """Mean of ``metric`` over runs, aligned by iteration and cut to the shortest run.

    ``band`` is ``"std"`` (mean +- one standard deviation across runs) or ``"minmax"``. The x values
    are the mean of ``x_key`` across runs at each iteration.
    """
    if band not in ("std", "minmax"):
        raise ValueError(f"band must be 'std' or 'minmax', got {band!r}")
    runs = [list(r) for r in runs if len(r)]
    if not runs:
        raise ValueError(f"{label}: no progress rows")
    for rows in runs:
        if metric not in rows[0]:
            raise ValueError(f"{label}: progress.csv has no column {metric!r}")
    n = min(len(r) for r in runs)
    y = np.array([[float(row[metric]) for row in rows[:n]] for rows in runs])  # [runs, n]
    x = np.array([[float(row[x_key]) for row in rows[:n]] for rows in runs]).mean(axis=0)
    mean = y.mean(axis=0)
    if band == "std":
        std = y.std(axis=0)
        low, high = mean - std, mean + std
    else:
        low, high = y.min(axis=0), y.max(axis=0)
    return Curve(label, x, mean, low, high, len(runs))
