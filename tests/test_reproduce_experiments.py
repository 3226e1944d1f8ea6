"""``promp reproduce`` experiments beyond formulation: gradient-variance (docs/algorithms.md §10.2), exploration (§10.3).

Tiny scales only: the quick runs check the protocol and the run-directory bookkeeping, not the
paper's effects (those need the medium/full scales in docs/results.md).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math

import jax
import numpy as np
import pytest

from promp.config import ConfigError
from promp.experiments.exploration import compute as ex
from promp.experiments.exploration.report import run_exploration_experiment
from promp.experiments.gradient_variance import compute as gv
from promp.experiments.gradient_variance.report import run_gradient_variance_experiment
from promp.experiments.options import ReproduceOptions, scaled_setup

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

# ------------------------------------------------------------------------------------------------
# gradient-variance


def test_relative_std_and_gradient_spread_on_hand_made_arrays():
    grads = np.array([[1.0, 0.0, 2.0, -1.0],
                      [3.0, 0.0, -2.0, -1.0]])
    # per parameter: mean (2, 0, 0, -1), population std (1, 0, 2, 0)
    expected = (1.0 / 2.0 + 0.0 / 1e-8 + 2.0 / 1e-8 + 0.0 / 1.0) / 4
    assert gv.relative_std(grads) == pytest.approx(expected, rel=1e-12)
    three = np.array([[0.0], [1.0], [2.0]])  # std sqrt(2/3) (ddof 0), mean 1
    assert gv.relative_std(three) == pytest.approx(math.sqrt(2 / 3) / (1 + 1e-8), rel=1e-12)
    with pytest.raises(ValueError):
        gv.relative_std(np.ones((1, 3)))
    spread = gv.gradient_spread(np.array([[1.0, 2.0], [1.0, 2.0]]))
    assert spread["rel_std"] == 0 and spread["norm_ratio"] == 0 and spread["cosine_to_mean"] == pytest.approx(1.0)
    opposite = gv.gradient_spread(np.array([[1.0, 1.0], [3.0, 3.0]]))  # mean (2, 2), deviations +-(1, 1)
    assert opposite["norm_ratio"] == pytest.approx(0.5) and opposite["rel_std"] == pytest.approx(0.5)


def test_running_mean_is_trailing():
    np.testing.assert_allclose(gv.running_mean(np.array([2.0, 4.0, 6.0, 8.0]), 2), [2.0, 3.0, 5.0, 7.0])


def test_variance_iteration_samples_fresh_tasks_every_round_and_updates_on_the_last():
    """The protocol of docs/algorithms.md §10.2: one task draw per round (not reused), gradients at the same parameters,
    and the update equals the algorithm's own update on the last round's batches."""
    from promp.config import resolve_config
    from promp.learner import MetaLearner

    cfg = resolve_config("point-nav", "lvc-vpg", dict(meta_batch_size=3, rollouts_per_task=3, horizon=10,
                                                       hidden=(8,), seed=4))  # dense reward: non-zero gradients
    learner = MetaLearner(cfg)
    draws, batches = [], []
    sample_tasks, sample_adapted = learner.env.sample_tasks, learner.sample_adapted

    def spy_tasks(rng, n):
        tasks = sample_tasks(rng, n)
        draws.append(tasks)
        return tasks

    def spy_adapted(params, tasks, rng, steps=None):
        res = sample_adapted(params, tasks, rng, steps)
        batches.append(tuple(res.batches))
        return res

    learner.env.sample_tasks, learner.sample_adapted = spy_tasks, spy_adapted
    state = learner.init_state()
    grad_fn = gv.meta_gradient_fn(learner)
    new, row = gv.variance_iteration(learner, state, 4, grad_fn)
    assert len(draws) == len(batches) == 4
    assert len({json.dumps(d) for d in draws}) == 4  # fresh draws (continuous goals)
    expected, _, _ = learner.outer.update(state.params, state.opt_state, batches[-1])
    for a, b in zip(jax.tree_util.tree_leaves(new.params), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    grads = np.stack([grad_fn(state.params, state.opt_state, b) for b in batches])
    assert row["rel_std"] == pytest.approx(gv.relative_std(grads), rel=1e-6)
    assert row["rel_std"] > 0 and new.iteration == 1
    # every round is counted (point-nav episodes can end early, so rounds may differ in length)
    assert row["env_steps"] == sum(int(np.sum(b.mask)) for round_batches in batches for b in round_batches)
    learner.env.close()


def test_gradient_variance_quick(tmp_path, capsys):
    setup = dataclasses.replace(gv.QUICK, iterations=2)
    run_gradient_variance_experiment(ReproduceOptions(scale="quick", out=tmp_path, seeds=(0,)), setup)
    rows = list(csv.DictReader((tmp_path / "gradient-variance.csv").open()))
    assert [(r["algo"], int(r["iteration"])) for r in rows] == [(a, i) for a in gv.ALGOS for i in range(2)]
    for r in rows:
        for key in ("rel_std", "norm_ratio", "return_post", "grad_norm"):
            assert math.isfinite(float(r[key])), (r["algo"], key)
        assert float(r["rel_std"]) > 0
        # halfcheetah never terminates early: tasks x rollouts x H x (K+1) per round, 3 rounds per iteration
        assert int(r["env_steps"]) == (int(r["iteration"]) + 1) * 3 * 4 * 4 * 20 * 2
    report = json.loads((tmp_path / "gradient-variance.json").read_text())
    assert report["comparison"]["iterations_compared"] == 2
    assert (tmp_path / "gradient-variance.png").read_bytes()[:4] == b"\x89PNG"
    assert "DiCE / LVC relative std" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------
# exploration


def test_exploration_config_has_the_paper_settings():
    cfg = ex.exploration_config(ex.FULL, "promp", 3)
    assert (cfg.env, cfg.horizon, cfg.inner_steps, cfg.hidden, cfg.meta_batch_size, cfg.rollouts_per_task,
            cfg.iterations, cfg.seed) == ("point-momentum", 100, 3, (64, 64), 40, 20, 501, 3)
    trpo = ex.exploration_config(ex.FULL, "emaml-trpo", 1)
    assert (trpo.outer, trpo.emaml, trpo.max_kl, trpo.inner_lr, trpo.horizon) == ("trpo", True, 0.01, 0.1, 100)
    assert ex.same_run(trpo, dataclasses.replace(trpo, iterations=7))
    assert not ex.same_run(trpo, dataclasses.replace(trpo, seed=2))


def test_final_returns_and_corner_visits():
    rows = [{"return_pre": i, "return_post": 10 * i, "env_steps": 5 * (i + 1), "return_step_0": i, "return_step_1": -i,
             "time_iteration": 0.5} for i in range(4)]
    f = ex.final_returns(rows, 2)
    assert (f["return_pre"], f["return_post"], f["iterations"], f["env_steps"], f["time_iterations_s"]) == (2.5, 25.0, 4, 20, 2.0)
    assert f["return_step_1"] == -2.5 and "return_step_2" not in f
    paths = [np.array([[0.0, 0.0], [1.5, 1.5]]), np.array([[0.0, 0.0], [-1.5, 1.5]]), np.array([[0.0, 0.0], [1.0, -1.0]])]
    assert ex.corner_visits(paths) == [0, 0, 1, 1]  # (-2,-2), (2,-2), (-2,2), (2,2); (1, -1) is 1.41 from (2,-2)
    assert ex.corner_visits(paths, radius=2.0) == [0, 1, 1, 1]


def test_exploration_quick_is_resumable_and_skips_finished_runs(tmp_path, capsys):
    setup = dataclasses.replace(ex.QUICK, algos=("promp", "lvc-trpo"), iterations=1)
    opts = ReproduceOptions(scale="quick", out=tmp_path, seeds=(0,))
    run_exploration_experiment(opts, setup)
    report = json.loads((tmp_path / "exploration.json").read_text())
    assert [r["status"] for r in report["per_run"]] == ["trained", "trained"]
    for r in report["per_run"]:
        assert r["iterations"] == 1
        assert all(math.isfinite(x) for x in (r["return_pre"], r["return_post"], *r["picture_returns"]))
        assert len(r["picture_returns"]) == 4  # pre-update + K = 3 adapted rounds
    for name in ("exploration.png", "exploration-curves.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "exploration.csv").read_text().splitlines()) == 3

    setup = dataclasses.replace(setup, algos=("promp",))  # (one algorithm from here on: compile time)
    run_exploration_experiment(opts, dataclasses.replace(setup, iterations=2))  # extends: resumes the run
    report = json.loads((tmp_path / "exploration.json").read_text())
    assert [r["status"] for r in report["per_run"]] == ["resumed at iteration 1"]
    progress = (tmp_path / "runs" / "promp-seed0" / "progress.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in progress[1:]] == [0, 1]

    before = (tmp_path / "runs" / "promp-seed0" / "progress.csv").stat().st_mtime_ns
    run_exploration_experiment(opts, dataclasses.replace(setup, iterations=2))  # finished: skipped
    report = json.loads((tmp_path / "exploration.json").read_text())
    assert [r["status"] for r in report["per_run"]] == ["skipped (finished)"]
    assert (tmp_path / "runs" / "promp-seed0" / "progress.csv").stat().st_mtime_ns == before
    assert "skipped" in capsys.readouterr().out

    with pytest.raises(ConfigError, match="holds a different run"):  # same --out, different scale
        run_exploration_experiment(opts, dataclasses.replace(setup, horizon=25))


@pytest.mark.parametrize("argv,message", [
    (["reproduce", "nonsense"], "unknown experiment 'nonsense'"),
    (["reproduce", "formulation", "--quick", "--full"], "at most one of --quick, --medium, --full and --scale"),
    (["reproduce", "formulation", "--convention", "bogus"], "convention must be one of"),
    (["reproduce", "formulation", "--medium"], "formulation has no --medium scale"),
    (["reproduce", "exploration", "--medium", "--full"], "at most one of"),
    (["reproduce", "gradient-variance", "--convention", "exact"], "formulation experiment only"),
    (["reproduce", "formulation", "--iterations", "3"], "does not apply to the formulation"),
    (["reproduce", "learning-curves", "--iterations", "0"], "--iterations must be >= 1"),
    (["reproduce", "formulation", "--meta-batch-size", "4"], "--meta-batch-size does not apply to the formulation"),
    (["reproduce", "exploration", "--rollouts-per-task", "0"], "--rollouts-per-task must be >= 1"),
    (["reproduce", "exploration", "--algos", "dice-vpg"], "--algos dice-vpg: not in this experiment"),
    (["reproduce", "formulation", "--algos", "promp"], "--algos does not apply to the formulation"),
])
def test_reproduce_bad_input_is_one_error_line(argv, message, capsys, tmp_path):
    """Every bad ``promp reproduce`` invocation: exit 2, one ``promp: error:`` line, nothing written."""
    from promp.cli import main

    with pytest.raises(SystemExit) as exc:
        main([*argv, "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("promp: error: ") and message in err[0]
    assert not (tmp_path / "o").exists()


def test_scaled_setup_applies_size_overrides_and_lengthens_the_tail():
    opts = ReproduceOptions(scale="medium", out=None, seeds=(1,), iterations=250, meta_batch_size=20, rollouts_per_task=5)
    setup = scaled_setup(ex.SETUPS, opts)
    assert (setup.iterations, setup.meta_batch_size, setup.rollouts_per_task, setup.tail) == (250, 20, 5, 25)
    assert ex.exploration_config(setup, "lvc-trpo", 1).meta_batch_size == 20
    assert scaled_setup(ex.SETUPS, dataclasses.replace(opts, iterations=None)).tail == ex.MEDIUM.tail
    g = scaled_setup(gv.SETUPS, dataclasses.replace(opts, iterations=None))
    assert (g.meta_batch_size, g.rollouts_per_task, g.iterations) == (20, 5, gv.MEDIUM.iterations)
    assert scaled_setup(ex.SETUPS, dataclasses.replace(opts, algos=("maml-trpo", "lvc-trpo"))).algos == ("lvc-trpo", "maml-trpo")
    from promp.experiments.learning_curves import compute as lc

    assert scaled_setup(lc.SETUPS, dataclasses.replace(opts, algos=("dice-vpg", "promp"))).panels == (("promp",), ("dice-vpg",))


# ------------------------------------------------------------------------------------------------
# learning-curves


def test_learning_curves_grid_configs_follow_the_presets():
    from promp.experiments.learning_curves import compute as lc

    grid = dict(lc.grid_configs(lc.FULL, (1, 2, 3)))
    assert len(grid) == 2 * 5 * 3
    assert [cfg.seed for cfg in grid.values()] == [1] * 10 + [2] * 10 + [3] * 10  # seed-major: every cell's first seed first
    dice = grid["halfcheetah-fwd-back/dice-vpg-seed2"]
    # docs/algorithms.md §6.3 (DiCE: 80 rollouts), §10.4 (1001 iterations)
    assert (dice.rollouts_per_task, dice.horizon, dice.iterations, dice.seed) == (80, 100, 1001, 2)
    assert lc.nominal_samples_per_iteration(grid["halfcheetah-fwd-back/promp-seed1"]) == 160_000  # docs/algorithms.md §6.4
    medium = dict(lc.grid_configs(lc.MEDIUM, (1,)))
    assert medium["halfcheetah-fwd-back/dice-vpg-seed1"].rollouts_per_task == 10  # same rollouts for all at reduced scale


def test_learning_curves_quick_skips_finished_runs(tmp_path, capsys):
    from promp.experiments.learning_curves import compute as lc
    from promp.experiments.learning_curves.report import run_learning_curves_experiment

    setup = dataclasses.replace(lc.QUICK, panels=(("lvc-vpg",),), iterations=2)
    opts = ReproduceOptions(scale="quick", out=tmp_path, seeds=(0, 1))
    run_learning_curves_experiment(opts, setup)
    report = json.loads((tmp_path / "learning-curves.json").read_text())
    assert [(r["run"], r["status"], r["iterations"]) for r in report["per_run"]] == [
        ("point-corner/lvc-vpg-seed0", "trained", 2), ("point-corner/lvc-vpg-seed1", "trained", 2)]
    curve = list(csv.DictReader((tmp_path / "learning-curves.csv").open()))
    assert [int(r["iteration"]) for r in curve] == [0, 1] and all(r["seeds"] == "2" for r in curve)
    progress = [list(csv.DictReader((tmp_path / "runs" / "point-corner" / f"lvc-vpg-seed{s}" / "progress.csv").open()))
                for s in (0, 1)]
    for i, r in enumerate(curve):  # the curve is the mean over the seeds' progress rows
        assert float(r["return_post_mean"]) == pytest.approx(np.mean([float(p[i]["return_post"]) for p in progress]), rel=1e-5)
    assert (tmp_path / "learning-curves.png").read_bytes()[:4] == b"\x89PNG"
    run_learning_curves_experiment(opts, setup)
    report = json.loads((tmp_path / "learning-curves.json").read_text())
    assert all(r["status"] == "skipped (finished)" for r in report["per_run"])
    run_learning_curves_experiment(dataclasses.replace(opts, iterations=3), setup)  # --iterations 3 extends
    report = json.loads((tmp_path / "learning-curves.json").read_text())
    assert [(r["status"], r["iterations"]) for r in report["per_run"]] == [("resumed at iteration 2", 3)] * 2
