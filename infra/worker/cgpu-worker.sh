#!/usr/bin/env bash
# Runs a Provena worker in a confidential-GPU VM on any cloud (Intel TDX or AMD SEV-SNP guest, NVIDIA H100/H200 in
# CC mode: e.g. Azure NCCads H100 v5, GCP a3 confidential), against a deployed API. It needs only the API URL and
# its evidence: the agent asks the API for a nonce, posts its CPU quote + GPU report (attestWorker), the API verifies
# them against its production policy and approves the worker key on chain, and releaseKey seals each data key to
# that key. The deployment must allow it: PROVENA_KEY_GATE_REMOTE_WORKERS=true and the operator's address in
# PROVENA_WORKER_OPERATORS.
#
#   PROVENA_API_URL=https://…/ PROVENA_WORKER_OPERATOR_KEY_FILE=/etc/provena/operator.key \
#     infra/worker/cgpu-worker.sh            # checks, then runs the agent (exec; put it under systemd)
#   infra/worker/cgpu-worker.sh --check      # checks only: settings, TEE guest device, GPU CC mode, node
#
# Settings (environment): PROVENA_API_URL (https; http only for loopback), PROVENA_WORKER_OPERATOR_KEY_FILE (a file
# of mode 0600 holding 0x + 64 hex) or PROVENA_WORKER_OPERATOR_KEY, PROVENA_AGENT_DIR (the unpacked agent tarball
# of infra/worker/build.sh, default /opt/provena/agent), and any other provena-worker variable
# (gpu-workers/agent/config.ts), passed through.
# Exit: 2 a setting is wrong (or python3 lacks pynvml), 3 this machine is not a confidential-GPU VM, else the agent's status.
#
# Evidence: the agent's `tsm` attestor (gpu-workers/agent/tsm/) writes SHA-512(worker key ‖ nonce) to a configfs-tsm
# report (PROVENA_TSM_ROOT, default /sys/kernel/config/tsm/report; the provider must be the guest this script
# detected), reads the TDX quote (collateral from Intel PCS, or the cloud's PCCS at PROVENA_TSM_PCS_URL) or the SNP
# report with the host's VCEK/ASK/ARK table, and the GPU report through NVML (python3 with pynvml: pip install
# nvidia-ml-py). Limits, said plainly: it is tested against a configfs-tsm emulator with real TDX/SNP/NVIDIA
# reports, never on a TEE; an SNP host that supplies no certificate table is refused (no AMD KDS fetch).
set -euo pipefail
check_only=false
[ "${1:-}" = "--check" ] && check_only=true
errors=()
fail() { errors+=("$1"); }

api="${PROVENA_API_URL:-}"
if [ -z "$api" ]; then fail "PROVENA_API_URL is unset (the deployment's ApiUrl output)"
elif [[ ! "$api" =~ ^https://[A-Za-z0-9.-]+(:[0-9]+)?(/.*)?$ ]] && [[ ! "$api" =~ ^http://(127\.0\.0\.1|localhost)(:[0-9]+)?(/.*)?$ ]]; then
  fail "PROVENA_API_URL must be an https:// URL (http only for loopback): $api"
fi

key="${PROVENA_WORKER_OPERATOR_KEY:-}"
if [ -n "${PROVENA_WORKER_OPERATOR_KEY_FILE:-}" ]; then
  file="$PROVENA_WORKER_OPERATOR_KEY_FILE"
  if [ ! -f "$file" ]; then fail "PROVENA_WORKER_OPERATOR_KEY_FILE: no such file: $file"
  elif [ "$(stat -c %a "$file")" != 600 ] && [ "$(stat -c %a "$file")" != 400 ]; then fail "PROVENA_WORKER_OPERATOR_KEY_FILE must be mode 0600 or 0400 (is $(stat -c %a "$file")): $file"
  else key="$(tr -d ' \n\r' < "$file")"
  fi
fi
if [ -z "$key" ]; then fail "no operator key: set PROVENA_WORKER_OPERATOR_KEY_FILE (or PROVENA_WORKER_OPERATOR_KEY)"
elif [[ ! "$key" =~ ^0x[0-9a-fA-F]{64}$ ]]; then fail "the operator key must be 0x + 64 hex digits"
fi

agent_dir="${PROVENA_AGENT_DIR:-/opt/provena/agent}"
[ -f "$agent_dir/main.js" ] || fail "PROVENA_AGENT_DIR has no main.js (unpack infra/worker/build.sh's agent tarball there): $agent_dir"
if command -v node > /dev/null; then
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || fail "node 20 or later is needed (found $(node --version))"
else fail "node is not installed (Node.js 22 is the supported runtime)"
fi

if [ "${#errors[@]}" -gt 0 ]; then
  printf 'cgpu-worker: %s\n' "${errors[@]}" >&2
  exit 2
fi

# The TEE: a TDX or SEV-SNP guest with configfs-tsm (Linux 6.7+) the attestor writes its report request to.
tee=""
[ -e /dev/tdx_guest ] && tee=tdx
[ -e /dev/sev-guest ] && tee=sev-snp
if [ -z "$tee" ]; then echo "cgpu-worker: no TDX or SEV-SNP guest device (/dev/tdx_guest, /dev/sev-guest): not a confidential VM" >&2; exit 3; fi
[ -d /sys/kernel/config/tsm/report ] || { echo "cgpu-worker: /sys/kernel/config/tsm/report is missing (configfs-tsm: Linux 6.7+, configfs mounted)" >&2; exit 3; }
# The GPU: in confidential-computing mode, else its memory and the PCIe link are readable by the host.
cc="$(nvidia-smi conf-compute -f 2>/dev/null || true)"
[[ "$cc" == *"CC status: ON"* ]] || { echo "cgpu-worker: the GPU is not in CC mode (nvidia-smi conf-compute -f: ${cc:-no answer})" >&2; exit 3; }
python3 -c 'import pynvml' 2> /dev/null || { echo "cgpu-worker: python3 cannot import pynvml (pip install nvidia-ml-py): the GPU report needs it" >&2; exit 2; }
echo "cgpu-worker: $tee guest, GPU CC mode on, API $api" >&2
$check_only && exit 0

provider=tdx_guest; [ "$tee" = sev-snp ] && provider=sev_guest
export PROVENA_API_URL="$api" PROVENA_WORKER_OPERATOR_KEY="$key" PROVENA_WORKER_ATTESTOR=tsm PROVENA_WORKER_MODES=confidential-gpu PROVENA_TSM_PROVIDER="$provider"
export PROVENA_WORKER_WORK_DIR="${PROVENA_WORKER_WORK_DIR:-/dev/shm/provena-worker}" PROVENA_TRAINER_DEVICE="${PROVENA_TRAINER_DEVICE:-cuda}"
unset PROVENA_WORKER_OPERATOR_KEY_FILE
cd "$agent_dir"
exec node --enable-source-maps "$agent_dir/main.js"
