"""Distributed sampling on Ray (promp.distributed): the same numbers for any worker count, actors
killed mid-iteration, timeouts, stop signals and resuming with another worker count.

One local Ray runtime with 2 CPUs serves the in-process tests of this module (each sampler starts
and kills its own 2 actors); the signal test starts its own runtime in a subprocess.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from promp.checkpoint import list_checkpoints
from promp.config import resolve_config
from promp.envs.point import PointCorner
from promp.trainer import train

ray = pytest.importorskip("ray", reason="the Ray tests need the optional extra: pip install 'promp[ray]'")

from promp import distributed  # noqa: E402
from promp.distributed import DistributedError, RaySampler, split_tasks  # noqa: E402

# 5 tasks over 2 workers: uneven slices (3 + 2); dense rewards so that the numbers move
POINT = {"meta_batch_size": 5, "rollouts_per_task": 4, "horizon": 20, "env_kwargs": {"reward_type": "dense"}, "seed": 4}
CHEETAH = {"meta_batch_size": 3, "rollouts_per_task": 2, "horizon": 12, "hidden": (8, 8), "seed": 3}
ENV = {**os.environ, "PROMP_XLA_THREADS": "1", "PROMP_MUJOCO_THREADS": "1"}


@pytest.fixture(scope="module", autouse=True)
def ray_runtime():
    """One local runtime for the module (3 logical CPUs: the bench test holds 1 + 2 actors at once)."""
    ray.init(address="local", num_cpus=3, include_dashboard=False, configure_logging=False)
    yield
    ray.shutdown()


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


def _rows(run: Path) -> list[dict[str, str]]:
    """progress.csv rows as raw strings (bit-exact floats), without the time_* columns."""
    with open(run / "progress.csv", newline="") as fh:
        return [{k: v for k, v in r.items() if not k.startswith("time_")} for r in csv.DictReader(fh)]


def _train(env: str, overrides: dict, out: Path, iterations: int, workers: int | None, resume: bool = False) -> list[dict[str, str]]:
    cfg = resolve_config(env, "promp", {**overrides, "iterations": iterations})
    train(cfg, out, resume=resume, console=_quiet(), progress=False, workers=workers)
    return _rows(out)


@pytest.fixture(scope="module")
def point_reference(tmp_path_factory) -> list[dict[str, str]]:
    """4 iterations on point-corner sampled in this process (no Ray)."""
    rows = _train("point-corner", POINT, tmp_path_factory.mktemp("ref") / "run", 4, None)
    assert len({r["return_post"] for r in rows}) > 1, "degenerate reference: nothing changes"
    return rows


def test_split_tasks_covers_every_task_once():
    assert split_tasks(5, 2) == [(0, 2), (2, 5)]
    assert split_tasks(40, 3) == [(0, 13), (13, 26), (26, 40)]
    assert split_tasks(2, 4) == [(0, 1), (1, 2)]  # never an empty slice


@pytest.mark.parametrize("workers", [1, 2])
def test_point_corner_same_numbers_for_any_worker_count(tmp_path, point_reference, workers):
    assert _train("point-corner", POINT, tmp_path / "run", 4, workers) == point_reference


def test_halfcheetah_same_numbers_for_any_worker_count(tmp_path):
    reference = _train("halfcheetah-fwd-back", CHEETAH, tmp_path / "local", 2, None)
    for workers in (1, 2):
        assert _train("halfcheetah-fwd-back", CHEETAH, tmp_path / f"w{workers}", 2, workers) == reference, workers


def test_killed_actor_is_replaced_and_its_slice_resampled(tmp_path, point_reference, monkeypatch):
    """kill -9 of a sampler actor while it samples (iteration 1, pre-update round): the actor is
    replaced, its slice sampled again with the same seeds, and the run's numbers do not change."""
    made: list[RaySampler] = []
    killed: list[int] = []
    dispatches = [0]

    def kill_during_third_round(sampler: RaySampler) -> None:
        dispatches[0] += 1
        if dispatches[0] == 3:
            pid = sampler.actor_pids[0]  # asking a busy actor for its pid would wait for its sample call
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    original = distributed.make_ray_sampler

    def make(*args, **kwargs):
        sampler = original(*args, on_dispatch=kill_during_third_round, **kwargs)
        made.append(sampler)
        return sampler

    monkeypatch.setattr(distributed, "make_ray_sampler", make)
    rows = _train("point-corner", POINT, tmp_path / "run", 4, 2)
    assert killed, "no actor was killed"
    assert made[0].replacements == 1
    assert rows == point_reference


