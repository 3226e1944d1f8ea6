"""Explicit thread settings, applied before numpy/JAX are imported (docs/design.md: never oversubscribe),
and JAX's persistent compilation cache.

BLAS/OpenMP pools are pinned to one thread (numpy work here is small and MuJoCo/XLA own the cores).
XLA's CPU thread pool gets ``PROMP_XLA_THREADS`` threads (default: all cores, which the update
uses while MuJoCo's threads are idle between sampling phases). XLA sizes that pool from the
``NPROC`` environment variable (``xla::DefaultThreadPoolSize``); ``--xla_cpu_multi_thread_eigen``
alone only covers Eigen's matrix kernels.
JAX also gets one CPU device per XLA thread (``--xla_force_host_platform_device_count``), over which
``promp.task_map.map_tasks`` spreads the meta-batch's tasks, so the learner keeps every core busy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_blas_threads() -> None:
    """Set the BLAS/OpenMP pools to 1 thread unless the variables are set; effective only before numpy
    loads (``import promp`` calls it first)."""
    for var in BLAS_VARS:
        os.environ.setdefault(var, "1")


def configure_threads() -> dict[str, str]:
    """Set BLAS pools to 1 thread and XLA's CPU pool from ``PROMP_XLA_THREADS``; returns the settings.

    Call before JAX creates its CPU client (i.e. before the first array is made).
    """
    pin_blas_threads()
    xla = os.environ.get("PROMP_XLA_THREADS")
    n = os.cpu_count() or 1
    if xla:
        n = int(xla)
        if n < 1:
            raise ValueError(f"PROMP_XLA_THREADS must be >= 1, got {xla}")
        os.environ["NPROC"] = str(n)
        if "XLA_FLAGS" not in os.environ:
            os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'}"
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:  # one CPU device per XLA thread (promp.task_map)
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()
    return thread_settings()


def configure_compilation_cache() -> str | None:
    """Turn on JAX's persistent compilation cache (CPU and GPU), so a new process reuses compiled updates.

    Directory: ``PROMP_COMPILATION_CACHE`` (``off`` disables), default ``~/.cache/promp/jax``.
    Returns the directory in use, or ``None``. Cached executables are the same programs, so numbers
    do not change. Before JAX is imported this only sets JAX's own environment variables, so commands
    that never compile (``promp envs``, ``--help``) do not pay for importing JAX.
    """
    setting = os.environ.get("PROMP_COMPILATION_CACHE", str(Path.home() / ".cache" / "promp" / "jax"))
    if setting.lower() in {"off", "0", "none", ""}:
        return None
    try:
        Path(setting).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # an unwritable cache location only costs compile time
    values = {"jax_compilation_cache_dir": setting, "jax_persistent_cache_min_compile_time_secs": 0.5}
    if "jax" in sys.modules:
        for name, value in values.items():
            sys.modules["jax"].config.update(name, value)
    else:
        for name, value in values.items():
            os.environ.setdefault(name.upper(), str(value))
    return setting


def thread_settings() -> dict[str, str]:
    """The thread-related settings in effect (for reports next to every speed figure)."""
    return {
        "cpu_count": str(os.cpu_count()),
        "blas_threads": os.environ.get("OMP_NUM_THREADS", "default"),
        "xla_threads": os.environ.get("PROMP_XLA_THREADS", f"default ({os.cpu_count()})"),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "NPROC": os.environ.get("NPROC", ""),
    }
