import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  enclaveBridgeArgs,
  parentBridgeArgs,
  renderCloudWatchConfig,
  renderEnclaveInit,
  renderFiles,
  renderLauncher,
  renderUnits,
  renderUserData,
  runEnclaveArgs,
  WorkerLaunchSchema,
  type WorkerLaunchInput,
} from './workerLaunch.js';

const base: WorkerLaunchInput = {
  production: true,
  logGroup: 'provena-prod-gpu-logs',
  agentS3Uri: 's3://artifacts/provena/agent-1.tar.gz',
  eifS3Uri: 's3://artifacts/provena/provena-enclave-1.eif',
  env: { PROVENA_API_URL: 'https://api.example', PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT: 'AQIDBAUGBwg=' },
};
const launch = WorkerLaunchSchema.parse(base);
const dir = mkdtempSync(path.join(tmpdir(), 'provena-launch-'));

/**
 * socat's address grammar for the four address types used here (socat(1): TYPE:params[,option[=value]]...), with
 * the options each accepts; anything else is a typo socat would refuse at start.
 */
function checkSocatAddress(address: string): void {
  const [head, ...options] = address.split(',');
  const m = /^(VSOCK-LISTEN|VSOCK-CONNECT|UNIX-LISTEN|UNIX-CONNECT):(.+)$/.exec(head ?? '');
  if (!m) throw new Error(`unknown socat address type in ${address}`);
  const [, type, params] = m as unknown as [string, string, string];
  if (type === 'VSOCK-LISTEN' && !/^\d{1,5}$/.test(params)) throw new Error(`VSOCK-LISTEN takes a port: ${params}`);
  if (type === 'VSOCK-CONNECT' && !/^\d+:\d{1,5}$/.test(params)) throw new Error(`VSOCK-CONNECT takes cid:port: ${params}`);
  if (type.startsWith('UNIX') && !/^\/[^,:]+$/.test(params)) throw new Error(`${type} takes an absolute path: ${params}`);
  const allowed: Record<string, string[]> = { 'VSOCK-LISTEN': ['fork', 'reuseaddr'], 'UNIX-LISTEN': ['fork', 'unlink-early', 'mode'], 'VSOCK-CONNECT': [], 'UNIX-CONNECT': [] };
  for (const o of options) if (!allowed[type]?.includes(o.split('=')[0] ?? '')) throw new Error(`${type} does not take option ${o}`);
}

