"""Speed measurements: the functions ``promp bench`` reports and one runnable module per benchmark.

* ``measure`` -- measurement functions returning dicts (no argument parsing, no printing): the
  batched MuJoCo envs against the machine's ``mj_step`` limit, the full sampler, a meta-iteration
  split into phases, and the iteration with Ray sampler workers.

Each of the following runs as ``python -m promp.bench.<name>`` and prints its results (``--help``
for its flags):

* ``iteration`` -- seconds per meta-iteration at an env's preset, split into phases, plus the
  outer update's compile time.
* ``mujoco_throughput`` -- the batched MuJoCo sampler against the ``mj_step`` limit, for
  halfcheetah-fwd-back and ant-fwd-back.
* ``maml_trpo`` -- MAML-TRPO meta-iterations on point-nav at MAML's 2-D navigation scale.
* ``trpo_update`` -- the MAML-TRPO outer update split into gradient, conjugate gradient and line
  search, against the textbook form.
* ``promp_update`` -- ProMP's outer update at the paper preset, per Adam step, with XLA's cost analysis.
* ``ab_promp_update`` -- ProMP's outer update, this tree against another checkout, in one process.

This package imports nothing: the runnable modules apply their thread settings before they import
JAX or MuJoCo, and ``promp bench`` imports ``measure`` only when it runs.
"""
