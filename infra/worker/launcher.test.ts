/**
 * The instance's launcher (`provena-nitro`, rendered by infra/lib/workerLaunch.ts) run here as it runs on a GPU
 * instance, with `PROVENA_NITRO_TRANSPORT=local` in place of nitro-cli and socat: the parent and the enclave agent
 * as two processes of the real entry points, the enclave booting from its parent, the operator key sealed under
 * KMS (the in-process KMS, real SDK client) and released to the enclave's attestation, leases signed with it against
 * a loopback API, and a spot notice from a loopback IMDSv2 winding both down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EncryptCommand } from '@aws-sdk/client-kms';
import { recoverAddress, Wallet } from 'ethers';
import { DevAttestor, devPcrs } from '../../shared/attestation/devAttestor.js';
import { AUTH_HEADERS, requestDigest, requestMessage } from '../../shared/auth/signedRequest.js';
import { FakeKms } from '../../test/support/aws/fakeKms.js';
import { OPERATOR_KEY_CONTEXT } from '../../gpu-workers/agent/nitro/boot.js';
import { parentEnv, renderLauncher, WorkerLaunchSchema } from '../lib/workerLaunch.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHAIN_ID = 31337;
const dir = mkdtempSync(path.join(tmpdir(), 'pvn-'));
const devRoot = path.join(dir, 'dev-root');
mkdirSync(devRoot);
const root = DevAttestor.open(devRoot, { now: new Date() });
const operator = Wallet.createRandom();

const listen = (server: Server): Promise<string> => new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

/** The API: health, and lease long polls answered empty; each lease's signer recovered from its signature. */
const leaseSigners: string[] = [];
const api = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    if (req.url === '/v1/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', chainId: CHAIN_ID, contracts: {}, components: {} }));
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/worker/leases') {
      const h = (name: string): string => String(req.headers[name] ?? '');
      const message = { ...requestMessage({ account: h(AUTH_HEADERS.address), method: 'POST', path: '/v1/worker/leases', body }), timestamp: Number(h(AUTH_HEADERS.timestamp)), nonce: h(AUTH_HEADERS.nonce) };
      leaseSigners.push(recoverAddress(requestDigest(CHAIN_ID, message), h(AUTH_HEADERS.signature)));
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ assignment: null })), 200);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: String(req.url) }));
  });
});

/** IMDSv2: a token, then no spot action until `notice` is set. */
let notice: { action: string; time: string } | undefined;
const imds = createServer((req, res) => {
  if (req.method === 'PUT' && req.url === '/latest/api/token') res.writeHead(200).end('imds-token');
  else if (req.url === '/latest/meta-data/spot/instance-action' && req.headers['x-aws-ec2-metadata-token'] === 'imds-token') {
    if (notice) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(notice));
    else res.writeHead(404).end();
  } else res.writeHead(401).end();
});

let kms: FakeKms;
let apiUrl: string;
let imdsUrl: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  kms = await FakeKms.start({ trustedRoots: [root.rootFingerprint] });
  apiUrl = await listen(api);
  imdsUrl = await listen(imds);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  await Promise.all([kms.close(), new Promise((r) => api.close(r)), new Promise((r) => imds.close(r))]);
});

