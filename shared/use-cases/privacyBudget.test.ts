/**
 * The per-listing privacy budget through the job use cases, against dynalite (the real datasets and jobs tables and
 * their conditional writes), the in-memory content store for manifests and the in-process queue. The chain is the
 * JobChain port answered from a map: every job is open, held by HOLDER, over the registry datasets it is given.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { createDynamoClient } from '../adapters/aws/dynamo.js';
import { DynamoDatasetRepo } from '../adapters/aws/DynamoDatasetRepo.js';
import { DynamoJobRepo } from '../adapters/aws/DynamoJobRepo.js';
import { DynamoPrivacyLedger } from '../adapters/aws/DynamoPrivacyLedger.js';
import { ensureTables, tableDefinitions } from '../adapters/aws/tables.js';
import { LocalUnixfsContentStore } from '../adapters/ipfs/LocalUnixfsContentStore.js';
import { InProcessJobQueue } from '../adapters/local/InProcessJobQueue.js';
import type { JobChain } from '../ports/JobChain.js';
import { Dataset, DatasetInput, type PrivacyPolicy } from '../schemas/dataset.js';
import type { JobSubmitInput } from '../schemas/job.js';
import type { DpSettings } from '../schemas/recipe.js';
import { codeOf } from '../../test/support/errors.js';
import { getListing } from './getListing.js';
import { heartbeatLease } from './heartbeatLease.js';
import type { JobDeps } from './jobDeps.js';
import { leaseJob } from './leaseJob.js';
import { releaseLease } from './releaseLease.js';
import { submitJob } from './submitJob.js';

const HOLDER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OPERATOR = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const server = dynalite({ path: mkdtempSync(join(tmpdir(), 'privacy-')), createTableMs: 0 });
const content = new LocalUnixfsContentStore({ memory: true });
/** Registry dataset id → manifest CID; job id → its registry datasets. */
const manifests = new Map<string, string>();
const jobDatasets = new Map<string, string[]>();
/** Jobs the lab ended on chain (cancelled). */
const cancelledOnChain = new Set<string>();
let datasets: DynamoDatasetRepo;
let deps: JobDeps;
let nextChainId = 1;
let nextJobId = 1;

const chain: JobChain = {
  job: async (jobId) => {
    if (!jobDatasets.has(jobId)) return undefined;
    const ended = cancelledOnChain.has(jobId);
    return { licenseId: '1', budget: '1000', spent: '0', maxRatePerSecond: '10', startedAt: 1_800_000_000, endedAt: ended ? 1_800_000_100 : 0, expiry: 1_900_000_000, refunded: false, finalized: false, active: !ended };
  },
  license: async () => ({ holder: HOLDER, expiry: 1_900_000_000, active: true }),
  jobDatasets: async (jobId) => (jobDatasets.get(jobId) ?? []).map((c) => ({ chainDatasetId: c, pricePerSample: '1', settledSamples: '0' })),
  manifestCidOf: async (c) => manifests.get(c) as string,
  approval: async () => ({ approved: false, evidenceHash: `0x${'00'.repeat(32)}` }),
  receiptOf: async () => `0x${'00'.repeat(32)}`,
  relayReport: async () => {
    throw new Error('not used');
  },
  relayFinalize: async () => {
    throw new Error('not used');
  },
};

/** A registered listing (with `privacy` when given); returns its id. */
async function listing(privacy?: PrivacyPolicy): Promise<string> {
  const n = nextChainId++;
  const id = `ds_${String(n).padStart(26, '0')}`;
  const chainDatasetId = String(n);
  const input = DatasetInput.parse({
    title: 'Rows',
    dataSchema: { kind: 'tabular', columns: [{ name: 'x', type: 'float' }, { name: 'y', type: 'integer' }] },
    sizeBytes: 100,
    license: { paymentToken: '0x5FbDB2315678afecb367f032d93F642f64180aa3', pricePerSample: '1', allowedUses: ['training'], expiryOptionsDays: [30] },
    royaltySplit: [{ recipient: HOLDER, bps: 10_000 }],
    anonymization: { identifierColumns: [] },
    ...(privacy ? { privacy } : {}),
  });
  const at = '2026-11-28T08:00:00.000Z';
  manifests.set(chainDatasetId, (await content.addJson({ schema: 'provena.dataset-manifest/v1', datasetId: id, version: 1, owner: HOLDER, status: 'active', chainDatasetId, listing: input, createdAt: at })).cid);
  await datasets.create(Dataset.parse({ ...input, id, owner: HOLDER, version: 1, status: 'active', manifestCid: manifests.get(chainDatasetId), createdAt: at, updatedAt: at, chainDatasetId, license: { ...input.license, rawAccess: false } }));
  return id;
}

