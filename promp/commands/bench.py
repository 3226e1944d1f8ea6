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
    threads: tuple[int, ...] = (),
    repeats: int = 2,
    iterations: int = 3,
    skip_iteration: bool = False,
    json_output: bool = False,
    workers: int = 0,
    ray_address: Optional[str] = None,
) -> None:
    """Measure, in one run: the mj_step limit (C-level stepping of the env's model, no Python or
    policy), the batched env loop's and the full sampler's env steps/s (one env, and overlapped
    halves) and their ratios to the limit, and a meta-iteration at the preset's scale split into
    sampling / processing / update and against the physics of its env steps; at 2 MuJoCo threads
    and at all cores.

    Args:
        env: MuJoCo meta-env id (point envs: only the iteration timing is measured).
        algo: algorithm preset for the iteration timing.
        copies: env copies for the throughput measurements (tasks x rollouts).
        steps: env steps per copy for the throughput measurements.
        threads: MuJoCo C thread counts to measure at (default: 2 and all available cores).
        repeats: alternating limit / env-loop measurements; the best of each is reported.
        iterations: meta-iterations to time (the first, which compiles, is excluded from the medians).
        skip_iteration: only measure throughput.
        json_output: print one JSON document instead of the table.
        workers: time the iteration with the in-process sampler and with 1..N Ray sampler actors,
            alternating between them (needs pip install 'promp[ray]'; a local runtime unless --ray-address).
        ray_address: time the workers on the Ray cluster at this address (auto or HOST:PORT).
    """
    from ..bench.measure import (
        compare,
        iteration_timing,
        physics_ratios,
        policy_sampler_throughput,
        thread_counts,
        thread_settings,
    )
    from ..envs import MetaEnv

    try:
        spec = get_env_spec(env)
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None
    if copies < 1 or steps < 1 or repeats < 1 or iterations < 2:
        raise CommandError("--copies, --steps and --repeats must be >= 1 and --iterations >= 2")
    if any(not 1 <= n <= 4096 for n in threads):
        raise CommandError(f"--threads must be between 1 and 4096, got {' '.join(map(str, threads))}")
    if workers < 0:
        raise CommandError(f"--workers must be >= 0, got {workers}")
    report: dict = {"env": env, "threads": thread_settings(), "by_threads": []}
    factory = spec.load_factory()
    is_mujoco = isinstance(factory, type) and issubclass(factory, MetaEnv) and factory.one_batched_model
    for nthread in (threads or thread_counts()) if is_mujoco else (None,):
        part: dict = {"nthread": nthread}
        if is_mujoco:
            part["throughput"] = compare(env, copies, steps, nthread, repeats)
            limit = part["throughput"]["limit"]["steps_per_s"]
            per_task = 20 if copies % 20 == 0 else 1
            samplers = policy_sampler_throughput(env, copies // per_task, per_task, steps, nthread, repeats=repeats)
            for name, result in samplers.items():
                part[f"sampler_{name}"] = {**result, "ratio": result["steps_per_s"] / limit}
        if not workers and not skip_iteration:
            it = part["iteration"] = iteration_timing(env, algo, iterations, nthread=nthread)
            if is_mujoco:
                it.update(physics_ratios(it, limit))
        report["by_threads"].append(part)
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
    for part in report["by_threads"]:
        _print_part(console, part)
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


def _print_part(console: Console, part: dict) -> None:
    """The throughput table and the iteration's phases at one MuJoCo thread count."""
    if "throughput" in part:
        thr = part["throughput"]
        lim = thr["limit"]
        table = Table("measurement", "env steps/s", "ratio to limit",
                      title=f"{lim['nthread']} MuJoCo threads (best of the alternated repeats)")
        table.add_row(f"mj_step limit ({lim['n_copies']} copies x {lim['steps']} steps)", f"{lim['steps_per_s']:,.0f}", "1.000")
        table.add_row("batched env loop (no policy)", f"{thr['sampler']['steps_per_s']:,.0f}", f"{thr['ratio']:.3f}")
        for name, label in [("sampler_one_env", "sampler (env + jitted policy)"),
                            ("sampler_overlapped", "sampler, overlapped halves (PROMP_SAMPLER_OVERLAP=1)")]:
            table.add_row(label, f"{part[name]['steps_per_s']:,.0f}", f"{part[name]['ratio']:.3f}")
        console.print(table)
    if "iteration" in part:
        it = part["iteration"]
        table = Table("phase", "seconds / iteration")
        for key in ["time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"]:
            table.add_row(key.removeprefix("time_"), f"{it[key]:.3f}")
        table.add_row("update first call (compile + run)", f"{it['update_compile_s']:.2f}")
        if "physics_ratio" in it:
            table.add_row("iteration / its env steps at the limit", f"{it['physics_ratio']:.2f}x")
            table.add_row("sampling / its env steps at the limit", f"{it['sampling_physics_ratio']:.2f}x")
        threads = "" if part["nthread"] is None else f", {part['nthread']} MuJoCo threads"
        console.print(
            f"{it['algo']} iteration: {it['meta_batch_size']} tasks x {it['rollouts_per_task']} rollouts x H {it['horizon']}, "
            f"K={it['inner_steps']}, {it['env_steps_per_iteration']:,} env steps (medians of iterations 2..{it['iterations']}{threads})"
        )
        console.print(table)
