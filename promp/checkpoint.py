"""Checkpoints: arrays in safetensors, everything else in JSON, both written atomically. No pickle.

A checkpoint after iteration ``i`` is ``checkpoints/itr_<i>.safetensors`` plus ``itr_<i>.json``; the
JSON is written last and records the SHA-256 of the array file, so a checkpoint is complete iff its
JSON exists and the hash matches. Loading checks format version, env id, shapes and hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import jax
import numpy as np
from safetensors.numpy import load_file, save

from . import __version__
from .algorithms.base import PenaltyState
from .atomic import atomic_write_bytes, atomic_write_text
from .config import ConfigError
from .learner import MetaLearner, RunState
from .rundir import RunDir, checkpoint_name, intact_checkpoint_hint, list_checkpoints

FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, truncated, corrupt, or belongs to another version or env."""


def _flatten(prefix: str, tree: Any) -> dict[str, np.ndarray]:
    leaves = jax.tree_util.tree_leaves(tree)
    return {f"{prefix}/{i:04d}": np.asarray(leaf) for i, leaf in enumerate(leaves)}


def save_checkpoint(ckpt_dir: Path, iteration: int, params: dict, opt_state: Any, meta: dict[str, Any]) -> Path:
    """Save the state after ``iteration`` (0-based); ``meta`` is JSON-able (RNG state, counters)."""
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    arrays = {f"params/{k}": np.asarray(v) for k, v in params.items()}
    arrays.update(_flatten("opt", opt_state))
    tensors_path = ckpt_dir / f"{checkpoint_name(iteration)}.safetensors"
    blob = save(arrays)  # the bytes save_file would write; written by atomic_write_bytes (OSError, no temp file left)
    digest = hashlib.sha256(blob).hexdigest()
    atomic_write_bytes(tensors_path, blob)
    record = {"format_version": FORMAT_VERSION, "iteration": iteration, "tensors": tensors_path.name, "sha256": digest, **meta}
    json_path = ckpt_dir / f"{checkpoint_name(iteration)}.json"
    atomic_write_text(json_path, json.dumps(record, indent=1))
    return json_path


def prune_checkpoints(ckpt_dir: Path, keep_every: int, keep_last: int = 2, keep: tuple[int, ...] = ()) -> None:
    """Delete checkpoints except the last ``keep_last``, every ``keep_every``-th (by iteration+1) and those in ``keep``."""
    its = list_checkpoints(ckpt_dir)
    for it in its[:-keep_last] if keep_last else its:
        if (it + 1) % keep_every != 0 and it not in keep:
            for suffix in (".json", ".safetensors"):
                (ckpt_dir / f"{checkpoint_name(it)}{suffix}").unlink(missing_ok=True)


def load_checkpoint(ckpt_dir: Path, params_template: dict, opt_template: Any, iteration: int | None = None, env: str | None = None):
    """Load ``(params, opt_state, meta)`` of ``iteration`` (default: the latest) and validate it."""
    its = list_checkpoints(ckpt_dir)
    if not its:
        raise CheckpointError(f"no checkpoint found in {ckpt_dir}")
    if iteration is None:
        iteration = its[-1]
    elif iteration not in its:
        raise CheckpointError(
            f"no checkpoint for iteration {iteration} in {ckpt_dir}; available: {', '.join(map(str, its))} "
            "(the last two and every keep_checkpoint_every-th are kept)"
        )
    json_path = ckpt_dir / f"{checkpoint_name(iteration)}.json"
    try:
        meta = json.loads(json_path.read_text())
        tensors_path = ckpt_dir / meta["tensors"]
        blob = tensors_path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {json_path} is unreadable or corrupt ({exc.__class__.__name__}: {exc})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {json_path} has format version {meta.get('format_version')!r}; this promp reads {FORMAT_VERSION}")
    if env is not None and meta.get("env") != env:
        raise CheckpointError(f"checkpoint {json_path} is for env {meta.get('env')!r}, not {env!r}")
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise CheckpointError(f"checkpoint {tensors_path} is truncated or corrupt (SHA-256 mismatch)")
    try:
        arrays = load_file(str(tensors_path))
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(f"checkpoint {tensors_path} cannot be parsed: {exc}") from None
    params = {}
    for name, template in params_template.items():
        value = arrays.get(f"params/{name}")
        if value is None or value.shape != np.shape(template):
            raise CheckpointError(f"checkpoint {tensors_path} does not match the policy (parameter {name})")
        params[name] = value
    legacy = isinstance(opt_template, PenaltyState) and "eta" in meta
    if legacy:  # written before the KL coefficients moved from the JSON into the optimiser state
        opt_template = opt_template.optimizer
    leaves, treedef = jax.tree_util.tree_flatten(opt_template)
    restored = []
    for i, leaf in enumerate(leaves):
        value = arrays.get(f"opt/{i:04d}")
        if value is None or value.shape != np.shape(leaf):
            raise CheckpointError(f"checkpoint {tensors_path} does not match the optimiser state (leaf {i})")
        restored.append(value)
    opt_state = jax.tree_util.tree_unflatten(treedef, restored)
    if legacy:
        opt_state = PenaltyState(opt_state, np.asarray(meta["eta"], dtype=np.float64))
    return params, opt_state, meta


