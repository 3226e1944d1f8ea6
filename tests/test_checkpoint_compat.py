"""Checkpoints written before ProMP's KL coefficients moved into its optimiser state (they kept them as
``eta`` in the checkpoint JSON, next to a bare Adam state) still load, and their runs resume."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
from rich.console import Console

from promp.algorithms.base import PenaltyState
from promp.checkpoint import restore_state
from promp.learner import MetaLearner
from promp.rundir import RunDir, read_progress
from promp.trainer import train

RUNS = Path(__file__).resolve().parents[1] / "docs" / "results" / "runs"


def test_committed_promp_checkpoint_loads_and_resumes(tmp_path):
    src = RUNS / "hc-promp-s2"
    old = json.loads((src / "checkpoints" / "itr_01000.json").read_text())
    assert old["eta"] == [0.0005]  # the old layout
    run = tmp_path / "run"
    shutil.copytree(src, run)
    # the same policy and optimiser at a tiny sampling scale, one more iteration
    small = dataclasses.replace(RunDir(run).read_config(), meta_batch_size=2, rollouts_per_task=2, horizon=10, iterations=1002)
    RunDir(run).write_config(small)

    state = restore_state(MetaLearner(small), run)
    assert isinstance(state.opt_state, PenaltyState) and state.opt_state.kl_coef.tolist() == [0.0005]
    assert int(state.opt_state.optimizer[0].count) > 0 and state.iteration == 1001

    rows = train(small, run, resume=True, console=Console(quiet=True), progress=False)
    header = read_progress(src / "progress.csv")[-1].keys()
    new = rows[-1]
    assert new["iteration"] == 1001 and new["update_skipped"] == 0 and new["eta"] == 0.0005
    assert set(header) <= set(read_progress(run / "progress.csv")[-1])  # the same columns, appended
    record = json.loads((run / "checkpoints" / "itr_01001.json").read_text())
    assert "eta" not in record  # the new layout: the coefficient is in the optimiser state's arrays
    again = restore_state(MetaLearner(small), run)
    np.testing.assert_array_equal(again.opt_state.kl_coef, [0.0005])
    assert int(again.opt_state.optimizer[0].count) == int(state.opt_state.optimizer[0].count) + new["adam_steps"]


def test_committed_trpo_checkpoint_loads():
    run = RUNS / "hc-maml-trpo-s1"
    cfg = dataclasses.replace(RunDir(run).read_config(), meta_batch_size=2, rollouts_per_task=2, horizon=10)
    state = restore_state(MetaLearner(cfg), run)
    assert state.iteration == 1001 and not isinstance(state.opt_state, PenaltyState)
