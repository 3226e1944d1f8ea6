"""The tests run with the thread and device settings of the ``promp`` command (``promp.threads``): BLAS
pinned to one thread, XLA's pool and JAX's CPU devices from ``PROMP_XLA_THREADS`` or the core count, so
on a multi-core machine the learner spreads tasks over devices here as it does for users."""

import jax
import pytest

from promp.threads import configure_threads

configure_threads()


@pytest.fixture(scope="module")
def quick_compiles():
    """XLA without most of its optimisation passes for one test module (``jax_disable_most_optimizations``:
    LLVM at -O0), for modules whose time is compiling many small float64 programs that run once, such as
    the derivative checks. Same mathematics; the compiled programs are dropped afterwards
    (``jax.clear_caches``), so later modules in the process compile theirs with the usual settings."""
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", False)
    jax.clear_caches()


@pytest.fixture(scope="module")
def quick_compiles_in_workers():
    """``quick_compiles`` for the worker processes a test module starts (campaign workers, Ray tasks): they
    inherit ``JAX_DISABLE_MOST_OPTIMIZATIONS=1``. Only for modules that compare worker numbers with worker
    numbers, since -O0 programs may round differently from the optimised ones the module's own process runs."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
        yield
