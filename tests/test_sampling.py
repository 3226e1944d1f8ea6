"""The overlapped in-process sampler (promp.sampling.sample_overlapped): two envs holding the halves of a
round's tasks, stepped in turn, give the one-env sampler's arrays bit for bit. Success flags of an env that
reports them (MetaEnv.reports_success): recorded masked, the same in every sampler, progress columns."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from promp.config import resolve_config
from promp.distributed import SamplerWorker, split_tasks
from promp.envs import MetaEnv, make_env
from promp.envs.base import StepResult
from promp.learner import MetaLearner
from promp.policy import init_policy
from promp.processing import episode_success, success_rate
from promp.sampling import LocalSampler, broadcast_params, sample_with_seeds
from promp.streams import task_seeds
from promp.types import Trajectories

from test_streams import ScalarResetPoint

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py


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


class SucceedAt(MetaEnv):
    """A tiny env with a known success rule: copy ``r`` of a task ``{"at": a, "end": e}`` reports success at
    step ``a + r`` only (1-based), and is done after step ``e + r``. So a path succeeds if and only if
    ``a <= e`` and ``a + r <= horizon``: its one success flag falls on a simulated step."""

    obs_dim, act_dim = 1, 1
    action_low, action_high = -np.ones(1), np.ones(1)
    reports_success = True

    def sample_tasks(self, rng, n):
        return [{"at": int(rng.integers(1, 9)), "end": int(rng.integers(1, 9))} for _ in range(n)]

    def reset(self, rng):
        r = np.tile(np.arange(self.copies_per_task), len(self.tasks))
        self.at, self.end = self.task_array("at") + r, self.task_array("end") + r
        self.t = 0
        return rng.standard_normal((self.num_copies, 1))  # one row per copy: each task's own stream

    def _step(self, action):
        self.t += 1
        self.flags = self.at == self.t
        return StepResult(action.copy(), action[:, 0] + self.t, self.t >= self.end)

    def step_success(self):
        return self.flags


SUCCEED_TASKS = [{"at": 2, "end": 9}, {"at": 5, "end": 3}, {"at": 7, "end": 9}, {"at": 1, "end": 1}, {"at": 9, "end": 9}]


def _expected_success(tasks, copies, horizon):
    return np.array([[t["at"] <= t["end"] and t["at"] + r <= horizon for r in range(copies)] for t in tasks])


def test_success_flags_are_recorded_masked_and_give_metaworlds_episode_success():
    horizon, copies = 8, 3
    env = SucceedAt()
    env.set_tasks(SUCCEED_TASKS, copies)
    params = _params(env, len(SUCCEED_TASKS))
    seeds = task_seeds(np.random.default_rng(0), len(SUCCEED_TASKS))
    traj = sample_with_seeds(env, params, horizon, seeds)
    assert traj.success.shape == traj.mask.shape == (5, copies, horizon) and traj.success.dtype == np.float32
    assert not (traj.success * (1 - traj.mask)).any()  # 0 where masked, like the rewards
    assert traj.success.sum(-1).max() == 1  # the rule sets the flag once per path
    want = _expected_success(SUCCEED_TASKS, copies, horizon)
    np.testing.assert_array_equal(episode_success(traj), want)  # task 1 succeeds after its end: masked, no success
    assert success_rate(traj) == want.mean() == 8 / 15
    # one env, the overlapped pair (3 + 2 tasks) and the Ray actors' body (any split): the same arrays bit for bit
    pair = LocalSampler(SucceedAt(), SucceedAt())
    pair.set_tasks(SUCCEED_TASKS, copies)
    overlapped = pair.sample(params, horizon, np.random.default_rng(0))
    one = LocalSampler(SucceedAt())
    one.set_tasks(SUCCEED_TASKS, copies)
    single = one.sample(params, horizon, np.random.default_rng(0))
    worker_parts = []
    for first, end in split_tasks(len(SUCCEED_TASKS), 2):
        worker = SamplerWorker(SucceedAt, {})
        worker_parts.append(worker.sample(SUCCEED_TASKS[first:end], copies, params, first, horizon, seeds, False))
    workers = Trajectories.concatenate(worker_parts)
    for got in (overlapped, single, workers):
        for name in traj._fields:
            np.testing.assert_array_equal(getattr(got, name), getattr(traj, name), err_msg=name)


def test_envs_without_success_record_none():
    env = make_env("point-corner")
    assert not env.reports_success
    env.set_tasks(env.sample_tasks(np.random.default_rng(0), 2), 2)
    traj = sample_with_seeds(env, _params(env, 2), 4, task_seeds(np.random.default_rng(1), 2))
    assert traj.success is None and episode_success(traj) is None and success_rate(traj) is None
    both = Trajectories.concatenate([traj, traj])
    assert both.success is None and both.obs.shape[0] == 4
    with pytest.raises(ValueError, match="success"):
        Trajectories.concatenate([traj, traj._replace(success=np.zeros(traj.mask.shape, np.float32))])


def test_success_columns_only_for_envs_that_report_success(monkeypatch):
    """Progress rows: success_pre/post (and success_step_k with several inner steps) for an env that reports
    success, the success rates of its rounds; none for an env without."""
    for inner_steps, want in [(1, ["success_pre", "success_post"]),
                              (2, ["success_pre", "success_post", "success_step_0", "success_step_1", "success_step_2"])]:
        cfg = resolve_config("point-corner", "promp", dict(meta_batch_size=5, rollouts_per_task=3, horizon=8, hidden=(8,),
                                                           inner_steps=inner_steps, seed=2))
        learner = MetaLearner(cfg, env=SucceedAt())
        monkeypatch.setattr(learner.env, "sample_tasks", lambda rng, n: SUCCEED_TASKS[:n])
        _, row = learner.iteration(learner.init_state())
        assert [k for k in row if k.startswith("success")] == want
        assert all(row[k] == 8 / 15 for k in want)  # the rule ignores the policy: the same rate every round
    plain = MetaLearner(resolve_config("point-corner", "promp", dict(meta_batch_size=2, rollouts_per_task=2, horizon=4, hidden=(8,))))
    _, row = plain.iteration(plain.init_state())
    assert not [k for k in row if k.startswith("success")]
