# The Nitro Enclave image: the agent (keys, decryption, chunk checks, anonymization) and nothing else. No network
# inside an enclave: it talks to the parent over vsock (the parent proxies the API and KMS over TLS it cannot read:
# KMS answers the enclave with CiphertextForRecipient, which only the enclave's RSA key opens).
# Pin the base by digest in a release build, so the same inputs give the same PCR0.
FROM public.ecr.aws/docker/library/node:22-alpine
WORKDIR /opt/provena/agent
COPY main.js main.js.map ./
ENV NODE_ENV=production PROVENA_WORKER_MODE=nitro-enclave
CMD ["node", "--enable-source-maps", "main.js"]
