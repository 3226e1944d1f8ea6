"""Meta-World's goal sets and their train/test splits, regenerated in numpy.

A benchmark's goals come from metaworld's ``_make_tasks``: it seeds numpy's legacy global generator once,
then for each family in turn builds the env and calls ``env.reset()`` 50 times, keeping each reset's goal
vector (``rand_vec``: object and goal positions, or whatever the family's random reset space holds). A
reset runs the family's ``reset_model`` twice (once in metaworld's ``reset``, once more inside
gymnasium's), and each run draws ``uniform(low, high)`` from the family's reset space, drawing again while
the family rejects the vector (``SawyerMetaEnv.rand_vec_acceptable``; e.g. object and goal closer than
0.15 in x-y). The seeds:

- ``metaworld.ML1(name, seed=s)``: train goals with seed ``s``, test goals with ``s + 1``, one family;
- ``metaworld.ML10(seed=s)`` / ``ML45``: the train families' goals with one generator seeded ``s``, in the
  benchmark's order of families, and the test families' goals with a new generator seeded ``s`` again.

``goal_sets`` repeats exactly that sequence of draws with ``numpy.random.RandomState``, so for the same seed
it returns metaworld's goals bit for bit (tests/test_metaworld.py checks this against goals recorded from
metaworld 3.1.1).
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

N_GOALS = 50
RESET_MODEL_CALLS_PER_RESET = 2


class GoalDrawer(Protocol):
    """What a family gives the goal generation: one ``reset_model``'s draws (``SawyerMetaEnv.draw_rand_vec``)."""

    @classmethod
    def draw_rand_vec(cls, rs: np.random.RandomState) -> np.ndarray: ...


def goal_sets(families: Sequence[GoalDrawer], seed: int, n: int = N_GOALS) -> list[np.ndarray]:
    """The ``n`` goal vectors ``[n, d]`` of each family, drawn in turn from one generator seeded ``seed``
    (module docstring)."""
    rs = np.random.RandomState(seed)
    out = []
    for family in families:
        vecs = []
        for _ in range(n):
            for _ in range(RESET_MODEL_CALLS_PER_RESET):
                vec = family.draw_rand_vec(rs)
            vecs.append(vec)
        out.append(np.array(vecs))
    return out


def split_seed(benchmark_seed: int, split: str, ml1: bool) -> int:
    """The seed of a split's goals: ``benchmark_seed``, plus one for ML1's test split (module docstring)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return benchmark_seed + (ml1 and split == "test")
