"""Many independent training runs at once: one worker process per run, on this machine or on a Ray
cluster (docs/design notes in the README, "Figure 2 campaign").

Every run is an ordinary run directory of the trainer, trained by ``python -m promp.experiments.campaign``
in a process of its own with **one** XLA thread, one MuJoCo thread and one JAX CPU device, so a run's
numbers do not depend on how many runs share the machine, on the machine's core count, or on where a
resumed run continues (``promp train --resume`` is bit-identical at a fixed XLA thread count). At most
``parallel`` workers run at once (never more than the cores), each declared to Ray as ``num_cpus=1``.
A worker that fails (a crash, a kill, an exception) is started again on the same directory, which
resumes from its last checkpoint, up to ``retries`` more times; then the run is reported failed and
the others go on. A live table shows each run's iteration, return and ETA and, below it, the campaign's
work left and ETA (``campaign_line``); the table is also what goes to the log when the output is not a terminal.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from ..config import TrainConfig
from ..rundir import RunDir
from ..versions import cpu_model, host

WORKER_ENV = {"PROMP_XLA_THREADS": "1", "PROMP_MUJOCO_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}
"""The thread settings of every campaign worker (``promp.threads``)."""


@dataclasses.dataclass
class RunStatus:
    """One run of a campaign as the scheduler tracks it."""

    name: str
    run_dir: Path
    cfg: TrainConfig
    state: str = "pending"  # pending | running | done | failed | finished before
    attempts: int = 0
    error: str = ""
    started: float = 0.0
    wall_s: float = 0.0
    returncode: int | None = None

    def progress(self) -> list[dict]:
        """The run's progress rows so far (none if it has not started)."""
        try:
            return RunDir(self.run_dir).read_progress()
        except (OSError, ValueError):
            return []


def is_finished(run_dir: Path, cfg: TrainConfig) -> bool:
    """Whether ``run_dir`` already holds all ``cfg.iterations`` iterations with checkpoints."""
    run = RunDir(run_dir)
    if not run.has_config() or not run.checkpoint_dir.is_dir():
        return False
    try:
        return len(run.read_progress()) >= cfg.iterations
    except (OSError, ValueError):
        return False


def worker_command(run_dir: Path, cfg: TrainConfig) -> list[str]:
    """The command line of one run's worker process."""
    return [sys.executable, "-m", "promp.experiments.campaign", str(run_dir), cfg.to_json()]


def worker_env() -> dict[str, str]:
    """This process's environment with the worker thread settings (and no inherited XLA device flags)."""
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "NPROC")}
    env.update(WORKER_ENV)
    return env


def log_path(log_dir: Path, name: str) -> Path:
    """The worker log of run ``name`` (``ENV/ALGO-seedS`` -> ``ENV__ALGO-seedS.log``)."""
    return log_dir / f"{name.replace('/', '__')}.log"


