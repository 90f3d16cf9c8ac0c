#!/usr/bin/env bash
# Builds what a GPU worker runs, for `cdk deploy`:
#   1. the agent bundle (esbuild, Node 22: main.js, parent.js, enclave.js + the trainer) -> dist/worker/agent-<version>.tar.gz
#   2. the Nitro Enclave image: a Docker image (enclave.Dockerfile) turned into an EIF by nitro-cli, whose PCR0
#      (= the ImageSha384 KMS sees in the enclave's attestation) is printed as PROVENA_ENCLAVE_PCR0.
# Step 2 needs docker and nitro-cli (aws-nitro-enclaves-cli-devel, on an Amazon Linux host): where either is
# missing it is skipped with a line saying so, and the bundle alone is built. `cdk synth`/`deploy` then read PCR0 from
# dist/worker/eif.json (infra/lib/enclaveBuild.ts) unless PROVENA_ENCLAVE_PCR0 is set; `npm run deploy:plan` says
# which. With a destination, the outputs are uploaded (aws CLI).
#
#   npm run build:worker                                     # builds what this host can, uploads nothing
#   infra/worker/build.sh s3://my-artifacts/provena          # builds, uploads, prints the variables
set -euo pipefail
dest="${1:-}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(node -p "require('$root/package.json').version")-$(git -C "$root" rev-parse --short HEAD)"
out="$root/dist/worker"
rm -rf "$out" && mkdir -p "$out/agent"

# 1. Agent bundle: three entry points of gpu-workers/agent, ESM, with the trainer the parent drives:
#    main.js (the single-process agent: confidential-GPU VMs, development), parent.js (the Nitro parent, on the
#    instance) and enclave.js (the Nitro enclave side, in the EIF), plus the NSM ioctl helper the enclave's attestor
#    runs, the NVML helper of the confidential-GPU (`tsm`) attestor, and the enclave's init rendered from
#    infra/lib/workerLaunch.ts (the same defaults as the instances' units).
npx esbuild "$root/gpu-workers/agent/main.ts" "$root/gpu-workers/agent/nitro/parent.ts" "$root/gpu-workers/agent/nitro/enclave.ts" \
  --bundle --platform=node --target=node22 --format=esm --minify --sourcemap \
  --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
  --entry-names="[name]" --outdir="$out/agent"
echo '{"type":"module"}' > "$out/agent/package.json"
cp "$root/gpu-workers/agent/nsm/nsm_ioctl.py" "$out/agent/nsm_ioctl.py"
cp "$root/gpu-workers/agent/tsm/nvml_report.py" "$out/agent/nvml_report.py"   # the tsm attestor's GPU report (pynvml)
npx tsx "$root/infra/worker/render.ts" enclave-init > "$out/agent/enclave-init.sh"
chmod +x "$out/agent/enclave-init.sh"
cp -r "$root/gpu-workers/trainer" "$out/agent/trainer"
tar -czf "$out/agent-$version.tar.gz" -C "$out/agent" .

node "$out/agent/main.js" --help > /dev/null 2>&1 || { echo "the agent bundle does not start: node $out/agent/main.js --help failed" >&2; exit 1; }
# Each Nitro side must load and refuse an empty environment with CONFIG_INVALID (not crash on a missing module).
for side in parent enclave; do
  said="$(env -i PATH="$PATH" node "$out/agent/$side.js" 2>&1 || true)"
  if ! grep -q CONFIG_INVALID <<< "$said"; then
    echo "the $side bundle does not start: node $out/agent/$side.js did not report CONFIG_INVALID" >&2; exit 1
  fi
done
echo "agent bundle: $out/agent-$version.tar.gz (main.js $(wc -c < "$out/agent/main.js"), parent.js $(wc -c < "$out/agent/parent.js"), enclave.js $(wc -c < "$out/agent/enclave.js") bytes)"

# 2. Enclave image -> EIF -> PCR0. Reproducible inputs (pinned base image digest, bundle above) give the same PCR0.
pcr0=""
if command -v docker > /dev/null && command -v nitro-cli > /dev/null; then
  docker build -f "$root/infra/worker/enclave.Dockerfile" -t "provena-enclave:$version" "$out/agent"
  nitro-cli build-enclave --docker-uri "provena-enclave:$version" --output-file "$out/provena-enclave-$version.eif" > "$out/eif.json"
  pcr0="$(node -p "JSON.parse(require('fs').readFileSync('$out/eif.json','utf8')).Measurements.PCR0.toLowerCase()")"
  echo "EIF: $out/provena-enclave-$version.eif, PCR0 $pcr0"
else
  echo "EIF: skipped (docker and nitro-cli are needed; found: $(command -v docker > /dev/null && echo docker || echo -n '')$(command -v nitro-cli > /dev/null && echo ' nitro-cli' || echo -n '')). No PCR0 from this build."
fi

if [ -n "$dest" ]; then
  aws s3 cp "$out/agent-$version.tar.gz" "$dest/agent-$version.tar.gz"
  echo "PROVENA_GPU_AGENT_S3_URI=$dest/agent-$version.tar.gz"
  if [ -n "$pcr0" ]; then
    aws s3 cp "$out/provena-enclave-$version.eif" "$dest/provena-enclave-$version.eif"
    echo "PROVENA_GPU_EIF_S3_URI=$dest/provena-enclave-$version.eif"
    echo "PROVENA_ENCLAVE_PCR0=$pcr0"
  fi
fi