const chainIdOf = (datasetId: string) => String(Number(datasetId.slice(3)));

/** A job opened on chain over these listings, and its submit body. */
function job(datasetIds: string[], dp?: Partial<DpSettings> | null, maxEpsilon?: number): JobSubmitInput {
  const jobId = String(nextJobId++);
  jobDatasets.set(jobId, datasetIds.map(chainIdOf));
  const settings: DpSettings = { enabled: true, noiseMultiplier: 1.1, maxGradNorm: 1, delta: 1e-5, sampling: 'poisson', ...dp };
  return {
    jobId,
    recipe: { kind: 'tabular-classifier', label: 'y', features: [{ name: 'x', type: 'numeric' }], embeddingDim: 4, epochs: 1, batchSize: 8, lr: 0.1, hiddenSizes: [], seed: 1, validationFraction: 0, ...(dp === null ? {} : { dp: settings }) },
    modelKey: `0x02${'11'.repeat(32)}`,
    ...(maxEpsilon === undefined ? {} : { maxEpsilon }),
  } as JobSubmitInput;
}

async function ledgerOf(datasetId: string) {
  return (await getListing({ datasets }, { id: datasetId, ledger: true })).privacy;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = createDynamoClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  await ensureTables(client, tableDefinitions({ jobs: 'jobs', datasets: 'datasets' }));
  datasets = new DynamoDatasetRepo(client, 'datasets');
  deps = {
    jobs: new DynamoJobRepo(client, 'jobs'),
    queue: new InProcessJobQueue(),
    chain,
    datasets,
    privacy: new DynamoPrivacyLedger(client, 'datasets'),
    content,
    blobs: { presignPut: async () => 'http://put', presignGet: async () => 'http://get', head: async () => undefined },
    operators: [OPERATOR],
    leaseSeconds: 60,
    urlTtlSeconds: 60,
    cursorKey: new Uint8Array(32),
    now: () => new Date(),
  };
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('a listing privacy budget at job submit', () => {
  it('refuses a job without DP-SGD on a listing with a privacy policy, and writes nothing', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const input = job([ds], null, 3);

    expect(await codeOf(submitJob(deps, { caller: HOLDER, input }))).toBe('PRIVACY_DP_REQUIRED');
    expect(await deps.jobs.get(input.jobId)).toBeUndefined();
    expect(await ledgerOf(ds)).toEqual({ epsilonBudget: 10, delta: 1e-5, epsilonSpent: 0, epsilonReserved: 0 });
  });

  it('refuses DP disabled, or a delta above the listing\'s', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });

    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: job([ds], { enabled: false }, 3) }))).toBe('PRIVACY_DP_REQUIRED');
    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: job([ds], { delta: 1e-4 }, 3) }))).toBe('PRIVACY_DP_REQUIRED');
    expect((await ledgerOf(ds))?.epsilonReserved).toBe(0);
  });

  it('refuses a DP job that declares no epsilon ceiling (neither maxEpsilon nor dp.targetEpsilon)', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const input = job([ds], {});

    expect(await codeOf(submitJob(deps, { caller: HOLDER, input }))).toBe('PRIVACY_EPSILON_CEILING_REQUIRED');
    expect(await deps.jobs.get(input.jobId)).toBeUndefined();
  });

  it('reserves the smaller of maxEpsilon and dp.targetEpsilon, and refuses a ceiling above what remains', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });

    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: job([ds], { targetEpsilon: 4 }, 6) }))).toBe('OK');
    expect((await ledgerOf(ds))?.epsilonReserved).toBe(4);
    const tooMuch = job([ds], { targetEpsilon: 6.5 });
    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: tooMuch }))).toBe('PRIVACY_BUDGET_EXCEEDED');
    expect(await deps.jobs.get(tooMuch.jobId)).toBeUndefined();
    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: job([ds], {}, 6) }))).toBe('OK');
    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 10 });
  });

  it('never overspends under parallel submits: of 8 jobs of epsilon 3 on a budget of 10, exactly 3 are accepted', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const inputs = Array.from({ length: 8 }, () => job([ds], { targetEpsilon: 3 }));

    const codes = await Promise.all(inputs.map((input) => codeOf(submitJob(deps, { caller: HOLDER, input }))));

    expect(codes.filter((c) => c === 'OK')).toHaveLength(3);
    expect(codes.filter((c) => c === 'PRIVACY_BUDGET_EXCEEDED')).toHaveLength(5);
    expect((await ledgerOf(ds))?.epsilonReserved).toBe(9);
    const stored = await Promise.all(inputs.map((i) => deps.jobs.get(i.jobId)));
    expect(stored.filter(Boolean)).toHaveLength(3);
  });

  it('reserves on every listing with a policy or on none: a refusal on the second releases the first', async () => {
    const roomy = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const tight = await listing({ epsilonBudget: 1, delta: 1e-5 });

    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: job([roomy, tight], { targetEpsilon: 2 }) }))).toBe('PRIVACY_BUDGET_EXCEEDED');
    expect((await ledgerOf(roomy))?.epsilonReserved).toBe(0);
    expect((await ledgerOf(tight))?.epsilonReserved).toBe(0);
  });

  it('a repeat of the same submit reserves nothing more', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const input = job([ds], { targetEpsilon: 2 });

    await submitJob(deps, { caller: HOLDER, input });
    const again = await submitJob(deps, { caller: HOLDER, input });

    expect(again.created).toBe(false);
    expect((await ledgerOf(ds))?.epsilonReserved).toBe(2);
  });

  it('leaves listings without a policy alone: a job without DP is accepted and nothing is reserved', async () => {
    const ds = await listing();
    const input = job([ds], null);

    expect(await codeOf(submitJob(deps, { caller: HOLDER, input }))).toBe('OK');
    expect((await deps.jobs.get(input.jobId))?.datasets[0]?.epsilonReserved).toBeUndefined();
    expect(await ledgerOf(ds)).toBeUndefined();
  });
});

