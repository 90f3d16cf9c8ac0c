# The Nitro Enclave image: the enclave side of the worker (gpu-workers/agent/nitro/enclave.ts: keys, attestation,
# decryption, chunk checks, anonymization, metering, signing) and nothing else. No network inside an enclave: its init
# (enclave-init.sh, rendered by infra/lib/workerLaunch.ts) bridges a local Unix socket to the parent's vsock port with
# socat, and the agent boots from its parent (PROVENA_ENCLAVE_BOOT=parent): settings, and the operator key released by
# KMS to this image's attestation (CiphertextForRecipient, only this enclave's RSA key opens it). python3 runs the NSM
# ioctl helper of the nitro-nsm attestor.
# Pin the base by digest in a release build, so the same inputs give the same PCR0.
FROM public.ecr.aws/docker/library/node:22-alpine
RUN apk add --no-cache socat python3
WORKDIR /opt/provena/agent
COPY package.json enclave.js enclave.js.map nsm_ioctl.py enclave-init.sh ./
ENV NODE_ENV=production PROVENA_WORKER_ATTESTOR=nitro-nsm PROVENA_WORKER_MODES=nitro
ENTRYPOINT ["/opt/provena/agent/enclave-init.sh"]
