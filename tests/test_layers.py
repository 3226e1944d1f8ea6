"""Layering (DESIGN.md): the pure layers import no simulator, presets live in one table, the types module is a leaf."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PROMP_XLA_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return set(res.stdout.split())


def test_pure_layers_import_no_mujoco_and_no_env():
    for module in ("promp.algorithms.adaptation", "promp.algorithms.losses", "promp.algorithms"):
        loaded = _modules_after(f"import {module}")
        assert "mujoco" not in loaded, module
        assert not any(name.startswith("promp.envs") for name in loaded), module


def test_types_module_imports_nothing_of_promp():
    loaded = _modules_after("import promp.types")
    assert {name for name in loaded if name.startswith("promp")} == {"promp", "promp.types"}


def test_envs_registry_loads_mujoco_only_when_a_mujoco_env_is_made():
    loaded = _modules_after("import promp.envs, promp.config; promp.config.resolve_config('halfcheetah-vel', 'promp')")
    assert "mujoco" not in loaded and "promp.envs.locomotion" not in loaded
    loaded = _modules_after("import promp.envs; promp.envs.make_env('halfcheetah-fwd-back')")
    assert "mujoco" in loaded


def test_importing_the_cli_sets_no_mujoco_gl_and_loads_no_jax():
    code = ("import os, sys; import promp.cli, promp.plotting, promp.video\n"
            "print(os.environ.get('MUJOCO_GL'), 'jax' in sys.modules, 'mujoco' in sys.modules)")
    env = {key: value for key, value in ENV.items() if key != "MUJOCO_GL"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["None", "False", "False"]


def test_register_env_defaults_feed_the_presets_table():
    from promp import presets
    from promp.config import resolve_config
    from promp.envs import get_env_spec, register_env
    from promp.envs.point import PointCorner

    register_env("layers-test-corner", PointCorner, "test", defaults={"horizon": 50},
                 algo_defaults={"trpo": {"horizon": 70}}, gym=False)
    assert presets.preset("layers-test-corner", "promp") == {"horizon": 50}
    assert get_env_spec("layers-test-corner").defaults == {"horizon": 50}
    assert resolve_config("layers-test-corner", "promp").horizon == 50
    assert resolve_config("layers-test-corner", "maml-trpo").horizon == 70


def test_presets_table_holds_the_paper_rows():
    from promp import presets

    assert presets.preset("walker-rand-params", "promp") == {
        "horizon": 200, "inner_lr": 0.05, "outer_steps": 3, "adaptive_kl": True, "kl_coef": 1e-3, "kl_target": 1e-2}
    assert presets.preset("humanoid-dir-2d", "dice") == {"horizon": 100, "hidden": (64, 64)}
    assert presets.preset("point-momentum", "trpo") == {"horizon": 200, "inner_steps": 3}
