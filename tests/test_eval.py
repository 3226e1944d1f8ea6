"""Meta-testing (promp eval), run comparison (promp plot) and trajectories (promp rollout)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from promp.cli import main
from promp.compare import aggregate, group_runs
from promp.config import resolve_config
from promp.evaluation import MetaTestResult, eval_rng, mean_confidence_interval, report, summarize_success, t_quantile
from promp.trainer import train

# The smallest point-corner setting found to learn to adapt reliably: with seeds 1, 2, 3 the
# post-update return on 20 held-out tasks exceeded the pre-update one by 0.05, 0.18 and 0.16
# (15 iterations or inner step 0.1 were not enough for every seed). About 15 s on one core.
TRAINED = {"meta_batch_size": 20, "rollouts_per_task": 10, "iterations": 20, "inner_lr": 0.2, "seed": 3}


@pytest.fixture(scope="session")
def trained_point_corner(tmp_path_factory) -> Path:
    """A briefly trained ProMP point-corner run (shared by every test that needs a learned policy)."""
    out = tmp_path_factory.mktemp("trained") / "pc"
    train(resolve_config("point-corner", "promp", TRAINED), out, console=Console(file=io.StringIO()), progress=False)
    return out


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_eval_post_adaptation_beats_pre_adaptation(trained_point_corner, tmp_path, capsys):
    out = tmp_path / "ev"
    code, stdout, err = _run(["eval", str(trained_point_corner), "--tasks", "40", "--adapt-steps", "2", "--out", str(out)], capsys)
    assert code == 0, err
    rec = json.loads((out / "eval.json").read_text())
    steps = rec["steps"]
    assert [s["step"] for s in steps] == [0, 1, 2]  # K may exceed the training K (1)
    assert rec["num_tasks"] == 40 and rec["rollouts_per_task"] == 10 and rec["checkpoint_iteration"] == 19
    assert rec["interval_over"] == "tasks" and rec["training_inner_steps"] == 1 and rec["adapt_steps"] == 2
    assert steps[1]["mean"] > steps[0]["mean"] + 0.03
    per_task = np.array(rec["per_task_returns"])
    assert per_task.shape == (40, 3)
    np.testing.assert_allclose(per_task.mean(0), [s["mean"] for s in steps])
    for s in steps:
        assert s["ci_low"] < s["mean"] < s["ci_high"] and s["n"] == 40
    assert (out / "eval.png").stat().st_size > 5000
    assert not (trained_point_corner / "eval.json").exists()  # --out was honoured
    assert "average return" in stdout and "95% CI" in stdout
    # point-corner paths always run to the horizon: the record says so, the table shows no length column
    assert all(s["mean_path_length"] == 100 for s in steps) and rec["horizon"] == 100 and "path length" not in stdout
    # the held-out tasks come from the eval stream, not the training one
    assert rec["tasks"] == [dict(goal=t["goal"]) for t in rec["tasks"]]


def test_eval_is_reproducible_and_seeded(trained_point_corner, tmp_path, capsys):
    recs = []
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        code, _, err = _run(["eval", str(trained_point_corner), "--tasks", "4", "--rollouts", "3", "--seed", seed,
                             "--out", str(tmp_path / name)], capsys)
        assert code == 0, err
        recs.append(json.loads((tmp_path / name / "eval.json").read_text()))
    assert recs[0]["per_task_returns"] == recs[1]["per_task_returns"]
    assert recs[0]["per_task_returns"] != recs[2]["per_task_returns"]
    assert recs[0]["rollouts_per_task"] == 3 and recs[0]["eval_seed"] == 5


def test_eval_given_task(trained_point_corner, tmp_path, capsys):
    code, _, err = _run(["eval", str(trained_point_corner), "--task", '{"goal": [2, -2]}', "--rollouts", "20", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    rec = json.loads((tmp_path / "eval.json").read_text())
    assert rec["tasks"] == [{"goal": [2.0, -2.0]}] and rec["given_task"] is True
    assert rec["interval_over"] == "rollouts" and rec["steps"][0]["n"] == 20


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--task", '{"goal": [3, 1]}'], "invalid --task for env PointCorner: task goal must be one of the corners"),
        (["--task", "{goal"], "--task must be a JSON object"),
        (["--checkpoint", "7"], "no checkpoint for iteration 7"),
        (["--tasks", "0"], "--tasks must be >= 1"),
    ],
)
def test_eval_bad_input_is_one_line(trained_point_corner, tmp_path, capsys, argv, expected):
    code, _, err = _run(["eval", str(trained_point_corner), "--out", str(tmp_path), *argv], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("promp: error: ") and expected in lines[0], err
    assert not (tmp_path / "eval.json").exists()
    if "--checkpoint" in argv:
        # which checkpoints exist: the last two, and the best wherever it is (that one depends on the noise)
        assert re.search(r"available: (\d+, )*18, 19 ", lines[0]), lines[0]


def test_eval_of_a_missing_run(tmp_path, capsys):
    code, _, err = _run(["eval", str(tmp_path / "nope")], capsys)
    assert code == 2 and "does not exist" in err


def test_eval_an_older_checkpoint(trained_point_corner, tmp_path, capsys):
    code, _, err = _run(["eval", str(trained_point_corner), "--checkpoint", "18", "--tasks", "2", "--rollouts", "2",
                         "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "eval.json").read_text())["checkpoint_iteration"] == 18


@pytest.mark.slow
def test_eval_reports_path_lengths_where_episodes_terminate(tmp_path, capsys):
    """Hopper falls: ``mean_path_length`` is below the horizon, the table shows it, and the lengths add up to
    the env steps the meta-test simulated (counted by the sampler's masks, separately)."""
    run = tmp_path / "hop"
    overrides = {"iterations": 1, "meta_batch_size": 2, "rollouts_per_task": 2, "horizon": 60, "hidden": (8, 8)}
    train(resolve_config("hopper-rand-params", "lvc-vpg", overrides), run, console=Console(file=io.StringIO()), progress=False)
    code, stdout, err = _run(["eval", str(run), "--tasks", "2", "--rollouts", "3", "--out", str(tmp_path / "ev")], capsys)
    assert code == 0, err
    rec = json.loads((tmp_path / "ev" / "eval.json").read_text())
    lengths = [s["mean_path_length"] for s in rec["steps"]]
    assert all(0 < x < 60 for x in lengths), lengths
    assert sum(lengths) * 2 * 3 == pytest.approx(rec["env_steps"])
    assert "path" in stdout and f"{lengths[-1]:.1f}" in stdout  # the column (its header may wrap)


def test_report_gives_the_mean_path_length_of_every_step():
    lengths = np.array([[[10, 20], [30, 40]], [[50, 50], [50, 50]]])  # [K+1, T, R]
    rec = report(MetaTestResult([{"goal": [0, 0]}] * 2, np.zeros((2, 2, 2)), int(lengths.sum()), None, lengths))
    assert [s["mean_path_length"] for s in rec["steps"]] == [25.0, 50.0]
    assert not any("path_length" in k for s in report(MetaTestResult([{}] * 2, np.zeros((2, 2, 2)), 0))["steps"] for k in s)


# ------------------------------------------------------------------------- statistics
def test_success_rate_summary_and_record():
    """Success per step: the mean over tasks of each task's fraction of successful rollouts, with a t interval
    across tasks clipped to [0, 1]; across rollouts for one task; nothing for an env without success flags."""
    successes = np.zeros((2, 3, 4), dtype=bool)  # [K+1, T, R]
    successes[1, 0, :] = True  # step 1: task 0 all 4, task 1 two of 4, task 2 none
    successes[1, 1, :2] = True
    result = MetaTestResult([{"goal": [0, 0]}] * 3, np.zeros((2, 3, 4)), 24, successes)
    steps = summarize_success(result)
    assert [s.success_rate for s in steps] == [0.0, 0.5]
    _, lo, hi = mean_confidence_interval([1.0, 0.5, 0.0])
    assert steps[0].success_ci_low == steps[0].success_ci_high == 0.0
    assert (steps[1].success_ci_low, steps[1].success_ci_high) == (max(0.0, lo), min(1.0, hi)) == (0.0, 1.0)
    rec = report(result)
    assert rec["per_task_success"] == [[0.0, 1.0], [0.0, 0.5], [0.0, 0.0]]
    assert rec["steps"][1]["success_rate"] == 0.5 and rec["steps"][1]["mean"] == 0.0
    one = MetaTestResult([{"goal": [0, 0]}], np.zeros((2, 1, 4)), 8, successes[:, 1:2])
    assert summarize_success(one)[1].success_rate == 0.5 and report(one)["interval_over"] == "rollouts"
    plain = report(MetaTestResult([{"goal": [0, 0]}] * 3, np.zeros((2, 3, 4)), 24))
    assert "per_task_success" not in plain and not any("success" in k for s in plain["steps"] for k in s)


def test_t_quantile_matches_scipy():
    from scipy import stats as scipy_stats
    for df in (1, 2, 5, 19, 39, 200):
        for p in (0.9, 0.975, 0.995):
            assert t_quantile(p, df) == pytest.approx(scipy_stats.t.ppf(p, df), rel=1e-4)


def test_confidence_interval_covers_the_mean_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    hits = sum(lo <= 1.0 <= hi for _, lo, hi in (mean_confidence_interval(rng.normal(1.0, 2.0, 8)) for _ in range(400)))
    assert 0.91 <= hits / 400 <= 0.99
    assert mean_confidence_interval([3.0]) == (3.0, 3.0, 3.0)


def test_eval_rng_is_separate_from_training():
    train_rng = np.random.Generator(np.random.PCG64(1))
    assert not np.array_equal(eval_rng(1).integers(0, 2**32, 8), train_rng.integers(0, 2**32, 8))
    assert np.array_equal(eval_rng(1).integers(0, 2**32, 8), eval_rng(1).integers(0, 2**32, 8))


# ----------------------------------------------------------------------------- plotting
def _fake_run(path: Path, seed: int, returns: list[float], **cfg) -> Path:
    path.mkdir(parents=True)
    config = {"env": "point-corner", "algo": "promp", "seed": seed, "iterations": len(returns), "inner_lr": 0.1, **cfg}
    (path / "config.json").write_text(json.dumps(config))
    lines = ["iteration,env_steps,return_pre,return_post"]
    lines += [f"{i},{1000 * (i + 1)},0.0,{r!r}" for i, r in enumerate(returns)]
    (path / "progress.csv").write_text("\n".join(lines) + "\n")
    return path


def test_group_runs_by_everything_but_the_seed():
    cfgs = [
        ("a1", {"algo": "promp", "env": "point-corner", "seed": 1, "inner_lr": 0.1, "iterations": 10}),
        ("b1", {"algo": "promp", "env": "point-corner", "seed": 1, "inner_lr": 0.2, "iterations": 10}),
        ("a2", {"algo": "promp", "env": "point-corner", "seed": 2, "inner_lr": 0.1, "iterations": 20}),
        ("c1", {"algo": "maml-trpo", "env": "point-corner", "seed": 1, "inner_lr": 0.1, "iterations": 10}),
    ]
    groups = group_runs(cfgs)
    assert [g.names for g in groups] == [["a1", "a2"], ["b1"], ["c1"]]
    assert groups[0].seeds == [1, 2]
    assert groups[0].label == "promp on point-corner (inner_lr=0.1)"
    assert groups[2].label == "maml-trpo on point-corner"


def test_aggregate_mean_band_and_shortest_run():
    runs = [[{"env_steps": 10 * i, "return_post": v} for i, v in enumerate(vals)] for vals in ([1.0, 2.0, 3.0], [3.0, 4.0])]
    c = aggregate("x", runs, band="std")
    np.testing.assert_allclose(c.mean, [2.0, 3.0])
    np.testing.assert_allclose(c.high - c.mean, [1.0, 1.0])
    m = aggregate("x", runs, band="minmax")
    np.testing.assert_allclose(m.low, [1.0, 2.0])
    np.testing.assert_allclose(m.high, [3.0, 4.0])
    assert c.n == 2 and list(c.x) == [0.0, 10.0]


def test_plot_command_groups_seeds(tmp_path, capsys):
    a1 = _fake_run(tmp_path / "a1", 1, [0.0, 1.0, 2.0])
    a2 = _fake_run(tmp_path / "a2", 2, [0.5, 1.5, 2.5])
    b1 = _fake_run(tmp_path / "b1", 1, [0.0, 0.1, 0.2], algo="maml-trpo")
    png = tmp_path / "cmp" / "curves.png"
    code, out, err = _run(["plot", str(a1), str(a2), str(b1), "--out", str(png), "--band", "minmax"], capsys)
    assert code == 0, err
    assert png.stat().st_size > 5000
    assert "promp on point-corner: 2 run(s) (seeds 1, 2), last return_post 2.25" in out
    assert "maml-trpo on point-corner: 1 run(s)" in out


def test_plot_command_draws_reference_points(tmp_path, capsys, monkeypatch):
    """``--reference LABEL=Y@X`` (repeatable) reaches the figure as (label, x, y) markers; a malformed one is one error line."""
    import promp.plotting

    seen = {}

    def fake_plot_curves(curves, path, ylabel, title, xlabel, references=()):
        seen["references"] = list(references)
        Path(path).write_bytes(b"png")
        return Path(path)

    monkeypatch.setattr(promp.plotting, "plot_curves", fake_plot_curves)
    a1 = _fake_run(tmp_path / "a1", 1, [0.0, 1.0])
    png = tmp_path / "ref.png"
    code, _, err = _run(["plot", str(a1), "--out", str(png), "--reference", "ProMP (paper Fig. 2)=310@1.2e8",
                         "--reference", "MAML-TRPO=265@1.2e8"], capsys)
    assert code == 0, err
    assert seen["references"] == [("ProMP (paper Fig. 2)", 1.2e8, 310.0), ("MAML-TRPO", 1.2e8, 265.0)]
    code, _, err = _run(["plot", str(a1), "--out", str(png), "--reference", "310@1.2e8"], capsys)
    assert code == 2 and "--reference must look like LABEL=Y@X" in err and len(err.strip().splitlines()) == 1


def test_plot_command_bad_input(tmp_path, capsys):
    code, _, err = _run(["plot", str(tmp_path / "missing"), "--out", str(tmp_path / "x.png")], capsys)
    assert code == 2 and err.startswith("promp: error:") and "no config.json" in err and len(err.strip().splitlines()) == 1
    a1 = _fake_run(tmp_path / "a1", 1, [0.0, 1.0])
    code, _, err = _run(["plot", str(a1), "--out", str(tmp_path / "x.png"), "--metric", "nope"], capsys)
    assert code == 2 and "no column 'nope'" in err


# ---------------------------------------------------------------------------- rollouts
def test_rollout_png_of_a_point_task(trained_point_corner, tmp_path, capsys):
    png = tmp_path / "r.png"
    code, out, err = _run(["rollout", str(trained_point_corner), "--task", '{"goal": [-2, 2]}', "--out", str(png)], capsys)
    assert code == 0, err
    assert png.stat().st_size > 10000 and "step 0:" in out and "step 1:" in out
    code, _, err = _run(["rollout", str(trained_point_corner), "--out", str(tmp_path / "r.mp4")], capsys)
    assert code == 2 and "must be a .png file" in err


def _untrained_run(run: Path, env: str, overrides: dict):
    """A run directory holding the initial policy as checkpoint 0 (no outer update to compile)."""
    from promp.checkpoint import checkpoint_meta, save_checkpoint
    from promp.learner import MetaLearner
    from promp.rundir import RunDir

    cfg = resolve_config(env, "promp", overrides)
    learner = MetaLearner(cfg)
    state = learner.init_state()
    learner.env.close()
    RunDir(run).create(cfg)
    save_checkpoint(run / "checkpoints", 0, state.params, state.opt_state, checkpoint_meta(cfg, state))
    return cfg


def test_rollout_png_of_point_momentum(tmp_path, capsys):
    run = tmp_path / "pm"
    _untrained_run(run, "point-momentum", {"rollouts_per_task": 2, "horizon": 10, "inner_steps": 2, "hidden": (16, 16)})
    code, out, err = _run(["rollout", str(run), "--seed", "3"], capsys)
    assert code == 0, err
    assert (run / "rollout.png").stat().st_size > 10000 and "step 2:" in out


@pytest.mark.filterwarnings("ignore:os.fork")
def test_rollout_mp4_of_a_mujoco_task(tmp_path):
    """Offscreen MuJoCo rendering (EGL) to MP4, in a fresh process so MUJOCO_GL applies.

    ``make test`` installs the ``video`` extra; a machine without EGL fails here on purpose
    (README "Trajectories" says which Debian packages provide it)."""
    run = tmp_path / "hc"
    cfg = _untrained_run(run, "halfcheetah-fwd-back", {"rollouts_per_task": 2, "horizon": 8, "hidden": (8,)})
    mp4 = tmp_path / "hc.mp4"
    env = {k: v for k, v in os.environ.items() if k != "MUJOCO_GL"}
    res = subprocess.run([sys.executable, "-m", "promp", "rollout", str(run), "--task", '{"direction": 1}', "--width", "64",
                          "--height", "48", "--out", str(mp4)], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(mp4))
    width, height = next(reader)["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]
    assert len(frames) == cfg.horizon + 1  # the first frame after reset, then one per step
    assert width >= 2 * 64 and height >= 48  # pre- and post-update side by side
    assert np.std(frames[-1]) > 5  # not a blank picture
