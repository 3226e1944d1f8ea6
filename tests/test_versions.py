"""What a run ran on (``promp.versions``): the record names the installed versions, every run directory
keeps one per process in ``versions.json``, and resuming, evaluating or plotting under other versions
warns; ``promp --version`` and ``promp doctor`` print them."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import jax
import numpy as np

from promp.versions import PACKAGES, describe, differences, environment_record, package_version
from test_trainer import TINY, run_cli


def test_record_names_the_installed_versions_and_devices():
    record = environment_record()
    assert record["python"] == platform.python_version()
    assert record["packages"]["numpy"] == np.__version__
    assert record["packages"]["jax"] == jax.__version__
    assert set(record["packages"]) == set(PACKAGES) and all(record["packages"].values())
    assert record["device_kind"] == jax.devices()[0].device_kind and record["jax_backend"] == jax.default_backend()
    assert record["device_count"] == len(jax.devices())
    assert record["promp"] == package_version("promp")
    # the CPU model, independently of promp: the first "model name" line of /proc/cpuinfo on Linux
    if Path("/proc/cpuinfo").exists() and "model name" in Path("/proc/cpuinfo").read_text():
        line = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name"))
        assert record["cpu_model"] == line.split(":", 1)[1].strip()
    assert not record["cpu_model"] or f"cpu {record['cpu_model']}" in describe(record)


def test_differences_name_each_changed_package_and_ignore_the_platform_string():
    a = environment_record(devices=False)
    b = json.loads(json.dumps(a))
    assert differences(a, b) == []
    b["packages"]["numpy"], b["platform"], b["python"] = "1.0.0", "elsewhere", "3.99.0"
    assert differences(b, a) == [f"python 3.99.0 -> {a['python']}", f"numpy 1.0.0 -> {a['packages']['numpy']}"]
    assert differences({"python": "3.11.0"}, a)[0].startswith("python 3.11.0 ->")  # old records: only what they hold


def test_runs_record_versions_and_resume_eval_plot_warn_on_others(tmp_path, capsys):
    run = tmp_path / "run"
    code, _, err = run_cli(["train", *TINY, "--iterations", "1", "--out", str(run)], capsys)
    assert code == 0, err
    records = json.loads((run / "versions.json").read_text())
    assert len(records) == 1 and records[0]["started_at_iteration"] == 0
    assert records[0]["packages"]["numpy"] == np.__version__ and "warning" not in err

    records[0]["packages"]["numpy"] = "1.0.0"  # as if trained under another numpy
    (run / "versions.json").write_text(json.dumps(records))
    code, _, err = run_cli(["train", "--resume", str(run), "--iterations", "2"], capsys)
    assert code == 0, err
    assert "other versions" in err and f"numpy 1.0.0 -> {np.__version__}" in err
    records = json.loads((run / "versions.json").read_text())
    assert [r["started_at_iteration"] for r in records] == [0, 1] and records[1]["packages"]["numpy"] == np.__version__

    code, _, err = run_cli(["train", "--resume", str(run), "--iterations", "3"], capsys)
    assert code == 0 and "other versions" not in err  # the last record is this machine's now

    records[-1]["packages"]["jax"] = "0.0.1"
    (run / "versions.json").write_text(json.dumps(records))
    code, _, err = run_cli(["eval", str(run), "--tasks", "2"], capsys)
    assert code == 0, err
    assert f"jax 0.0.1 -> {jax.__version__}" in err
    assert json.loads((run / "eval.json").read_text())["versions"]["packages"]["jax"] == jax.__version__

    other = tmp_path / "other"
    assert run_cli(["train", *TINY, "--iterations", "1", "--seed", "2", "--out", str(other)], capsys)[0] == 0
    code, _, err = run_cli(["plot", str(run), str(other), "--out", str(tmp_path / "c.png")], capsys)
    assert code == 0 and f"jax 0.0.1 -> {jax.__version__}" in err


def test_version_and_doctor_print_the_environment(capsys):
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.strip() == f"promp {package_version('promp')}"
    code, out, _ = run_cli(["doctor"], capsys)
    assert code == 0
    for name in PACKAGES:
        assert f"{name} {package_version(name)}" in out
    assert f"jax backend {jax.default_backend()}" in out and "xla_threads" in out and "blas_threads" in out
