#!/bin/bash
# Issue 24's measurements on a lent GPU host (16 cores, JAX with CUDA preinstalled, Python 3.12), in one
# call of at most 9 minutes (the steps' limits add up to 540 s; run it with timeout_s 600), so that a session's 15 minutes of device time leave room to rerun it once.
#
#   bash scripts/device_bench.sh --fetch    # here, once: the wheels the host lacks, into .whl/ (git-ignored)
#   bash scripts/device_bench.sh            # there (the device tool's run, carry [".whl"]): logs and JSON in $OUT
#   QUICK=1 PY=.venv/bin/python SKIP_WHEELS=1 OUT=/tmp/dev bash scripts/device_bench.sh   # here: a dry run, tiny sizes
#
# What it measures, each step under its own time limit, the same tree and seed for all:
#   doctor.txt             versions, devices and thread settings
#   bench_gpu.json         promp bench, HalfCheetah paper preset: mj_step limit, env loop, both samplers and the
#                          ProMP iteration over physics at 2 and 16 MuJoCo threads, GPU learner
#   bench_cpu.json         the same with JAX on the CPU (the 16-core CPU learner)
#   maml_trpo_gpu.json     the MAML-TRPO point-nav iteration (sampling and update), GPU learner
#   trpo_update_cpu.json   the MAML-TRPO update split into gradient / CG / line search, CPU learner
set -u
PY=${PY:-python3}
VERSIONS="mujoco==4.0.1 mujoco-core==4.0.1 mujoco-studio==4.0.1 mujoco-studio-wasm==4.0.1 glfw==2.11.0
  pyopengl==3.1.10 websockets==17.4 gymnasium==1.4.0 farama-notifications==0.0.6 tyro==1.0.17
  docstring-parser==0.18.0 typeguard==4.6.1 tensorboardx==2.6.5"  # as in requirements.lock

if [ "${1:-}" = "--fetch" ]; then
  mkdir -p .whl
  for v in $VERSIONS; do
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "$v" || exit 1
  done
  du -sh .whl
  exit 0
fi

OUT=${OUT:?set OUT, the folder the results go to}
mkdir -p "$OUT"
if [ -z "${SKIP_WHEELS:-}" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1
if [ -n "${QUICK:-}" ]; then  # the dry run: every command, at sizes that finish in seconds
  BENCH="--copies 40 --steps 10 --threads 1 2 --repeats 1 --skip-iteration"; MAML="--iterations 2"; TRPO="--repeats 1 --variants update"
else
  BENCH="--iterations 6 --threads 2 16"; MAML="--iterations 8"; TRPO="--repeats 3"
fi

step() {  # step NAME SECONDS COMMAND...: run one measurement, keep its log, say how it ended
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name" 2> "$OUT/$name.err"
  echo "$name: exit $? after $((SECONDS - t0)) s"
}

step doctor.txt 40 $PY -m promp doctor
step bench_gpu.json 180 $PY -m promp bench --env halfcheetah-fwd-back $BENCH --json-output
step maml_trpo_gpu.json 80 $PY -m promp.bench.maml_trpo $MAML
JAX_PLATFORMS=cpu step bench_cpu.json 160 $PY -m promp bench --env halfcheetah-fwd-back $BENCH --json-output
JAX_PLATFORMS=cpu step trpo_update_cpu.json 80 $PY -m promp.bench.trpo_update $TRPO
tail -n 3 "$OUT"/*.err | cut -c1-300