def _log_tail(path: Path, lines: int = 1) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def run_campaign(runs: list[tuple[str, Path, TrainConfig]], log_dir: Path, parallel: int | None, retries: int = 2,
                 ray_address: str | None = None, live: bool | None = None,
                 on_poll: Callable[[list[RunStatus]], None] | None = None) -> list[RunStatus]:
    """Train every ``(name, run_dir, cfg)`` in worker processes, ``parallel`` at a time (default: this
    machine's cores, or with ``ray_address`` the cluster's CPUs; ``ray_address``: ``"auto"`` or
    ``host:port``, or ``"local"`` for a Ray runtime started here); returns the final status of every run.
    Worker output goes to ``log_dir/NAME.log``. ``on_poll`` is called with the statuses about twice a
    second (tests use it to kill a worker)."""
    cores = os.cpu_count() or 1
    if parallel is None and ray_address is None:
        parallel = cores
    if parallel is not None and parallel < 1:
        raise ValueError(f"--parallel must be >= 1, got {parallel}")
    if ray_address is None and parallel > cores:
        raise ValueError(f"--parallel {parallel} exceeds this machine's {cores} cores (one core per run)")
    log_dir.mkdir(parents=True, exist_ok=True)
    status = [RunStatus(name, Path(run_dir), cfg) for name, run_dir, cfg in runs]
    for s in status:
        if is_finished(s.run_dir, s.cfg):
            s.state = "finished before"
    backend = _RayBackend(ray_address, parallel) if ray_address else _LocalBackend(parallel)
    here = None if ray_address else host({"cpu_model": cpu_model(), "cpu_count": os.cpu_count()})
    table = _LiveTable(status, sys.stdout.isatty() if live is None else live, backend.parallel, here)
    stop: list[int] = []
    previous = _catch_stop_signals(stop)
    try:
        with table:
            while not stop:
                for s in backend.finished():
                    _settle(s, retries, log_dir)
                for s in status:
                    if s.state == "pending" and backend.has_room():
                        s.state, s.attempts, s.started = "running", s.attempts + 1, time.time()
                        backend.start(s, log_path(log_dir, s.name))
                if not any(s.state in ("pending", "running") for s in status):
                    break
                if on_poll:
                    on_poll(status)
                table.update()
                time.sleep(0.5)
    except KeyboardInterrupt:
        stop.append(signal.SIGINT)
    finally:
        if stop:
            backend.stop()  # workers checkpoint their last iteration and exit
        backend.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop:
        exc = KeyboardInterrupt("the campaign's workers stopped after their last checkpoint; run the same command to continue")
        exc.signum = stop[0]  # type: ignore[attr-defined]  (promp.cli prints it and exits 128 + signum)
        raise exc
    table.print_final()
    return status