def test_resume_with_another_worker_count(tmp_path, point_reference):
    """2 iterations with 2 workers, then resumed to 4 with 1 worker: the uninterrupted in-process numbers."""
    run = tmp_path / "run"
    _train("point-corner", POINT, run, 2, 2)
    assert _train("point-corner", POINT, run, 4, 1, resume=True) == point_reference


class HangingPoint(PointCorner):
    """A point env whose step never returns in time (a hung actor)."""

    def _step(self, action):
        time.sleep(30)
        return super()._step(action)


def test_a_hung_actor_times_out_with_a_clear_error():
    sampler = RaySampler(HangingPoint, {}, 2, env_name="hanging", sample_timeout=3)
    try:
        env = PointCorner()
        tasks = env.sample_tasks(np.random.default_rng(0), 2)
        sampler.set_tasks(tasks, 1)
        import jax

        from promp.policy import init_policy
        from promp.sampling import broadcast_params

        params = broadcast_params(init_policy(jax.random.PRNGKey(0), 2, 2, (4,)), 2)
        t0 = time.monotonic()
        with pytest.raises(DistributedError, match=r"sampler actor \d \(tasks \d\.\.\d\) returned no samples within 3 s"):
            sampler.sample(params, 3, np.random.default_rng(0))
        assert time.monotonic() - t0 < 20
    finally:
        sampler.close()


def test_a_failing_env_constructor_is_one_clear_error():
    def broken(**kwargs):
        raise RuntimeError("no licence for this simulator")

    with pytest.raises(DistributedError, match="failed to start: .*no licence for this simulator"):
        RaySampler(broken, {}, 1, env_name="broken")


def test_missing_ray_is_one_line(tmp_path, monkeypatch, capsys):
    from promp.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(SystemExit) as info:
        main(["train", "--env", "point-corner", "--iterations", "1", "--meta-batch-size", "2", "--horizon", "5",
              "--workers", "2", "--out", str(tmp_path / "run")])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "promp: error: --workers and --ray-address need Ray: pip install 'promp[ray]'"
    assert not (tmp_path / "run").exists(), "no run directory for a run that cannot start"


def _descendants(pid: int) -> set[int]:
    """Process ids below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.parametrize("signum, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_stop_signal_stops_actors_checkpoints_and_resumes_in_process(tmp_path, signum, code, word):
    """SIGTERM or SIGINT to `promp train --workers 2`: exit 128 + signum with the usual line, every
    logged iteration checkpointed, Ray's processes (runtime and actors) gone; resumed without Ray it
    gives the numbers of the uninterrupted in-process run."""
    run = tmp_path / "run"
    flags = ["--env", "point-corner", "--seed", "4", "--meta-batch-size", "5", "--rollouts-per-task", "4", "--horizon", "20",
             "--env-kwargs", '{"reward_type": "dense"}']
    proc = subprocess.Popen([sys.executable, "-m", "promp", "train", "--out", str(run), "--iterations", "400", "--workers", "2",
                             *flags], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        while not (run / "progress.csv").exists() or (run / "progress.csv").read_text().count("\n") < 3:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() - t0 < 120, "no progress rows"
            time.sleep(0.02)
        ray_processes = _descendants(proc.pid)
        assert ray_processes, "no Ray processes under the driver"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"promp: {word}:") and f"promp train --resume {run}" in last and "Traceback" not in err
    t0 = time.monotonic()
    while _alive(ray_processes) and time.monotonic() - t0 < 30:
        time.sleep(0.2)
    assert not _alive(ray_processes), "Ray processes outlived the run"
    logged = len(_rows(run))
    assert 2 <= logged < 400
    assert list_checkpoints(run / "checkpoints")[-1] == logged - 1  # every logged iteration is checkpointed
    total = logged + 2
    reference = _train("point-corner", POINT, tmp_path / "reference", total, None)
    assert _train("point-corner", POINT, run, total, None, resume=True) == reference


def test_an_unreachable_cluster_is_one_clear_error_at_once():
    from promp.distributed import check_reachable

    t0 = time.monotonic()
    with pytest.raises(DistributedError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:1: .*ray start --head"):
        check_reachable("127.0.0.1:1")
    assert time.monotonic() - t0 < 15
    with pytest.raises(DistributedError, match="--ray-address must be auto or HOST:PORT"):
        check_reachable("my-head-node")


def test_bench_workers_timing_alternates_samplers_with_the_same_numbers():
    from promp.bench.measure import workers_timing

    rows = workers_timing("point-corner", "promp", iterations=2, max_workers=2,
                          overrides={k: v for k, v in POINT.items() if k != "seed"})
    assert [r["workers"] for r in rows] == [None, 1, 2]
    assert all(r["same_numbers"] for r in rows)
    assert all(r["sampling_steps_per_s"] > 0 and r["time_iteration"] > 0 for r in rows)