describe('a reservation while the job runs and when it ends', () => {
  /** Drains the shared queue of earlier tests' jobs: leases until the wanted job comes. */
  async function leaseUntil(jobId: string) {
    for (;;) {
      const r = await leaseJob(deps, { caller: OPERATOR, request: { workerId: 'w', modes: ['nitro'], waitSeconds: 0 } });
      if (!r.assignment) throw new Error(`job ${jobId} never came`);
      if (r.assignment.lease.jobId === jobId) return r.assignment;
    }
  }

  it('the lease hands each dataset\'s reservation as its privacy budget; a job failed before any epoch releases it all', async () => {
    const a = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const b = await listing({ epsilonBudget: 5, delta: 1e-5 });
    const plain = await listing();
    const input = job([a, b, plain], { targetEpsilon: 2.5 });
    await submitJob(deps, { caller: HOLDER, input });

    const assignment = await leaseUntil(input.jobId);
    expect(assignment.privacyBudgets).toEqual({ [a]: 2.5, [b]: 2.5 });

    await releaseLease(deps, { caller: OPERATOR, jobId: input.jobId, input: { fencingToken: assignment.lease.fencingToken, reason: 'failed', error: { code: 'TRAINER_PRIVACY_BUDGET_EXCEEDED', message: 'planned 3.1 > 2.5' } } });
    expect(await ledgerOf(a)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 0 });
    expect(await ledgerOf(b)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 0 });
  });

  it('a job failed after reporting epochs spends the last epsilon it reported and releases the rest', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const input = job([ds], { targetEpsilon: 4 });
    await submitJob(deps, { caller: HOLDER, input });
    const assignment = await leaseUntil(input.jobId);
    const record = (await deps.jobs.get(input.jobId))!;
    await deps.jobs.update({ ...record, version: record.version + 1, metrics: [{ epoch: 1, train: { loss: 1 }, val: null, epsilon: 1.25, at: new Date().toISOString() }] }, record.version);

    await releaseLease(deps, { caller: OPERATOR, jobId: input.jobId, input: { fencingToken: assignment.lease.fencingToken, reason: 'failed' } });

    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 1.25, epsilonReserved: 0 });
  });

  it('an interrupted job keeps its reservation for the next lease', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const input = job([ds], { targetEpsilon: 3 });
    await submitJob(deps, { caller: HOLDER, input });
    const assignment = await leaseUntil(input.jobId);

    await releaseLease(deps, { caller: OPERATOR, jobId: input.jobId, input: { fencingToken: assignment.lease.fencingToken, reason: 'interrupted' } });

    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 3 });
  });

  it('settling a finished job spends its actual epsilon (capped at the reservation) and releases the rest', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    await submitJob(deps, { caller: HOLDER, input: job([ds], { targetEpsilon: 3 }) });
    await submitJob(deps, { caller: HOLDER, input: job([ds], { targetEpsilon: 3 }) });

    await deps.privacy.settle(ds, 3, 2.4);
    await deps.privacy.settle(ds, 3, 7);

    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 5.4, epsilonReserved: 0 });
    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: job([ds], { targetEpsilon: 4.6 }) }))).toBe('OK');
    expect(await codeOf(submitJob(deps, { caller: HOLDER, input: job([ds], { targetEpsilon: 0.01 }) }))).toBe('PRIVACY_BUDGET_EXCEEDED');
  });
});