def _catch_stop_signals(stop: list[int]) -> dict[int, Any]:
    """Make SIGINT/SIGTERM append to ``stop`` (the scheduler then stops its workers cleanly) instead of
    ending the process at once (``promp.interrupts``), which would leave the workers running; returns the
    previous handlers. Only in the main thread (elsewhere signals cannot be caught)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, lambda signum, frame: stop.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}


def _settle(s: RunStatus, retries: int, log_dir: Path) -> None:
    """Mark a worker that exited: done, to be retried (it resumes), or failed."""
    s.wall_s += time.time() - s.started
    if s.returncode == 0:
        s.state = "done"
        return
    s.error = f"exit {s.returncode}: {_log_tail(log_path(log_dir, s.name)) or 'no output'}"
    s.state = "pending" if s.attempts <= retries else "failed"


class _LocalBackend:
    """Worker subprocesses on this machine."""

    def __init__(self, parallel: int) -> None:
        self.parallel = parallel
        self.procs: dict[str, tuple[RunStatus, subprocess.Popen]] = {}

    def has_room(self) -> bool:
        return len(self.procs) < self.parallel

    def start(self, s: RunStatus, log: Path) -> None:
        with open(log, "a") as fh:
            fh.write(f"--- attempt {s.attempts} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n")
            fh.flush()
            proc = subprocess.Popen(worker_command(s.run_dir, s.cfg), stdout=fh, stderr=subprocess.STDOUT, env=worker_env(),
                                    start_new_session=True)  # a Ctrl-C in the terminal reaches the scheduler only
        self.procs[s.name] = (s, proc)

    def finished(self) -> list[RunStatus]:
        done = []
        for name, (s, proc) in list(self.procs.items()):
            if proc.poll() is not None:
                s.returncode = proc.returncode
                del self.procs[name]
                done.append(s)
        return done

    def stop(self) -> None:
        for _, proc in self.procs.values():
            proc.send_signal(signal.SIGINT)
        for _, proc in self.procs.values():
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()

    def close(self) -> None:
        for _, proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()


def _ray_worker(run_dir: str, cfg_json: str, log: str) -> int:
    """Body of a Ray task: the same worker process as locally, on whichever node Ray placed the task."""
    with open(log, "a") as fh:
        cmd = [sys.executable, "-m", "promp.experiments.campaign", run_dir, cfg_json]
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=worker_env()).returncode


class _RayBackend:
    """One Ray task per run (``num_cpus=1``); the run directories must be on a filesystem every node sees."""

    def __init__(self, address: str, parallel: int | None) -> None:
        import ray

        self.ray = ray
        self.owned = not ray.is_initialized()  # started here: shut down again at the end
        if self.owned:
            if address == "local":
                ray.init(num_cpus=parallel or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        self.remote = ray.remote(num_cpus=1, max_retries=0)(_ray_worker)
        self.parallel = parallel or max(1, int(ray.cluster_resources().get("CPU", 1)))  # default: every CPU of the cluster
        self.tasks: dict[Any, RunStatus] = {}

    def has_room(self) -> bool:
        return len(self.tasks) < self.parallel

    def start(self, s: RunStatus, log: Path) -> None:
        with open(log, "a") as fh:
            fh.write(f"--- attempt {s.attempts} (ray, {time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        ref = self.remote.remote(str(Path(s.run_dir).resolve()), s.cfg.to_json(), str(log.resolve()))
        self.tasks[ref] = s

    def finished(self) -> list[RunStatus]:
        if not self.tasks:
            return []
        ready, _ = self.ray.wait(list(self.tasks), num_returns=len(self.tasks), timeout=0)
        done = []
        for ref in ready:
            s = self.tasks.pop(ref)
            try:
                s.returncode = self.ray.get(ref)
            except Exception as exc:  # the task itself died (node lost, ...): retried like a crash
                s.returncode = -1
                s.error = str(exc).splitlines()[0]
            done.append(s)
        return done

    def stop(self) -> None:
        for ref in list(self.tasks):
            self.ray.cancel(ref)

    def close(self) -> None:
        for ref in list(self.tasks):
            self.ray.cancel(ref, force=True)
        if self.owned:
            self.ray.shutdown()


class _LiveTable:
    """A rich live table of the runs (terminal), or one line per change of state (log files)."""

    def __init__(self, status: list[RunStatus], live: bool, slots: int, host: str | None) -> None:
        self.status, self.live, self.seen, self.slots, self.host = status, live, {}, slots, host
        self._live = None
        self.last_report = time.time()

    def read(self) -> tuple[list[list[dict]], list[list[bool]] | None]:
        """Every run's progress rows and which of them this kind of machine wrote (``rows_here``; ``None``
        when the machine is not known, as on a Ray cluster, where each run may be on any node)."""
        progress = [s.progress() for s in self.status]
        if self.host is None:
            return progress, None
        return progress, [rows_here(RunDir(s.run_dir).read_versions(), len(rows), self.host)
                          for s, rows in zip(self.status, progress)]

    def __enter__(self) -> "_LiveTable":
        if self.live:
            from rich.live import Live

            self._live = Live(self.render(), refresh_per_second=1, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.update(self.render())
            self._live.__exit__(*exc)

    def render(self) -> Any:
        from rich.table import Table

        progress, here = self.read()
        table = Table(title="campaign", caption=campaign_line(self.status, self.slots, progress, here), show_lines=False)
        for col in ("run", "state", "iteration", "return_post", "ETA"):
            table.add_column(col, justify="left" if col in ("run", "state") else "right")
        for row in summary_rows(self.status, progress, here):
            table.add_row(*row)
        return table

    def update(self) -> None:
        if self._live is not None:
            self._live.update(self.render())
            return
        for s in self.status:  # non-terminal: one line per change of state, and the running runs once a minute
            key = (s.state, s.attempts)
            if self.seen.get(s.name) != key:
                self.seen[s.name] = key
                if s.state == "pending" and s.attempts == 0:
                    continue
                extra = f" ({s.error})" if s.error and s.state in ("pending", "failed") else ""
                print(f"{s.name}: {s.state}, attempt {s.attempts}{extra}", flush=True)
        if time.time() - self.last_report >= 60:
            self.last_report = time.time()
            progress, here = self.read()
            for name, state, iteration, ret, eta in summary_rows(self.status, progress, here):
                if state.startswith("running"):
                    alert = state[state.index("["):] if "[" in state else ""
                    print(f"  {name}: iteration {iteration}, return_post {ret}, ETA {eta}{' ' + alert if alert else ''}",
                          flush=True)
            print(f"  {campaign_line(self.status, self.slots, progress, here)}", flush=True)

    def print_final(self) -> None:
        if self._live is None:
            self.update()
            print(f"campaign: {state_counts(self.status, ('done', 'finished before', 'failed'), zeros=True)}", flush=True)


def state_counts(status: list[RunStatus], states: tuple[str, ...], zeros: bool = False) -> str:
    """``"N state, ..."`` for ``states`` in order (those with no run left out unless ``zeros``)."""
    counts = {state: sum(s.state == state for s in status) for state in states}
    return ", ".join(f"{n} {state}" for state, n in counts.items() if n or zeros)


def iteration_seconds(rows: list[dict]) -> float | None:
    """Median ``time_iteration`` of progress ``rows`` (``None`` without any): an iteration that waited (a
    paused or suspended worker) or compiled does not move it, as it would move a mean."""
    times = sorted(float(r["time_iteration"]) for r in rows if "time_iteration" in r)
    return times[len(times) // 2] if times else None


def run_alert(rows: list[dict]) -> str:
    """What a run's last progress rows say is wrong, for the campaign's table ("" if nothing): the outer-update
    guard kept no step in the last ``STALL_WARN_AFTER`` or more rows (stalled: the policy does not learn), or
    the last row is flagged ``diverged`` (``promp.monitor``). A worker warns of both in its own log only."""
    from ..monitor import STALL_WARN_AFTER

    stalled = 0
    for row in reversed(rows):
        if "adam_steps" not in row or int(row["adam_steps"]) != 0:
            break
        stalled += 1
    if stalled >= STALL_WARN_AFTER:
        return f"stalled: the KL guard kept no outer step in the last {stalled} iterations"
    if rows and int(rows[-1].get("diverged", 0)):
        return "diverged: return fell while the KL exploded"
    return ""


def rows_here(records: list[dict], n_rows: int, here: str | None) -> list[bool]:
    """For each of a run's first ``n_rows`` progress rows (row i is iteration i), whether a machine of kind
    ``here`` (``promp.versions.host``) wrote it: the row belongs to the last of the run's versions.json
    ``records`` (oldest first) that started at or before it. A row of a record without the CPU model (written
    before promp recorded it), or before any record, is not this machine's."""
    flags = [False] * n_rows
    for record in records:
        start = max(0, int(record.get("started_at_iteration", 0)))
        flags[start:] = [here is not None and host(record) == here] * max(0, n_rows - start)
    return flags


