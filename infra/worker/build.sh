#!/usr/bin/env bash
# Builds what a GPU worker runs, for `cdk deploy`:
#   1. the agent bundle (esbuild, Node 22, one file + the trainer) -> dist/worker/agent-<version>.tar.gz
#   2. the Nitro Enclave image: a Docker image (enclave.Dockerfile) turned into an EIF by nitro-cli, whose PCR0
#      (= the ImageSha384 KMS sees in the enclave's attestation) is printed as PROVENA_ENCLAVE_PCR0.
# Needs docker and nitro-cli (aws-nitro-enclaves-cli-devel, on an Amazon Linux host); neither runs in this
# repository's CI, so the EIF is built on a build host and only its PCR0 travels into the stack's configuration.
#
#   infra/worker/build.sh s3://my-artifacts/provena        # builds, uploads the agent, prints the variables
set -euo pipefail
dest="${1:?usage: build.sh s3://bucket/prefix}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(node -p "require('$root/package.json').version")-$(git -C "$root" rev-parse --short HEAD)"
out="$root/dist/worker"
rm -rf "$out" && mkdir -p "$out/agent"

# 1. Agent bundle: the agent lane's entry point (gpu-workers/agent/main.ts) and the trainer it drives.
npx esbuild "$root/gpu-workers/agent/main.ts" --bundle --platform=node --target=node22 --format=esm --minify --sourcemap \
  --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
  --outfile="$out/agent/main.js"
cp -r "$root/gpu-workers/trainer" "$out/agent/trainer"
tar -czf "$out/agent-$version.tar.gz" -C "$out/agent" .

# 2. Enclave image -> EIF -> PCR0. Reproducible inputs (pinned base image digest, bundle above) give the same PCR0.
docker build -f "$root/infra/worker/enclave.Dockerfile" -t "provena-enclave:$version" "$out/agent"
nitro-cli build-enclave --docker-uri "provena-enclave:$version" --output-file "$out/provena-enclave-$version.eif" > "$out/eif.json"
pcr0="$(node -p "JSON.parse(require('fs').readFileSync('$out/eif.json','utf8')).Measurements.PCR0")"

aws s3 cp "$out/agent-$version.tar.gz" "$dest/agent-$version.tar.gz"
aws s3 cp "$out/provena-enclave-$version.eif" "$dest/provena-enclave-$version.eif"
echo "PROVENA_GPU_AGENT_S3_URI=$dest/agent-$version.tar.gz"
echo "PROVENA_ENCLAVE_PCR0=$pcr0"