describe('a reservation when the lab cancels the job on chain', () => {
  async function leaseUntil(jobId: string) {
    for (;;) {
      const r = await leaseJob(deps, { caller: OPERATOR, request: { workerId: 'w', modes: ['nitro'], waitSeconds: 0 } });
      if (!r.assignment) throw new Error(`job ${jobId} never came`);
      if (r.assignment.lease.jobId === jobId) return r.assignment;
    }
  }
  /** A submitted and leased job of `epsilon` on a fresh listing with a budget of 10. */
  async function leased(epsilon: number) {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const input = job([ds], { targetEpsilon: epsilon });
    await submitJob(deps, { caller: HOLDER, input });
    const assignment = await leaseUntil(input.jobId);
    return { ds, jobId: input.jobId, fencingToken: assignment.lease.fencingToken };
  }
  /** What the worker committed before the cancel: epochs' epsilons and one checkpoint at `position`. */
  async function trained(jobId: string, epsilons: number[], position?: { epoch: number; step: number; globalStep: number }) {
    const record = (await deps.jobs.get(jobId))!;
    const at = new Date().toISOString();
    await deps.jobs.update({
      ...record,
      version: record.version + 1,
      metrics: epsilons.map((epsilon, i) => ({ epoch: i + 1, train: { loss: 1 }, val: null, epsilon, at })),
      checkpoints: position ? [{ objectKey: `jobs/${jobId}/c`, sha256: 'a'.repeat(64), bytes: 10, position, samples: {}, committedAt: at, fencingToken: record.fencingToken }] : [],
    }, record.version);
  }
  /** The lab cancels; the worker's heartbeat sees it and the worker gives the lease back. */
  async function cancelAndWindDown(jobId: string, fencingToken: number) {
    cancelledOnChain.add(jobId);
    const beat = await heartbeatLease(deps, { caller: OPERATOR, jobId, fencingToken });
    expect(beat.cancel).toBe(true);
    return releaseLease(deps, { caller: OPERATOR, jobId, input: { fencingToken, reason: 'interrupted' } });
  }

  it('releases the whole reservation of a job cancelled after the lease, before any epoch or checkpoint', async () => {
    const { ds, jobId, fencingToken } = await leased(3);
    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 3 });

    const view = await cancelAndWindDown(jobId, fencingToken);

    expect(view.status).toBe('cancelled');
    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 0 });
    expect((await deps.jobs.get(jobId))?.privacySettled).toMatchObject({ epsilonSpent: 0, reason: expect.stringMatching(/nothing spent/) });
  });

  it('spends what the last reported epoch spent when the last checkpoint is that epoch\'s end, and releases the rest', async () => {
    const { ds, jobId, fencingToken } = await leased(4);
    await trained(jobId, [0.9, 1.25], { epoch: 2, step: 0, globalStep: 20 });

    await cancelAndWindDown(jobId, fencingToken);

    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 1.25, epsilonReserved: 0 });
  });

  it('keeps the whole reservation as spent, saying why, when a checkpoint went past the last reported epsilon', async () => {
    const { ds, jobId, fencingToken } = await leased(4);
    await trained(jobId, [1.25], { epoch: 1, step: 3, globalStep: 13 });

    await cancelAndWindDown(jobId, fencingToken);

    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 4, epsilonReserved: 0 });
    expect((await deps.jobs.get(jobId))?.privacySettled).toMatchObject({ epsilonSpent: null, reason: expect.stringMatching(/step 13.*unknown/) });
  });

  it('settles once: a second heartbeat-free release or a repeated message changes nothing', async () => {
    const { ds, jobId, fencingToken } = await leased(2);
    await cancelAndWindDown(jobId, fencingToken);

    expect(await codeOf(releaseLease(deps, { caller: OPERATOR, jobId, input: { fencingToken, reason: 'interrupted' } }))).toBe('JOB_LEASE_STALE');
    await deps.queue.send({ jobId });
    expect((await leaseJob(deps, { caller: OPERATOR, request: { workerId: 'w', modes: ['nitro'], waitSeconds: 0 } })).assignment?.job.id).not.toBe(jobId);

    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 0 });
  });

  it('settles a job given back (interrupted) after an epoch and then cancelled, when its message comes back', async () => {
    const { ds, jobId, fencingToken } = await leased(3);
    await trained(jobId, [0.75], { epoch: 1, step: 0, globalStep: 10 });
    await releaseLease(deps, { caller: OPERATOR, jobId, input: { fencingToken, reason: 'interrupted' } });
    expect(await ledgerOf(ds)).toMatchObject({ epsilonReserved: 3 });

    cancelledOnChain.add(jobId);
    while ((await leaseJob(deps, { caller: OPERATOR, request: { workerId: 'w', modes: ['nitro'], waitSeconds: 0 } })).assignment);

    expect((await deps.jobs.get(jobId))?.status).toBe('cancelled');
    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 0.75, epsilonReserved: 0 });
  });

  it('settles a cancelled job whose worker vanished once its lease has expired and its message is back', async () => {
    const { ds, jobId, fencingToken } = await leased(3);
    cancelledOnChain.add(jobId);
    await heartbeatLease(deps, { caller: OPERATOR, jobId, fencingToken });
    const record = (await deps.jobs.get(jobId))!;
    expect(record.status).toBe('cancelled');
    await deps.jobs.update({ ...record, version: record.version + 1, lease: { ...record.lease!, expiresAt: new Date(Date.now() - 1000).toISOString() } }, record.version);
    await deps.queue.changeVisibility(record.lease!.receiptHandle, 0);

    while ((await leaseJob(deps, { caller: OPERATOR, request: { workerId: 'w', modes: ['nitro'], waitSeconds: 0 } })).assignment);

    expect(await ledgerOf(ds)).toMatchObject({ epsilonSpent: 0, epsilonReserved: 0 });
    expect((await deps.jobs.get(jobId))?.lease).toBeUndefined();
  });
});