MIN_ROWS = 5
"""A run's iteration time is taken from this machine's rows once it has this many (a resumed run's first
iteration here also compiles); before, from the other machines' rows scaled by ``host_speed``."""

SPEED_WINDOW = 20
"""``host_speed`` compares this machine's rows with the other machines' rows of the same cell at most this many
iterations before or after them (iterations get longer as policies learn to stay up)."""


def host_speed(status: list[RunStatus], progress: list[list[dict]], here: list[list[bool]]) -> float | None:
    """How many times longer an iteration takes on this machine than on the machines that wrote the campaign's
    other rows: the median, over the (env, algorithm) cells with ``MIN_ROWS`` rows of this machine and as many
    of the others within ``SPEED_WINDOW`` iterations of them, of the ratio of their median iteration times
    (``None`` without such a cell)."""
    cells: dict[tuple[str, str], tuple[list[tuple[int, dict]], list[tuple[int, dict]]]] = {}
    for s, rows, flags in zip(status, progress, here):
        mine, other = cells.setdefault((s.cfg.env, s.cfg.algo), ([], []))
        for i, (row, flag) in enumerate(zip(rows, flags)):
            (mine if flag else other).append((i, row))
    ratios = []
    for mine, other in cells.values():
        if len(mine) < MIN_ROWS:
            continue
        lo, hi = min(i for i, _ in mine) - SPEED_WINDOW, max(i for i, _ in mine) + SPEED_WINDOW
        near = [row for i, row in other if lo <= i <= hi]
        a, b = iteration_seconds([row for _, row in mine]), iteration_seconds(near)
        if len(near) >= MIN_ROWS and a is not None and b:
            ratios.append(a / b)
    ratios.sort()
    return ratios[len(ratios) // 2] if ratios else None


def _run_seconds(rows: list[dict], flags: list[bool], speed: float | None) -> float | None:
    """Median iteration time of a run's recent ``rows`` on this machine: its rows of this machine (``flags``)
    if there are ``MIN_ROWS`` or no others, else the others' times times ``speed`` (unscaled if unknown)."""
    mine = [r for r, f in zip(rows, flags) if f]
    other = [r for r, f in zip(rows, flags) if not f]
    if len(mine) >= MIN_ROWS or not other:
        return iteration_seconds(mine)
    seconds = iteration_seconds(other)
    return seconds * speed if seconds is not None and speed is not None else seconds


def _pool_seconds(rows: list[dict], flags: list[bool], speed: float | None) -> float | None:
    """Median iteration time on this machine over the rows of several runs: other machines' times scaled by
    ``speed``, or every row alike where it is unknown."""
    if speed is None:
        return iteration_seconds(rows)
    times = sorted(float(r["time_iteration"]) * (1.0 if f else speed) for r, f in zip(rows, flags) if "time_iteration" in r)
    return times[len(times) // 2] if times else None


def iteration_costs(status: list[RunStatus], progress: list[list[dict]],
                    here: list[list[bool]] | None = None) -> list[float | None]:
    """Each unfinished run's expected seconds per iteration on this machine (``None``: finished, failed, or
    no run to cost it from). A run with progress: the median of its last 20 iterations; a run not started
    yet: the median over the campaign's runs of its (env, algorithm) with progress, else over those of its
    env (whole runs: iterations get longer as policies learn to stay up). ``here`` flags the rows this kind
    of machine wrote (``rows_here``; ``None``: all of them); rows of other machines count scaled by
    ``host_speed``, so a campaign resumed on a faster machine is not costed at the old one's times. Only the
    runs in ``status`` count: a command given part of a grid knows no other."""
    here = [[True] * len(rows) for rows in progress] if here is None else here
    speed = host_speed(status, progress, here)
    by_cell: dict[tuple[str, str], tuple[list[dict], list[bool]]] = {}
    by_env: dict[str, tuple[list[dict], list[bool]]] = {}
    for s, rows, flags in zip(status, progress, here):
        for pool in (by_cell.setdefault((s.cfg.env, s.cfg.algo), ([], [])), by_env.setdefault(s.cfg.env, ([], []))):
            pool[0].extend(rows)
            pool[1].extend(flags)
    out: list[float | None] = []
    for s, rows, flags in zip(status, progress, here):
        if s.state not in ("pending", "running") or len(rows) >= s.cfg.iterations:
            out.append(None)
        elif rows:
            out.append(_run_seconds(rows[-20:], flags[-20:], speed))
        else:
            out.append(_pool_seconds(*by_cell[(s.cfg.env, s.cfg.algo)], speed)
                       or _pool_seconds(*by_env[s.cfg.env], speed))
    return out


def summary_rows(status: list[RunStatus], progress: list[list[dict]] | None = None,
                 here: list[list[bool]] | None = None) -> list[tuple[str, str, str, str, str]]:
    """``(run, state, iteration, return_post, ETA)`` per run, from its progress.csv (``progress``: the rows
    of every run, read here when not given). A running run's ETA: its remaining iterations at its
    ``iteration_costs`` (``here``: as there). The state of a running run carries its ``run_alert``, if any."""
    progress = [s.progress() for s in status] if progress is None else progress
    costs = iteration_costs(status, progress, here)
    out = []
    for s, rows, seconds in zip(status, progress, costs):
        done = len(rows)
        ret = f"{float(rows[-1]['return_post']):.4g}" if rows else "-"
        eta = "-"
        if s.state == "running" and rows and seconds is not None:
            eta = _duration(max(0, s.cfg.iterations - done) * seconds)
        state = s.state + (f" (attempt {s.attempts})" if s.attempts > 1 and s.state != "done" else "")
        alert = run_alert(rows) if s.state == "running" else ""
        state += f" [{alert}]" if alert else ""
        out.append((s.name, state, f"{done}/{s.cfg.iterations}", ret, eta))
    return out


def remaining_work(status: list[RunStatus], progress: list[list[dict]],
                   here: list[list[bool]] | None = None) -> tuple[float, int]:
    """Core-seconds of training the campaign has left, and how many unfinished runs it could not cost yet:
    each pending or running run's remaining iterations at its ``iteration_costs`` (``here``: as there).
    Finished and failed runs cost nothing."""
    total, uncosted = 0.0, 0
    for s, rows, seconds in zip(status, progress, iteration_costs(status, progress, here)):
        if s.state not in ("pending", "running") or len(rows) >= s.cfg.iterations:
            continue
        if seconds is None:
            uncosted += 1
        else:
            total += (s.cfg.iterations - len(rows)) * seconds
    return total, uncosted


def campaign_line(status: list[RunStatus], slots: int, progress: list[list[dict]],
                  here: list[list[bool]] | None = None) -> str:
    """One line on the whole campaign: runs per state, the work left (``remaining_work``, ``here`` as there)
    and the time it takes with ``slots`` runs at once (a lower bound: the last runs may leave slots idle)."""
    line = "campaign: " + state_counts(status, ("done", "finished before", "running", "pending", "failed"))
    seconds, uncosted = remaining_work(status, progress, here)
    if seconds > 0:
        line += f"; about {seconds / 3600:.1f} core-hours left, ETA {_duration(seconds / max(1, slots))} at {slots} at once"
    if uncosted:
        runs, their = ("runs", "their") if uncosted > 1 else ("run", "its")
        line += f" ({uncosted} {runs} not costed yet: no run of {their} env in this campaign has progress)"
    return line


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def worker_main(argv: list[str]) -> int:
    """``python -m promp.experiments.campaign RUN_DIR CONFIG_JSON``: train (or resume) one run, quietly, with
    the compilation cache the ``promp`` command uses (a resumed run, or another seed of the same config, reads
    its compiled programs instead of compiling them again)."""
    from ..threads import configure_compilation_cache, configure_threads

    configure_threads()
    configure_compilation_cache()
    from ..trainer import train

    run_dir, cfg_json = Path(argv[0]), argv[1]
    try:
        cfg = TrainConfig.from_json(json.loads(cfg_json), "campaign config")
        run = RunDir(run_dir)
        if run.has_config():
            run.read_config()  # a corrupt or edited config.json: one line naming it, not a traceback
        train(cfg, run_dir, resume=run.has_config(), progress=False)
    except KeyboardInterrupt:
        print(f"campaign worker: interrupted; {run_dir} resumes from its last checkpoint", flush=True)
        return 130
    except Exception as exc:  # the log's last line is what the scheduler reports; retried, then reported failed
        traceback.print_exc(file=sys.stdout)
        print(f"campaign worker: error: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
