"""The tests run with the thread and device settings of the ``promp`` command (``promp.threads``): BLAS
pinned to one thread, XLA's pool and JAX's CPU devices from ``PROMP_XLA_THREADS`` or the core count, so
on a multi-core machine the learner spreads tasks over devices here as it does for users."""

from promp.threads import configure_threads

configure_threads()
