"""The training loop: iterate, log, checkpoint, stop on a signal, show progress.

What the files of a run directory are called and how they are read and written is
``promp.rundir`` (``RunDir``); checkpoints are ``promp.checkpoint``. ``train`` starts or resumes a
run: it checks everything that can fail on bad input, locks the run directory, prepares it and hands
over to ``run_training``, the loop on a prepared, locked run directory; each completed iteration's progress row and checkpoint are written as one step that a
SIGINT/SIGTERM does not cut in half, and a resumed run reproduces an uninterrupted run's numbers.
"""

from __future__ import annotations

import contextlib
import gc
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from tensorboardX import SummaryWriter

from .checkpoint import checkpoint_meta, prune_checkpoints, restore_state, save_checkpoint
from .config import ConfigError, TrainConfig
from .interrupts import set_note
from .learner import MetaLearner, NonFiniteUpdateError, RunState, check_memory
from .monitor import ReturnMonitor, load_monitor
from .plotting import plot_learning_curve, save_figure_atomically
from .rundir import RunDir, RunDirError
from .rundir_lock import hold_directory_lock
from .versions import differences, environment_record


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training between iterations; the message says what is saved and how
    to resume, ``signum`` which signal it was (the CLI exits with ``128 + signum``)."""

    def __init__(self, message: str = "", signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _inside_gc_callback(frame: Any) -> bool:
    """Whether ``frame`` (or a caller) is a garbage-collector callback, e.g. JAX's, where an exception
    is printed as "Exception ignored in ..." with a traceback and then swallowed."""
    codes = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


class _InterruptGuard:
    """SIGINT/SIGTERM handler for the training loop: stop at once (the iteration in progress is
    discarded), except inside ``critical()`` (writing a progress row and a checkpoint), where the stop
    is deferred to the end of the block. Does nothing outside the main thread."""

    def __init__(self) -> None:
        self._critical = False
        self._pending: int | None = None
        self.requested: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_InterruptGuard":
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handler) for sig in _STOP_SIGNALS}
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = signum  # remembered in case the exception below is swallowed by a C callback
        if self._critical:
            self._pending = signum
        elif not _inside_gc_callback(frame):  # there Python would print the exception and drop it;
            raise TrainingInterrupted(signum=signum)  # ``requested`` stops the loop after the iteration

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        """A block that SIGINT/SIGTERM do not cut in half."""
        self._critical = True
        try:
            yield
        finally:
            self._critical = False
        if self._pending is not None:
            signum, self._pending = self._pending, None
            raise TrainingInterrupted(signum=signum)


class RunLogger:
    """progress.csv (through ``RunDir``) + TensorBoard + console output for one run directory."""

    def __init__(self, run: RunDir, start_iteration: int, console: Console) -> None:
        self.run = run
        self.rows = run.truncate_progress(start_iteration)
        self.columns: list[str] = list(self.rows[0]) if self.rows else []
        self.writer = SummaryWriter(str(run.tb_dir), purge_step=start_iteration)
        self.console = console

    def log(self, row: dict[str, float]) -> None:
        """Append one iteration's row (a half-written last line is repaired on resume)."""
        if not self.columns or not set(row) <= set(self.columns):  # first row, or new columns (after a skipped row)
            self.columns += [k for k in row if k not in self.columns]
            self.rows.append(row)
            self.run.write_progress(self.rows, self.columns)
        else:
            self.rows.append(row)
            self.run.append_progress(row, self.columns)
        step = int(row["iteration"])
        for key, value in row.items():
            if key != "iteration" and np.isfinite(value):  # NaN/inf rows are in progress.csv and warned about
                self.writer.add_scalar(key, value, step)
        self.writer.flush()

    def close(self) -> None:
        """Close the TensorBoard writer."""
        self.writer.close()


def run_training(learner: MetaLearner, state: RunState, run: RunDir, console: Console, progress: bool) -> list[dict]:
    """Train from ``state`` to ``cfg.iterations`` in ``run`` (prepared and locked by the caller) and
    draw ``learning_curve.png`` at the end, also when stopped; returns all progress rows."""
    cfg = learner.cfg
    run_dir = run.path
    set_note(f"stopped before iteration {state.iteration} completed; continue with: promp train --resume {run_dir}")
    try:
        logger = RunLogger(run, state.iteration, console)
        monitor = load_monitor(run.checkpoint_dir, state.iteration - 1) if state.iteration else ReturnMonitor()
        with _InterruptGuard() as guard:
            failed = False
            try:
                _loop(learner, state, run, logger, console, progress, guard, monitor)
            except BaseException:
                failed = True
                raise
            finally:
                with guard.critical():
                    logger.close()
                    if logger.rows:
                        title = f"{cfg.algo} on {cfg.env} (seed {cfg.seed})"
                        try:
                            save_figure_atomically(run.curve_path, lambda p: plot_learning_curve(logger.rows, p, title))
                        except OSError:
                            if not failed:  # else the error already on its way (e.g. disk full) is the one to report
                                raise
        return logger.rows
    finally:
        set_note(None)


