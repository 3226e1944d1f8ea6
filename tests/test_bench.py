"""``promp bench`` runs end to end and reports consistent numbers (tiny scale; speed itself is
measured by the ``promp.bench`` modules, not asserted here)."""

from __future__ import annotations

import json

from promp.cli import main


def test_bench_json_report(capsys):
    main(["bench", "--env", "halfcheetah-fwd-back", "--copies", "40", "--steps", "5", "--repeats", "1",
          "--threads", "1", "2", "--skip-iteration", "--json-output"])
    report = json.loads(capsys.readouterr().out)
    assert [part["nthread"] for part in report["by_threads"]] == [1, 2]  # both thread counts in one run
    for part in report["by_threads"]:
        thr = part["throughput"]
        assert thr["limit"]["nthread"] == part["nthread"] and thr["limit"]["steps_per_s"] > 0
        assert abs(thr["ratio"] - thr["sampler"]["steps_per_s"] / thr["limit"]["steps_per_s"]) < 1e-9
        for name in ("sampler_one_env", "sampler_overlapped"):
            assert part[name]["n_copies"] == 40 and part[name]["nthread"] == part["nthread"]
            assert abs(part[name]["ratio"] - part[name]["steps_per_s"] / thr["limit"]["steps_per_s"]) < 1e-9
        assert "iteration" not in part
    assert report["threads"]["blas_threads"] == "1" and "available_cores" in report["threads"]


def test_physics_ratios_divide_by_the_seconds_of_the_steps_at_the_limit():
    from promp.bench.measure import physics_ratios

    it = {"time_iteration": 3.0, "time_sampling": 2.5, "env_steps_per_iteration": 100_000}
    got = physics_ratios(it, limit_steps_per_s=50_000)  # the steps take 2 s at the limit
    assert got == {"physics_ratio": 1.5, "sampling_physics_ratio": 1.25}


def test_bench_iteration_timing_point_env(capsys):
    main(["bench", "--env", "point-nav", "--iterations", "2", "--json-output"])
    report = json.loads(capsys.readouterr().out)
    (part,) = report["by_threads"]
    assert "throughput" not in part and part["nthread"] is None  # no mj_step limit for a point env
    it = part["iteration"]
    assert it["meta_batch_size"] == 20 and it["horizon"] == 100
    parts = it["time_sampling"] + it["time_processing"] + it["time_adapt"] + it["time_update"]
    assert 0 < parts <= it["time_iteration"] * 1.001


def test_bench_unknown_env_is_one_error_line(capsys):
    try:
        main(["bench", "--env", "nope"])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert err.startswith("promp: error: unknown env 'nope'") and err.count("\n") == 1
