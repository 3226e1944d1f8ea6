"""Measure the float32 round-off of the pinned numbers (tests/test_pinned_numbers.py) and write the
tolerances the test uses (tests/data/pinned_roundoff.json).

Each pinned case is run in child processes that differ only in how floating-point sums are ordered
and vectorised, never in the mathematics: JAX with 1, 2, 3 or 4 CPU devices (the learner splits the
tasks over them, ``promp.task_map``), XLA's code generation capped at AVX2 (``--xla_cpu_max_isa``),
and numpy/OpenBLAS without AVX-512 kernels. The largest deviation of each progress column from the
first variant (relative where the value is not near zero, absolute where it is) is that column's
measured round-off figure; the test allows ``SAFETY`` times it. Integer columns (backtracks, steps kept,
...) must match exactly in every variant, otherwise the script fails: the case is then ill-conditioned
and must be changed, not its tolerance widened.

    python scripts/measure_roundoff.py            # ~5 minutes on 2 cores; rewrites the JSON
    python scripts/measure_roundoff.py --check    # only report, write nothing
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "pinned_roundoff.json"
SAFETY = 10.0
NEAR_ZERO = 1e-4  # |value| below this: the deviation is compared absolutely
VARIANTS = {
    "2 devices": {"PROMP_XLA_THREADS": "2"},
    "1 device": {"PROMP_XLA_THREADS": "1"},
    "3 devices": {"PROMP_XLA_THREADS": "3"},
    "4 devices": {"PROMP_XLA_THREADS": "4"},
    "XLA code capped at AVX2": {"PROMP_XLA_THREADS": "2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2"},
    "numpy/OpenBLAS without AVX-512": {"PROMP_XLA_THREADS": "2", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
                                       "OPENBLAS_CORETYPE": "Haswell"},
}
CHILD = r"""
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from promp.threads import configure_threads
configure_threads()
from test_pinned_numbers import CASES, run_case
out = {}
with tempfile.TemporaryDirectory() as tmp:
    for i, case in enumerate(sorted(CASES)):
        out[case] = run_case(*CASES[case], Path(tmp) / str(i))
print(json.dumps(out))
"""


def run_variant(env_overrides: dict[str, str]) -> dict:
    """All pinned cases' progress rows in a child process with ``env_overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "PROMP_XLA_THREADS", "NPROC")}
    env.update(env_overrides)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "tests")], capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"variant {env_overrides} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def deviations(base: dict, other: dict) -> tuple[dict, list[str]]:
    """Per column the largest relative and absolute deviation; the integer columns that differ."""
    cols: dict[str, dict[str, float]] = {}
    mismatched = []
    for case, rows in base.items():
        for want, got in zip(rows, other[case]):
            for key, value in want.items():
                x = got[key]
                col = cols.setdefault(key, {"rel": 0.0, "abs": 0.0})
                if isinstance(value, int) and isinstance(x, int):
                    if value != x:
                        mismatched.append(f"{case} iteration {want['iteration']}: {key} {value} vs {x}")
                    continue
                dev = abs(x - value)
                if abs(value) < NEAR_ZERO:
                    col["abs"] = max(col["abs"], dev)
                else:
                    col["rel"] = max(col["rel"], dev / abs(value))
    return cols, mismatched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report only, do not rewrite the JSON")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from promp.versions import environment_record

    results = {}
    for name, overrides in VARIANTS.items():
        print(f"running {name} ...", flush=True)
        results[name] = run_variant(overrides)
    base_name = next(iter(VARIANTS))
    columns: dict[str, dict[str, float]] = {}
    problems = []
    for name, rows in results.items():
        cols, mismatched = deviations(results[base_name], rows)
        problems += [f"{name}: {m}" for m in mismatched]
        for key, d in cols.items():
            c = columns.setdefault(key, {"rel": 0.0, "abs": 0.0})
            c["rel"], c["abs"] = max(c["rel"], d["rel"]), max(c["abs"], d["abs"])
        worst = sorted(cols.items(), key=lambda kv: -kv[1]["rel"])[:3]
        print(f"  {name}: largest relative deviations " + ", ".join(f"{k} {v['rel']:.2e}" for k, v in worst))
    if problems:
        sys.exit("integer columns differ between variants (ill-conditioned case):\n  " + "\n  ".join(problems))
    record = {
        "how": "scripts/measure_roundoff.py: largest deviation of each column over the variants, from the first",
        "safety": SAFETY,
        "near_zero": NEAR_ZERO,
        "variants": VARIANTS,
        "measured_on": {k: v for k, v in environment_record().items() if k != "git_commit"},
        "columns": dict(sorted(columns.items())),
    }
    if not args.check:
        OUT.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