describe('the Nitro worker launch, rendered from one typed configuration', () => {
  test('nitro-cli gets the configured CPUs, memory, CID and EIF, and no debug flag in production', () => {
    expect(runEnclaveArgs(WorkerLaunchSchema.parse({ ...base, enclave: { cpuCount: 4, memoryMib: 8192, cid: 20 } }))).toEqual([
      'run-enclave', '--enclave-name', 'provena-worker', '--cpu-count', '4', '--memory', '8192', '--enclave-cid', '20', '--eif-path', '/opt/provena/enclave.eif',
    ]);
    expect(renderLauncher(launch)).toContain("nitro-cli 'run-enclave' '--enclave-name' 'provena-worker' '--cpu-count' '2' '--memory' '4096' '--enclave-cid' '16' '--eif-path' '/opt/provena/enclave.eif'\n");
    expect(renderUserData(launch).join('\n')).not.toContain('--debug-mode');
  });

  test('debug mode is refused in production and allowed in development only', () => {
    const refused = WorkerLaunchSchema.safeParse({ ...base, enclave: { debugMode: true } });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({ path: ['enclave', 'debugMode'], message: expect.stringContaining('refused in production') });
    expect(runEnclaveArgs(WorkerLaunchSchema.parse({ ...base, production: false, enclave: { debugMode: true } }))).toContain('--debug-mode');
  });

  test('the parent is never configured with the operator key; bad sizes and unsafe values are refused', () => {
    expect(WorkerLaunchSchema.safeParse({ ...base, env: { PROVENA_WORKER_OPERATOR_KEY: '0x' + '11'.repeat(32) } }).error?.issues[0]?.path).toEqual(['env', 'PROVENA_WORKER_OPERATOR_KEY']);
    expect(WorkerLaunchSchema.safeParse({ ...base, enclave: { cpuCount: 3 } }).success).toBe(false);
    expect(WorkerLaunchSchema.safeParse({ ...base, enclave: { cid: 3 } }).success).toBe(false);
    expect(WorkerLaunchSchema.safeParse({ ...base, env: { PROVENA_API_URL: "https://x'; rm -rf /" } }).success).toBe(false);
  });

  test('both socat command lines are valid socat addresses and meet on the same vsock port', () => {
    const parent = parentBridgeArgs(launch);
    const enclave = enclaveBridgeArgs(launch);
    for (const a of [...parent, ...enclave]) checkSocatAddress(a);
    expect(parent).toEqual(['VSOCK-LISTEN:5005,fork,reuseaddr', 'UNIX-CONNECT:/run/provena/parent.sock']);
    expect(enclave).toEqual(['UNIX-LISTEN:/run/provena/enclave.sock,fork,unlink-early', 'VSOCK-CONNECT:3:5005']);
    expect(renderLauncher(launch)).toContain("exec socat 'VSOCK-LISTEN:5005,fork,reuseaddr' 'UNIX-CONNECT:/run/provena/parent.sock'");
    expect(renderEnclaveInit(launch)).toContain("socat 'UNIX-LISTEN:/run/provena/enclave.sock,fork,unlink-early' 'VSOCK-CONNECT:3:5005' &");
    expect(() => checkSocatAddress('VSOCK-CONNECT:3')).toThrow('cid:port');
    expect(() => checkSocatAddress('VSOCK-LISTEN:5005,forks')).toThrow('option forks');
  });

  test('the parent runs under systemd with restart, the SIGTERM notice path, a stop timeout inside the spot notice, and logs to files CloudWatch ships', () => {
    const units = renderUnits(launch);
    expect(Object.keys(units)).toEqual(['provena-parent.service', 'provena-vsock-bridge.service', 'provena-enclave.service']);
    expect(units['provena-parent.service']).toContain('ExecStart=/opt/provena/bin/provena-nitro parent\nRestart=always\nRestartSec=2\nKillSignal=SIGTERM\nTimeoutStopSec=110\n');
    expect(units['provena-parent.service']).toContain('EnvironmentFile=/etc/provena/worker.env');
    // systemd stops units in reverse start order: the parent (whose SIGTERM winds the job down) before the enclave and the bridge.
    expect(units['provena-parent.service']).toContain('After=network-online.target provena-enclave.service provena-vsock-bridge.service\n');
    expect(units['provena-enclave.service']).not.toContain('provena-parent.service');
    expect(units['provena-enclave.service']).toContain('ExecStart=/opt/provena/bin/provena-nitro enclave\nRestart=always');
    for (const u of Object.values(units)) expect(u).toContain('StandardError=append:/var/log/provena/%N.log');
    const cw = JSON.parse(renderCloudWatchConfig(launch)) as { logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string }[] } } } };
    expect(cw.logs.logs_collected.files.collect_list.map((f) => [f.file_path, f.log_group_name])).toEqual([
      ['/var/log/provena/provena-parent.log', 'provena-prod-gpu-logs'],
      ['/var/log/provena/provena-vsock-bridge.log', 'provena-prod-gpu-logs'],
      ['/var/log/provena/provena-enclave.log', 'provena-prod-gpu-logs'],
    ]);
  });

  test('the parent polls IMDSv2 for spot notices and reaches the enclave on its socket', () => {
    const env = renderFiles(launch).find((f) => f.path === '/etc/provena/worker.env');
    expect(env?.mode).toBe('0600');
    expect(env?.content).toContain("PROVENA_WORKER_IMDS_URL='http://169.254.169.254'\n");
    expect(env?.content).toContain("PROVENA_NITRO_SOCKET='/run/provena/parent.sock'\n");
    expect(env?.content).toContain("PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT='AQIDBAUGBwg='\n");
  });

  test('the user data writes every rendered file verbatim and is valid bash; the launcher and the enclave init parse too', () => {
    const userData = renderUserData(launch).join('\n');
    for (const f of renderFiles(launch)) expect(userData).toContain(f.content.replace(/\n$/, ''));
    expect(userData).toContain("aws s3 cp 's3://artifacts/provena/provena-enclave-1.eif' '/opt/provena/enclave.eif'");
    expect(userData).toContain('systemctl enable --now provena-parent.service provena-vsock-bridge.service provena-enclave.service');
    for (const [name, text, shell] of [['user-data.sh', `#!/bin/bash\n${userData}\n`, 'bash'], ['provena-nitro', renderLauncher(launch), 'bash'], ['enclave-init.sh', renderEnclaveInit(launch), 'sh']] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      expect(() => execFileSync(shell, ['-n', file], { stdio: 'pipe' })).not.toThrow();
    }
  });

  test('the user data stays under EC2\'s 16 KiB limit with a full environment', () => {
    const env = { ...base.env, PROVENA_CONTRACTS: JSON.stringify(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, `0x${'1'.repeat(40)}`]))), PROVENA_PARENT_PROXY_ORIGINS: 'x'.repeat(300) };
    expect(Buffer.byteLength(renderUserData(WorkerLaunchSchema.parse({ ...base, env })).join('\n'))).toBeLessThan(16 * 1024 - 1024);
  });

  test('without an agent bundle or an EIF the instance starts nothing and says why', () => {
    const { eifS3Uri: _eif, ...noEif } = base;
    const userData = renderUserData(WorkerLaunchSchema.parse(noEif)).join('\n');
    expect(userData).toContain('PROVENA_GPU_EIF_S3_URI unset at deploy: the Nitro worker pair is not started');
    expect(userData).not.toContain('systemctl enable --now provena-parent.service');
  });
});
