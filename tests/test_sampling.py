"""The overlapped in-process sampler (promp.sampling.sample_overlapped): two envs holding the halves of a
round's tasks, stepped in turn, give the one-env sampler's arrays bit for bit."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from promp.config import resolve_config
from promp.envs import make_env
from promp.learner import MetaLearner
from promp.policy import init_policy
from promp.sampling import LocalSampler, broadcast_params, sample_with_seeds
from promp.streams import task_seeds

from test_streams import ScalarResetPoint


def _params(env, n_tasks, seed=0):
    return broadcast_params(init_policy(jax.random.PRNGKey(seed), env.obs_dim, env.act_dim, (16,)), n_tasks)


@pytest.mark.parametrize("env_id", ["hopper-rand-params", "halfcheetah-fwd-back", "point-momentum", "user env"])
def test_overlapped_halves_give_the_one_env_arrays(env_id):
    make = ScalarResetPoint if env_id == "user env" else (lambda: make_env(env_id))
    one, twin_a, twin_b = make(), make(), make()
    rng = np.random.default_rng(3)
    tasks = one.sample_tasks(rng, 5)  # odd: halves of 3 and 2 tasks
    params = _params(one, 5)
    horizon = 40  # hopper's random-policy episodes end early, at different steps in the two halves
    one.set_tasks(tasks, 3)
    whole = sample_with_seeds(one, params, horizon, task_seeds(np.random.default_rng(7), 5))
    overlapped = LocalSampler(twin_a, twin_b)
    overlapped.set_tasks(tasks, 3)
    assert len(twin_a.tasks) == 3 and len(twin_b.tasks) == 2
    got = overlapped.sample(params, horizon, np.random.default_rng(7))
    if env_id == "hopper-rand-params":
        assert 0 < whole.mask.mean() < 1  # some copies terminated: the halves finished at different steps
    for name in whole._fields:
        np.testing.assert_array_equal(getattr(got, name), getattr(whole, name), err_msg=name)
    single = LocalSampler(make(), make())  # one task: no split
    single.set_tasks(tasks[:1], 3)
    one.set_tasks(tasks[:1], 3)
    first = jax.tree_util.tree_map(lambda x: x[:1], params)
    assert single.env.tasks == single.tasks and single.twin.tasks == []
    np.testing.assert_array_equal(single.sample(first, 5, np.random.default_rng(2)).obs,
                                  sample_with_seeds(one, first, 5, task_seeds(np.random.default_rng(2), 1)).obs)
    overlapped.close()
    assert overlapped.twin is None


def test_training_with_the_overlapped_sampler_gives_the_same_numbers(monkeypatch):
    cfg = resolve_config("hopper-rand-params", "promp", dict(meta_batch_size=3, rollouts_per_task=2, horizon=20,
                                                            hidden=(8,), iterations=2, seed=4))
    rows = {}
    for overlap in ("0", "1"):
        monkeypatch.setenv("PROMP_SAMPLER_OVERLAP", overlap)
        learner = MetaLearner(dataclasses.replace(cfg))
        assert (learner.sampler.twin is not None) == (overlap == "1")
        state, out = learner.init_state(), []
        for _ in range(cfg.iterations):
            state, row = learner.iteration(state)
            out.append({k: v for k, v in row.items() if not k.startswith("time_")})
        learner.sampler.close()
        learner.env.close()
        rows[overlap] = out
    assert rows["0"] == rows["1"]