def _loop(learner: MetaLearner, state: RunState, run: RunDir, logger: RunLogger, console: Console, progress: bool,
          guard: _InterruptGuard, monitor: ReturnMonitor) -> None:
    """Iterate until ``cfg.iterations``; each completed iteration is logged and checkpointed as one
    uninterruptible step, so a kill, SIGINT or SIGTERM loses at most the iteration in progress; stop
    (``NonFiniteUpdateError``) after ``max_nonfinite_updates`` skipped updates in a row."""
    cfg = learner.cfg
    run_dir, ckpt_dir = run.path, run.checkpoint_dir
    total = cfg.iterations
    interactive = progress and console.is_terminal
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    ]
    with Progress(*columns, console=console, disable=not interactive) as bar:
        task = bar.add_task(f"{cfg.algo} {cfg.env}", total=total, completed=state.iteration, status="")
        started = (time.monotonic(), state.iteration)
        try:
            while state.iteration < total:
                new_state, row = learner.iteration(state)
                stop = learner.nonfinite_stop(new_state)
                if guard.requested is not None:  # a stop signal arrived but its exception was swallowed
                    raise TrainingInterrupted(signum=guard.requested)
                row.update(monitor.update(row, cfg.guard_kl))
                with guard.critical():
                    state = new_state
                    logger.log(row)
                    meta = {**checkpoint_meta(cfg, state), "monitor": monitor.to_meta()}
                    save_checkpoint(ckpt_dir, state.iteration - 1, state.params, state.opt_state, meta)
                    monitor.write_best(ckpt_dir)
                    prune_checkpoints(ckpt_dir, cfg.keep_checkpoint_every, keep=monitor.keep())
                if row["diverged"]:
                    _warn_divergence(console, row, monitor, run_dir)
                if monitor.stall_warning_due():
                    console.print(
                        f"[yellow]warning:[/] iteration {int(row['iteration'])}: the KL guard has rejected every outer step for "
                        f"{monitor.stalled} iterations, so the policy is not learning; lower --outer-lr, or continue from the best "
                        f"policy (promp eval {run_dir} --checkpoint best)", highlight=False, soft_wrap=True)
                if row.get("update_skipped"):
                    reason = escape(learner.skip_reason or "NaN/inf in the outer loss or parameters")
                    console.print(
                        f"[yellow]warning:[/] iteration {int(row['iteration'])}: {reason}; "
                        f"update not applied ({state.nonfinite_streak} in a row, stop at {cfg.max_nonfinite_updates})",
                        highlight=False, soft_wrap=True,
                    )
                if stop is not None:
                    good = [int(r["iteration"]) for r in logger.rows if not r.get("update_skipped")]
                    since = f"the last applied update (iteration {good[-1]})" if good else "the initial policy (no update was applied)"
                    raise NonFiniteUpdateError(
                        f"{stop}; checkpoint {run.checkpoint_path(state.iteration - 1)} holds the parameters of {since}"
                    ) from None
                status = f"return pre {row['return_pre']:.2f} post {row['return_post']:.2f}  {row['time_iteration']:.2f}s/it"
                bar.update(task, completed=state.iteration, status=status)
                if progress and not interactive:
                    every = max(1, total // 20)
                    if state.iteration % every == 0 or state.iteration == total:
                        console.print(f"iteration {state.iteration}/{total}  env steps {int(row['env_steps'])}  {status}"
                                      f"{_eta(started, state.iteration, total)}", soft_wrap=True, highlight=False)
        except KeyboardInterrupt as exc:  # outside guard.critical(): the iteration in progress is discarded
            signum = getattr(exc, "signum", signal.SIGINT)
            raise TrainingInterrupted(_interrupt_message(state, run_dir), signum) from None


def _warn_divergence(console: Console, row: dict, monitor: ReturnMonitor, run_dir: Path) -> None:
    """Console warning for a row flagged ``diverged`` (see ``promp.monitor``)."""
    console.print(
        f"[yellow]warning:[/] iteration {int(row['iteration'])}: diverging? return_post {row['return_post']:.4g} is far below "
        f"the best smoothed return {monitor.best:.4g} while kl_pre is {row.get('kl_pre', float('nan')):.3g}"
        f"{' and the KL guard fired' if row.get('guard_fired') else ''}; the best policy is checkpoint "
        f"{monitor.best_checkpoint} (promp eval {run_dir} --checkpoint best)"
    )


def _eta(started: tuple[float, int], done: int, total: int) -> str:
    """``  ETA 1:23`` from the pace since ``started = (time, iteration)`` (empty when unknown or done)."""
    t0, first = started
    if done <= first or done >= total:
        return ""
    left = (time.monotonic() - t0) / (done - first) * (total - done)
    return f"  ETA {int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}"


def _interrupt_message(state: RunState, run_dir: Path) -> str:
    if state.iteration == 0:
        return f"stopped before the first iteration completed; start again with: promp train --resume {run_dir}"
    return (
        f"stopped; iterations 0..{state.iteration - 1} are in progress.csv and checkpointed (an iteration in "
        f"progress is discarded); continue with: promp train --resume {run_dir}"
    )


def train(cfg: TrainConfig, run_dir: Path, resume: bool = False, console: Console | None = None, progress: bool = True,
          workers: int | None = None, ray_address: str | None = None) -> list[dict]:
    """Train (or, with ``resume``, continue) the run in ``run_dir``; returns all progress rows.

    Everything that can fail on bad input (env construction, checkpoint loading, the memory
    estimate, an unwritable ``run_dir``) happens before the first file is written. The run
    directory is locked for the whole call (``promp.rundir_lock``: a second writer is refused).
    A KeyboardInterrupt (SIGINT or SIGTERM) stops after the last completed iteration's checkpoint
    and is re-raised. ``workers`` samples with that many Ray actors (``promp.distributed``; same
    numbers as without), on a local runtime or the cluster at ``ray_address``; the actors are shut
    down however training ends. The worker count is not part of the run's config.
    """
    console = console or Console(stderr=True)
    run = RunDir(run_dir)
    if not resume:
        run.check_new()
    try:
        learner = MetaLearner(cfg)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        check_memory(cfg, learner.env.obs_dim, learner.env.act_dim)
        if workers is not None:
            from .distributed import make_ray_sampler  # Ray: an optional extra

            learner.sampler.close()
            learner.sampler = make_ray_sampler(cfg.env, cfg.env_kwargs, workers, ray_address)
        with hold_directory_lock(run.path, "promp train"):
            run.remove_stale_temp_files()
            if resume:
                state = _resume_state(learner, run, console)
            else:
                state = learner.init_state()
                run.create(cfg)
            _record_versions(run, state.iteration, console)
            return run_training(learner, state, run, console, progress)
    finally:
        learner.sampler.close()
        learner.env.close()


def _record_versions(run: RunDir, iteration: int, console: Console) -> None:
    """Append this process's ``promp.versions`` record to the run's ``versions.json``; warn when a resumed
    run last ran under other versions (its numbers then agree with an uninterrupted run only to round-off)."""
    current = environment_record()
    previous = run.record_versions(current, iteration)
    changed = differences(previous, current) if previous else []
    if changed:
        console.print(f"[yellow]warning:[/] {escape(str(run.path))} was trained under other versions until iteration "
                      f"{iteration}: {escape('; '.join(changed))} (numbers agree with an uninterrupted run only to "
                      "round-off)", highlight=False, soft_wrap=True)


def _resume_state(learner: Any, run: RunDir, console: Console) -> Any:
    """Check that ``run`` can be resumed with ``learner.cfg``, update its ``config.json`` and return
    the state of its last checkpoint (the initial state if it has none yet)."""
    cfg, run_dir = learner.cfg, run.path
    checkpoints = run.checkpoints()
    run.check_resumable(checkpoints, run.read_progress(),
                        lambda msg: console.print(f"[yellow]warning:[/] {escape(msg)}", highlight=False, soft_wrap=True))
    # killed before the first checkpoint was complete: start afresh (the same numbers)
    state = restore_state(learner, run_dir) if checkpoints else learner.init_state()
    if cfg.iterations < state.iteration:
        raise RunDirError(f"{run_dir} has completed {state.iteration} iterations; --iterations {cfg.iterations} would "
                          f"shrink it (give --iterations >= {state.iteration}, or leave it out)")
    saved = json.loads(run.config_path.read_text()).get("iterations")
    if saved != cfg.iterations:
        verb = "extending" if saved is None or cfg.iterations > saved else "shortening"
        console.print(f"{verb} {run_dir} from {saved} to {cfg.iterations} iterations (config.json updated)", highlight=False,
                      soft_wrap=True)
    run.write_config(cfg)
    return state


__all__ = ["RunLogger", "TrainingInterrupted", "run_training", "train"]
