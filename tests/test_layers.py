"""The layers of docs/design.md, enforced: the library sits below the commands, promp's modules import
each other without a circle, the maths package sits below the sampler and the trainer, the types module
is a leaf; at run time the maths loads no simulator and the presets live in one table."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PROMP_XLA_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


PACKAGE = ROOT / "promp"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """``{module: promp modules it imports}`` over every import statement of the package (also those inside
    functions, which only defer the cost); ``from X import name`` counts ``X.name`` when that is a module."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")
                target = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else (node.module or "")
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    deps.add(sub if sub in modules else target)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, if there is one (ignoring the package ``__init__``s a submodule implies)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_library_module_imports_the_command_line():
    graph = import_graph()
    for module, deps in graph.items():
        if module.startswith("promp.commands") or module in ("promp.cli", "promp.__main__"):
            continue
        assert not {d for d in deps if d.startswith("promp.commands") or d == "promp.cli"}, module


def test_the_modules_import_each_other_without_a_circle():
    graph = import_graph()
    # a package imports its own submodules to re-export them; a submodule importing its package's
    # __init__ is then no circle of the code, only of the names
    for module in graph:
        graph[module] = {d for d in graph[module] if not module.startswith(d + ".")}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_maths_sits_below_the_sampler_and_the_trainer():
    allowed = {"promp.policy", "promp.types", "promp.task_map", "promp.presets"}
    for module, deps in import_graph().items():
        if module.startswith("promp.algorithms"):
            outside = {d for d in deps if not d.startswith("promp.algorithms")} - allowed
            assert not outside, f"{module} imports {sorted(outside)}"


def test_the_types_module_is_a_leaf():
    assert import_graph()["promp.types"] == set()


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return set(res.stdout.split())


def test_pure_layers_import_no_mujoco_and_no_env():
    # `import promp` registers the built-in ids (promp.envs: the registry, the protocol, the point envs);
    # the maths must add no simulator and no env module to that
    baseline = _modules_after("import promp")
    for module in ("promp.algorithms.adaptation", "promp.algorithms.losses", "promp.algorithms"):
        loaded = _modules_after(f"import {module}")
        assert "mujoco" not in loaded, module
        assert {name for name in loaded - baseline if name.startswith("promp.envs")} == set(), module


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
