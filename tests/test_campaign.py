"""The Figure 2 campaign (``promp reproduce figure2``, ``promp.experiments.campaign``): a quick campaign
(2 envs x 2 algorithms x 2 seeds) runs in parallel worker processes, and a part of it as Ray tasks with
the same numbers, a killed worker is retried and its run resumes to the numbers of an uninterrupted one, a run
that keeps failing is reported without blocking the others, re-invoking picks up where it was, and the
figure and table come from the run directories alone."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import signal
from pathlib import Path

import pytest

from promp.experiments.campaign import run_campaign
from promp.experiments.figure2 import compute as f2
from promp.experiments.learning_curves.compute import grid_configs
from promp.rundir import read_progress
from promp.rundir_lock import LOCK_NAME
from test_trainer import TIME_COLUMNS, run_cli

pytestmark = pytest.mark.usefixtures("quick_compiles_in_workers")  # tests/conftest.py

QUICK = ["reproduce", "figure2", "--scale", "quick", "--iterations", "2"]
NAMES = [f"{env}/{algo}-seed{seed}" for env in f2.QUICK.envs for algo in f2.QUICK.algos for seed in (1, 2)]


def numbers(run_root: Path, name: str) -> list[dict]:
    """A run's progress rows without the time columns."""
    return [{k: v for k, v in row.items() if k not in TIME_COLUMNS} for row in read_progress(run_root / name / "progress.csv")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The quick campaign, two local workers at a time."""
    out = tmp_path_factory.mktemp("f2") / "local"
    code, stdout, err = run_cli_module(QUICK + ["--parallel", "2", "--out", str(out)])
    assert code == 0, err
    return out, stdout


def run_cli_module(argv):
    from promp.cli import main

    try:
        main(argv)
        return 0, "", ""
    except SystemExit as exc:
        return exc.code, "", ""


def test_quick_campaign_trains_every_run_and_writes_figure_and_table(reference):
    out, _ = reference
    for name in NAMES:
        rows = numbers(out / "runs", name)
        assert [r["iteration"] for r in rows] == [0, 1], name
        cfg = json.loads((out / "runs" / name / "config.json").read_text())
        assert cfg["seed"] == int(name[-1]) and cfg["iterations"] == 2
        assert (out / "runs" / name / "versions.json").exists()
    assert (out / "figure2.png").stat().st_size > 10_000
    with open(out / "figure2.csv") as fh:
        table = list(csv.DictReader(fh))
    assert {(r["env"], r["algo"]) for r in table} == {(e, a) for e in f2.QUICK.envs for a in f2.QUICK.algos}
    for env in f2.QUICK.envs:
        assert sorted(int(r["rank_final"]) for r in table if r["env"] == env) in ([1, 2], [1, 1])
    md = (out / "figure2.md").read_text().splitlines()  # the same cells, as docs/results.md shows them
    assert len(md) == 2 + len(table)
    for r in table:
        name = {"promp": "ProMP", "maml-trpo": "MAML-TRPO"}[r["algo"]]
        assert f"| {r['env']} | {name} | 2 | {float(r['final_mean']):.0f} " in "\n".join(md)
    report = json.loads((out / "figure2.json").read_text())
    assert set(report["runs"].values()) == {"trained"} and len(report["runs"]) == 8
    # the campaign's own runs: a new process per run, one XLA thread each
    assert json.loads((out / "runs" / NAMES[0] / "versions.json").read_text())[0]["device_count"] == 1


def test_reinvoking_skips_finished_runs_and_report_only_trains_nothing(reference, capsys):
    out, _ = reference
    before = {n: (out / "runs" / n / "progress.csv").stat().st_mtime_ns for n in NAMES}
    code, stdout, err = run_cli(QUICK + ["--parallel", "2", "--out", str(out)], capsys)
    assert code == 0, err
    assert "8 finished before" in stdout
    assert {n: (out / "runs" / n / "progress.csv").stat().st_mtime_ns for n in NAMES} == before
    code, stdout, err = run_cli(QUICK + ["--report-only", "--envs", "hopper-rand-params", "--out", str(out)], capsys)
    assert code == 0, err
    assert "hopper-rand-params: promp" in stdout and "halfcheetah" not in stdout.split("best first")[1]
    assert "attempt" not in stdout  # nothing was started


def test_a_killed_run_is_retried_and_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    """Two workers train the same config into two directories; one is SIGKILLed mid-run, retried, and
    resumes from its checkpoint to exactly the other's numbers. The workers keep their compiled programs
    in the compilation cache (``PROMP_COMPILATION_CACHE``), as ``promp`` does."""
    monkeypatch.setenv("PROMP_COMPILATION_CACHE", str(tmp_path / "jax-cache"))
    # keep every program: by default only those that took 0.5 s or more to compile are, and on a fast
    # machine the inner step at -O0 (quick_compiles_in_workers) compiles in less
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    cfg = dict(grid_configs(dataclasses.replace(f2.QUICK, iterations=30, horizon=50, meta_batch_size=4), (1,)))[NAMES[0]]
    victim, twin = "victim", "twin"
    killed = []

    def kill_once(status):
        s = next(s for s in status if s.name == victim)
        if not killed and s.state == "running" and 1 <= len(s.progress()) < cfg.iterations - 5:
            pid = int((s.run_dir / LOCK_NAME).read_text().strip())
            os.kill(pid, signal.SIGKILL)
            killed.append(len(s.progress()))

    runs = [(victim, tmp_path / "runs" / victim, cfg), (twin, tmp_path / "runs" / twin, cfg)]
    status = {s.name: s for s in run_campaign(runs, tmp_path / "logs", parallel=2, retries=2, live=False, on_poll=kill_once)}
    assert killed, "the run finished before it could be killed"
    assert status[victim].state == "done" and status[victim].attempts == 2 and "exit -9" in status[victim].error
    assert status[twin].state == "done" and status[twin].attempts == 1
    got, want = numbers(tmp_path / "runs", victim), numbers(tmp_path / "runs", twin)
    assert len(got) == cfg.iterations and got == want
    assert any(p.name.startswith("jit_adapt_tasks") for p in (tmp_path / "jax-cache").iterdir())  # the inner step


def test_a_run_that_keeps_failing_is_reported_and_does_not_block_the_others(tmp_path):
    cfgs = dict(grid_configs(dataclasses.replace(f2.QUICK, iterations=1), (1,)))
    good, bad = NAMES[0], NAMES[2].replace("seed2", "seed1")
    (tmp_path / "runs" / bad).mkdir(parents=True)
    (tmp_path / "runs" / bad / "config.json").write_text("{not json")  # every attempt fails on it
    runs = [(bad, tmp_path / "runs" / bad, cfgs[bad]), (good, tmp_path / "runs" / good, cfgs[good])]
    status = {s.name: s for s in run_campaign(runs, tmp_path / "logs", parallel=1, retries=1, live=False)}
    assert status[bad].state == "failed" and status[bad].attempts == 2
    assert "error" in status[bad].error and "config.json" in status[bad].error
    assert status[good].state == "done" and len(numbers(tmp_path / "runs", good)) == 1


def test_campaign_as_ray_tasks_gives_the_same_numbers(reference, capsys, tmp_path):
    ref, _ = reference
    code, stdout, err = run_cli(QUICK + ["--ray-address", "local", "--parallel", "2", "--envs", "hopper-rand-params",
                                         "--seeds", "2", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert "2 done" in stdout
    for name in [n for n in NAMES if n.startswith("hopper") and n.endswith("seed2")]:
        assert numbers(tmp_path / "runs", name) == numbers(ref / "runs", name), name


@pytest.mark.parametrize("argv, message", [
    (["--parallel", "0"], "--parallel must be >= 1"),
    (["--parallel", "999"], "exceeds this machine's"),
    (["--envs", "point-nav"], "--envs point-nav: not in this experiment"),
    (["--scale", "huge"], "--scale must be quick, reduced or paper"),
])
def test_bad_campaign_flags_give_one_error_line(tmp_path, capsys, argv, message):
    code, _, err = run_cli(QUICK + ["--out", str(tmp_path / "x"), *argv], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x" / "runs").exists() or not any((tmp_path / "x" / "runs").rglob("config.json"))


def test_parallel_flag_is_for_the_campaigns_only(tmp_path, capsys):
    code, _, err = run_cli(["reproduce", "learning-curves", "--parallel", "2", "--out", str(tmp_path)], capsys)
    assert code == 2 and "figure2 and metaworld experiments only" in err


def test_snapshot_tree_keeps_a_campaign_that_plots_and_resumes(reference, tmp_path, capsys):
    """scripts/snapshot_run.py --tree: the committed form of a campaign (config, progress, versions, latest and
    best checkpoints) gives the same table, and re-invoking on it skips the finished runs."""
    import subprocess
    import sys

    ref, _ = reference
    script = Path(__file__).parent.parent / "scripts" / "snapshot_run.py"
    proc = subprocess.run([sys.executable, str(script), "--tree", str(ref / "runs"), str(tmp_path / "runs")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "snapshotted 8 runs" in proc.stdout, proc.stderr
    assert (tmp_path / "runs" / NAMES[0] / "versions.json").exists()
    for out in (ref, tmp_path):
        code, _, err = run_cli(QUICK + ["--report-only", "--out", str(out)], capsys)
        assert code == 0, err
    assert (tmp_path / "figure2.csv").read_text() == (ref / "figure2.csv").read_text()
    code, stdout, err = run_cli(QUICK + ["--parallel", "1", "--out", str(tmp_path)], capsys)
    assert code == 0 and "8 finished before" in stdout, err


def test_ctrl_c_stops_the_workers_at_a_checkpoint_and_the_campaign_continues(tmp_path, capsys):
    """SIGINT to ``promp reproduce figure2`` stops every worker after its last checkpointed iteration (none
    is left running), exits 130, and the same command then finishes the runs."""
    import subprocess
    import sys
    import time

    # 60 iterations: the worker stops only after the iteration under way when its parent passes the signal on,
    # and on a fast machine 12 quick iterations could all finish before that
    iterations = 60
    argv = QUICK[:4] + ["--envs", "hopper-rand-params", "--algos", "promp", "--seeds", "1", "--iterations", str(iterations),
                        "--parallel", "1", "--out", str(tmp_path)]
    proc = subprocess.Popen([sys.executable, "-m", "promp", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = tmp_path / "runs" / "hopper-rand-params" / "promp-seed1"
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline and not ((run / "progress.csv").exists() and len(read_progress(run / "progress.csv")) >= 2):
        time.sleep(0.2)
    worker = int((run / LOCK_NAME).read_text().strip())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    assert "workers stopped after their last checkpoint" in err
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)  # the worker is gone, not orphaned
    done = len(read_progress(run / "progress.csv"))
    assert done < iterations
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0, err
    assert len(read_progress(run / "progress.csv")) == iterations


def test_a_cell_shows_its_completed_runs_once_it_has_one():
    """A seed still under way would cut the cell's mean curve to its length: with a completed run in the cell
    only completed runs are shown; a cell with none shows what it has."""
    rows = lambda n: [{"iteration": i, "return_post": float(i), "env_steps": 10 * (i + 1)} for i in range(n)]  # noqa: E731
    cell = [("seed1", rows(200)), ("seed2", rows(23))]
    assert [name for name, _ in f2.finished_runs(cell, 200)] == ["seed1"]
    assert [name for name, _ in f2.finished_runs(cell, 300)] == ["seed1", "seed2"]
    assert f2.finished_runs([], 200) == []


def test_markdown_table_orders_each_env_by_final_return_and_marks_cells_under_way():
    """figure2.md, the table docs/results.md shows: per env (in the given order) best final return first, min-max
    only with several seeds, and a cell whose runs have not completed the iterations says how far they are."""
    cell = lambda env, algo, seeds, it, final, lo, hi, auc, rf, ra: dict(  # noqa: E731
        env=env, algo=algo, seeds=seeds, iterations_min=it, final_mean=final, final_min=lo, final_max=hi, auc_mean=auc,
        rank_final=rf, rank_auc=ra)
    rows = [cell("walker-fwd-back", "promp", 2, 200, 242.3, 235.4, 249.2, 206.3, 2, 1),
            cell("walker-fwd-back", "emaml-vpg", 1, 48, 250.0, 250.0, 250.0, 98.4, 1, 2),
            cell("ant-dir-2d", "maml-trpo", 2, 200, 130.66, 128.8, 132.5, 109.6, 1, 1)]
    assert f2.markdown_table(rows, 200).splitlines()[2:] == [
        "| walker-fwd-back | E-MAML-VPG | 1 (under way: 48 of 200 iterations) | 250 | 98 | 1 / 2 |",
        "| walker-fwd-back | ProMP | 2 | 242 (235-249) | 206 | 2 / 1 |",
        "| ant-dir-2d | MAML-TRPO | 2 | 131 (129-132) | 110 | 1 / 1 |"]


def test_campaign_eta_uses_median_iteration_times_and_costs_unstarted_runs_from_their_cell():
    """The live table's ETAs: a running run's from the median of its recent iterations (one iteration that waited
    100 s, as under a paused worker, does not move it); a run not started from the runs of its (env, algorithm),
    else of its env; a run of an env with no progress among the campaign's runs is reported as not costed."""
    from promp.config import resolve_config
    from promp.experiments.campaign import RunStatus, campaign_line, remaining_work, summary_rows

    def status(env, algo, state):
        return RunStatus(f"{env}/{algo}", Path("/nonexistent"), resolve_config(env, algo, {"iterations": 10}), state=state)

    rows = lambda times: [{"iteration": i, "return_post": 1.0, "time_iteration": t} for i, t in enumerate(times)]  # noqa: E731
    runs = [status("point-corner", "promp", "running"), status("point-corner", "promp", "finished before"),
            status("point-corner", "promp", "pending"), status("point-corner", "maml-trpo", "pending"),
            status("point-corner", "lvc-vpg", "failed"), status("halfcheetah-fwd-back", "promp", "pending")]
    progress = [rows([2.0, 2.0, 100.0, 2.0]), rows([3.0] * 10), [], [], rows([50.0]), []]
    # running: 6 left x median 2; pending promp: 10 x median of its cell's 14 iterations (3); pending maml-trpo:
    # its cell is empty, so 10 x the median of the env's 15 (3); the failed run and finished run cost nothing
    assert remaining_work(runs, progress) == (6 * 2.0 + 10 * 3.0 + 10 * 3.0, 1)
    assert summary_rows(runs, progress)[0] == ("point-corner/promp", "running", "4/10", "1", "0m12s")
    line = campaign_line(runs, 2, progress)
    assert line.startswith("campaign: 1 finished before, 1 running, 3 pending, 1 failed; about 0.0 core-hours left, ETA 0m36s at 2")
    assert line.endswith("(1 run not costed yet: no run of its env in this campaign has progress)")


def test_campaign_costs_runs_at_this_machines_speed_when_it_resumes_the_runs_of_another():
    """A campaign resumed on a faster machine (a new session): which process wrote each progress row is in the
    run's versions.json, and rows another kind of machine wrote count scaled by how much faster this one is on
    the (env, algorithm) cells that have rows of both, so the ETA is not that of the old machine."""
    from promp.config import resolve_config
    from promp.experiments.campaign import RunStatus, host_speed, remaining_work, rows_here, summary_rows
    from promp.versions import host

    rec = lambda start, model: {"started_at_iteration": start, "cpu_model": model, "cpu_count": 2}  # noqa: E731
    fast = host(rec(0, "fast"))
    assert fast == "fast (2 cores)" and host({"cpu_count": 2}) is None
    # row i belongs to the last record started at or before it; a record without the CPU model is not this machine's
    assert rows_here([{"started_at_iteration": 0}, rec(3, "fast"), rec(5, "slow")], 7, fast) == [False] * 3 + [True] * 2 + [False] * 2
    # a process that resumed from an earlier checkpoint rewrote the rows after it
    assert rows_here([rec(0, "slow"), rec(4, "fast"), rec(2, "fast")], 6, fast) == [False] * 2 + [True] * 4
    assert rows_here([], 3, fast) == [False] * 3 and rows_here([rec(0, "fast")], 2, None) == [False] * 2

    def status(env, algo, state):
        return RunStatus(f"{env}/{algo}", Path("/nonexistent"), resolve_config(env, algo, {"iterations": 20}), state=state)

    rows = lambda times: [{"iteration": i, "return_post": 1.0, "time_iteration": t} for i, t in enumerate(times)]  # noqa: E731
    runs = [status("point-corner", "promp", "running"), status("halfcheetah-fwd-back", "promp", "finished before"),
            status("halfcheetah-fwd-back", "promp", "pending"), status("halfcheetah-fwd-back", "maml-trpo", "running")]
    progress = [rows([4.0] * 10 + [1.0] * 6), rows([8.0] * 20), [], rows([6.0] * 10 + [30.0, 6.0])]
    here = [[False] * 10 + [True] * 6, [False] * 20, [], [False] * 10 + [True] * 2]
    # point-corner promp has 6 rows here at 1 s against 10 elsewhere at 4 s: this machine is 4x faster
    assert host_speed(runs, progress, here) == 0.25
    # the running point-corner run: 4 left at its own 1 s; the pending halfcheetah run: 20 at its cell's 8 s / 4;
    # the halfcheetah maml-trpo run resumed here has only 2 rows here (the first compiled): 8 left at 6 s / 4
    assert remaining_work(runs, progress, here) == (4 * 1.0 + 20 * 2.0 + 8 * 1.5, 0)
    assert [row[4] for row in summary_rows(runs, progress, here)] == ["0m04s", "-", "-", "0m12s"]
    # without knowing the machines, every row counts alike (the old machine's times dominate)
    assert remaining_work(runs, progress) == (4 * 4.0 + 20 * 8.0 + 8 * 6.0, 0)
    # a young run here is compared with the same iterations elsewhere (+-20), not with a whole run whose later
    # iterations are 10x longer; a pending run of its cell costs the rows of both, the others' scaled
    runs = [status("point-corner", "promp", "running"), status("point-corner", "promp", "finished before"),
            status("point-corner", "promp", "pending")]
    progress = [rows([1.0] * 6), rows([4.0] * 30 + [40.0] * 70), []]
    here = [[True] * 6, [False] * 100, []]
    assert host_speed(runs, progress, here) == 0.25
    assert remaining_work(runs, progress, here) == (14 * 1.0 + 20 * 10.0, 0)  # median of 6 x 1, 30 x 1, 70 x 10
    assert host_speed(runs, progress, [[True] * 4, [False] * 100, []]) is None  # fewer than 5 rows here


def test_campaign_table_shows_a_run_whose_guard_keeps_no_step_and_a_diverged_run():
    """A worker's stall and divergence warnings go to its own log; the campaign's table shows them too (a
    humanoid ProMP run once kept no outer step for 200 iterations without the table saying so)."""
    from promp.config import resolve_config
    from promp.experiments.campaign import RunStatus, run_alert, summary_rows

    def rows(steps, diverged=0):
        return [{"iteration": i, "return_post": 1.0, "time_iteration": 1.0, "adam_steps": n, "diverged": diverged}
                for i, n in enumerate(steps)]

    assert run_alert(rows([5, 0, 0, 0, 0])) == ""  # 4 rows: not yet
    assert run_alert(rows([5] + [0] * 7)) == "stalled: the KL guard kept no outer step in the last 7 iterations"
    assert run_alert(rows([0] * 7 + [1])) == ""  # a kept step ends the stall
    assert run_alert(rows([5, 5], diverged=1)) == "diverged: return fell while the KL exploded"
    assert run_alert([{"iteration": 0, "return_post": 1.0}]) == ""  # TRPO rows have no adam_steps
    cfg = resolve_config("point-corner", "promp", {"iterations": 10})
    status = [RunStatus("a", Path("/nonexistent"), cfg, state="running"), RunStatus("b", Path("/nonexistent"), cfg, state="done")]
    table = summary_rows(status, [rows([0] * 6), rows([0] * 6)])
    assert table[0][1] == "running [stalled: the KL guard kept no outer step in the last 6 iterations]"
    assert table[1][1] == "done"  # a finished run's table row stays short
