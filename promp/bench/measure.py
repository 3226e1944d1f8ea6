"""The measurements ``promp bench`` reports: the batched MuJoCo envs against the machine's physics
limit, the full sampler, and meta-iterations split into phases.

Pure measurement functions returning dicts (no argument parsing, no printing); the ``promp bench``
command, ``promp.bench.mujoco_throughput`` and ``promp.bench.iteration`` present them. Quote a
sampler figure only next to the limit measured in the same run, with the thread settings (both are
in the returned dicts): the machine is shared and its second core is not always really there.

* ``mj_step_limit`` -- env steps/s of the env's own model stepped by ``mujoco.batch.Batch`` in C,
  ``frame_skip`` substeps per env step, open loop with per-step random controls prepared in
  advance: one C call for the whole horizon, no Python and no policy in the loop.
* ``sampler_throughput`` -- env steps/s of the meta-env's ``reset`` + ``step`` loop (actions in
  policy units, N(0, 1) like the initial policy), i.e. everything the sampler pays except the
  policy call.
* ``compare`` -- both of the above, measured alternately, and their ratio.
* ``policy_sampler_throughput`` -- env steps/s of the full sampler (env + jitted policy call), with
  one env and overlapped (two halves stepped in turn).
* ``thread_counts`` -- the MuJoCo thread counts ``promp bench`` measures by default: 2 and all cores.
* ``physics_ratios`` -- an iteration's seconds over those of its env steps at the limit.
* ``iteration_timing`` / ``workers_timing`` -- seconds per meta-iteration by phase, in-process and
  with Ray sampler workers.

Keep BLAS at one thread while MuJoCo threads step (``thread_settings`` reports it); set
``OMP_NUM_THREADS=1`` / ``OPENBLAS_NUM_THREADS=1`` / ``MKL_NUM_THREADS=1`` before numpy is imported.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from typing import Any

import jax
import mujoco
import mujoco.batch
import numpy as np

from ..config import resolve_config
from ..envs import make_env
from ..envs.base import rescale_action
from ..envs.mujoco_batch import available_cores, default_threads
from ..learner import MetaLearner
from ..policy import init_policy
from ..sampling import LocalSampler, broadcast_params
from ..threads import thread_settings as base_settings


def thread_settings() -> dict[str, Any]:
    """``promp.threads.thread_settings`` plus the cores MuJoCo sees, its default thread count and the CPU
    devices the learner spreads tasks over (``promp.task_map``)."""
    out: dict[str, Any] = dict(base_settings())
    out.update(available_cores=available_cores(), mujoco_default_threads=default_threads(),
               PROMP_MUJOCO_THREADS=os.environ.get("PROMP_MUJOCO_THREADS"), jax_cpu_devices=len(jax.devices("cpu")))
    return out


def thread_counts() -> list[int]:
    """2 threads and all available cores (one entry on a machine with at most 2 cores)."""
    return sorted({min(2, available_cores()), available_cores()})


def _make(env_id: str, nthread: int | None):
    return make_env(env_id, nthread=nthread)


def _task_setup(env, n_copies: int, seed: int) -> np.random.Generator:
    rng = np.random.default_rng(seed)
    n_tasks = max(1, n_copies // 20)
    if n_copies % n_tasks:
        n_tasks = n_copies
    env.set_tasks(env.sample_tasks(rng, n_tasks), n_copies // n_tasks)
    return rng


def mj_step_limit(env_id: str, n_copies: int = 800, steps: int = 100, nthread: int | None = None, seed: int = 0) -> dict[str, Any]:
    """C-level env steps/s of ``env_id``'s model: ``n_copies`` copies, ``steps`` env steps each.

    Uses the same compiled model (timestep, contact-force sensor) and reset state distribution as
    the env; controls are N(0, 1) policy-unit actions mapped to the control range, held for
    ``frame_skip`` substeps (or the env's ``open_loop_control``, for an env whose step also moves a
    mocap body), all prepared before the clock starts. Returns a dict with
    ``steps_per_s`` (env steps, i.e. ``copies * steps / seconds``), ``seconds`` and the settings.
    """
    env = _make(env_id, nthread)
    rng = _task_setup(env, n_copies, seed)
    env.reset(rng)
    sim = env.sim
    model, fs = env.model, env.frame_skip

    if hasattr(env, "open_loop_control"):  # an env that moves more than its actuators (Meta-World's mocap)
        control, spec = env.open_loop_control(rng, steps)
    else:
        ctrl = rescale_action(rng.standard_normal((n_copies, steps, model.nu)), env.action_low, env.action_high)
        control, spec = np.repeat(ctrl, fs, axis=1), mujoco.mjtState.mjSTATE_CTRL.value  # [n, steps * fs, nu]
    batch = sim.batch
    out = {"qpos": np.empty((n_copies, steps * fs, model.nq))}
    t0 = time.perf_counter()
    batch.rollout(steps * fs, control=control, control_spec=spec, record=("qpos",), out=out)
    seconds = time.perf_counter() - t0
    result = {
        "env": env_id,
        "what": "mj_step limit (mujoco.batch rollout, open loop, no Python in the loop)",
        "n_copies": n_copies,
        "steps": steps,
        "frame_skip": fs,
        "nthread": sim.nthread,
        "seconds": seconds,
        "steps_per_s": n_copies * steps / seconds,
    }
    env.close()
    return result


def sampler_throughput(
    env_id: str, n_copies: int = 800, steps: int = 100, nthread: int | None = None, seed: int = 0, repeats: int = 1
) -> dict[str, Any]:
    """Env steps/s of the batched meta-env's ``reset`` + ``step`` loop with N(0, 1) policy-unit actions.

    ``n_copies`` copies (tasks of 20 copies each when divisible), ``steps`` steps per episode,
    ``repeats`` episodes; the best episode is reported. ``steps_per_s`` counts the env steps
    actually simulated (a copy that terminated is frozen for the rest of the episode), which is
    what compares with ``mj_step_limit``; ``slot_steps_per_s`` counts every ``copy x step`` slot of
    the sampler's arrays; ``alive_fraction`` is their ratio.
    """
    env = _make(env_id, nthread)
    rng = _task_setup(env, n_copies, seed)
    actions = rng.standard_normal((steps, n_copies, env.act_dim))
    best, alive = np.inf, 0.0
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        env.reset(rng)
        n_simulated, done = 0, np.zeros(n_copies, dtype=bool)
        for t in range(steps):
            n_simulated += n_copies - int(done.sum())
            _, _, done = env.step(actions[t])
        seconds = time.perf_counter() - t0
        if seconds < best:
            best, alive = seconds, n_simulated / (n_copies * steps)
    result = {
        "env": env_id,
        "what": "batched meta-env reset + step loop, random actions, no policy",
        "n_copies": n_copies,
        "steps": steps,
        "nthread": env.sim.nthread,
        "seconds": best,
        "steps_per_s": alive * n_copies * steps / best,
        "slot_steps_per_s": n_copies * steps / best,
        "alive_fraction": alive,
    }
    env.close()
    return result


def compare(env_id: str, n_copies: int = 800, steps: int = 100, nthread: int | None = None, repeats: int = 2) -> dict[str, Any]:
    """Measure ``mj_step_limit`` and ``sampler_throughput`` alternately ``repeats`` times; best of each and their ``ratio``.

    Alternating the two measurements keeps a change of machine load from favouring either.
    """
    limits, samplers = [], []
    for r in range(max(1, repeats)):
        limits.append(mj_step_limit(env_id, n_copies, steps, nthread, seed=r))
        samplers.append(sampler_throughput(env_id, n_copies, steps, nthread, seed=r))
    limit = max(limits, key=lambda d: d["steps_per_s"])
    sampler = max(samplers, key=lambda d: d["steps_per_s"])
    return {
        "env": env_id,
        "limit": limit,
        "sampler": sampler,
        "ratio": sampler["steps_per_s"] / limit["steps_per_s"],
        "threads": thread_settings(),
    }


def policy_sampler_throughput(
    env_id: str, meta_batch_size: int = 40, rollouts: int = 20, horizon: int = 100, nthread: int | None = None,
    seed: int = 0, hidden: tuple[int, ...] = (64, 64), repeats: int = 1,
) -> dict[str, Any]:
    """Env steps/s of the full in-process sampler (``promp.sampling.LocalSampler``: env + one jitted
    policy call per step for all copies) for a freshly initialised policy, with one env (``one_env``)
    and with the round split over two envs stepped in turn (``overlapped``: the policy of one half
    computed while the other half's physics runs), measured alternately ``repeats`` times; the best
    round of each is reported. The first round of each (which compiles the policy call) is not timed."""
    rng = np.random.default_rng(seed)
    env = _make(env_id, nthread)
    tasks = env.sample_tasks(rng, meta_batch_size)
    samplers = {"one_env": LocalSampler(env), "overlapped": LocalSampler(_make(env_id, nthread), _make(env_id, nthread))}
    params = broadcast_params(init_policy(jax.random.PRNGKey(seed), env.obs_dim, env.act_dim, hidden), meta_batch_size)
    best = {name: np.inf for name in samplers}
    steps = {}
    for name, sampler in samplers.items():
        sampler.set_tasks(tasks, rollouts)
        sampler.sample(params, 2, rng)  # compile
    for _ in range(max(1, repeats)):
        for name, sampler in samplers.items():
            t0 = time.perf_counter()
            traj = sampler.sample(params, horizon, rng)
            best[name] = min(best[name], time.perf_counter() - t0)
            steps[name] = traj.env_steps
    out: dict[str, Any] = {}
    for name, sampler in samplers.items():
        out[name] = {
            "env": env_id,
            "what": {"one_env": "promp sampler: batched env + jitted policy per step",
                     "overlapped": "promp sampler, two halves stepped in turn (PROMP_SAMPLER_OVERLAP=1)"}[name],
            "n_copies": meta_batch_size * rollouts,
            "steps": horizon,
            "nthread": getattr(getattr(sampler.env, "sim", None), "nthread", None),
            "seconds": best[name],
            "steps_per_s": steps[name] / best[name],
        }
        sampler.close()
        sampler.env.close()
    return out


def iteration_timing(env_id: str, algo: str = "promp", iterations: int = 4, overrides: dict[str, Any] | None = None,
                     nthread: int | None = None) -> dict[str, Any]:
    """Median seconds per meta-iteration split into sampling / processing / adaptation / update
    (iterations 2..N; the first compiles), plus the outer update's first call (compile + one run);
    ``nthread`` MuJoCo threads (default ``PROMP_MUJOCO_THREADS`` or all cores)."""
    with mujoco_threads(nthread):
        return _iteration_timing(resolve_config(env_id, algo, dict(overrides or {}, iterations=max(2, iterations))))


@contextlib.contextmanager
def mujoco_threads(nthread: int | None):
    """Within the block, envs made without an explicit thread count use ``nthread`` MuJoCo threads
    (``PROMP_MUJOCO_THREADS``; ``None`` leaves it as it is)."""
    old = os.environ.get("PROMP_MUJOCO_THREADS")
    if nthread is not None:
        os.environ["PROMP_MUJOCO_THREADS"] = str(nthread)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PROMP_MUJOCO_THREADS", None)
        else:
            os.environ["PROMP_MUJOCO_THREADS"] = old


def _iteration_timing(cfg: Any) -> dict[str, Any]:
    learner = MetaLearner(cfg)
    state = learner.init_state()
    rng = np.random.default_rng(12345)
    res = learner.sample_adapted(state.params, learner.env.sample_tasks(rng, cfg.meta_batch_size), rng)
    t0 = time.perf_counter()  # the first call compiles (the update may be a guarded Python wrapper around jitted parts)
    jax.block_until_ready(learner.outer.update(state.params, state.opt_state, tuple(res.batches)))
    compile_s = time.perf_counter() - t0
    rows = []
    for _ in range(cfg.iterations):
        state, row = learner.iteration(state)
        rows.append(row)
    learner.sampler.close()
    learner.env.close()
    return {**_summary(cfg, rows), "update_compile_s": compile_s}


def physics_ratios(iteration: dict[str, Any], limit_steps_per_s: float) -> dict[str, float]:
    """The iteration's and its sampling phase's seconds over the seconds its env steps take at the
    ``mj_step`` limit (1.0: as fast as the physics alone)."""
    physics = iteration["env_steps_per_iteration"] / limit_steps_per_s
    return {"physics_ratio": iteration["time_iteration"] / physics, "sampling_physics_ratio": iteration["time_sampling"] / physics}


PHASES = ["time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"]


def _summary(cfg: Any, rows: list[dict[str, float]]) -> dict[str, Any]:
    """Medians of the phase times over ``rows[1:]`` (the first compiles) and the sampling rate."""
    steps = rows[-1]["env_steps"] - rows[-2]["env_steps"]
    medians = {k: statistics.median(r[k] for r in rows[1:]) for k in PHASES}
    return {
        "env": cfg.env, "algo": cfg.algo, "meta_batch_size": cfg.meta_batch_size, "rollouts_per_task": cfg.rollouts_per_task,
        "horizon": cfg.horizon, "inner_steps": cfg.inner_steps, "iterations": cfg.iterations,
        "env_steps_per_iteration": steps, **medians, "sampling_steps_per_s": steps / medians["time_sampling"],
        "return_post_last": rows[-1]["return_post"],
    }


def workers_timing(env_id: str, algo: str = "promp", iterations: int = 4, max_workers: int = 2,
                   ray_address: str | None = None, overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Meta-iterations with the in-process sampler and with 1..``max_workers`` Ray sampler actors
    (``promp.distributed``), at the preset's scale: one learner per sampler, all from the same seed,
    their iterations alternated (in-process, 1, 2, ... workers, then again) so that a change of machine
    load favours none. Returns one ``_summary`` per sampler (``workers``: ``None`` is in-process), with
    ``same_numbers``: whether its progress rows (all but the times) equal the in-process ones.

    Ray must be started by the caller (``promp.distributed.start_ray``) with at least
    ``max_workers * (max_workers + 1) / 2`` CPUs: every sampler's actors exist at once."""
    from ..distributed import make_ray_sampler

    cfg = resolve_config(env_id, algo, dict(overrides or {}, iterations=max(2, iterations)))
    counts: list[int | None] = [None, *range(1, max_workers + 1)]
    learners: dict[int | None, MetaLearner] = {}
    try:
        for n in counts:
            learners[n] = MetaLearner(cfg)
            if n is not None:
                learners[n].sampler.close()
                learners[n].sampler = make_ray_sampler(cfg.env, cfg.env_kwargs, n, ray_address)
        states = {n: learner.init_state() for n, learner in learners.items()}
        rows: dict[int | None, list[dict[str, float]]] = {n: [] for n in counts}
        for _ in range(cfg.iterations):
            for n in counts:
                states[n], row = learners[n].iteration(states[n])
                rows[n].append(row)
    finally:
        for learner in learners.values():
            learner.sampler.close()
            learner.env.close()

    def numbers(rs: list[dict[str, float]]) -> list[dict[str, float]]:
        return [{k: v for k, v in r.items() if not k.startswith("time_")} for r in rs]

    return [{**_summary(cfg, rows[n]), "workers": n, "same_numbers": numbers(rows[n]) == numbers(rows[None])} for n in counts]
