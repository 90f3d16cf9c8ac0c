/**
 * The CDK app. Reads its configuration once (see ../lib/InfraConfig.ts for every variable and which ones
 * `cdk deploy` needs), then builds one stack per stage: `Provena-<stage>`.
 *
 * The stack is environment-agnostic (no account/region lookups) so `cdk synth` works offline; `cdk deploy`
 * takes the account and region from the AWS profile.
 */
import { Annotations, App } from 'aws-cdk-lib';
import path from 'node:path';
import { readEnclaveBuild, withBuiltPcr0 } from '../lib/enclaveBuild.js';
import { readInfraConfig } from '../lib/InfraConfig.js';
import { repoRoot } from '../lib/constructs/provenaFunction.js';
import { ProvenaStack } from '../lib/ProvenaStack.js';
import { provenaReleaseActionCid } from '../../shared/adapters/lit/provenaReleaseActionCid.js';

let config;
try {
  // PCR0 of the enclave image: PROVENA_ENCLAVE_PCR0, else what infra/worker/build.sh's nitro-cli run measured.
  config = readInfraConfig(withBuiltPcr0(process.env, readEnclaveBuild(path.join(repoRoot, 'dist', 'worker'))));
} catch (err) {
  // A short message beats a stack trace from inside zod: it names each bad variable.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

// The Lit gate runs the release action by its CID: the one of the file in this checkout, unless pinned explicitly.
if (config.keyGate === 'lit' && config.litActionCid === undefined) config = { ...config, litActionCid: await provenaReleaseActionCid() };

const app = new App();
const stack = new ProvenaStack(app, `Provena-${config.stage}`, {
  config,
  description: `Provena marketplace (${config.stage})`,
  tags: { project: 'provena', stage: config.stage },
});
for (const name of config.defaulted) {
  // Surfaces in `cdk synth`/`cdk deploy` output; `--strict` turns these into failures.
  Annotations.of(stack).addWarningV2(`provena:synth-default:${name}`, `${name} is unset: using a synth-only local default; set it before cdk deploy`);
}
app.synth();
