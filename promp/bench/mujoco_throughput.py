"""Batched MuJoCo sampler vs the machine's mj_step limit, for halfcheetah-fwd-back and ant-fwd-back.

    .venv/bin/python -m promp.bench.mujoco_throughput [--threads N] [--copies 800] [--json]

Both numbers come from the same run, measured alternately (``promp.bench.measure.compare``). The
OpenMP, OpenBLAS and MKL thread variables default to 1 before MuJoCo is imported (``import promp``
has already loaded numpy: export ``OPENBLAS_NUM_THREADS=1`` to pin its BLAS pool too); MuJoCo uses
``--threads`` C threads (default: all available cores).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402

from promp.bench.measure import compare  # noqa: E402
from promp.envs.mujoco_batch import available_cores  # noqa: E402

# Env steps per copy: Ant physics is ~6x dearer, so fewer steps keep each run to a few seconds.
STEPS = {"halfcheetah-fwd-back": 100, "ant-fwd-back": 25}


def main() -> None:
    """Run the comparison and print one line per env (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=available_cores(), help="MuJoCo C threads")
    parser.add_argument("--copies", type=int, default=800, help="env copies (tasks x rollouts)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [compare(env_id, args.copies, steps, args.threads, args.repeats) for env_id, steps in STEPS.items()]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    t = results[0]["threads"]
    print(
        f"threads: mujoco nthread={results[0]['limit']['nthread']} (available cores {t['available_cores']}), "
        f"OMP={t['OMP_NUM_THREADS']} OPENBLAS={t['OPENBLAS_NUM_THREADS']} MKL={t['MKL_NUM_THREADS']}"
    )
    for r in results:
        lim, smp = r["limit"], r["sampler"]
        print(
            f"{r['env']:22s} copies {lim['n_copies']} x {lim['steps']} steps | mj_step limit {lim['steps_per_s']:9,.0f} steps/s | "
            f"sampler {smp['steps_per_s']:9,.0f} steps/s (alive {smp['alive_fraction']:.2f}) | ratio {r['ratio']:.3f}"
        )


if __name__ == "__main__":
    main()
