"""Trainer and CLI: a short run learns, --resume reproduces an uninterrupted run exactly, the run
directory follows the contract, and bad input gives one error line, exit code 2, nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from promp.checkpoint import list_checkpoints
from promp.cli import main
from promp.rundir import read_progress

TINY = ["--env", "point-nav", "--meta-batch-size", "4", "--rollouts-per-task", "3", "--horizon", "15", "--hidden", "16", "16"]
TIME_COLUMNS = {"time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"}


def run_cli(argv, capsys):
    """Run ``promp argv``; returns (exit code, stdout, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def final_params(run_dir):
    last = list_checkpoints(run_dir / "checkpoints")[-1]
    return load_file(str(run_dir / "checkpoints" / f"itr_{last:05d}.safetensors"))


def test_short_training_run_improves_post_update_return(tmp_path, capsys):
    out = tmp_path / "nav"
    argv = ["train", "--env", "point-nav", "--meta-batch-size", "10", "--rollouts-per-task", "10", "--horizon", "50",
            "--iterations", "15", "--outer-lr", "0.01", "--seed", "1", "--out", str(out)]
    code, stdout, _ = run_cli(argv, capsys)
    assert code == 0, stdout
    rows = read_progress(out / "progress.csv")
    post = np.array([r["return_post"] for r in rows])
    pre = np.array([r["return_pre"] for r in rows])
    assert post[-4:].mean() > post[:3].mean() + 3.0  # returns are about -18 at the start
    assert post[-4:].mean() > pre[-4:].mean() + 3.0  # adaptation itself helps after meta-training
    assert "return_post" in stdout and "->" in stdout


def test_run_directory_contract(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(["train", *TINY, "--iterations", "3", "--out", str(out)], capsys)
    assert code == 0, err
    assert {p.name for p in out.iterdir()} >= {"config.json", "progress.csv", "checkpoints", "tb", "learning_curve.png"}
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["env"] == "point-nav" and cfg["meta_batch_size"] == 4 and cfg["hidden"] == [16, 16]
    rows = read_progress(out / "progress.csv")
    assert [r["iteration"] for r in rows] == [0, 1, 2]
    for col in ["iteration", "env_steps", "return_pre", "return_post", "time_sampling", "time_update", "time_iteration"]:
        assert col in rows[0]
    assert rows[0]["env_steps"] <= 2 * 4 * 3 * 15 and rows[2]["env_steps"] > rows[1]["env_steps"]
    assert any(p.name.startswith("events.out.tfevents") for p in (out / "tb").iterdir())
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    kept = list_checkpoints(out / "checkpoints")
    assert kept[-2:] == [1, 2] and len(kept) <= 3  # the last two are kept (and the best-return one, here any)


def test_resume_reproduces_an_uninterrupted_run(tmp_path, capsys):
    full, part = tmp_path / "full", tmp_path / "part"
    assert run_cli(["train", *TINY, "--iterations", "5", "--out", str(full)], capsys)[0] == 0
    assert run_cli(["train", *TINY, "--iterations", "2", "--out", str(part)], capsys)[0] == 0
    assert run_cli(["train", "--resume", str(part), "--iterations", "5"], capsys)[0] == 0
    rows_full, rows_part = read_progress(full / "progress.csv"), read_progress(part / "progress.csv")
    assert len(rows_part) == 5
    for a, b in zip(rows_full, rows_part):
        assert {k: v for k, v in a.items() if k not in TIME_COLUMNS} == {k: v for k, v in b.items() if k not in TIME_COLUMNS}
    pa, pb = final_params(full), final_params(part)
    assert pa.keys() == pb.keys()
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    assert json.loads((part / "config.json").read_text())["iterations"] == 5


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--env", "no-such-env"], "unknown env 'no-such-env'"),
        (["--algo", "no-such-algo"], "unknown algo 'no-such-algo'"),
        (["--meta-batch-size", "0"], "--meta-batch-size must be >= 1"),
        (["--inner-lr", "-0.1"], "--inner-lr must be >= 0"),
        (["--outer-lr", "-1"], "--outer-lr must be > 0"),
        (["--horizon", "0"], "--horizon must be >= 1"),
        (["--env-kwargs", "{nope"], "--env-kwargs must be a JSON object"),
        (["--env-kwargs", '{"reward_type": "weird"}'], "reward_type"),
    ],
)
def test_bad_config_values(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    code, _, err = run_cli(["train", *TINY, *argv, "--out", str(out)], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("promp: error:") and message in lines[0], err
    assert not out.exists()


def test_existing_output_and_bad_run_directories(tmp_path, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    code, _, err = run_cli(["train", *TINY, "--out", str(busy)], capsys)
    assert code == 2 and "exists and is not empty" in err and err.count("\n") == 1
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]

    code, _, err = run_cli(["train", "--resume", str(tmp_path / "missing")], capsys)
    assert code == 2 and "does not exist" in err

    code, _, err = run_cli(["train", "--resume", str(busy)], capsys)
    assert code == 2 and "no config.json" in err

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text("{ not json")
    code, _, err = run_cli(["train", "--resume", str(corrupt)], capsys)
    assert code == 2 and "corrupt" in err and err.count("\n") == 1

    code, _, err = run_cli(["train", "--resume", str(busy), "--seed", "3"], capsys)
    assert code == 2 and "only --iterations" in err


def test_corrupt_checkpoint_is_one_clear_error(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(["train", *TINY, "--iterations", "2", "--out", str(out)], capsys)[0] == 0
    tensors = out / "checkpoints" / "itr_00001.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:100])
    before = (out / "progress.csv").read_text()
    code, _, err = run_cli(["train", "--resume", str(out), "--iterations", "3"], capsys)
    assert code == 2 and "truncated or corrupt" in err and err.count("\n") == 1
    assert (out / "progress.csv").read_text() == before


def test_help_lists_algorithms(capsys):
    from promp.presets import ALGORITHMS

    code, out, _ = run_cli(["train", "--help"], capsys)
    assert code == 0 and "--meta-batch-size" in out and "--resume" in out
    for algo_id in ALGORITHMS:  # one line per preset
        assert any(line.strip(" │").startswith(f"{algo_id}: ") for line in out.splitlines()), algo_id


USER_ENV = '''
import numpy as np
from promp.envs import MetaEnv, StepResult


class LineEnv(MetaEnv):
    """A user's 1-D meta-env: move towards a goal in {-1, +1}."""

    obs_dim, act_dim = 1, 1
    action_low, action_high = np.array([-0.1]), np.array([0.1])

    def sample_tasks(self, rng, n):
        return [{"goal": float(g)} for g in rng.choice([-1.0, 1.0], size=n)]

    def reset(self, rng):
        self.goal = self.task_array("goal")[:, None]
        self.x = np.zeros((self.num_copies, 1))
        return self.x.copy()

    def _step(self, action):
        self.x = self.x + action
        return StepResult(self.x.copy(), -np.abs(self.x - self.goal)[:, 0], np.zeros(self.num_copies, bool))
'''


def test_user_defined_env_trains_without_editing_the_package(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_envs.py").write_text(USER_ENV)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    for algo in ["promp", "maml-trpo"]:
        argv = ["train", "--env", "my_envs:LineEnv", "--algo", algo, "--meta-batch-size", "4", "--rollouts-per-task", "3",
                "--horizon", "10", "--hidden", "8", "--iterations", "2", "--out", str(out / algo)]
        code, _, err = run_cli(argv, capsys)
        assert code == 0, err
        rows = read_progress(out / algo / "progress.csv")
        assert len(rows) == 2 and all(np.isfinite(r["return_post"]) for r in rows)
    code, _, err = run_cli(["train", "--resume", str(out / "promp"), "--iterations", "3"], capsys)
    assert code == 0, err
    assert len(read_progress(out / "promp" / "progress.csv")) == 3
