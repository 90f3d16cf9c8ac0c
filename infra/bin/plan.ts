/**
 * npm run deploy:plan — what `cdk deploy` would create from this environment, and what is still missing, without
 * synthesizing or touching AWS: the stage, the Lambdas (one per route + the relayer consumer + the indexer tick),
 * the key gate, the variables still on a synth-only default, and whether an agent bundle, an EIF and a PCR0 are
 * present (infra/worker/build.sh's output, or PROVENA_ENCLAVE_PCR0).
 */
import path from 'node:path';
import { routes } from '../../shared/http/routes.js';
import { enclavePlanLine, readEnclaveBuild, withBuiltPcr0 } from '../lib/enclaveBuild.js';
import { readInfraConfig } from '../lib/InfraConfig.js';
import { repoRoot } from '../lib/constructs/provenaFunction.js';
import { PROVENA_RELEASE_ACTION_FILE, provenaReleaseActionCid } from '../../shared/adapters/lit/provenaReleaseActionCid.js';

const build = readEnclaveBuild(path.join(repoRoot, 'dist', 'worker'));
const env = withBuiltPcr0(process.env, build);
let config;
try {
  config = readInfraConfig(env);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
const handlers = new Set(Object.values(routes).map((r) => r.handler));
console.log(`stage: ${config.stage} (stack Provena-${config.stage})`);
console.log(`lambdas: ${handlers.size} route handlers (nodejs22.x, arm64, ESM bundles) + relayer consumer + indexer tick`);
console.log(`key gate: ${config.keyGate}${config.keyGate === 'lit' ? ` (${config.litNetwork}; owners seal to the KMS inbox key)` : ''}`);
if (config.keyGate === 'lit') {
  const cid = config.litActionCid ?? (await provenaReleaseActionCid());
  const file = path.relative(repoRoot, PROVENA_RELEASE_ACTION_FILE.pathname);
  console.log(`lit action: ${cid} (${file}); pin it before deploy: ipfs add --cid-version=0 ${file}`);
  console.log(`lit gate wallet: ${config.litWalletSecretArn ?? 'unset'} (${config.litCapacityDelegationAuthSig === undefined ? `its address must own Capacity Credits on ${config.litNetwork}` : `Capacity Credits delegated to it by ${(JSON.parse(config.litCapacityDelegationAuthSig) as { address: string }).address}`})`);
}
console.log(`gpu workers: ${config.gpuInstanceTypes.join(', ')} (max ${config.gpuMaxCapacity}); agent ${config.gpuAgentS3Uri ?? 'PROVENA_GPU_AGENT_S3_URI unset'}`);
console.log(enclavePlanLine(process.env, build));
console.log(
  `nitro pair: EIF ${config.gpuEifS3Uri ?? 'PROVENA_GPU_EIF_S3_URI unset (instances start no enclave)'}; enclave ${config.enclaveCpuCount} vCPU, ${config.enclaveMemoryMib} MiB${config.enclaveDebugMode ? ', DEBUG MODE (dev only)' : ''}; operator key ${config.workerOperatorKeyCiphertext ? 'sealed (PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT)' : 'not sealed: after the first deploy, seal it under the WorkerOperatorKeyArn output and set PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT'}`,
);
console.log(config.defaulted.length === 0 ? 'missing: nothing' : `missing before cdk deploy: ${config.defaulted.join(', ')}`);
