/**
 * The chain indexer against Hardhat's in-process chain and dynalite: purchases and jobs become records with their
 * snapshotted terms; the same blocks indexed twice count once; a restart continues from the cursor; a reorg
 * (evm_snapshot, index, evm_revert, another branch) leaves only the new branch's records; unconfirmed blocks wait.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { buyLicense, deploySystem, openJob, registerExplicit, USD, type System } from '../../contracts/test/helpers/fixture.js';
import { createDynamoClient } from '../../shared/adapters/aws/dynamo.js';
import { ensureTables, tableDefinitions } from '../../shared/adapters/aws/tables.js';
import { IndexerSettings } from '../../shared/config.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../stack/embeddedDynamo.js';
import { codeOf } from '../../test/support/errors.js';
import { indexChain } from '../../shared/use-cases/indexChain.js';
import { createIndexer, type Indexer } from './indexer.js';

let sys: System;
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let base: string;
let deployBlock: number;
let tables = 0;
let names: { licenses: string; indexer: string };
let datasetId: bigint;

beforeAll(async () => {
  sys = await deploySystem();
  deployBlock = await sys.chain.provider.getBlockNumber();
  const [owner] = sys.people;
  datasetId = await registerExplicit(sys, owner!, 7n, { recipients: [await owner!.getAddress()], bps: [10_000] });
  base = await sys.chain.snapshot();
  dynamo = await startEmbeddedDynamo({ dir: mkdtempSync(join(tmpdir(), 'provena-indexer-')), port: 0 });
  client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

beforeEach(async () => {
  await sys.chain.revertTo(base);
  base = await sys.chain.snapshot();
  tables++;
  names = { licenses: `licenses-${tables}`, indexer: `indexer-${tables}` };
  const defs = tableDefinitions({ datasets: 'd', nonces: 'n', uploads: 'u', relayJournal: 'r', ...names }).filter((d) => d.TableName === names.licenses || d.TableName === names.indexer);
  await ensureTables(client, defs);
});

function indexer(settings: Partial<Record<keyof typeof IndexerSettings.shape, string>> = {}): Indexer {
  const config = IndexerSettings.parse({
    PROVENA_TABLE_LICENSES: names.licenses,
    PROVENA_TABLE_INDEXER: names.indexer,
    PROVENA_INDEXER_CONFIRMATIONS: '0',
    PROVENA_INDEXER_START_BLOCK: String(deployBlock),
    ...settings,
  });
  return createIndexer({ ...config, PROVENA_CHAIN_ID: Number(sys.chain.chainId), PROVENA_CONTRACTS: { LicenseManager: sys.manager.target as string, PaymentToken: sys.token.target as string } }, sys.chain.provider, client);
}

/** Ticks until the indexer has reached the head (less its confirmations). */
async function catchUp(ix: Indexer) {
  for (;;) {
    const r = await ix.tick();
    if (r.block >= r.head.number - ix.params.confirmations && !r.raced) return r;
  }
}

