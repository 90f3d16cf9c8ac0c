/**
 * `npm start` as a user runs it: a second stack process over its own data directory keeps listings across a
 * restart, shuts down cleanly on SIGINT, and the CLI works against it as the README shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { ProvenaClient } from '../shared/sdk/client.js';
import type { StackInfo } from '../stack/stack.js';
import { runCli } from './support/cli.js';
import { listing } from './support/fixtures.js';
import { stackInfo } from './support/stack.js';

const dir = mkdtempSync(join(tmpdir(), 'provena-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Starts `stack/start.ts` as its own process, on ports the OS picks (port 0; the ready file names them). Its own
 * chain, when asked for, listens on `ownChainPort` (0: any; a restart passes the port the first start bound).
 */
async function startOwnStack(options: { dataDir?: string; ownChainPort?: number } = {}): Promise<{ child: ChildProcess; info: StackInfo; output: () => string }> {
  const ready = join(dir, `ready-${Date.now()}.json`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'stack/start.ts'], {
    env: {
      ...process.env,
      PROVENA_DATA_DIR: options.dataDir ?? join(dir, 'data'),
      // By default share the global chain: one Hardhat node is enough for tests of the stack's own state.
      ...(options.ownChainPort !== undefined ? { PROVENA_CHAIN_PORT: String(options.ownChainPort) } : { PROVENA_CHAIN_RPC_URL: stackInfo().rpcUrl }),
      PROVENA_API_PORT: '0',
      PROVENA_DYNAMODB_PORT: '0',
      PROVENA_S3_PORT: '0',
      PROVENA_READY_FILE: ready,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`stack did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, info: JSON.parse(readFileSync(ready, 'utf8')) as StackInfo, output: () => out };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

const cli = runCli;

describe('the embedded stack as a process', () => {
  it('keeps listings across a restart, reuses its deployed contracts, and stops cleanly on Ctrl-C', async () => {
    const owner = Wallet.createRandom();
    const first = await startOwnStack();
    const api1 = new ProvenaClient({ baseUrl: first.info.apiUrl, chainId: first.info.chainId, signer: owner });
    const ds = await api1.createDataset(listing(owner.address));
    expect(first.output()).toContain('contracts deployed');
    expect(await stop(first.child)).toBe(0);
    expect(first.output()).toContain('stopped cleanly');

    const second = await startOwnStack();
    try {
      expect(second.output()).toContain('contracts found');
      expect(second.info.deployment.contracts).toEqual(first.info.deployment.contracts);
      const api2 = new ProvenaClient({ baseUrl: second.info.apiUrl, chainId: second.info.chainId, signer: owner });
      expect(await api2.getDataset(ds.id)).toEqual(ds);
      expect((await api2.health()).status).toBe('ok');
    } finally {
      await stop(second.child);
    }
  }, 180_000);

  it('forgets registry ids when its own chain restarts empty, so no key trusts an id the new chain reuses', async () => {
    const owner = new Wallet(Wallet.createRandom().privateKey);
    const dataDir = join(dir, 'reset-data');
    const first = await startOwnStack({ dataDir, ownChainPort: 0 });
    const chainPort = Number(new URL(first.info.rpcUrl).port);
    expect(chainPort).toBeGreaterThan(0);
    let registered;
    try {
      const api = new ProvenaClient({ baseUrl: first.info.apiUrl, chainId: first.info.chainId, signer: owner });
      registered = await api.registerDataset((await api.createDataset(listing(owner.address))).id);
      expect(registered.chainDatasetId).toBe('1');
    } finally {
      expect(await stop(first.child)).toBe(0);
    }
    const second = await startOwnStack({ dataDir, ownChainPort: chainPort });
    try {
      expect(second.output()).toContain('contracts deployed');
      expect(second.output()).toContain('the chain was reset: 1 listing(s) lost their registry entry');
      const api = new ProvenaClient({ baseUrl: second.info.apiUrl, chainId: second.info.chainId, signer: owner });
      const after = await api.getDataset(registered.id);
      expect(after.chainDatasetId).toBeUndefined();
      expect(after.version).toBe(registered.version);
      expect((await api.registerDataset(registered.id)).chainDatasetId).toBe('1');
    } finally {
      await stop(second.child);
    }
  }, 120_000);

  it('stops at start with a message naming a bad variable', async () => {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'stack/start.ts'], { env: { ...process.env, PROVENA_API_PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => resolve({ code, err }));
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('PROVENA_API_PORT');
  });
});

describe('the CLI', () => {
  it('creates, lists, updates and delists a dataset with a key file, as the README shows', async () => {
    const { apiUrl } = stackInfo();
    const owner = Wallet.createRandom();
    const keyFile = join(dir, 'owner.key');
    writeFileSync(keyFile, `${owner.privateKey}\n`, { mode: 0o600 });
    const env = { PROVENA_API_URL: apiUrl };

    const tpl = await cli(['--key-file', keyFile, 'dataset', 'template'], env);
    expect(tpl.code).toBe(0);
    const file = join(dir, 'listing.json');
    writeFileSync(file, tpl.stdout);

    const created = await cli(['--key-file', keyFile, '--json', 'dataset', 'create', '-f', file], env);
    expect(created.stderr).toBe('');
    const ds = JSON.parse(created.stdout) as { id: string; owner: string };
    expect(ds.owner).toBe(owner.address);

    const listed = await cli(['dataset', 'list', '--owner', owner.address], env);
    expect(listed.stdout).toContain(ds.id);

    writeFileSync(join(dir, 'patch.json'), JSON.stringify({ title: 'Renamed by CLI' }));
    const updated = await cli(['--key-file', keyFile, 'dataset', 'update', ds.id, '-f', join(dir, 'patch.json')], env);
    expect(updated.stdout).toContain('Renamed by CLI');

    const other = join(dir, 'other.key');
    writeFileSync(other, Wallet.createRandom().privateKey);
    const refused = await cli(['--key-file', other, 'dataset', 'delist', ds.id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FORBIDDEN_NOT_OWNER');

    expect((await cli(['--key-file', keyFile, 'dataset', 'delist', ds.id], env)).stdout).toContain('delisted');
  }, 180_000);

  it('prints field paths for an invalid listing file and exits 1', async () => {
    const keyFile = join(dir, 'k2.key');
    writeFileSync(keyFile, Wallet.createRandom().privateKey);
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ title: '' }));
    const r = await cli(['--key-file', keyFile, 'dataset', 'create', '-f', file], { PROVENA_API_URL: stackInfo().apiUrl });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('VALIDATION_FAILED');
    expect(r.stderr).toContain('body.title');
  });
});
