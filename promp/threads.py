"""Explicit thread settings, applied before numpy/JAX are imported (DESIGN.md: never oversubscribe).

BLAS/OpenMP pools are pinned to one thread (numpy work here is small and MuJoCo/XLA own the cores).
XLA uses ``PROMP_XLA_THREADS`` threads (default: all cores); set it to 1 to keep XLA on one core.
"""

from __future__ import annotations

import os

BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def configure_threads() -> dict[str, str]:
    """Set BLAS pools to 1 thread and XLA's intra-op pool from ``PROMP_XLA_THREADS``; returns the settings."""
    for var in BLAS_VARS:
        os.environ.setdefault(var, "1")
    xla = os.environ.get("PROMP_XLA_THREADS")
    if xla and "XLA_FLAGS" not in os.environ:
        n = int(xla)
        multi = "true" if n > 1 else "false"
        os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={n}"
    return thread_settings()


def thread_settings() -> dict[str, str]:
    """The thread-related settings in effect (for reports next to every speed figure)."""
    return {
        "cpu_count": str(os.cpu_count()),
        "blas_threads": os.environ.get("OMP_NUM_THREADS", "default"),
        "xla_threads": os.environ.get("PROMP_XLA_THREADS", f"default ({os.cpu_count()})"),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
    }
