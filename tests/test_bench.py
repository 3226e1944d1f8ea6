"""``promp bench`` runs end to end and reports consistent numbers (tiny scale; speed itself is
measured by the ``promp.bench`` modules, not asserted here)."""

from __future__ import annotations

import json

from promp.cli import main


def test_bench_json_report(capsys):
    main(["bench", "--env", "halfcheetah-fwd-back", "--copies", "40", "--steps", "5", "--repeats", "1",
          "--skip-iteration", "--json-output"])
    report = json.loads(capsys.readouterr().out)
    thr = report["throughput"]
    assert thr["limit"]["steps_per_s"] > 0 and thr["sampler"]["steps_per_s"] > 0
    assert abs(thr["ratio"] - thr["sampler"]["steps_per_s"] / thr["limit"]["steps_per_s"]) < 1e-9
    assert report["sampler_with_policy"]["n_copies"] == 40
    assert report["threads"]["blas_threads"] == "1" and "available_cores" in report["threads"]
    assert "iteration" not in report


def test_bench_iteration_timing_point_env(capsys):
    main(["bench", "--env", "point-nav", "--iterations", "2", "--json-output"])
    report = json.loads(capsys.readouterr().out)
    assert "throughput" not in report  # no mj_step limit for a point env
    it = report["iteration"]
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
