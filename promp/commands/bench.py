"""``promp bench``: env throughput against the machine's ``mj_step`` limit and a full meta-iteration."""

from __future__ import annotations

import json
import sys
from typing import Optional

from rich.console import Console
from rich.table import Table

from ..envs import get_env_spec
from . import CommandError


def bench_command(
    env: str = "halfcheetah-fwd-back",
    algo: str = "promp",
    copies: int = 800,
    steps: int = 100,
    threads: Optional[int] = None,
    repeats: int = 2,
    iterations: int = 3,
    skip_iteration: bool = False,
    json_output: bool = False,
    workers: int = 0,
    ray_address: Optional[str] = None,
) -> None:
    """Measure, in one run: the mj_step limit (C-level stepping of the env's model, no Python or
    policy), the batched env loop's and the full sampler's env steps/s and their ratios to the
    limit, and a meta-iteration at the preset's scale split into sampling / processing / update.

    Args:
        env: MuJoCo meta-env id (point envs: only the iteration timing is measured).
        algo: algorithm preset for the iteration timing.
        copies: env copies for the throughput measurements (tasks x rollouts).
        steps: env steps per copy for the throughput measurements.
        threads: MuJoCo C threads (default: all available cores).
        repeats: alternating limit / env-loop measurements; the best of each is reported.
        iterations: meta-iterations to time (the first, which compiles, is excluded from the medians).
        skip_iteration: only measure throughput.
        json_output: print one JSON document instead of the table.
        workers: time the iteration with the in-process sampler and with 1..N Ray sampler actors,
            alternating between them (needs pip install 'promp[ray]'; a local runtime unless --ray-address).
        ray_address: time the workers on the Ray cluster at this address (auto or HOST:PORT).
    """
    from ..bench.measure import compare, iteration_timing, policy_sampler_throughput, thread_settings
    from ..envs.locomotion import MujocoMetaEnv

    try:
        spec = get_env_spec(env)
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None
    if copies < 1 or steps < 1 or repeats < 1 or iterations < 2:
        raise CommandError("--copies, --steps and --repeats must be >= 1 and --iterations >= 2")
    if threads is not None and not 1 <= threads <= 4096:
        raise CommandError(f"--threads must be between 1 and 4096, got {threads}")
    report: dict = {"env": env, "threads": thread_settings()}
    factory = spec.load_factory()
    is_mujoco = isinstance(factory, type) and issubclass(factory, MujocoMetaEnv)
    if is_mujoco:
        report["throughput"] = compare(env, copies, steps, threads, repeats)
        per_task = 20 if copies % 20 == 0 else 1
        full = policy_sampler_throughput(env, copies // per_task, per_task, steps, threads)
        full["ratio"] = full["steps_per_s"] / report["throughput"]["limit"]["steps_per_s"]
        report["sampler_with_policy"] = full
    if workers < 0:
        raise CommandError(f"--workers must be >= 0, got {workers}")
    if workers:
        from ..bench.measure import workers_timing
        from ..distributed import DistributedError, import_ray, start_ray

        try:
            owns = start_ray(ray_address, workers * (workers + 1) // 2)  # every sampler's actors exist at once
            try:
                report["workers"] = workers_timing(env, algo, iterations, workers, ray_address)
            finally:
                if owns:
                    import_ray().shutdown()
        except DistributedError as exc:
            raise CommandError(str(exc)) from None
    elif not skip_iteration:
        report["iteration"] = iteration_timing(env, algo, iterations)
    if json_output:
        print(json.dumps(report, indent=2, default=str))
        return
    _print_report(report)


def _print_report(report: dict) -> None:
    console = Console() if sys.stdout.isatty() else Console(width=120)  # a file or pipe gets whole table rows
    t = report["threads"]
    console.print(
        f"[bold]{report['env']}[/]  threads: cores {t['available_cores']}, MuJoCo default {t['mujoco_default_threads']}, "
        f"BLAS {t['blas_threads']}, XLA {t['xla_threads']}, JAX CPU devices {t['jax_cpu_devices']}"
    )
    if "throughput" in report:
        thr = report["throughput"]
        lim = thr["limit"]
        table = Table("measurement", "env steps/s", "ratio to limit")
        table.add_row(f"mj_step limit ({lim['n_copies']} copies x {lim['steps']} steps, {lim['nthread']} threads)",
                      f"{lim['steps_per_s']:,.0f}", "1.000")
        table.add_row("batched env loop (no policy)", f"{thr['sampler']['steps_per_s']:,.0f}", f"{thr['ratio']:.3f}")
        full = report["sampler_with_policy"]
        table.add_row("sampler (env + jitted policy)", f"{full['steps_per_s']:,.0f}", f"{full['ratio']:.3f}")
        console.print(table)
    if "iteration" in report:
        it = report["iteration"]
        table = Table("phase", "seconds / iteration")
        for key in ["time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"]:
            table.add_row(key.removeprefix("time_"), f"{it[key]:.3f}")
        table.add_row("update first call (compile + run)", f"{it['update_compile_s']:.2f}")
        console.print(
            f"{it['algo']} iteration: {it['meta_batch_size']} tasks x {it['rollouts_per_task']} rollouts x H {it['horizon']}, "
            f"K={it['inner_steps']}, {it['env_steps_per_iteration']:,} env steps (medians of iterations 2..{it['iterations']})"
        )
        console.print(table)
    if "workers" in report:
        rows = report["workers"]
        base = rows[0]
        if not all(r["same_numbers"] for r in rows):
            console.print("[red]the samplers gave different numbers[/]")
        console.print(
            f"{base['algo']} iteration: {base['meta_batch_size']} tasks x {base['rollouts_per_task']} rollouts x H {base['horizon']}, "
            f"K={base['inner_steps']}, {base['env_steps_per_iteration']:,} env steps (medians of iterations 2..{base['iterations']}); "
            "iterations alternated between the samplers; each actor steps with 1 MuJoCo and 1 XLA thread"
        )
        table = Table("sampler", "env steps/s", "sampling", "processing", "adapt", "update", "iteration", "vs in-process",
                      title="seconds per iteration (env steps/s: of the sampling phase)")
        for r in rows:
            n = r["workers"]
            name = "in-process" if n is None else f"{n} worker{'s' if n > 1 else ''}"
            table.add_row(name, f"{r['sampling_steps_per_s']:,.0f}", f"{r['time_sampling']:.3f}", f"{r['time_processing']:.3f}",
                          f"{r['time_adapt']:.3f}", f"{r['time_update']:.3f}", f"{r['time_iteration']:.3f}",
                          f"{r['time_iteration'] / base['time_iteration']:.3f}")
        console.print(table)