async function itemCount(table: string): Promise<number> {
  return (await client.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count ?? 0;
}

const lab = (i: number) => sys.labs[i]!;
const address = (i: number) => lab(i).getAddress();

describe('the chain indexer', () => {
  it('records a purchase with the terms it snapshotted and the jobs opened on it', async () => {
    const licenseId = await buyLicense(sys, lab(0), [datasetId], 250n * USD);
    const jobId = await openJob(sys, lab(0), licenseId, 100n * USD);
    const ix = indexer();

    const r = await catchUp(ix);

    expect(r.events).toBe(2);
    const rec = await ix.licenses.get(String(licenseId));
    expect(rec).toMatchObject({ id: String(licenseId), holder: await address(0), budget: String(250n * USD), jobs: [String(jobId)] });
    expect(rec?.datasets).toEqual([{ datasetId: String(datasetId), pricePerSample: '7', totalUnits: '10000' }]);
    const page = await ix.licenses.listByHolder(await address(0), { limit: 10 });
    expect(page.items.map((l) => l.id)).toEqual([String(licenseId)]);
  });

  it('records the same purchase once when its blocks are indexed twice', async () => {
    const licenseId = await buyLicense(sys, lab(0), [datasetId], 10n * USD);
    await openJob(sys, lab(0), licenseId, 5n * USD);
    const ix = indexer();
    await catchUp(ix);
    const before = await itemCount(names.licenses);

    // A lost cursor (or a second indexer from scratch) reads the same logs again.
    await client.send(new DeleteItemCommand({ TableName: names.indexer, Key: { name: { S: ix.params.name } } }));
    await catchUp(indexer());
    await ix.licenses.apply(await ix.deps.source.events(deployBlock, await sys.chain.provider.getBlockNumber()));

    expect(before).toBe(2);
    expect(await itemCount(names.licenses)).toBe(2);
    expect((await ix.licenses.get(String(licenseId)))?.jobs).toHaveLength(1);
  });

  it('continues from its cursor after a restart, reading each block once', async () => {
    const first = await buyLicense(sys, lab(0), [datasetId], 10n * USD);
    const a = indexer({ PROVENA_INDEXER_BATCH_BLOCKS: '1' });
    await catchUp(a);
    const second = await buyLicense(sys, lab(1), [datasetId], 20n * USD);

    const b = indexer({ PROVENA_INDEXER_BATCH_BLOCKS: '1' });
    const r = await b.tick();

    expect(r.events).toBe(1);
    expect(r.block).toBe(await sys.chain.provider.getBlockNumber());
    expect((await b.licenses.get(String(first)))?.holder).toBe(await address(0));
    expect((await b.licenses.get(String(second)))?.holder).toBe(await address(1));
  });

  it('follows a reorg: records of the abandoned branch are rolled back and the new branch counted once', async () => {
    const kept = await buyLicense(sys, lab(2), [datasetId], 3n * USD);
    const ix = indexer();
    await catchUp(ix);
    const fork = await sys.chain.snapshot();
    const abandoned = await buyLicense(sys, lab(0), [datasetId], 10n * USD);
    await openJob(sys, lab(0), abandoned, 5n * USD);
    await catchUp(ix);
    expect((await ix.licenses.get(String(abandoned)))?.holder).toBe(await address(0));

    await sys.chain.revertTo(fork);
    // The new branch: the same license id goes to another lab, with another budget, and the chain grows longer.
    const replaced = await buyLicense(sys, lab(1), [datasetId], 20n * USD);
    for (let i = 0; i < 3; i++) await sys.chain.rpc('evm_mine');
    const r = await catchUp(ix);

    expect(replaced).toBe(abandoned);
    expect(r.reorg?.rolledBack).toBe(2);
    const rec = await ix.licenses.get(String(replaced));
    expect(rec).toMatchObject({ holder: await address(1), budget: String(20n * USD), jobs: [] });
    expect((await ix.licenses.listByHolder(await address(0), { limit: 10 })).items).toEqual([]);
    expect((await ix.licenses.get(String(kept)))?.holder).toBe(await address(2));
    expect(await itemCount(names.licenses)).toBe(2);
  });

  it('rolls everything back and re-indexes when no checkpoint survives the reorg', async () => {
    const ix = indexer();
    await catchUp(ix);
    const fork = await sys.chain.snapshot();
    await buyLicense(sys, lab(0), [datasetId], 10n * USD);
    await catchUp(ix);
    // Forget the checkpoints: the fork point becomes the start block.
    const cursor = await ix.deps.cursors.get(ix.params.name);
    await ix.deps.cursors.put(ix.params.name, { ...cursor!, checkpoints: [], version: cursor!.version + 1 }, cursor!.version);

    await sys.chain.revertTo(fork);
    const other = await buyLicense(sys, lab(1), [datasetId], 30n * USD);
    await sys.chain.rpc('evm_mine');
    const r = await catchUp(ix);

    expect(r.reorg?.forkPoint).toBe(deployBlock - 1);
    expect((await ix.licenses.get(String(other)))?.holder).toBe(await address(1));
    expect(await itemCount(names.licenses)).toBe(1);
  });

  it('leaves blocks within the confirmation depth unread, and reads them once confirmed', async () => {
    const ix = indexer({ PROVENA_INDEXER_CONFIRMATIONS: '3' });
    const licenseId = await buyLicense(sys, lab(0), [datasetId], 10n * USD);
    await catchUp(ix);
    expect(await ix.licenses.get(String(licenseId))).toBeUndefined();

    for (let i = 0; i < 3; i++) await sys.chain.rpc('evm_mine');
    await catchUp(ix);

    expect((await ix.licenses.get(String(licenseId)))?.holder).toBe(await address(0));
  });

  it('reports its lag in blocks and seconds, degraded beyond the allowed lag', async () => {
    const ix = indexer({ PROVENA_INDEXER_MAX_LAG_BLOCKS: '2' });
    await catchUp(ix);
    const caughtUp = await ix.health.health();
    await sys.chain.increaseTime(60);
    for (let i = 0; i < 3; i++) await sys.chain.rpc('evm_mine');

    const behind = await ix.health.health();

    expect(caughtUp.status).toBe('ok');
    expect(caughtUp.detail).toMatch(/^lag 0 blocks, 0 s/);
    expect(behind.status).toBe('degraded');
    // The seconds are the head's timestamp minus the indexed block's: 60 s of increaseTime plus the wall time the
    // four blocks took to mine (seconds under load), read from the chain instead of guessed.
    const m = /^lag 4 blocks, (\d+) s \(indexed (\d+), head (\d+)/.exec(behind.detail ?? '');
    expect(m).not.toBeNull();
    const ts = async (n: string) => (await sys.chain.provider.getBlock(Number(n)))!.timestamp;
    expect(Number(m![1])).toBe((await ts(m![3]!)) - (await ts(m![2]!)));
    expect(Number(m![1])).toBeGreaterThanOrEqual(60);
  });

  it('refuses a record another log already wrote instead of overwriting it', async () => {
    const licenseId = await buyLicense(sys, lab(0), [datasetId], 10n * USD);
    const ix = indexer();
    const [event] = await ix.deps.source.events(deployBlock, await sys.chain.provider.getBlockNumber());
    if (event?.kind !== 'LicensePurchased') throw new Error('expected the purchase');
    await ix.licenses.apply([event]);

    const code = await codeOf(ix.licenses.apply([{ ...event, blockHash: `0x${'ab'.repeat(32)}`, lab: await address(1) }]));

    expect(code).toBe('INDEXER_CONFLICT');
    expect((await ix.licenses.get(String(licenseId)))?.holder).toBe(await address(0));
  });

  // The projections apply side by side: a failing one fails the tick, the cursor stays, and the tick only rejects
  // once the other has finished (no write of a failed tick may land after the next tick's rollback).
  it('fails a tick whose projection fails, saving no cursor, after every projection has finished', async () => {
    await buyLicense(sys, lab(0), [datasetId], 10n * USD);
    const ix = indexer();
    let slowDone = false;
    const slow = { apply: async () => { await new Promise((r) => setTimeout(r, 300)); slowDone = true; }, rollbackAbove: async () => 0 };
    const failing = { apply: async () => { throw new Error('projection down'); }, rollbackAbove: async () => 0 };
    const before = await ix.indexedThrough();

    await expect(indexChain({ ...ix.deps, projections: [failing, slow, ...ix.deps.projections] }, ix.params)).rejects.toThrow('projection down');

    expect(slowDone).toBe(true);
    expect(await ix.indexedThrough()).toBe(before);
    await catchUp(ix); // the next tick indexes the same blocks in full
    expect(await itemCount(names.licenses)).toBeGreaterThan(0);
  });
});
