"""Meta-World's multi-family benchmarks as promp meta-envs: ML10 (Yu et al. 2019, §4.3) meta-trains on ten
task families and meta-tests on five others, each family with 50 goals, the goal hidden from the policy.

A task is one family and one of its goals (``{"family": "door-open", "index": i, "rand_vec": [...]}``).
The families have different MuJoCo models, so one batch cannot hold them all: ``MultiFamilyMetaEnv`` keeps
one batched family env (``sawyer.py``) per family, gives each the round's tasks of its family with the
same copies per task, and scatters actions to and gathers observations, rewards and success flags from
them, so that copy ``j`` still belongs to task ``j // copies_per_task``. Every family has the same
39-number observation and 4-number action, so one policy acts in all of them.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..base import MetaEnv, StepResult, Task
from . import families as mw_families
from . import tasks as mw_tasks
from .sawyer import SawyerMetaEnv


class MultiFamilyMetaEnv(MetaEnv):
    """Tasks from several Meta-World families (module docstring). Subclasses set ``train_families`` and
    ``test_families`` (family names of ``families.FAMILIES``, in the benchmark's order)."""

    obs_dim = SawyerMetaEnv.obs_dim
    act_dim = SawyerMetaEnv.act_dim
    action_low = SawyerMetaEnv.action_low
    action_high = SawyerMetaEnv.action_high
    reports_success = True
    train_families: tuple[str, ...]
    test_families: tuple[str, ...]

    def __init__(self, nthread: int | None = None, split: str = "train", benchmark_seed: int = 0) -> None:
        """``split="train"`` draws tasks from the train families' goals, ``"test"`` from the held-out families';
        the goals are those of metaworld's benchmark with ``seed=benchmark_seed`` (``tasks.py``)."""
        super().__init__()
        self.split = split
        self.benchmark_seed = int(benchmark_seed)
        self.families = self.train_families if split == "train" else self.test_families
        seed = mw_tasks.split_seed(self.benchmark_seed, split, ml1=False)
        classes = [mw_families.family_class(f) for f in self.families]
        self.goals = dict(zip(self.families, mw_tasks.goal_sets(classes, seed)))
        self.nthread = nthread
        self.envs: dict[str, SawyerMetaEnv] = {}
        self._copies: dict[str, np.ndarray] = {}  # family -> the copies (of this env) it holds, in its order

    def env(self, family: str) -> SawyerMetaEnv:
        """The batched env of one family, built when first needed."""
        if family not in self.envs:
            self.envs[family] = mw_families.family_class(family)(nthread=self.nthread)
        return self.envs[family]

    def sample_tasks(self, rng: np.random.Generator, n: int) -> list[Task]:
        """``n`` tasks spread evenly over the families (each family ``n // F`` times, the remaining
        ``n % F`` families drawn without replacement, in shuffled order), each with one of its 50 goals drawn
        uniformly: every family is meta-trained, and meta-tested, in every batch of at least ``F`` tasks."""
        f = len(self.families)
        which = np.concatenate([np.tile(np.arange(f), n // f), rng.choice(f, size=n % f, replace=False)])
        which = rng.permutation(which)
        index = rng.integers(0, mw_tasks.N_GOALS, size=n)
        return [{"family": self.families[f], "split": self.split, "index": int(i),
                 "rand_vec": self.goals[self.families[f]][i].tolist()} for f, i in zip(which, index)]

    def validate_task(self, task: Task) -> Task:
        family = task.get("family")
        if family not in self.families:
            raise ValueError(f"{type(self).__name__} ({self.split} split): a task needs 'family', one of "
                             f"{', '.join(self.families)}; got {task!r}")
        return self.env(family).validate_task(task)

    def set_tasks(self, tasks: Sequence[Task], copies_per_task: int) -> None:
        super().set_tasks(tasks, copies_per_task)
        k = self.copies_per_task
        self._copies = {}
        for family in dict.fromkeys(t["family"] for t in self.tasks):  # first-seen order
            mine = [i for i, t in enumerate(self.tasks) if t["family"] == family]
            self.env(family).set_tasks([self.tasks[i] for i in mine], k)
            self._copies[family] = (np.asarray(mine)[:, None] * k + np.arange(k)).ravel()

    def _gather(self, parts: dict[str, np.ndarray], dtype: Any = np.float64) -> np.ndarray:
        first = next(iter(parts.values()))
        out = np.empty((self.num_copies, *first.shape[1:]), dtype=dtype)
        for family, value in parts.items():
            out[self._copies[family]] = value
        return out

    def reset(self, rng: Any = None) -> np.ndarray:
        """Every family env's reset (they draw nothing), gathered into task order."""
        if not self._copies:
            raise RuntimeError(f"{type(self).__name__}: call set_tasks(tasks, copies_per_task) before reset/step")
        return self._gather({f: self.envs[f].reset(rng) for f in self._copies})

    def _step(self, action: np.ndarray) -> StepResult:
        results = {f: self.envs[f]._step(action[copies]) for f, copies in self._copies.items()}
        return StepResult(self._gather({f: r.obs for f, r in results.items()}),
                          self._gather({f: r.reward for f, r in results.items()}),
                          self._gather({f: r.done for f, r in results.items()}, dtype=bool))

    def step_success(self) -> np.ndarray:
        """The success flags ``[B]`` of the last step, each from its family's criterion."""
        return self._gather({f: self.envs[f].step_success() for f in self._copies}, dtype=bool)

    def close(self) -> None:
        """Release every family env."""
        for env in self.envs.values():
            env.close()
        self.envs = {}
        self._copies = {}


class MetaworldMl10(MultiFamilyMetaEnv):
    """Meta-World ML10: meta-train on reach, push, pick-place, door-open, drawer-close, button-press-topdown,
    peg-insert-side, window-open, sweep and basketball; meta-test (``split="test"``) on drawer-open,
    door-close, shelf-place, sweep-into and lever-pull (metaworld 3.1.1's ``ML10_V3``)."""

    train_families = mw_families.ML10_TRAIN
    test_families = mw_families.ML10_TEST


class MetaworldMl45(MultiFamilyMetaEnv):
    """Meta-World ML45: meta-train on 45 task families; meta-test (``split="test"``) on bin-picking, box-close,
    hand-insert, door-lock and door-unlock (metaworld 3.1.1's ``ML45_V3``)."""

    train_families = mw_families.ML45_TRAIN
    test_families = mw_families.ML45_TEST
