"""The benchmark scripts still run against the current API (a refactor once broke one silently).

Each runs once at its smallest setting in a subprocess; what is checked is that it finishes and
reports the quantities its docstring promises, never a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_script(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMP_XLA_THREADS": "1"}
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout[out.stdout.index("{"):])


@pytest.mark.slow
def test_bench_trpo_update_reports_the_split_and_an_accepted_step():
    report = run_script("benchmarks/bench_trpo_update.py", "--repeats", "1")
    assert set(report["split_of_update"]) == {"gradient", "cg", "line_search"}
    assert report["update_stats"]["step_accepted"] == 1.0
    assert 0 < report["update_stats"]["kl_post"] <= 0.01 * 1.0001  # the line search kept the trust region


def test_bench_maml_trpo_runs_iterations():
    report = run_script("benchmarks/bench_maml_trpo.py", "--iterations", "2")
    assert report["seconds_per_iteration_median"] > 0 and "time_update" in report
