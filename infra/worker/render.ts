/**
 * Prints one piece of the Nitro worker launch rendered by infra/lib/workerLaunch.ts (defaults: the values the CDK
 * renders the instances' units with), for build.sh and for reading:
 *
 *   npx tsx infra/worker/render.ts enclave-init   # the EIF's init (baked into the image: part of PCR0)
 *   npx tsx infra/worker/render.ts launcher       # /opt/provena/bin/provena-nitro
 *   npx tsx infra/worker/render.ts units          # the three systemd units
 */
import { renderEnclaveInit, renderLauncher, renderUnits, WorkerLaunchSchema } from '../lib/workerLaunch.js';

const launch = WorkerLaunchSchema.parse({ production: true, logGroup: 'provena-gpu-workers', env: {} });
const what = process.argv[2];
if (what === 'enclave-init') process.stdout.write(renderEnclaveInit(launch));
else if (what === 'launcher') process.stdout.write(renderLauncher(launch));
else if (what === 'units') for (const [name, unit] of Object.entries(renderUnits(launch))) process.stdout.write(`# ${name}\n${unit}\n`);
else {
  process.stderr.write('usage: render.ts enclave-init|launcher|units\n');
  process.exit(2);
}
