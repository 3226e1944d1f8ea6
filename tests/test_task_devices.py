"""Tasks spread over several CPU devices (``promp.task_map``, one device per XLA thread): the meta-gradient,
TRPO's curvature product and whole outer updates equal the one-device sequential path's (float64), a
task count that is not a multiple of the device count is padded correctly (4 tasks on 3 devices: the
gradient, MAML-TRPO's curvature product and both updates; 3 tasks: the gradient), and arrays committed to
one device are accepted. JAX fixes its device count at start-up, so this runs in a child process with 3
CPU devices (this test process has one per core, tests/conftest.py); "one device" is the path inside
``task_map.tasks_on_one_device()``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

CHILD = r'''
import contextlib, dataclasses, json, os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=3"
sys.path.insert(0, sys.argv[1])
import jax, jax.numpy as jnp, numpy as np
from jax.flatten_util import ravel_pytree
jax.config.update("jax_enable_x64", True)
from test_meta_gradient import sampled64
from promp import task_map
from promp.algorithms import make_outer_update, trpo
from promp.algorithms.meta_objective import meta_objective
from promp.algorithms.losses import task_clipped, task_likelihood_ratio

flat = lambda t: np.asarray(ravel_pytree(t)[0])
out = {"devices": len(jax.devices("cpu"))}
cpu0 = jax.devices("cpu")[0]
for algo in ("maml-trpo", "promp"):
    cfg, params, batches = sampled64(algo, 1)
    batches4 = tuple(jax.tree_util.tree_map(lambda x: jnp.concatenate([x, x[:1]]), b) for b in batches)  # 4 tasks
    objective = meta_objective(cfg, task_clipped(cfg.clip_eps) if algo == "promp" else task_likelihood_ratio)
    v = jnp.asarray(np.random.default_rng(3).normal(size=flat(params).shape))
    committed = jax.device_put(params, cpu0)
    runs = {}
    for spread in (True, False):
        with contextlib.nullcontext() if spread else task_map.tasks_on_one_device():
            outer = make_outer_update(dataclasses.replace(cfg, cg_damping=1e-1))  # CG well conditioned: round-off stays small
            rows = {}
            gradient = task_map.jit_tasks(lambda p, b: objective.value_and_grad(p, b, jnp.asarray([0.7])))
            for name, b in (("3 tasks", batches), ("4 tasks", batches4)):
                (loss, _), grad = gradient(committed, b)
                rows[name] = [float(loss), flat(grad).tolist()]
            # the curvature and the whole update on the padded split (4 tasks on 3 devices)
            if algo == "maml-trpo":
                product = task_map.jit_tasks(lambda p, b: trpo.kl_curvature(p, b, cfg.inner_lr, objective.inner_loss)(v))(committed, batches4)
                rows["product"] = np.asarray(product).tolist()
            new_params = outer.update(committed, outer.init(params), batches4)[0]
            rows["update"] = flat(new_params).tolist()
            rows["on"] = str(jax.tree_util.tree_leaves(new_params)[0].sharding.device_set)
            rows["committed"] = any(x.committed for x in jax.tree_util.tree_leaves(new_params))
            task_map._tracing.jit_tasks = True  # as while tracing a jit_tasks function, to see where the outputs live
            spread_out = jax.jit(lambda b: task_map.map_tasks(lambda tb: tb[-1].obs.sum(), b))(batches)
            task_map._tracing.jit_tasks = False
            rows["groups"] = len(spread_out.sharding.device_set)
        runs[str(spread)] = rows
    runs["start"] = flat(params).tolist()
    out[algo] = runs
print(json.dumps(out))
'''


def test_tasks_spread_over_cpu_devices_give_the_sequential_numbers(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"  # LLVM at -O0 (tests/conftest.py): both paths alike, a third of the time
    proc = subprocess.run([sys.executable, "-c", CHILD, str(Path(__file__).parent)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["devices"] == 3
    for algo in ("maml-trpo", "promp"):
        spread, sequential = out[algo]["True"], out[algo]["False"]
        assert spread["groups"] == 3 and sequential["groups"] == 1  # the tasks really ran on 3 devices
        assert spread["on"] == sequential["on"] == "{CpuDevice(id=0)}"  # results back on device 0
        assert not spread["committed"]  # like a one-device result: the next call compiles nothing new
        for name in ("3 tasks", "4 tasks"):
            (l1, g1), (l0, g0) = spread[name], sequential[name]
            assert abs(l1 - l0) <= 1e-10 * abs(l0) + 1e-14, (algo, name)
            assert np.linalg.norm(np.subtract(g1, g0)) <= 1e-10 * np.linalg.norm(g0), (algo, name)
        if algo == "maml-trpo":
            h1, h0 = np.asarray(spread["product"]), np.asarray(sequential["product"])
            assert np.linalg.norm(h1 - h0) <= 1e-10 * np.linalg.norm(h0)
        p1, p0, start = np.asarray(spread["update"]), np.asarray(sequential["update"]), np.asarray(out[algo]["start"])
        assert np.abs(p0 - start).max() > 1e-6, algo  # the update moved the parameters
        # Round-off of the whole update, measured as this test computes it (spread vs one device, float64,
        # CG damping 1e-1): 8.8e-11 of the step on an Intel Sapphire Rapids (AVX-512 code), 1.1e-11 there
        # with XLA capped at AVX2 (--xla_cpu_max_isa=AVX2), 7.1e-10 on an AMD EPYC (AVX2): the gradient and
        # curvature products agree to 1e-16, and CG amplifies their last bits by an amount that depends on
        # the CPU's code. With most optimisations off, as the child runs now, on the same AMD EPYC with
        # jax 0.10: 6.6e-13 (MAML-TRPO) and 8e-15 (ProMP), against 4.1e-13 and 2.8e-14 optimised. Bound: 10x
        # the largest, rounded up. A wrong split (a task dropped or counted twice) moves the step by 1e-2 or more.
        assert np.abs(p1 - p0).max() <= 1e-8 * np.abs(p0 - start).max(), algo