def checkpoint_meta(cfg: Any, state: Any) -> dict[str, Any]:
    """The JSON-able part of a ``RunState`` (and what produced it) that a checkpoint records."""
    return {
        "promp_version": __version__,
        "env": cfg.env,
        "algo": cfg.algo,
        "env_steps": state.env_steps,
        "nonfinite_streak": state.nonfinite_streak,
        "rng": state.rng.bit_generator.state,
    }


def restore_state(learner: Any, run_dir: Path, iteration: int | None = None):
    """Rebuild the ``RunState`` saved in ``run_dir``'s checkpoint (default: the latest) for ``learner``."""
    template = learner.init_state()
    ckpt_dir = RunDir(run_dir).checkpoint_dir

    def load(it: int | None):
        return load_checkpoint(ckpt_dir, template.params, template.opt_state, it, env=learner.cfg.env)

    try:
        params, opt_state, meta = load(iteration)
    except CheckpointError as exc:
        its = list_checkpoints(ckpt_dir)
        if iteration is not None or not its:
            raise
        raise CheckpointError(f"{exc}{intact_checkpoint_hint(ckpt_dir, its, its[-1], load)}") from None
    rng = np.random.Generator(np.random.PCG64())
    try:
        rng.bit_generator.state = meta["rng"]
        return RunState(params, opt_state, rng, int(meta["iteration"]) + 1, int(meta["env_steps"]), int(meta.get("nonfinite_streak", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint in {run_dir} has invalid metadata ({exc})") from None


@dataclasses.dataclass
class LoadedRun:
    """A run's config, a learner built from it (possibly with overrides) and the checkpoint's policy."""

    run_dir: Path
    cfg: Any  # TrainConfig (with overrides applied)
    learner: Any  # MetaLearner
    params: Any  # policy parameters of the checkpoint
    iteration: int  # iteration (as in progress.csv) after which the checkpoint was written


def load_run(run_dir: str | Path, checkpoint: int | str | None = None, env_kwargs: dict[str, Any] | None = None,
             **overrides: Any) -> LoadedRun:
    """Load ``run_dir``'s config and the policy of checkpoint ``checkpoint`` (an iteration, ``"best"`` or
    ``"latest"``; default: the latest).

    ``overrides`` replace config fields (e.g. ``rollouts_per_task``) for the learner that is
    returned; they do not change the policy's shape. ``env_kwargs`` are merged over the run's env
    arguments (e.g. ``{"split": "test"}``: a Meta-World env's held-out goals).
    """
    run = RunDir(run_dir)
    run_dir = run.path
    cfg = run.read_config()
    try:
        checkpoint = run.resolve_checkpoint(checkpoint)
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
    if env_kwargs:
        overrides["env_kwargs"] = {**cfg.env_kwargs, **env_kwargs}
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})  # checked again
    try:
        learner = MetaLearner(cfg)
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot build env {cfg.env!r} of {run_dir}: {exc}") from None
    try:
        state = restore_state(learner, run_dir, checkpoint)
    except BaseException:
        learner.env.close()
        raise
    return LoadedRun(run_dir, cfg, learner, state.params, state.iteration - 1)
