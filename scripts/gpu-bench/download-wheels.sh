#!/usr/bin/env bash
# Fills .gpu-wheels/ (ignored by git) with the trainer's non-torch dependencies for the lent GPU machine's Python
# (CPython 3.12, x86-64 manylinux), from this machine's local wheel mirror: what scripts/gpu-bench.sh installs there.
# numpy and torch are the machine's own. orjson and rpds-py have no cp312 wheel in the mirror: reported, not fatal
# (the trainer falls back to the stdlib json; gpu-bench.sh uses scripts/gpu-bench/rpds-standin).
set -euo pipefail
cd "$(dirname "$0")/../.."
PIP="${PIP:-.provena/trainer-venv/bin/pip}"
mkdir -p .gpu-wheels
missing=()
for req in jsonschema==4.25.1 jsonschema-specifications==2025.9.1 referencing==0.37.0 attrs==26.1.0 \
  typing_extensions==4.16.0 safetensors==0.8.0 pytest==9.1.1 iniconfig==2.3.0 packaging==26.3 pluggy==1.6.0 \
  pygments==2.21.0 orjson==3.12.0 rpds-py==2026.6.3; do
  if "$PIP" download --disable-pip-version-check --retries 0 --timeout 5 --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --python-version 3.12 -d .gpu-wheels "$req" > /dev/null 2>&1; then
    echo "ok       $req"
  else
    echo "no wheel $req"
    missing+=("$req")
  fi
done
du -sh .gpu-wheels
