"""What one ``promp reproduce NAME`` run is given: its options, the experiment's description, and
the setup of a scale with the command line's overrides applied."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Optional

from ..config import ConfigError

OVERRIDABLE = ("convention", "score_raw_action", "iterations", "meta_batch_size", "rollouts_per_task", "algos", "envs")
"""Setup fields the command line may set (``--convention`` ... ``--envs``), in the order they are checked."""
RUN_OPTIONS = ("parallel", "ray_address", "report_only")
"""Options of how a grid experiment runs (not part of its setup): ``--parallel``, ``--ray-address``, ``--report-only``."""


@dataclasses.dataclass(frozen=True)
class ReproduceOptions:
    """Options common to every experiment, plus experiment-specific ones (``None`` = not given)."""

    scale: str  # "quick", "medium" or "full" (``Experiment.scales`` says which an experiment offers)
    out: Path
    seeds: tuple[int, ...]
    convention: Optional[str] = None  # formulation only
    iterations: Optional[int] = None  # not formulation: overrides the scale's number of iterations
    score_raw_action: bool = False  # formulation only
    meta_batch_size: Optional[int] = None  # not formulation: overrides the scale's tasks per iteration
    rollouts_per_task: Optional[int] = None  # not formulation: overrides the scale's rollouts per task
    algos: Optional[tuple[str, ...]] = None  # not formulation: run only these of the experiment's algorithms
    envs: Optional[tuple[str, ...]] = None  # figure2: run only these of the experiment's envs
    parallel: Optional[int] = None  # figure2: worker processes at once (default: the core count)
    ray_address: Optional[str] = None  # figure2: run the workers as Ray tasks ("auto", "host:port" or "local")
    report_only: bool = False  # figure2: only aggregate what the run directories hold


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One paper experiment as the command sees it: ``setups`` (scale -> setup dataclass), the default
    ``seeds`` per scale, the setup fields the command line may override (``flags``, a subset of
    ``OVERRIDABLE``) and the runner ``run(opts)`` that computes, writes and prints everything."""

    name: str
    setups: dict[str, Any]
    seeds: dict[str, tuple[int, ...]]
    flags: tuple[str, ...]
    run: Callable[[ReproduceOptions], None]

    def __post_init__(self) -> None:
        setup_type = type(next(iter(self.setups.values())))
        for flag in self.flags:
            if flag in RUN_OPTIONS:
                continue
            if flag not in OVERRIDABLE or not hasattr(setup_type, flag):
                raise TypeError(f"{self.name}: --{flag.replace('_', '-')} is not an overridable field of {setup_type.__name__}")

    @property
    def scales(self) -> tuple[str, ...]:
        """The scales offered (``quick``, maybe ``medium``, ``full``)."""
        return tuple(self.setups)


def scaled_setup(setups: dict, opts: ReproduceOptions, setup: Any = None) -> Any:
    """The experiment's setup for ``opts.scale`` (or ``setup``) with the command line's overrides
    (``--iterations``, ``--meta-batch-size``, ``--rollouts-per-task``, ``--algos``, ``--convention``,
    ``--score-raw-action``) applied, validated. A longer run also averages its "final" numbers over
    more iterations: ``tail`` becomes at least a tenth of the run."""
    setup = setup or setups[opts.scale]
    if opts.iterations:
        setup = dataclasses.replace(setup, iterations=opts.iterations)
        if hasattr(setup, "tail"):
            setup = dataclasses.replace(setup, tail=max(setup.tail, opts.iterations // 10))
    for name in ("meta_batch_size", "rollouts_per_task", "convention"):
        if getattr(opts, name) is not None:
            setup = dataclasses.replace(setup, **{name: getattr(opts, name)})
    if opts.score_raw_action:
        setup = dataclasses.replace(setup, score_raw_action=True)
    if opts.envs:  # a setup may offer more than its scale runs by default (``KNOWN_ENVS``)
        known = getattr(type(setup), "KNOWN_ENVS", setup.envs)
        unknown = [e for e in opts.envs if e not in known]
        if unknown:
            raise ConfigError(f"--envs {' '.join(unknown)}: not in this experiment; it has {' '.join(known)}")
        setup = dataclasses.replace(setup, envs=tuple(e for e in known if e in opts.envs))
    if opts.algos:
        known = getattr(type(setup), "KNOWN_ALGOS", setup.algos)
        unknown = [a for a in opts.algos if a not in known]
        if unknown:
            raise ConfigError(f"--algos {' '.join(unknown)}: not in this experiment; it runs {' '.join(known)}")
        if hasattr(type(setup), "KNOWN_ALGOS"):
            setup = dataclasses.replace(setup, algos=tuple(a for a in known if a in opts.algos))
        elif hasattr(setup, "panels"):  # learning-curves: keep the panels that still hold an algorithm
            panels = tuple(tuple(a for a in panel if a in opts.algos) for panel in setup.panels)
            setup = dataclasses.replace(setup, panels=tuple(p for p in panels if p))
        else:
            setup = dataclasses.replace(setup, algos=tuple(a for a in setup.algos if a in opts.algos))
    try:
        setup.validate()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return setup
