/**
 * infra/worker/cgpu-worker.sh's checks, run for real: each bad setting is named (exit 2) before anything starts,
 * and with good settings on this machine (no TDX/SEV-SNP guest device) it stops at the TEE check (exit 3).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cgpu-worker.sh');
const dir = mkdtempSync(path.join(tmpdir(), 'provena-cgpu-'));
const agentDir = path.join(dir, 'agent');
mkdirSync(agentDir);
writeFileSync(path.join(agentDir, 'main.js'), '');
const keyFile = path.join(dir, 'operator.key');
writeFileSync(keyFile, `0x${'ab'.repeat(32)}\n`);
chmodSync(keyFile, 0o600);

function check(env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync('bash', [script, '--check'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const good = { PROVENA_API_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/', PROVENA_WORKER_OPERATOR_KEY_FILE: keyFile, PROVENA_AGENT_DIR: agentDir };

describe('cgpu-worker.sh: a confidential-GPU worker on another cloud needs only the API URL and its evidence', () => {
  test('with nothing set it names the API URL, the operator key and the agent bundle, and exits 2', () => {
    const r = check({ PROVENA_AGENT_DIR: path.join(dir, 'nowhere') });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('PROVENA_API_URL is unset');
    expect(r.stderr).toContain('no operator key');
    expect(r.stderr).toContain('has no main.js');
  });

  test('refuses a plain-http API that is not loopback, and a malformed key', () => {
    const r = check({ ...good, PROVENA_API_URL: 'http://api.example.com/', PROVENA_WORKER_OPERATOR_KEY_FILE: '', PROVENA_WORKER_OPERATOR_KEY: '0x1234' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('must be an https:// URL');
    expect(r.stderr).toContain('0x + 64 hex digits');
  });

  test('refuses a key file others can read', () => {
    const loose = path.join(dir, 'loose.key');
    writeFileSync(loose, `0x${'cd'.repeat(32)}`);
    chmodSync(loose, 0o644);
    const r = check({ ...good, PROVENA_WORKER_OPERATOR_KEY_FILE: loose });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('must be mode 0600 or 0400 (is 644)');
  });

  test('with good settings on a machine that is not a confidential VM it stops at the TEE check (exit 3)', () => {
    const r = check(good);
    expect(r.stderr).not.toContain('PROVENA_');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no TDX or SEV-SNP guest device|tsm\/report is missing|not in CC mode/);
  });
});
