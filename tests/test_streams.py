"""Per-task random streams (promp.streams): a task's numbers do not depend on the other tasks sampled with it."""

from __future__ import annotations

import jax
import numpy as np

from promp.envs import make_env
from promp.envs.point import PointMomentum
from promp.policy import init_policy
from promp.sampling import broadcast_params, sample_trajectories, sample_with_seeds
from promp.streams import TaskStreams, task_seeds, task_streams
from promp.types import Trajectories


def test_per_copy_draws_come_from_each_tasks_stream():
    seeds = task_seeds(np.random.default_rng(0), 3)
    streams = TaskStreams(task_streams(seeds), 2, np.random.default_rng(99))
    low = np.arange(6.0)[:, None]  # a per-copy parameter is split with the rows
    got_uniform = streams.uniform(low, low + 1.0, size=(6, 2))
    got_normal = streams.standard_normal((6, 3))
    own = task_streams(seeds)  # the same streams, drawn task by task in the same order
    want_uniform = [s.uniform(low[2 * i:2 * i + 2], low[2 * i:2 * i + 2] + 1.0, size=(2, 2)) for i, s in enumerate(own)]
    want_normal = [s.standard_normal((2, 3)) for s in own]
    np.testing.assert_array_equal(got_uniform, np.concatenate(want_uniform))
    np.testing.assert_array_equal(got_normal, np.concatenate(want_normal))
    assert np.isscalar(streams.uniform()) and streams.random(size=4).shape == (4,)  # other draws: the shared stream


class ScalarResetPoint(PointMomentum):
    """A user env whose reset also draws a scalar (from the round's shared stream)."""

    def reset(self, rng):
        obs = super().reset(rng)
        return obs + rng.uniform(-1e-3, 1e-3)


def test_any_split_of_the_tasks_gives_the_same_samples():
    for env_id, make in [("point-momentum", lambda: make_env("point-momentum")), ("user env", ScalarResetPoint)]:
        env = make()
        rng = np.random.default_rng(1)
        tasks = env.sample_tasks(rng, 4)
        params = broadcast_params(init_policy(jax.random.PRNGKey(0), env.obs_dim, env.act_dim, (8,)), 4)
        seeds = task_seeds(rng, 4)
        env.set_tasks(tasks, 3)
        whole = sample_with_seeds(env, params, 7, seeds)
        parts = []
        for first, end in [(0, 1), (1, 4)]:
            part = make()
            part.set_tasks(tasks[first:end], 3)
            parts.append(sample_with_seeds(part, jax.tree_util.tree_map(lambda x: x[first:end], params), 7, seeds, first=first))
        joined = Trajectories.concatenate(parts)
        for name in whole._fields:
            np.testing.assert_array_equal(getattr(whole, name), getattr(joined, name), err_msg=env_id)


def test_sample_trajectories_draws_one_seed_per_task_from_the_run_generator():
    env = make_env("point-corner")
    env.set_tasks(env.sample_tasks(np.random.default_rng(0), 2), 2)
    params = broadcast_params(init_policy(jax.random.PRNGKey(0), 2, 2, (4,)), 2)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    traj = sample_trajectories(env, params, 4, a)
    seeds = task_seeds(b, 2)
    assert a.bit_generator.state == b.bit_generator.state  # the round consumed exactly one draw of seeds
    np.testing.assert_array_equal(traj.actions, sample_with_seeds(env, params, 4, seeds).actions)
