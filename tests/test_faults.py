"""Runs that survive faults: SIGKILL + --resume, SIGINT, damaged checkpoints, NaN/inf updates."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from safetensors.numpy import load_file

from promp import checkpoint as ckpt
from promp.cli import main
from promp.config import resolve_config
from promp.learner import NonFiniteUpdateError
from promp.rundir import read_progress
from promp.trainer import train

# dense rewards: the sparse reward is all zeros at this scale, which would make every update a no-op
TINY = {"meta_batch_size": 4, "rollouts_per_task": 4, "horizon": 20, "env_kwargs": {"reward_type": "dense"}}
TINY_FLAGS = ["--meta-batch-size", "4", "--rollouts-per-task", "4", "--horizon", "50", "--env-kwargs", '{"reward_type": "dense"}']
CLI_ITERATIONS = 30
ENV = {**os.environ, "PROMP_XLA_THREADS": "1"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "promp", *args]


def _rows(run: Path) -> list[dict[str, str]]:
    """progress.csv rows as raw strings, without the time_* columns (wall-clock differs)."""
    with open(run / "progress.csv", newline="") as fh:
        return [{k: v for k, v in r.items() if not k.startswith("time_")} for r in csv.DictReader(fh)]


def _last_checkpoint(run: Path) -> tuple[dict, dict]:
    d = run / "checkpoints"
    it = ckpt.list_checkpoints(d)[-1]
    meta = json.loads((d / f"itr_{it:05d}.json").read_text())
    return load_file(str(d / meta["tensors"])), meta


def _assert_same_run(a: Path, b: Path) -> None:
    rows_a, rows_b = _rows(a), _rows(b)
    assert len(rows_a) == len(rows_b)
    assert rows_a == rows_b  # every number, bit for bit (repr of floats)
    assert len({r["return_post"] for r in rows_a}) > 1, "degenerate run: nothing changes between iterations"
    (arr_a, meta_a), (arr_b, meta_b) = _last_checkpoint(a), _last_checkpoint(b)
    assert meta_a["iteration"] == meta_b["iteration"] and meta_a["rng"] == meta_b["rng"]
    assert sorted(arr_a) == sorted(arr_b)
    for name in arr_a:
        np.testing.assert_array_equal(arr_a[name], arr_b[name])


def _wait_rows(proc: subprocess.Popen, run: Path, n: int, timeout: float = 120.0) -> None:
    """Wait until progress.csv has at least ``n`` data rows while ``proc`` is still running."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.stderr.read() if proc.stderr else ''}"
        try:
            if (run / "progress.csv").read_text().count("\n") >= n + 1:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise AssertionError("timed out waiting for progress rows")


