"""Failure modes: a run directory owned by one process, filesystem errors, NaN/inf samples, signals from
launch, damaged runs, oversized runs, seeds, custom envs and the small things a user sees.

Every case ends the way docs/design.md promises: one line ``promp: error: ...`` (or ``promp: interrupted``),
a non-zero exit, nothing half-written. Runs are tiny (2 tasks x 2 rollouts x horizon 10).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from promp import checkpoint as ckpt
from promp.cli import main
from promp.rundir import read_progress
from promp.rundir_lock import EVAL_LOCK_NAME, hold_directory_lock

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--env", "point-corner", "--meta-batch-size", "2", "--rollouts-per-task", "2", "--horizon", "10", "--hidden", "8"]
ENV = {**os.environ, "PROMP_XLA_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "promp", *args]


def _one_error(capsys, argv: list[str], code: int = 2, warnings: int = 0) -> str:
    """Run ``main(argv)`` in-process; assert exit ``code``, ``warnings`` warning lines and then exactly
    one ``promp: error:`` line; return it."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == code
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line and not line.startswith(("warning:", "iteration "))]
    assert len(err) == 1 and err[0].startswith("promp: error: "), err
    return err[0]


def _wait_rows(proc: subprocess.Popen, run: Path, n: int, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        with contextlib.suppress(FileNotFoundError):
            if (run / "progress.csv").read_text().count("\n") >= n + 1:
                return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for progress rows")


@pytest.fixture(scope="module")
def run6(tmp_path_factory) -> Path:
    """A finished 6-iteration tiny run with every checkpoint kept."""
    out = tmp_path_factory.mktemp("h") / "run"
    main(["train", "--out", str(out), "--iterations", "6", "--keep-checkpoint-every", "1", *TINY])
    return out


def _copy(run: Path, tmp_path: Path, name: str = "run") -> Path:
    dst = tmp_path / name
    shutil.copytree(run, dst)
    return dst


# ------------------------------------------------------------------- 1. one process per run directory
def test_second_writer_is_refused_with_the_holders_pid_and_the_lock_dies_with_kill9(tmp_path):
    run = tmp_path / "run"
    first = subprocess.Popen(_cli("train", "--out", str(run), "--iterations", "100000", *TINY), env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_rows(first, run, 2)
        for argv in (["train", "--resume", str(run)], ["train", "--out", str(run), *TINY]):
            res = subprocess.run(_cli(*argv), env=ENV, capture_output=True, text=True, timeout=120)
            lines = res.stderr.strip().splitlines()
            assert res.returncode == 2 and len(lines) == 1, res.stderr
            if argv[1] == "--resume":
                assert f"in use by another promp process (PID {first.pid}" in lines[0]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    rows = read_progress(run / "progress.csv")
    assert [int(r["iteration"]) for r in rows] == list(range(len(rows)))  # nobody else wrote into it
    # the lock died with the killed process: a resume now owns the directory
    res = subprocess.run(_cli("train", "--resume", str(run), "--iterations", str(len(rows) + 1)), env=ENV,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = read_progress(run / "progress.csv")
    assert [int(r["iteration"]) for r in rows] == list(range(len(rows)))


def test_eval_out_and_reproduce_grid_are_locked(tmp_path, run6, capsys):
    out = tmp_path / "ev"
    with hold_directory_lock(out, "test", EVAL_LOCK_NAME):
        line = _one_error(capsys, ["eval", str(run6), "--tasks", "2", "--out", str(out)])
        assert f"PID {os.getpid()}" in line and not (out / "eval.json").exists()
    grid = tmp_path / "rep"
    with hold_directory_lock(grid / "runs", "test"):
        line = _one_error(capsys, ["reproduce", "exploration", "--quick", "--out", str(grid), "--iterations", "1"])
        assert f"PID {os.getpid()}" in line


def test_a_refused_or_failed_start_leaves_no_directory(tmp_path, capsys):
    out = tmp_path / "new"
    _one_error(capsys, ["train", "--out", str(out), "--horizon", "1000000000", *TINY[:6]])
    assert not out.exists()


# ----------------------------------------------------------------------------- 2. filesystem errors
def test_out_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    line = _one_error(capsys, ["train", "--out", str(tmp_path / "afile" / "sub"), *TINY])
    assert "afile is a file" in line


@contextlib.contextmanager
def _tmpfs(path: Path, options: str):
    """Mount a tmpfs at ``path`` (root only); yields False where the machine does not allow it."""
    path.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                                                   capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_location_is_one_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    with _tmpfs(ro, "ro,size=1m") as mounted:
        if not mounted:
            ro.chmod(0o555)
            if os.access(ro, os.W_OK):
                pytest.skip("cannot make a read-only directory here")
        line = _one_error(capsys, ["train", "--out", str(ro / "run"), *TINY])
        assert f"cannot write in {ro}" in line and ("read-only" in line or "permission denied" in line)
        if not mounted:
            ro.chmod(0o755)


ENOSPC_WRAPPER = textwrap.dedent("""
    import errno, os, sys
    real, calls = os.fsync, [0]
    def fsync(fd):  # the disk fills up after N fsyncs (progress rows and checkpoint files)
        calls[0] += 1
        if calls[0] > int(os.environ["FAIL_AFTER"]):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)
    os.fsync = fsync
    from promp.__main__ import run
    sys.argv = ["promp", *sys.argv[1:]]
    run()
""")


def test_disk_full_is_one_line_keeps_the_last_checkpoint_and_leaves_no_temp_files(tmp_path):
    disk = tmp_path / "disk"
    with _tmpfs(disk, "size=400k") as mounted:
        run = disk / "run"
        if mounted:  # a real full disk: fill it up to ~120 KB free, then train until it is full
            (disk / "filler").write_bytes(b"\0" * 280_000)
            res = subprocess.run(_cli("train", "--out", str(run), "--iterations", "200", "--keep-checkpoint-every", "1", *TINY),
                                 env=ENV, capture_output=True, text=True, timeout=300)
        else:  # an injected ENOSPC at the 9th fsync
            disk.mkdir(exist_ok=True)
            res = subprocess.run([sys.executable, "-c", ENOSPC_WRAPPER, "train", "--out", str(run), "--iterations", "50", *TINY],
                                 env={**ENV, "FAIL_AFTER": "9"}, capture_output=True, text=True, timeout=300)
        err = res.stderr.strip().splitlines()
        assert res.returncode == 1, res.stderr
        assert err[-1].startswith("promp: error: cannot write ") and "No space left on device" in err[-1], res.stderr
        assert "Traceback" not in res.stderr
        assert not [p for p in run.rglob("*") if ".tmp" in p.name], "temporary files left behind"
        its = ckpt.list_checkpoints(run / "checkpoints")
        assert its, "no checkpoint survived"
        from promp.config import TrainConfig
        from promp.learner import MetaLearner

        state = MetaLearner(TrainConfig.from_dict(json.loads((run / "config.json").read_text()))).init_state()
        ckpt.load_checkpoint(run / "checkpoints", state.params, state.opt_state)  # the last good one is intact
        # a later start cleans up what a killed writer left, then resumes
        stale = run / "checkpoints" / f".itr_{its[-1] + 1:05d}.safetensors.tmp999999"
        stale.write_bytes(b"")
        (run / ".learning_curve.tmp999999.png").write_bytes(b"")
        if mounted:
            (disk / "filler").unlink()
        res = subprocess.run(_cli("train", "--resume", str(run), "--iterations", str(its[-1] + 2)), env=ENV,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        assert not stale.exists() and not (run / ".learning_curve.tmp999999.png").exists()


# ------------------------------------------------------------------------------------ 3. NaN / inf
NAN_ENV = textwrap.dedent("""
    import numpy as np
    from promp.envs.point import PointCorner

    class NanCorner(PointCorner):
        \"\"\"point-corner whose reward is NaN on the 3rd step of sampling rounds listed in BAD_ROUNDS.\"\"\"
        BAD_ROUNDS = {"all"}
        rounds = 0

        def reset(self, rng):
            type(self).rounds += 1
            self._t = 0
            return super().reset(rng)

        def _step(self, action):
            obs, reward, done = super()._step(action)
            self._t += 1
            if self._t == 3 and ("all" in self.BAD_ROUNDS or type(self).rounds in self.BAD_ROUNDS):
                reward = reward.copy()
                reward[1] = np.nan
            return obs, reward, done
""")


@pytest.fixture
def nan_env(tmp_path, monkeypatch):
    (tmp_path / "nanenv_mod.py").write_text(NAN_ENV)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    import nanenv_mod

    importlib.reload(nanenv_mod)
    return nanenv_mod


def test_nan_reward_is_named_skipped_and_stops_after_the_limit(tmp_path, nan_env, capsys):
    run = tmp_path / "run"
    flags = ["--env", "nanenv_mod:NanCorner", *TINY[2:]]
    line = _one_error(capsys, ["train", "--out", str(run), "--iterations", "5", "--max-nonfinite-updates", "2", *flags], code=1)
    assert "2 consecutive iterations skipped for NaN/inf" in line and "non-finite reward from the env" in line
    assert "NanCorner" in line and "task 0" in line and "iteration 1" in line
    rows = read_progress(run / "progress.csv")
    assert [int(r["update_skipped"]) for r in rows] == [1, 1]
    assert ckpt.list_checkpoints(run / "checkpoints") == [0, 1]


def test_transient_nan_sample_is_skipped_and_the_run_goes_on(tmp_path, nan_env, capsys):
    nan_env.NanCorner.BAD_ROUNDS = {4}  # round 1 is the env check, 2-3 iteration 0, 4 iteration 1 pre-update
    run = tmp_path / "run"
    main(["train", "--out", str(run), "--iterations", "3", "--env", "nanenv_mod:NanCorner", *TINY[2:]])
    err = capsys.readouterr().err
    assert err.count("non-finite reward") == 1 and "NaN or Inf found" not in err
    rows = read_progress(run / "progress.csv")
    assert [int(r["update_skipped"]) for r in rows] == [0, 1, 0]
    assert "kl_pre" in rows[0] or len(rows[0]) == len(rows[2])  # the columns survive the skipped row


@pytest.mark.parametrize("flags, expected", [
    (["--outer-lr", "inf"], "--outer-lr must be a finite number"),
    (["--inner-lr", "inf"], "--inner-lr must be a finite number"),
    (["--init-std", "1e308"], "--init-std 1e+308 overflows float32"),
    (["--gamma", "nan"], "--gamma must be a finite number"),
    (["--seed", "-1"], "--seed must be an integer in [0, 4294967295]"),
    (["--seed", str(2**32)], "--seed must be an integer"),
])
def test_nonfinite_and_absurd_flags_are_rejected_up_front(tmp_path, capsys, flags, expected):
    line = _one_error(capsys, ["train", "--out", str(tmp_path / "r"), *TINY, *flags])
    assert expected in line
    assert not (tmp_path / "r").exists()


def test_bench_threads_must_be_positive(capsys):
    assert "--threads must be between 1 and" in _one_error(capsys, ["bench", "--env", "point-corner", "--threads", "-3", "--skip-iteration"])


# ------------------------------------------------------------------------------ 4. signals from launch
@pytest.mark.parametrize("signum, code, delay", [
    (signal.SIGINT, 130, 0.3), (signal.SIGINT, 130, 0.7), (signal.SIGINT, 130, 1.6),
    (signal.SIGTERM, 143, 0.3), (signal.SIGTERM, 143, 1.2),
])
def test_a_signal_at_any_moment_from_launch_gives_130_or_143_and_a_true_line(tmp_path, signum, code, delay):
    run = tmp_path / "run"
    # `trap '' INT`: started with SIGINT ignored, as `cmd &` in a script does; promp handles it anyway
    cmd = " ".join(shlex.quote(a) for a in _cli("train", "--out", str(run), "--iterations", "100000", *TINY))
    proc = subprocess.Popen(["sh", "-c", f"trap '' INT; exec {cmd}"], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("promp: interrupted:" if signum == signal.SIGINT else "promp: terminated:"), err
    if "--resume" in last:  # the line promises a resumable run: it must be one
        assert (run / "config.json").is_file()
        res = subprocess.run(_cli("train", "--resume", str(run), "--iterations", "1"), env=ENV, capture_output=True, text=True)
        assert res.returncode in (0, 2), res.stderr  # 2: it had already completed more than 1 iteration
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]


# ------------------------------------------------------------------------------ 5. damaged runs
def test_resume_without_checkpoints_is_refused(tmp_path, run6, capsys):
    run = _copy(run6, tmp_path)
    shutil.rmtree(run / "checkpoints")
    before = (run / "progress.csv").read_text()
    line = _one_error(capsys, ["train", "--resume", str(run), "--iterations", "8"])
    assert "cannot resume" in line and "holds no checkpoint" in line
    assert (run / "progress.csv").read_text() == before


def test_corrupt_latest_checkpoint_names_the_intact_one_and_how_to_use_it(tmp_path, run6, capsys):
    run = _copy(run6, tmp_path)
    st = run / "checkpoints" / "itr_00005.safetensors"
    st.write_bytes(st.read_bytes()[:100])
    line = _one_error(capsys, ["train", "--resume", str(run), "--iterations", "8"])
    assert "truncated or corrupt" in line and "checkpoint 4 is intact" in line and "--checkpoint 4" in line
    for p in (run / "checkpoints").glob("itr_00005.*"):  # what the message says to do
        p.rename(tmp_path / p.name)
    main(["train", "--resume", str(run), "--iterations", "7"])
    assert [int(r["iteration"]) for r in read_progress(run / "progress.csv")] == list(range(7))


def test_missing_progress_csv_warns_and_resumes(tmp_path, run6, capsys):
    run = _copy(run6, tmp_path)
    (run / "progress.csv").unlink()
    main(["train", "--resume", str(run), "--iterations", "7"])
    assert "progress.csv is missing" in capsys.readouterr().err
    assert [int(r["iteration"]) for r in read_progress(run / "progress.csv")] == [6]


@pytest.mark.parametrize("key, value, expected", [
    ("gamma", "0.9", "gamma must be a number, got '0.9'"),
    ("outer_lr", None, "outer_lr must be a number, got None"),
    ("env", "nope", "unknown env 'nope'"),
    ("horizon", 20.7, "horizon must be an integer, got 20.7"),
    ("adaptive_kl", "yes", "adaptive_kl must be true or false"),
    ("gamma", 7, "--gamma must be in (0, 1]"),
    ("seed", -4, "--seed must be an integer in"),
])
@pytest.mark.parametrize("command", ["train", "eval"])
def test_edited_config_json_is_checked_like_the_flags(tmp_path, run6, capsys, key, value, expected, command):
    run = _copy(run6, tmp_path)
    cfg = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**cfg, key: value}))
    argv = ["train", "--resume", str(run), "--iterations", "8"] if command == "train" else ["eval", str(run), "--tasks", "2"]
    line = _one_error(capsys, argv)
    assert str(run / "config.json") in line and expected in line


def test_shrinking_iterations_on_resume_is_refused(tmp_path, run6, capsys):
    run = _copy(run6, tmp_path)
    before = (run / "config.json").read_text()
    assert "would shrink it" in _one_error(capsys, ["train", "--resume", str(run), "--iterations", "3"])
    assert (run / "config.json").read_text() == before
    # a planned total above what is done may be lowered to it, and the message says which way it went
    (run / "config.json").write_text(json.dumps({**json.loads(before), "iterations": 20}))
    main(["train", "--resume", str(run), "--iterations", "6"])
    assert f"shortening {run} from 20 to 6 iterations" in capsys.readouterr().err
    assert json.loads((run / "config.json").read_text())["iterations"] == 6


# ------------------------------------------------------------------------------ 6. too-large runs
@pytest.mark.parametrize("flags", [["--horizon", "1000000000"], ["--meta-batch-size", "100000", "--rollouts-per-task", "100000"]])
def test_too_large_runs_are_refused_with_the_estimate_before_writing(tmp_path, capsys, flags):
    out = tmp_path / "big"
    line = _one_error(capsys, ["train", "--out", str(out), *TINY[:2], "--iterations", "2", "--hidden", "8", *flags])
    assert "GiB of memory" in line and "available" in line
    assert not out.exists()


# ------------------------------------------------------------------------------ 7. negative seeds
@pytest.mark.parametrize("argv", [
    ["eval", "{run}", "--seed", "-1"],
    ["rollout", "{run}", "--seed", "-1"],
    ["reproduce", "exploration", "--quick", "--seeds", "-1", "--out", "{tmp}/rep"],
])
def test_negative_seeds_are_one_line(tmp_path, run6, capsys, argv):
    argv = [a.format(run=run6, tmp=tmp_path) for a in argv]
    assert "must be an integer in [0, 4294967295], got -1" in _one_error(capsys, argv)
    assert not (tmp_path / "rep").exists()


# ------------------------------------------------------------------------------ 9. small things
def test_checkpoints_are_readable_by_group_and_others(run6):
    for p in (run6 / "checkpoints").iterdir():
        assert p.stat().st_mode & 0o044 == 0o044, p


def test_plot_skips_stray_files_and_counts_distinct_seeds(tmp_path, run6, capsys):
    a, b = _copy(run6, tmp_path, "a"), _copy(run6, tmp_path, "b")
    (tmp_path / "notes.txt").write_text("x")
    main(["plot", str(a), str(b), str(tmp_path / "notes.txt"), "--out", str(tmp_path / "c.png")])
    captured = capsys.readouterr()
    assert "skipping" in captured.err and (tmp_path / "c.png").is_file()
    from promp.compare import aggregate
    from promp.plotting import plot_curves

    curve = aggregate("x", [read_progress(a / "progress.csv")] * 2)
    curve.seeds = 1
    import matplotlib.pyplot as plt

    real_legend = plt.Axes.legend
    labels = []
    plt.Axes.legend = lambda self, *a, **k: labels.extend(self.get_legend_handles_labels()[1]) or real_legend(self, *a, **k)
    try:
        plot_curves([curve], tmp_path / "d.png")
    finally:
        plt.Axes.legend = real_legend
    assert labels == ["x (2 runs, 1 distinct seed)"]


@pytest.mark.parametrize("command", ["train", "eval", "rollout"])
def test_help_text_is_clean(command):
    res = subprocess.run(_cli(command, "--help"), env={**ENV, "COLUMNS": "200"}, capture_output=True, text=True)
    assert res.returncode == 0
    assert "args options" not in res.stdout and "(default: None)" not in res.stdout and "{None}" not in res.stdout
    assert all(line.count("(default:") <= 1 for line in res.stdout.splitlines())  # no default given twice
    if command != "train":
        assert "RUN_DIR" in res.stdout and "STR" not in res.stdout and "--checkpoint latest|best|N" in res.stdout


def test_tensorboard_is_an_extra_the_readme_names():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'tb = ["tensorboard>=' in text
    assert ".[tb]" in (ROOT / "README.md").read_text()


def test_progress_lines_without_a_terminal_have_an_eta_and_are_not_cut(tmp_path):
    res = subprocess.run(_cli("train", "--out", str(tmp_path / "r"), "--iterations", "40", *TINY), env={**ENV, "COLUMNS": "80"},
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("iteration ")]
    assert lines and "ETA" in lines[0] and all("s/it" in line for line in lines)


# ------------------------------------------------------------------------------ 8. custom envs and gymnasium
def test_import_promp_is_enough_for_gymnasium_make_and_episodes_end_at_the_preset_horizon():
    code = ("import promp, gymnasium; env = gymnasium.make('promp/point-corner-v0'); env.reset(seed=0); n = 0\n"
            "while True:\n    n += 1; _, _, term, trunc, _ = env.step(env.action_space.sample())\n"
            "    if term or trunc: break\n"
            "print(n, trunc)")
    res = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["100", "True"]


MY_ENV = textwrap.dedent("""
    from promp.envs.point import PointCorner

    class MyCorner(PointCorner):
        \"\"\"point-corner under another name.\"\"\"

    class NoObsDim(PointCorner):
        obs_dim = None

    class WrongShape(PointCorner):
        def reset(self, rng):
            return super().reset(rng)[:, :1]

    class Raises(PointCorner):
        def _step(self, action):
            raise RuntimeError("boom")

    class NoSuccessFlags(PointCorner):
        reports_success = True  # but no step_success

    class SuccessShape(PointCorner):
        reports_success = True
        def step_success(self):
            return [True, False]
""")


def test_a_module_in_the_current_directory_is_found_without_pythonpath(tmp_path):
    (tmp_path / "my_envs.py").write_text(MY_ENV)
    # -P: the current directory is not on sys.path, as for the installed `promp` script
    res = subprocess.run([sys.executable, "-P", "-m", "promp", "train", "--env", "my_envs:MyCorner", "--out", "r", *TINY[2:],
                          "--iterations", "1"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([sys.executable, "-P", "-m", "promp", "eval", "r", "--tasks", "1"], cwd=tmp_path, env=ENV,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("cls, expected", [
    ("NoObsDim", "class attribute obs_dim must be a positive integer, got None"),
    ("WrongShape", "reset() observations have shape (1, 1), expected (1, 2)"),
    ("Raises", "step(actions) raised RuntimeError: boom"),
    ("NoSuccessFlags", "step_success() raised NotImplementedError"),
    ("SuccessShape", "step_success() flags have shape (2,), expected (1,)"),
])
def test_a_broken_custom_env_is_one_line_naming_it(tmp_path, monkeypatch, capsys, cls, expected):
    (tmp_path / "my_envs_b.py").write_text(MY_ENV)
    monkeypatch.syspath_prepend(str(tmp_path))
    line = _one_error(capsys, ["train", "--env", f"my_envs_b:{cls}", "--out", str(tmp_path / "r"), *TINY[2:]])
    assert f"env 'my_envs_b:{cls}' ({cls})" in line and expected in line
    assert not (tmp_path / "r").exists()


def test_a_run_of_an_env_registered_in_a_script_says_how_to_use_it_from_the_cli(tmp_path, capsys):
    script = textwrap.dedent(f"""
        from promp.config import resolve_config
        from promp.envs import register_env
        from promp.envs.point import PointCorner
        from promp.trainer import train
        register_env("script-corner", PointCorner, defaults={{"horizon": 10}})
        cfg = resolve_config("script-corner", "promp", {{"meta_batch_size": 2, "rollouts_per_task": 2, "iterations": 1, "hidden": (8,)}})
        train(cfg, __import__("pathlib").Path({str(tmp_path / 'r')!r}), progress=False)
    """)
    res = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    line = _one_error(capsys, ["eval", str(tmp_path / "r"), "--tasks", "1"])
    assert "unknown env 'script-corner'" in line and "--env module:Class" in line
