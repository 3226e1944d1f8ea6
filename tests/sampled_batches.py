"""Meta-batches sampled by the real sampler, for the derivative checks (tests/test_trpo_curvature.py,
tests/test_meta_gradient.py), and their float64 copies (``to64``).

The checks need a point away from the symmetric initialisation (zero biases, equal log-stds). It is
reached by adding N(0, 0.1^2) noise to every parameter, not by training iterations: the checks then
compile the sampler and the objectives they test, not whole outer updates. One call per argument
tuple and test process (``lru_cache``); the returned arrays are immutable.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from promp.config import resolve_config
from promp.learner import MetaLearner


@functools.lru_cache(maxsize=None)
def sampled(env: str, algo: str, inner_steps: int, seed: int, rollouts_per_task: int, horizon: int = 10):
    """``(cfg, inner_loss, params, batches)``: perturbed initial params of an (8, 8) policy and the K+1
    sampling rounds of 3 tasks taken with them, in float32 as in training."""
    cfg = resolve_config(env, algo, dict(meta_batch_size=3, rollouts_per_task=rollouts_per_task, horizon=horizon,
                                         hidden=(8, 8), seed=seed, inner_steps=inner_steps))
    with jax.enable_x64(False):
        learner = MetaLearner(cfg)
        state = learner.init_state()
        leaves, treedef = jax.tree_util.tree_flatten(state.params)
        keys = jax.random.split(jax.random.PRNGKey(seed + 1000), len(leaves))
        params = treedef.unflatten([x + 0.1 * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys)])
        tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
        batches = tuple(learner.sample_adapted(params, tasks, state.rng).batches)
        learner.env.close()
    return cfg, learner.inner_loss, params, batches


def to64(tree):
    """A float64 copy of a pytree of arrays (``None`` leaves, e.g. a batch's absent fields, stay ``None``)."""
    return jax.tree_util.tree_map(lambda x: None if x is None else jnp.asarray(x, jnp.float64), tree)
