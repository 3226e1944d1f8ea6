"""Pinned numbers: short runs of every ``--algo`` preset on point-nav, and of ProMP on
halfcheetah-fwd-back, must reproduce the progress.csv values (all non-time columns) recorded in
``tests/data/pinned_progress.json``.

This is a regression guard for refactors, not a correctness test (the maths is checked against
closed forms, finite differences and exact enumeration elsewhere): a change that is meant to keep
behaviour must keep these numbers. A change that is *meant* to alter them regenerates the file
with ``PROMP_REGEN_PINNED=1 python -m pytest tests/test_pinned_numbers.py`` and says why in its
commit message.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from promp.algorithms import ALGORITHMS
from promp.config import resolve_config
from promp.trainer import train

PINNED = Path(__file__).parent / "data" / "pinned_progress.json"
TIME_COLUMNS = {"time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"}
# float32 learner: identical binaries give identical numbers; the tolerance only absorbs
# last-bit differences between CPUs' vector units, far below any behavioural change.
RTOL, ATOL = 1e-5, 1e-7

CASES = {f"point-nav/{algo}": ("point-nav", algo) for algo in sorted(ALGORITHMS)}
CASES["halfcheetah-fwd-back/promp"] = ("halfcheetah-fwd-back", "promp")
SMALL = {"meta_batch_size": 3, "rollouts_per_task": 2, "horizon": 12, "hidden": (8, 8), "iterations": 3, "seed": 3}


def run_case(env: str, algo: str, tmp_path: Path) -> list[dict]:
    """Train the case at the small scale; rows without the time columns."""
    overrides = dict(SMALL)
    if algo == "dice-vpg":  # its preset's 80 rollouts per task, scaled down like the others
        overrides["rollouts_per_task"] = 4
    cfg = resolve_config(env, algo, overrides)
    rows = train(cfg, tmp_path / "run", progress=False)
    return [{k: v for k, v in row.items() if k not in TIME_COLUMNS} for row in rows]


def _load() -> dict:
    return json.loads(PINNED.read_text()) if PINNED.exists() else {}


@pytest.mark.parametrize("case", sorted(CASES))
def test_progress_numbers_are_pinned(case, tmp_path):
    env, algo = CASES[case]
    rows = run_case(env, algo, tmp_path)
    if os.environ.get("PROMP_REGEN_PINNED") == "1":
        data = _load()
        data[case] = rows
        PINNED.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        return
    expected = _load().get(case)
    assert expected is not None, f"no pinned numbers for {case}; regenerate with PROMP_REGEN_PINNED=1"
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected):
        missing = set(want) - set(got)
        assert not missing, f"{case}: columns gone from progress rows: {sorted(missing)}"
        for key, value in want.items():
            assert math.isclose(got[key], value, rel_tol=RTOL, abs_tol=ATOL), (
                f"{case} iteration {want['iteration']}: {key} = {got[key]!r}, pinned {value!r}"
            )
