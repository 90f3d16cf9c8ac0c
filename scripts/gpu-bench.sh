#!/usr/bin/env bash
# The trainer on a lent GPU machine (issue 11): its pytest with CUDA visible, then bench_trainer.py on CUDA and, as
# the same-run baseline, on the same machine's CPUs (CUDA_VISIBLE_DEVICES empty). Results go to "$OUT":
#   card.txt (nvidia-smi's card line), pytest.txt, trainer-cuda.json, trainer-cpu.json, and trainer-gpu.json (the two
#   merged as bench/results/trainer-gpu.json is laid out: copy it there).
#
# The machine: its own Python with torch (CUDA build) and numpy preinstalled, no network. The trainer's other
# dependencies come as wheels from .gpu-wheels/ (ignored by git: the lead carries it; fill it with
# scripts/gpu-bench/download-wheels.sh). They are installed into a --target folder under /tmp; nothing else is
# written outside the repository. Wheels with no build for the machine's Python in the local mirror (cp312: orjson,
# rpds-py) are covered: the trainer decodes frames with the stdlib json (same rules, see PROTOCOL.md) and
# jsonschema's rpds-py is replaced by scripts/gpu-bench/rpds-standin (pure Python).
#
# Run from the repository root: OUT=/some/dir scripts/gpu-bench.sh. Bounded: every step has its own timeout so the
# whole run stays under 6 minutes; a bench cut short keeps the recipes it finished (BENCH_TRAINER_OUT).
# Settings: PROVENA_GPU_PYTHON (default python3), BENCH_TRAINER_ROWS (default 20000), GPU_BENCH_PYTEST_S (140),
# GPU_BENCH_STEP_S (90: each of the two bench runs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
: "${OUT:?OUT must name the folder for the results}"
mkdir -p "$OUT"
PY="${PROVENA_GPU_PYTHON:-python3}"
SITE=/tmp/provena-gpu-site
T0=$(date +%s)
step() { echo; echo "== [$(($(date +%s) - T0)) s] $*"; }

step "machine"
CARD="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -n 1)"
echo "card: $CARD"
echo "$CARD" > "$OUT/card.txt"
date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/started.txt"
echo "cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" -c 'import sys, torch, numpy; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.version.cuda, "numpy", numpy.__version__)'

step "wheels from .gpu-wheels into $SITE"
ls .gpu-wheels/*.whl > /dev/null  # fails here, clearly, when the folder was not carried
rm -rf "$SITE"
mkdir -p "$SITE"
if ! "$PY" -m pip install --disable-pip-version-check --no-index --no-deps --quiet --target "$SITE" .gpu-wheels/*.whl; then
  echo "no usable pip in this Python: unpacking the wheels (a wheel is a zip laid out for site-packages)"
  rm -rf "$SITE"
  mkdir -p "$SITE"
  for w in .gpu-wheels/*.whl; do "$PY" -m zipfile -e "$w" "$SITE"; done
fi
export PYTHONPATH="$SITE"
if ! "$PY" -c 'import rpds' 2> /dev/null; then
  echo "rpds-py has no wheel for this Python: using scripts/gpu-bench/rpds-standin"
  touch "$OUT/rpds-standin"
  PYTHONPATH="$PYTHONPATH:$ROOT/scripts/gpu-bench/rpds-standin"
fi
export PYTHONDONTWRITEBYTECODE=1
"$PY" -c 'import jsonschema, safetensors, pytest; from importlib.metadata import version as v
print("jsonschema", v("jsonschema"), "safetensors", v("safetensors"), "pytest", v("pytest"))
try:
    import orjson; print("orjson", orjson.__version__)
except ImportError:
    print("orjson: not installed (no wheel for this Python): frames decoded with the stdlib json")'

step "pytest (gpu-workers/trainer, CUDA visible)"
set +e
(cd gpu-workers/trainer && timeout "${GPU_BENCH_PYTEST_S:-140}" "$PY" -m pytest -p no:cacheprovider -rs tests) 2>&1 | tee "$OUT/pytest.txt"
PYTEST_RC=${PIPESTATUS[0]}
set -e
echo "pytest exit status: $PYTEST_RC"
echo "$PYTEST_RC" > "$OUT/pytest-rc.txt"

bench() {  # $1: cuda|cpu
  local name="$1" rc
  step "bench_trainer.py on $name"
  set +e
  if [ "$name" = cpu ]; then
    CUDA_VISIBLE_DEVICES= BENCH_TRAINER_OUT="$OUT/trainer-$name.json" BENCH_TRAINER_ROWS="${BENCH_TRAINER_ROWS:-20000}" \
      timeout "${GPU_BENCH_STEP_S:-90}" "$PY" gpu-workers/trainer/bench_trainer.py > /dev/null
  else
    BENCH_TRAINER_OUT="$OUT/trainer-$name.json" BENCH_TRAINER_ROWS="${BENCH_TRAINER_ROWS:-20000}" \
      timeout "${GPU_BENCH_STEP_S:-90}" "$PY" gpu-workers/trainer/bench_trainer.py > /dev/null
  fi
  rc=$?
  set -e
  echo "bench on $name: exit status $rc"
  if [ -f "$OUT/trainer-$name.json" ]; then cat "$OUT/trainer-$name.json"; fi
}
bench cuda
bench cpu

step "merge"
"$PY" scripts/gpu-bench/merge.py "$OUT" > "$OUT/trainer-gpu.json"
cat "$OUT/trainer-gpu.json"
step "done (pytest exit status $PYTEST_RC)"