function run(launcher: string, command: string, env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn('bash', [launcher, command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function until(what: string, ok: () => boolean, seconds: number, logs: () => string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('provena-nitro with PROVENA_NITRO_TRANSPORT=local: the instance launcher without Nitro hardware', () => {
  test('the enclave boots from the parent, gets the operator key from KMS by attestation, leases with it, and a spot notice winds both down', async () => {
    const keyId = kms.createSymmetricKey({ approvedImageSha384: (devPcrs().get(0) as Buffer).toString('hex') });
    const sealed = await kms.client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(operator.privateKey.slice(2), 'hex'), EncryptionContext: { ...OPERATOR_KEY_CONTEXT } }));
    const agentDir = path.join(dir, 'agent');
    mkdirSync(agentDir);
    writeFileSync(path.join(agentDir, 'package.json'), '{"type":"module"}\n'); // as in the agent tarball (ESM bundles)
    // The agent tarball's entry points, here the sources (run with tsx) instead of the esbuild bundles.
    for (const side of ['parent', 'enclave']) writeFileSync(path.join(agentDir, `${side}.js`), `import ${JSON.stringify(path.join(ROOT, 'gpu-workers', 'agent', 'nitro', `${side}.ts`))};\n`);
    const launch = WorkerLaunchSchema.parse({
      production: true,
      logGroup: 'local',
      agentDir,
      parentSocket: path.join(dir, 'parent.sock'),
      imdsUrl,
      imdsPollSeconds: 0.2,
      env: {
        PROVENA_API_URL: apiUrl,
        PROVENA_WORKER_ID: 'launcher-test',
        PROVENA_WORKER_MODES: 'nitro',
        PROVENA_WORKER_DEV_ROOT_DIR: devRoot,
        PROVENA_WORKER_LEASE_WAIT_SECONDS: '1',
        PROVENA_TRAINER_DEVICE: 'cpu',
        PROVENA_PARENT_PROXY_ORIGINS: apiUrl,
        PROVENA_PARENT_WORK_DIR: path.join(dir, 'parent-work'),
        PROVENA_PARENT_TAP_FILE: path.join(dir, 'tap.log'),
        PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT: Buffer.from(sealed.CiphertextBlob as Uint8Array).toString('base64'),
        PROVENA_KMS_ENDPOINT: kms.endpoint,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDLAUNCHERTEST',
        AWS_SECRET_ACCESS_KEY: 'launcher-test-secret',
      },
    });
    const launcher = path.join(dir, 'provena-nitro');
    writeFileSync(launcher, renderLauncher(launch));
    chmodSync(launcher, 0o755);
    const base = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: '--import tsx', PROVENA_NITRO_TRANSPORT: 'local' };

    const bridge = run(launcher, 'bridge', base);
    expect(await bridge.exited).toBe(0);
    expect(bridge.out()).toContain('local transport');

    // As systemd starts them: the parent with /etc/provena/worker.env, the enclave with nothing of it.
    const parent = run(launcher, 'parent', { ...base, ...parentEnv(launch), PROVENA_WORKER_IMDS_URL: imdsUrl });
    await until('the parent socket', () => existsSync(launch.parentSocket), 90, parent.out);
    const enclave = run(launcher, 'enclave', base);
    const logs = (): string => `--parent--\n${parent.out()}\n--enclave--\n${enclave.out()}`;

    await until('a signed lease request', () => leaseSigners.length > 0, 120, logs);
    expect(leaseSigners[0]).toBe(operator.address);
    expect(enclave.out()).toContain('operator key released by KMS to this enclave');
    expect(kms.calls.some((c) => c.operation === 'Decrypt' && c.body.Recipient !== undefined)).toBe(true);

    notice = { action: 'terminate', time: new Date(Date.now() + 120_000).toISOString() };
    const codes = { enclave: await enclave.exited, parent: await parent.exited };
    if (codes.parent !== 0) console.log(logs());
    expect({ codes, logs: logs() }).toMatchObject({ codes: { enclave: 0, parent: 0 } });
    expect(parent.out()).toContain('interruption notice: forwarded to the enclave');
    expect(enclave.out()).toContain('"msg":"worker stopped"');
    // Nothing the parent received, logged or proxied holds the operator key.
    const parentSaw = `${readFileSync(path.join(dir, 'tap.log'), 'utf8')}\n${parent.out()}`.toLowerCase();
    expect(parentSaw).not.toContain(operator.privateKey.slice(2).toLowerCase());
  }, 240_000);
});

/**
 * The vsock branch on this machine, which has neither nitro-cli nor vsock: both binaries are stand-ins on PATH that
 * record their arguments (nitro-cli answers describe-enclaves from a state file), so what is checked is the
 * launcher's own control flow: the arguments, the watch loop, and terminate on SIGTERM.
 */
describe('provena-nitro with the vsock transport (nitro-cli and socat recorded, not run)', () => {
  const bin = path.join(dir, 'stub-bin');
  const calls = path.join(dir, 'calls.log');
  const running = path.join(dir, 'enclave-running');
  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      path.join(bin, 'nitro-cli'),
      `#!/usr/bin/env bash\necho "nitro-cli $*" >> ${calls}\ncase "$1" in\n  run-enclave) touch ${running} ;;\n  terminate-enclave) rm -f ${running} ;;\n  describe-enclaves) if [ -e ${running} ]; then echo '[{"EnclaveName": "provena-worker", "State": "RUNNING"}]'; else echo '[]'; fi ;;\nesac\n`,
    );
    writeFileSync(path.join(bin, 'socat'), `#!/usr/bin/env bash\necho "socat $*" >> ${calls}\n`);
    chmodSync(path.join(bin, 'nitro-cli'), 0o755);
    chmodSync(path.join(bin, 'socat'), 0o755);
  });
  const launch = WorkerLaunchSchema.parse({ production: true, logGroup: 'x', enclave: { cpuCount: 4, memoryMib: 8192 }, env: {} });
  const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME };

  test('runs the EIF with the configured flags, fails when the enclave is gone (systemd restarts it), terminates it on SIGTERM', async () => {
    const launcher = path.join(dir, 'provena-nitro-vsock');
    writeFileSync(launcher, renderLauncher(launch));
    const bridge = run(launcher, 'bridge', env);
    expect(await bridge.exited).toBe(0);
    expect(readFileSync(calls, 'utf8')).toContain('socat VSOCK-LISTEN:5005,fork,reuseaddr UNIX-CONNECT:/run/provena/parent.sock\n');

    const first = run(launcher, 'enclave', env);
    await until('run-enclave', () => existsSync(running), 20, first.out);
    expect(readFileSync(calls, 'utf8')).toContain('nitro-cli run-enclave --enclave-name provena-worker --cpu-count 4 --memory 8192 --enclave-cid 16 --eif-path /opt/provena/enclave.eif\n');
    writeFileSync(calls, '');
    rmSync(running); // the enclave stopped by itself
    expect(await first.exited).toBe(1);
    expect(first.out()).toContain('is gone');

    const second = run(launcher, 'enclave', env);
    await until('run-enclave', () => existsSync(running), 20, second.out);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(existsSync(running)).toBe(false);
    expect(readFileSync(calls, 'utf8').trim().split('\n').at(-1)).toBe('nitro-cli terminate-enclave --enclave-name provena-worker');
  }, 60_000);
});
