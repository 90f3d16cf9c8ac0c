// Starts the embedded stack once for the integration tests, exactly as `npm start` does (same script), on
// loopback ports the OS picks (port 0: nothing can take one between picking and binding) and a fresh data
// directory. Tests find it through PROVENA_TEST_STACK (a ready file, which names the ports bound).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The projects named by `--selectProjects` on jest's command line (undefined: all). Jest hands a global setup no
 * such field (`globalConfig.selectedProjects` was never set, so `npm run test:unit` started a stack it never
 * used), so it is read from the arguments, as jest itself reads them.
 */
export function selectedProjects(argv = process.argv) {
  const i = argv.findIndex((a) => a === '--selectProjects' || a.startsWith('--selectProjects='));
  if (i < 0) return undefined;
  const names = argv[i].includes('=') ? [argv[i].slice(argv[i].indexOf('=') + 1)] : [];
  for (const a of argv.slice(i + 1)) {
    if (a.startsWith('-')) break;
    names.push(a);
  }
  return names;
}

export default async function globalSetup() {
  // Lambda runs Node 22; the SDK's notice that Node 20 support ends in 2027 is known (README) and only noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const selected = selectedProjects();
  if (selected && !selected.includes('integration')) return;
  const dir = mkdtempSync(join(tmpdir(), 'provena-test-'));
  const ready = join(dir, 'ready.json');
  const env = {
    ...process.env,
    PROVENA_DATA_DIR: join(dir, 'data'),
    PROVENA_API_PORT: '0',
    PROVENA_CHAIN_PORT: '0',
    PROVENA_DYNAMODB_PORT: '0',
    PROVENA_S3_PORT: '0',
    PROVENA_READY_FILE: ready,
    PROVENA_LOG_LEVEL: process.env.PROVENA_LOG_LEVEL ?? 'SILENT',
    // Short leases, so test/jobs.test.ts sees one expire (workers heartbeat every third of it).
    PROVENA_JOB_LEASE_SECONDS: process.env.PROVENA_JOB_LEASE_SECONDS ?? '9',
    // No training worker beside the test stack: tests start their own (test/worker.e2e.test.ts) or act as one.
    PROVENA_START_WORKER: 'false',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'stack/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const deadline = Date.now() + 120_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null) throw new Error(`embedded stack exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`embedded stack not ready in 120 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  JSON.parse(readFileSync(ready, 'utf8'));
  process.env.PROVENA_TEST_STACK = ready;
  globalThis.__PROVENA_STACK__ = child;
}
