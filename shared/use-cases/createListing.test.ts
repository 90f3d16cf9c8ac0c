/**
 * createListing's idempotency on dynalite and an in-memory UnixFS store (the real repo and store; the repo is only
 * counted, never replaced): a first create with an Idempotency-Key is one conditional write and no read (a read
 * first cost every create a DynamoDB round trip for the rare retry); a retry, a racing retry and a reused key with
 * another input are still told apart by that one write's condition.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Wallet } from 'ethers';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../stack/embeddedDynamo.js';
import { codeOf } from '../../test/support/errors.js';
import { DynamoDatasetRepo } from '../adapters/aws/DynamoDatasetRepo.js';
import { createDynamoClient } from '../adapters/aws/dynamo.js';
import { ensureTables, tableDefinitions } from '../adapters/aws/tables.js';
import { LocalUnixfsContentStore } from '../adapters/ipfs/LocalUnixfsContentStore.js';
import { DatasetInput } from '../schemas/dataset.js';
import { createListing } from './createListing.js';
import type { ListingDeps } from './deps.js';

const TABLE = 'create-listing-datasets';
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let deps: ListingDeps;
const calls = { get: 0, create: 0 };

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({ dir: mkdtempSync(join(tmpdir(), 'provena-create-listing-')), port: 0 });
  client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  await ensureTables(client, tableDefinitions({ datasets: TABLE, nonces: 'n', uploads: 'u', relayJournal: 'r', relayQuota: 'q' }).filter((d) => d.TableName === TABLE));
  const repo = new DynamoDatasetRepo(client, TABLE);
  // The real repo, counted.
  const datasets = Object.assign(Object.create(repo) as DynamoDatasetRepo, {
    get: (id: string) => (calls.get++, repo.get(id)),
    create: (...args: Parameters<DynamoDatasetRepo['create']>) => (calls.create++, repo.create(...args)),
  });
  deps = { datasets, content: new LocalUnixfsContentStore({ memory: true }), now: () => new Date() };
}, 60_000);
afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

const owner = Wallet.createRandom().address;
const paymentToken = Wallet.createRandom().address;
const input = (title = 'Idempotent rows') =>
  DatasetInput.parse({
    title,
    dataSchema: { kind: 'tabular', columns: [{ name: 'a', type: 'integer' }] },
    sizeBytes: 10,
    license: { paymentToken, pricePerSample: '5', allowedUses: ['training'], expiryOptionsDays: [30] },
    royaltySplit: [{ recipient: owner, bps: 10_000 }],
    anonymization: {},
  });

function resetCalls(): void {
  calls.get = 0;
  calls.create = 0;
}

describe('createListing with an Idempotency-Key', () => {
  it('lists with one conditional write and no read first', async () => {
    resetCalls();
    const { dataset, replayed } = await createListing(deps, { owner, input: input(), idempotencyKey: 'first-write-only' });
    expect(replayed).toBe(false);
    expect(calls).toEqual({ get: 0, create: 1 });
    expect((await deps.datasets.get(dataset.id))?.dataset).toEqual(dataset);
  });

  it('answers a retry with the first result, and a reused key with another input with IDEMPOTENCY_KEY_REUSED', async () => {
    const same = input();
    const first = await createListing(deps, { owner, input: same, idempotencyKey: 'retried' });
    const retry = await createListing(deps, { owner, input: same, idempotencyKey: 'retried' });
    expect(retry).toEqual({ dataset: first.dataset, replayed: true });
    expect(await codeOf(createListing(deps, { owner, input: input('Another title'), idempotencyKey: 'retried' }))).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await deps.datasets.get(first.dataset.id))?.dataset).toEqual(first.dataset);
  });

  it('lists once when two retries race, and both answer the same listing', async () => {
    const same = input();
    const [a, b] = await Promise.all([0, 1].map(() => createListing(deps, { owner, input: same, idempotencyKey: 'racing' })));
    expect(a!.dataset).toEqual(b!.dataset);
    expect([a!.replayed, b!.replayed].sort()).toEqual([false, true]);
  });
});