class _Reference:
    """An uninterrupted CLI run, started at once and awaited only when needed (it runs in parallel)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.proc = subprocess.Popen(_cli("train", "--out", str(out), "--iterations", str(CLI_ITERATIONS), *TINY_FLAGS),
                                     env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait(self) -> Path:
        _, err = self.proc.communicate(timeout=300)
        assert self.proc.returncode == 0, err
        return self.out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The yardstick of the kill and interrupt tests."""
    ref = _Reference(tmp_path_factory.mktemp("ref") / "run")
    yield ref
    if ref.proc.poll() is None:
        ref.proc.kill()
        ref.proc.wait()


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path, reference):
    run = tmp_path / "killed"
    proc = subprocess.Popen(_cli("train", "--out", str(run), "--iterations", str(CLI_ITERATIONS), *TINY_FLAGS), env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_rows(proc, run, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(read_progress(run / "progress.csv"))
    assert 3 <= done_before < CLI_ITERATIONS
    # at most the iteration in progress is lost: the last checkpoint is at most one row behind progress.csv
    assert ckpt.list_checkpoints(run / "checkpoints")[-1] >= done_before - 2
    res = subprocess.run(_cli("train", "--resume", str(run)), env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    _assert_same_run(run, reference.wait())


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_stop_signal_checkpoints_and_exits_then_resumes_exactly(tmp_path, reference, signum, code, word):
    """SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop) both end the run cleanly with exit 128 + signum."""
    run = tmp_path / "interrupted"
    proc = subprocess.Popen(_cli("train", "--out", str(run), "--iterations", str(CLI_ITERATIONS), *TINY_FLAGS), env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_rows(proc, run, 3)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"promp: {word}:") and f"promp train --resume {run}" in last
    assert "Traceback" not in err
    rows = read_progress(run / "progress.csv")
    assert 3 <= len(rows) < CLI_ITERATIONS
    # clean stop: every logged iteration is checkpointed, and the checkpoint loads
    its = ckpt.list_checkpoints(run / "checkpoints")
    assert its[-1] == len(rows) - 1 == int(rows[-1]["iteration"])
    assert (run / "learning_curve.png").is_file()
    assert not list(run.rglob(".*tmp*")), "no temporary files left behind"
    res = subprocess.run(_cli("train", "--resume", str(run)), env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    _assert_same_run(run, reference.wait())


# --------------------------------------------------------------------------- in-process runs
def _quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A 6-iteration in-process point-corner run with every checkpoint kept."""
    out = tmp_path_factory.mktemp("tiny") / "run"
    cfg = resolve_config("point-corner", "promp", {**TINY, "iterations": 6, "keep_checkpoint_every": 1})
    train(cfg, out, console=_quiet(), progress=False)
    return out


def test_resume_repairs_every_crash_point(tmp_path, tiny_run):
    """The states a kill can leave behind -- a row logged but not yet checkpointed, a half-written row,
    an array file without its JSON, a checkpoint directory without any checkpoint -- all resume exactly."""
    cfg = json.loads((tiny_run / "config.json").read_text())
    from promp.config import TrainConfig

    cfg = TrainConfig.from_dict(cfg)
    # (1) killed after logging iteration 5 and writing its array file, before its JSON; then while appending a row
    run = tmp_path / "a"
    shutil.copytree(tiny_run, run)
    (run / "checkpoints" / "itr_00005.json").unlink()
    with open(run / "progress.csv", "a") as fh:
        fh.write("6,1234")  # partial line, no newline
    assert [int(r["iteration"]) for r in read_progress(run / "progress.csv")] == list(range(6))
    train(cfg, run, resume=True, console=_quiet(), progress=False)
    _assert_same_run(run, tiny_run)
    # (2) killed before the first checkpoint was complete
    run = tmp_path / "b"
    shutil.copytree(tiny_run, run)
    for p in (run / "checkpoints").iterdir():
        p.unlink()
    (run / "progress.csv").write_text("")
    train(cfg, run, resume=True, console=_quiet(), progress=False)
    _assert_same_run(run, tiny_run)


def _damage(run: Path, how: str) -> None:
    d = run / "checkpoints"
    it = ckpt.list_checkpoints(d)[-1]
    js, st = d / f"itr_{it:05d}.json", d / f"itr_{it:05d}.safetensors"
    meta = json.loads(js.read_text())
    if how == "truncated":
        st.write_bytes(st.read_bytes()[: st.stat().st_size // 2])
    elif how == "bitflip":
        data = bytearray(st.read_bytes())
        data[-5] ^= 0xFF
        st.write_bytes(bytes(data))
    elif how == "json":
        js.write_text(js.read_text()[:40])
    elif how == "version":
        js.write_text(json.dumps({**meta, "format_version": 99}))
    elif how == "env":
        js.write_text(json.dumps({**meta, "env": "point-momentum"}))
    elif how == "missing-tensors":
        st.unlink()


@pytest.mark.parametrize(
    "how, expected",
    [
        ("truncated", "truncated or corrupt"),
        ("bitflip", "truncated or corrupt"),
        ("json", "unreadable or corrupt"),
        ("version", "format version 99"),
        ("env", "is for env 'point-momentum'"),
        ("missing-tensors", "unreadable or corrupt"),
    ],
)
@pytest.mark.parametrize("command", ["train", "eval"])
def test_damaged_checkpoint_gives_one_clear_error(tmp_path, tiny_run, capsys, how, expected, command):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    _damage(run, how)
    before = (run / "progress.csv").read_text()
    argv = ["train", "--resume", str(run)] if command == "train" else ["eval", str(run), "--tasks", "2"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("promp: error: checkpoint ") and expected in err[0], err
    assert (run / "progress.csv").read_text() == before  # nothing was touched
    assert not (run / "eval.json").exists()


def test_checkpoint_from_another_policy_shape_is_rejected(tmp_path, tiny_run):
    cfg = resolve_config("point-corner", "promp", {**TINY, "iterations": 1, "hidden": (8,)})
    other = tmp_path / "other"
    train(cfg, other, console=_quiet(), progress=False)
    template = resolve_config("point-corner", "promp", TINY)
    from promp.learner import MetaLearner

    learner = MetaLearner(template)
    state = learner.init_state()
    with pytest.raises(ckpt.CheckpointError, match="does not match the policy"):
        ckpt.load_checkpoint(other / "checkpoints", state.params, state.opt_state, env="point-corner")


def test_no_pickle_anywhere():
    """Loading a run never executes code: no pickle-based (de)serialisation in the package."""
    src = Path(__file__).resolve().parents[1] / "promp"
    for path in src.rglob("*.py"):
        text = path.read_text()
        for bad in ("import pickle", "cloudpickle", "allow_pickle=True", "torch.load", "dill"):
            assert bad not in text, f"{path}: {bad}"


# ------------------------------------------------------------------------------ NaN / inf
def _nan_after(monkeypatch, good_updates: int, bad_updates: int | None = None) -> None:
    """Make the outer update return NaN parameters after ``good_updates`` calls (for ``bad_updates`` calls)."""
    import promp.learner as learner_mod

    real = learner_mod.make_outer_update
    calls = {"n": 0}

    def patched(cfg):
        outer = real(cfg)

        def update(params, opt_state, batches):
            new_params, new_opt, stats = outer.update(params, opt_state, batches)
            calls["n"] += 1
            k = calls["n"] - good_updates
            if k >= 1 and (bad_updates is None or k <= bad_updates):
                new_params = {name: v * np.nan for name, v in new_params.items()}
            return new_params, new_opt, stats

        return outer._replace(update=update)

    monkeypatch.setattr(learner_mod, "make_outer_update", patched)


def test_nan_updates_are_skipped_logged_and_stop_the_run(tmp_path, monkeypatch):
    _nan_after(monkeypatch, good_updates=2)
    cfg = resolve_config("point-corner", "promp", {**TINY, "iterations": 8, "max_nonfinite_updates": 3, "keep_checkpoint_every": 1})
    out = io.StringIO()
    with pytest.raises(NonFiniteUpdateError) as exc:
        train(cfg, tmp_path / "run", console=Console(file=out, width=300), progress=False)
    msg = str(exc.value)
    assert "3 consecutive updates produced NaN/inf" in msg and "itr_00004.json" in msg and "iteration 1" in msg
    rows = read_progress(tmp_path / "run" / "progress.csv")
    assert [int(r["update_skipped"]) for r in rows] == [0, 0, 1, 1, 1]
    assert out.getvalue().count("update not applied") == 3
    # the checkpoints after the failures hold exactly the last good parameters, all finite
    templates = _templates(cfg)
    good = ckpt.load_checkpoint(tmp_path / "run" / "checkpoints", *templates, iteration=1)[0]
    before = ckpt.load_checkpoint(tmp_path / "run" / "checkpoints", *templates, iteration=0)[0]
    assert any(not np.array_equal(good[n], before[n]) for n in good)  # iteration 1's update was applied
    for it in (2, 3, 4):
        params = ckpt.load_checkpoint(tmp_path / "run" / "checkpoints", *templates, iteration=it)[0]
        for name in params:
            assert np.all(np.isfinite(params[name]))
            np.testing.assert_array_equal(params[name], good[name])


def test_transient_nan_is_skipped_and_the_run_continues(tmp_path, monkeypatch):
    _nan_after(monkeypatch, good_updates=1, bad_updates=1)
    cfg = resolve_config("point-corner", "promp", {**TINY, "iterations": 4, "max_nonfinite_updates": 2})
    rows = train(cfg, tmp_path / "run", console=_quiet(), progress=False)
    assert [int(r["update_skipped"]) for r in rows] == [0, 1, 0, 0]
    assert ckpt.list_checkpoints(tmp_path / "run" / "checkpoints")[-1] == 3


def test_nan_stop_through_the_cli_is_one_line(tmp_path, monkeypatch, capsys):
    _nan_after(monkeypatch, good_updates=0)
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(run), "--iterations", "5", "--max-nonfinite-updates", "2", *TINY_FLAGS])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.count("warning:") == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("promp: error: 2 consecutive updates produced NaN/inf") and "initial policy" in last


def _templates(cfg):
    from promp.learner import MetaLearner

    state = MetaLearner(cfg).init_state()
    return state.params, state.opt_state


def test_a_stop_signal_inside_a_gc_callback_is_deferred_not_printed():
    """A signal that lands in a garbage-collector callback (JAX registers one) must not raise there:
    Python would print the exception with a traceback and drop it. The guard remembers it instead and
    the loop stops after the iteration (``requested``); anywhere else it raises at once."""
    import gc

    from promp import trainer

    seen = {}

    def callback(phase, info):
        if phase == "start" and "inside" not in seen:
            frame = sys._getframe()
            seen["inside"] = trainer._inside_gc_callback(frame)
            guard = trainer._InterruptGuard()
            guard._handler(signal.SIGTERM, frame)  # must not raise here
            seen["requested"] = guard.requested

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)
    assert seen == {"inside": True, "requested": signal.SIGTERM}
    assert not trainer._inside_gc_callback(sys._getframe())
    with pytest.raises(trainer.TrainingInterrupted):
        trainer._InterruptGuard()._handler(signal.SIGTERM, sys._getframe())
