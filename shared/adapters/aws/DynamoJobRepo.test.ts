import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { JobRecord } from '../../ports/JobRepo.js';
import { InProcessJobQueue } from '../local/InProcessJobQueue.js';
import { requeueStaleJobs } from '../../use-cases/requeueStaleJobs.js';
import { createDynamoClient } from './dynamo.js';
import { DynamoJobRepo } from './DynamoJobRepo.js';
import { ensureTables, tableDefinitions } from './tables.js';

const server = dynalite({ path: mkdtempSync(join(tmpdir(), 'jobs-repo-')), createTableMs: 0 });
let repo: DynamoJobRepo;
const HOLDER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function record(jobId: string, overrides: Partial<JobRecord> = {}): JobRecord {
  const at = '2026-11-28T08:00:00.000Z';
  return {
    jobId,
    licenseId: '1',
    holder: HOLDER,
    status: 'queued',
    input: { jobId, recipe: { kind: 'tabular-classifier', label: 'y', features: [{ name: 'x', type: 'numeric' }], embeddingDim: 4, epochs: 1, batchSize: 8, lr: 0.1, hiddenSizes: [], seed: 1, validationFraction: 0 }, modelKey: `0x02${'11'.repeat(32)}` },
    inputHash: `0x${'aa'.repeat(32)}`,
    recipeHash: `0x${'bb'.repeat(32)}`,
    datasets: [],
    submittedAt: at,
    updatedAt: at,
    version: 1,
    fencingToken: 0,
    attempts: 0,
    checkpoints: [],
    reports: [],
    metrics: [],
    ...overrides,
  };
}

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = createDynamoClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  await ensureTables(client, tableDefinitions({ jobs: 'jobs' }));
  repo = new DynamoJobRepo(client, 'jobs');
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('DynamoJobRepo', () => {
  it('creates a job once: a second create of the same id writes nothing', async () => {
    expect(await repo.create(record('1'))).toBe(true);
    expect(await repo.create(record('1', { holder: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' }))).toBe(false);
    expect((await repo.get('1'))?.holder).toBe(HOLDER);
  });

  it('updates only from the version read: of two writers that read version 1, the second loses and changes nothing', async () => {
    await repo.create(record('2'));
    const read = (await repo.get('2')) as JobRecord;
    const leaseA = { ...read, version: 2, fencingToken: 1, status: 'attesting' as const };
    const leaseB = { ...read, version: 2, fencingToken: 1, status: 'attesting' as const, attempts: 7 };

    expect(await repo.update(leaseA, 1)).toBe(true);
    expect(await repo.update(leaseB, 1)).toBe(false);
    expect(await repo.get('2')).toMatchObject({ version: 2, fencingToken: 1, attempts: 0 });
  });

  it('lists a holder\'s jobs newest first, a page at a time', async () => {
    const holder = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
    for (const [id, at] of [['10', '2026-11-28T08:00:01.000Z'], ['11', '2026-11-28T08:00:02.000Z'], ['12', '2026-11-28T08:00:03.000Z']] as const) {
      await repo.create(record(id, { holder, submittedAt: at }));
    }
    const first = await repo.listByHolder(holder, { limit: 2 });
    const second = await repo.listByHolder(holder, { limit: 2, cursor: first.nextCursor as string });
    expect(first.items.map((j) => j.jobId)).toEqual(['12', '11']);
    expect(second.items.map((j) => j.jobId)).toEqual(['10']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('lists the jobs of a status last updated before an instant, oldest first', async () => {
    await repo.create(record('20', { status: 'failed', updatedAt: '2026-11-28T07:00:00.000Z' }));
    await repo.create(record('21', { status: 'failed', updatedAt: '2026-11-28T07:30:00.000Z' }));
    await repo.create(record('22', { status: 'failed', updatedAt: '2026-11-28T09:00:00.000Z' }));
    expect((await repo.listByStatus('failed', { before: '2026-11-28T08:00:00.000Z', limit: 10 })).map((j) => j.jobId)).toEqual(['20', '21']);
  });
});

describe('requeueStaleJobs (repair of a crash between the record and its queue message)', () => {
  it('re-sends a message for a job still queued, or whose lease expired, after the period, once per period, and leaves younger, leased and cancelled jobs alone', async () => {
    await repo.create(record('30', { status: 'cancelled', updatedAt: '2026-11-28T06:00:00.000Z' }));
    const stale = record('31', { updatedAt: '2026-11-28T06:00:00.000Z' });
    await repo.create(stale);
    await repo.create(record('32', { updatedAt: '2026-11-28T07:59:50.000Z' }));
    const lease = { fencingToken: 1, operator: HOLDER, workerId: 'w', messageId: 'm', receiptHandle: 'h' };
    await repo.create(record('33', { status: 'running', updatedAt: '2026-11-28T06:00:00.000Z', lease: { ...lease, expiresAt: '2026-11-28T08:00:30.000Z' } }));
    await repo.create(record('34', { status: 'checkpointed', updatedAt: '2026-11-28T06:00:00.000Z', lease: { ...lease, expiresAt: '2026-11-28T06:01:00.000Z' } }));
    const queue = new InProcessJobQueue();
    const now = new Date('2026-11-28T08:00:00.000Z');

    const sent = await requeueStaleJobs({ jobs: repo, queue, now: () => now }, { olderThanSeconds: 60, limit: 100 });
    const again = await requeueStaleJobs({ jobs: repo, queue, now: () => now }, { olderThanSeconds: 60, limit: 100 });

    expect(sent).toContain('31');
    expect(sent).toContain('34');
    expect(sent).not.toContain('30');
    expect(sent).not.toContain('32');
    expect(sent).not.toContain('33');
    expect(again).toEqual([]);
    const messages = [];
    for (let m = await queue.receive({ waitSeconds: 0, visibilitySeconds: 60 }); m; m = await queue.receive({ waitSeconds: 0, visibilitySeconds: 60 })) messages.push(m.body.jobId);
    expect(messages.filter((id) => id === '31')).toHaveLength(1);
    expect((await repo.get('31'))?.version).toBe(stale.version + 1);
  });
});
