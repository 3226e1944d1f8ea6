"""Distributed sampling on Ray: N sampler actors, each stepping a batched meta-env for a slice of the tasks.

``RaySampler`` has the interface of ``promp.sampling.LocalSampler`` and gives bit-identical
trajectories (CPU) for any number of workers: each round draws one seed per task from the run's
generator in the driver and every task's noise comes from its own stream (``promp.streams``), so
which actor holds a task does not matter. Per sampling round the driver puts the per-task policy
parameters in Ray's object store once (``ray.put``); each actor fetches them, runs a jitted CPU
policy and its batched env (``mujoco.batch`` for MuJoCo, numpy for point tasks, a user's
``MetaEnv`` too) for its tasks and returns fixed-shape numpy arrays ``[tasks, rollouts, horizon, ...]``.

Faults: an actor that dies (killed, out of memory, its node lost) is replaced and its slice
sampled again with the same seeds, so the numbers do not change; every wait has a timeout and
ends with ``DistributedError`` naming the actor and its tasks instead of hanging.

Ray is an optional dependency (``pip install 'promp[ray]'``), imported when a ``RaySampler`` is made.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import warnings
from typing import Any, Callable

import jax
import numpy as np

from .envs import get_env_spec
from .sampling import check_finite_trajectories, sample_with_seeds
from .streams import task_seeds
from .types import Params, Task, Trajectories

START_TIMEOUT_S = 120.0  # an actor must import JAX and build its env within this
SAMPLE_TIMEOUT_S = 600.0  # one sampling round of one slice
CONNECT_TIMEOUT_S = 10.0  # opening a connection to a cluster's head
MAX_REPLACEMENTS = 3  # actor deaths tolerated per sampling round

# Thread settings of an actor: one core each (MuJoCo, XLA, BLAS), the policy on the CPU.
ACTOR_ENV = {
    "PROMP_MUJOCO_THREADS": "1",
    "PROMP_XLA_THREADS": "1",
    "NPROC": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false",
    "JAX_PLATFORMS": "cpu",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class DistributedError(RuntimeError):
    """Ray is missing, a cluster cannot be reached, or a sampler actor failed or timed out."""


def import_ray() -> Any:
    """The ``ray`` module, or ``DistributedError`` with the one line that says how to install it."""
    try:
        import ray
    except ImportError:
        raise DistributedError("--workers and --ray-address need Ray: pip install 'promp[ray]'") from None
    return ray


def actor_environment() -> dict[str, str]:
    """Environment variables of an actor process: ``ACTOR_ENV`` and a ``PYTHONPATH`` that starts with
    the driver's working directory and its import path outside the Python installation (a user's env
    module next to the command is found)."""
    prefixes = tuple({os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)})
    paths = [os.getcwd(), *[p for p in sys.path if p and os.path.isdir(p) and not os.path.realpath(p).startswith(prefixes)]]
    extra = os.environ.get("PYTHONPATH")
    if extra:
        paths.append(extra)
    return {**ACTOR_ENV, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def start_ray(address: str | None, num_cpus: int) -> bool:
    """Join the Ray cluster at ``address`` (``"auto"``, ``"HOST:PORT"``), or start a local runtime with
    ``num_cpus`` CPUs when ``address`` is ``None``; nothing if this process is connected already.
    Returns whether this call started the connection (the caller then shuts it down)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=True, configure_logging=False)
    if address is None:
        address = "local"  # a new runtime of this process, not a cluster someone started on this machine
        kwargs["num_cpus"] = int(num_cpus)
    elif address != "auto":
        check_reachable(address)  # ray.init waits for minutes on an address where nothing listens
    try:
        with warnings.catch_warnings():  # Ray starts its processes with fork+exec, which is safe
            warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")
            ray.init(address=address, **kwargs)
    except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError: one line
        where = "a local Ray runtime" if address == "local" else f"the Ray cluster at {address}"
        cause = f" ({type(exc.__cause__).__name__}: {_cause(exc.__cause__)})" if exc.__cause__ is not None else ""
        raise DistributedError(f"cannot start or join {where}: {type(exc).__name__}: {_cause(exc)}{cause}") from None
    return True


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ``DistributedError`` unless a TCP connection to ``HOST:PORT`` (a Ray head's GCS) opens within ``timeout``."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise DistributedError(f"--ray-address must be auto or HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise DistributedError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc} (is `ray start --head` "
                               f"running there, and is the port open?)") from None