describe('a job the chain lists no datasets for', () => {
  it('is refused as CHAIN_UNAVAILABLE (a read behind the job\'s opening block), with no record, message or reservation', async () => {
    const ds = await listing({ epsilonBudget: 10, delta: 1e-5 });
    const input = job([ds], { targetEpsilon: 2 });
    jobDatasets.set(input.jobId, []);

    expect(await codeOf(submitJob(deps, { caller: HOLDER, input }))).toBe('CHAIN_UNAVAILABLE');
    expect(await deps.jobs.get(input.jobId)).toBeUndefined();
    expect((await ledgerOf(ds))?.epsilonReserved).toBe(0);
  });
});

describe('the listing privacy policy', () => {
  const base = { title: 'Rows', dataSchema: { kind: 'tabular', columns: [{ name: 'x', type: 'float' }] }, sizeBytes: 1, license: { paymentToken: '0x5FbDB2315678afecb367f032d93F642f64180aa3', pricePerSample: '1', allowedUses: ['training'], expiryOptionsDays: [30] }, royaltySplit: [{ recipient: HOLDER, bps: 10_000 }], anonymization: { identifierColumns: [] } };

  it('is optional with no default: a listing without it parses without the field', () => {
    expect('privacy' in DatasetInput.parse(base)).toBe(false);
  });

  it('takes a positive budget and a delta strictly between 0 and 1, and nothing else', () => {
    expect(DatasetInput.safeParse({ ...base, privacy: { epsilonBudget: 8, delta: 1e-5 } }).success).toBe(true);
    for (const privacy of [{ epsilonBudget: 0, delta: 1e-5 }, { epsilonBudget: 8, delta: 1 }, { epsilonBudget: 8, delta: 0 }, { epsilonBudget: 8 }, { epsilonBudget: 8, delta: 1e-5, epsilonSpent: 0 }]) {
      expect(DatasetInput.safeParse({ ...base, privacy }).success).toBe(false);
    }
  });
});
