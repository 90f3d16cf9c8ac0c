import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { createDynamoClient } from './dynamo.js';
import { DynamoAttestationNonces } from './DynamoAttestationNonces.js';
import { ensureTables, tableDefinitions } from './tables.js';

const server = dynalite({ path: mkdtempSync(join(tmpdir(), 'attn-nonces-')), createTableMs: 0 });
let store: DynamoAttestationNonces;
const t0 = new Date('2026-11-28T06:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = createDynamoClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  await ensureTables(client, tableDefinitions({ datasets: 'datasets', nonces: 'nonces', uploads: 'uploads', relayJournal: 'relay-journal', licenses: 'licenses', indexer: 'indexer' }));
  store = new DynamoAttestationNonces(client, 'nonces');
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('DynamoAttestationNonces', () => {
  it('issues 32-byte hex nonces with their job and expiry', async () => {
    const n = await store.issue('7', { now: t0, ttlSeconds: 300 });
    expect(n.nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(n).toMatchObject({ jobId: '7', expiresAt: Math.floor(t0.getTime() / 1000) + 300 });
  });

  it('consumes a nonce once and answers null to the second use', async () => {
    const n = await store.issue('7', { now: t0, ttlSeconds: 300 });
    expect(await store.consume(n.nonce, at(10))).toEqual({ jobId: '7' });
    expect(await store.consume(n.nonce, at(11))).toBeNull();
  });

  it('answers null for an expired nonce (dynalite has no TTL: the condition filters it)', async () => {
    const n = await store.issue('8', { now: t0, ttlSeconds: 60 });
    expect(await store.consume(n.nonce, at(60))).toBeNull();
  });

  it('answers null for a nonce never issued, or one that is not hex', async () => {
    expect(await store.consume('ab'.repeat(32), t0)).toBeNull();
    expect(await store.consume('not-a-nonce', t0)).toBeNull();
  });

  it('lets exactly one of many concurrent consumes win', async () => {
    const n = await store.issue('9', { now: t0, ttlSeconds: 300 });
    const results = await Promise.all(Array.from({ length: 8 }, () => store.consume(n.nonce, at(1))));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });
});