def split_tasks(num_tasks: int, num_workers: int) -> list[tuple[int, int]]:
    """Contiguous ``(first, end)`` task ranges, one per worker that gets any (sizes differ by at most one)."""
    n = max(1, min(num_workers, num_tasks))
    bounds = [num_tasks * i // n for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n)]


class SamplerWorker:
    """The body of a sampler actor: a batched meta-env and a jitted CPU policy for a slice of the tasks.

    Runs in its own process, started with ``actor_environment`` (thread settings before JAX is
    imported, the driver's directory on the import path). ``factory`` is the env factory itself, sent
    by Ray, so an env registered in a script or named ``module:Class`` works too.
    """

    def __init__(self, factory: Callable[..., Any], env_kwargs: dict[str, Any]) -> None:
        self.env = factory(**env_kwargs)
        self._tasks: tuple[list[Task], int] | None = None

    def pid(self) -> int:
        """The actor's process id (to check on it, or to kill it in a test)."""
        return os.getpid()

    def sample(self, tasks: list[Task], copies_per_task: int, params_per_task: Params, first: int, horizon: int,
               seeds: np.ndarray, floor_log_std: bool, shared: bool = False) -> Trajectories:
        """Sample tasks ``first .. first + len(tasks) - 1`` of a round (``promp.sampling.sample_with_seeds``)
        with their rows of the per-task ``params_per_task`` (or, ``shared``, one policy for all tasks)."""
        if self._tasks != (tasks, copies_per_task):
            self.env.set_tasks(tasks, copies_per_task)
            self._tasks = (tasks, copies_per_task)
        end = first + len(tasks)
        if shared:
            mine = jax.tree_util.tree_map(lambda x: np.broadcast_to(x, (end - first, *x.shape)), params_per_task)
        else:
            mine = jax.tree_util.tree_map(lambda x: x[first:end], params_per_task)
        return sample_with_seeds(self.env, mine, horizon, seeds, floor_log_std, first=first)

    def close(self) -> None:
        """Release the env (threads, memory)."""
        self.env.close()


class RaySampler:
    """Sampling rounds split over ``num_workers`` Ray actors (interface of ``promp.sampling.LocalSampler``).

    ``address``: ``None`` starts a local Ray runtime with ``num_workers`` CPUs (or joins the one
    already running in this process); ``"auto"`` or ``"HOST:PORT"`` joins an existing cluster.
    ``env_name`` names the env in error messages. ``on_dispatch`` (tests) is called after every
    round's calls are submitted, with the sampler.
    """

    def __init__(self, factory: Callable[..., Any], env_kwargs: dict[str, Any], num_workers: int,
                 address: str | None = None, env_name: str = "env", start_timeout: float = START_TIMEOUT_S,
                 sample_timeout: float = SAMPLE_TIMEOUT_S, on_dispatch: Callable[["RaySampler"], None] | None = None) -> None:
        if num_workers < 1:
            raise DistributedError(f"--workers must be >= 1, got {num_workers}")
        ray = import_ray()
        self.ray = ray
        self.num_workers = int(num_workers)
        self.env_name = env_name
        self.start_timeout, self.sample_timeout = float(start_timeout), float(sample_timeout)
        self.on_dispatch = on_dispatch
        self.replacements = 0  # actors replaced so far (all rounds)
        self._owns_runtime = start_ray(address, self.num_workers)
        self._factory = factory
        self._env_kwargs = dict(env_kwargs)
        self._remote_cls = ray.remote(num_cpus=1, max_restarts=0, runtime_env={"env_vars": actor_environment()})(SamplerWorker)
        self.actors: list[Any] = []
        self.actor_pids: list[int] = [0] * self.num_workers  # process ids at start-up (kept current on replacement)
        self._tasks: list[Task] = []
        self._copies = 0
        try:
            self.actors = [self._new_actor() for _ in range(self.num_workers)]
            self._wait_started(list(range(self.num_workers)))
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------------------ actors
    def _new_actor(self) -> Any:
        return self._remote_cls.remote(self._factory, self._env_kwargs)

    def _wait_started(self, indices: list[int]) -> None:
        """Wait until the actors ``indices`` answer (their env is built), or raise ``DistributedError``."""
        ray = self.ray
        refs = {self.actors[i].pid.remote(): i for i in indices}
        ready, pending = ray.wait(list(refs), num_returns=len(refs), timeout=self.start_timeout)
        if pending:
            missing = sorted(refs[r] for r in pending)
            raise DistributedError(
                f"sampler actor(s) {missing} did not start within {self.start_timeout:.0f} s (is the cluster short of CPUs? "
                f"each actor needs 1; ray status shows them)")
        for ref in ready:
            try:
                self.actor_pids[refs[ref]] = int(ray.get(ref, timeout=self.start_timeout))
            except Exception as exc:  # noqa: BLE001 - the env's constructor failed in the actor
                raise DistributedError(f"sampler actor {refs[ref]} failed to start: {_cause(exc)}") from None

    def _replace(self, index: int) -> None:
        """Start a new actor in place of the dead actor ``index``."""
        try:
            self.ray.kill(self.actors[index], no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass
        self.actors[index] = self._new_actor()
        self._wait_started([index])
        self.replacements += 1

    # ---------------------------------------------------------------------------- sampling
    def set_tasks(self, tasks: list[Task], copies_per_task: int) -> None:
        """The round's tasks; they travel with each sample call (an actor resets its env only when they change)."""
        if len(tasks) == 0 or copies_per_task <= 0:
            raise ValueError("set_tasks needs at least one task and one copy per task")
        self._tasks, self._copies = list(tasks), int(copies_per_task)

    def sample(self, params_per_task: Params, horizon: int, rng: np.random.Generator, floor_log_std: bool = False) -> Trajectories:
        """One sampling round over all actors; the same arrays as ``LocalSampler.sample`` with the same ``rng``."""
        ray = self.ray
        tasks = self._tasks
        if not tasks:
            raise RuntimeError("RaySampler.sample before set_tasks")
        seeds = task_seeds(rng, len(tasks))
        host = jax.tree_util.tree_map(np.asarray, jax.device_get(params_per_task))
        shared = all(bool(np.all(x == x[:1])) for x in jax.tree_util.tree_leaves(host))  # pre-update round: one policy
        params_ref = ray.put(jax.tree_util.tree_map(lambda x: x[0], host) if shared else host)  # once per round
        slices = split_tasks(len(tasks), self.num_workers)

        def submit(i: int) -> Any:
            first, end = slices[i]
            return self.actors[i].sample.remote(tasks[first:end], self._copies, params_ref, first, horizon, seeds,
                                                bool(floor_log_std), shared)

        refs = {submit(i): i for i in range(len(slices))}
        if self.on_dispatch is not None:
            self.on_dispatch(self)
        results: dict[int, Trajectories] = {}
        deaths = 0
        deadline = {i: time.monotonic() + self.sample_timeout for i in refs.values()}
        while refs:
            timeout = max(0.0, min(deadline[i] for i in refs.values()) - time.monotonic())
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=timeout)
            if not ready:
                late = sorted(i for i in refs.values() if deadline[i] <= time.monotonic())
                i = late[0] if late else min(refs.values())
                first, end = slices[i]
                raise DistributedError(
                    f"sampler actor {i} (tasks {first}..{end - 1}) returned no samples within {self.sample_timeout:.0f} s")
            ref = ready[0]
            i = refs.pop(ref)
            try:
                results[i] = ray.get(ref, timeout=self.sample_timeout)
            except ray.exceptions.RayActorError as exc:
                deaths += 1
                first, end = slices[i]
                if deaths > MAX_REPLACEMENTS:
                    raise DistributedError(f"sampler actors died {deaths} times in one round; last: actor {i} "
                                           f"(tasks {first}..{end - 1}): {_cause(exc)}") from None
                self._replace(i)
                refs[submit(i)] = i  # the same seeds and parameters: the same numbers
                deadline[i] = time.monotonic() + self.sample_timeout
            except ray.exceptions.RayTaskError as exc:
                first, end = slices[i]
                raise DistributedError(f"sampler actor {i} (tasks {first}..{end - 1}) failed: {_cause(exc)}") from None
        parts = [results[i] for i in range(len(slices))]
        traj = Trajectories.concatenate(parts)
        check_finite_trajectories(self.env_name, tasks, traj)
        return traj

    def close(self) -> None:
        """Kill the actors, and stop the Ray runtime if this sampler started it."""
        ray = self.ray
        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already dead or runtime gone
                pass
        self.actors = []
        if self._owns_runtime and ray.is_initialized():
            ray.shutdown()
            self._owns_runtime = False


def make_ray_sampler(env_id: str, env_kwargs: dict[str, Any], num_workers: int, address: str | None = None,
                     **kwargs: Any) -> RaySampler:
    """A ``RaySampler`` for the registered env ``env_id`` (what ``promp train --workers N`` uses)."""
    factory = get_env_spec(env_id).load_factory()
    return RaySampler(factory, env_kwargs, num_workers, address, env_name=env_id, **kwargs)


def _cause(exc: BaseException) -> str:
    """The last line of a (possibly remote) exception's message."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
