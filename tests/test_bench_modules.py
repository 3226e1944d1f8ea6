"""The runnable benchmark modules (``python -m promp.bench.<name>``) run against the current API.

Nothing else imports them, so a change of the library can break one unnoticed. Each runs once at
its smallest setting in a subprocess; what is checked is that it finishes and reports the
quantities its docstring promises, never a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_module(name: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMP_XLA_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", name, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout[out.stdout.index("{"):])


@pytest.mark.slow
def test_bench_trpo_update_reports_the_split_and_an_accepted_step():
    report = run_module("promp.bench.trpo_update", "--repeats", "1", "--variants", "update")
    assert set(report["split_of_update"]) == {"gradient", "cg", "line_search"}
    assert set(report["seconds_median"]) == {"update", "gradient", "gradient_and_cg"}  # only what was asked for
    assert report["update_stats"]["step_accepted"] == 1.0
    assert 0 < report["update_stats"]["kl_post"] <= 0.01 * 1.0001  # the line search kept the trust region


def test_bench_maml_trpo_runs_iterations():
    report = run_module("promp.bench.maml_trpo", "--iterations", "2")
    assert report["seconds_per_iteration_median"] > 0 and "time_update" in report


@pytest.mark.parametrize("name", ["iteration", "mujoco_throughput", "maml_trpo", "trpo_update", "promp_update", "ab_promp_update"])
def test_bench_module_imports_and_parses_its_flags(name):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMP_XLA_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", f"promp.bench.{name}", "--help"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("usage:")
