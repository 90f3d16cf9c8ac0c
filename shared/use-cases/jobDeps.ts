/**
 * What the job use cases share: their dependencies, the job's view (the stored record merged with the chain's
 * views at request time), the lease check every fenced call makes, and the optimistic-write loop.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../encoding/canonicalJson.js';
import { ConflictError, ForbiddenError, NotFoundError, ProvenaError } from '../errors.js';
import type { BlobStore } from '../ports/BlobStore.js';
import type { ContentStore } from '../ports/ContentStore.js';
import type { DatasetRepo } from '../ports/DatasetRepo.js';
import type { ChainJob, ChainJobDataset, JobChain } from '../ports/JobChain.js';
import type { JobQueue } from '../ports/JobQueue.js';
import type { JobRecord, JobRepo } from '../ports/JobRepo.js';
import type { PrivacyLedger } from '../ports/PrivacyLedger.js';
import type { Job, JobStatus } from '../schemas/job.js';

/** Everything the job routes use. */
export interface JobDeps {
  jobs: JobRepo;
  queue: JobQueue;
  chain: JobChain;
  datasets: Pick<DatasetRepo, 'get'>;
  /** Each listing's epsilon spent and reserved (listings with a privacy policy). */
  privacy: PrivacyLedger;
  /** Listing manifests (registry id → listing) and receipts. */
  content: Pick<ContentStore, 'getJson' | 'add'>;
  /** The data bucket: artifacts live under `jobs/{jobId}/`. */
  blobs: Pick<BlobStore, 'presignPut' | 'presignGet' | 'head'>;
  /** Addresses allowed to lease (PROVENA_WORKER_OPERATORS), checksummed. */
  operators: readonly string[];
  /** Lease length without a heartbeat (PROVENA_JOB_LEASE_SECONDS). */
  leaseSeconds: number;
  /** Lifetime of presigned artifact URLs. */
  urlTtlSeconds: number;
  /** HMAC key of page cursors. */
  cursorKey: Uint8Array;
  now(): Date;
}

/** Statuses after which no worker acts on the job again. */
export const FINISHED: readonly JobStatus[] = ['done', 'failed'];

/** 0x + SHA-256 of a value's canonical JSON. */
export function hashOf(value: unknown): string {
  return `0x${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Ended on chain (by the lab, or refunded) without the worker's final report: the job was cancelled. */
export function endedOnChain(chain: ChainJob | undefined): boolean {
  return !chain || chain.refunded || (chain.endedAt !== 0 && !chain.finalized);
}

/** Royalties per second over the last two reports (0 with fewer, or when the job is not training). */
function currentRate(record: JobRecord, status: JobStatus): string {
  if (status !== 'running' && status !== 'checkpointed' && status !== 'attesting') return '0';
  const [prev, last] = record.reports.slice(-2);
  if (!prev || !last) return '0';
  const seconds = BigInt(Math.max(1, Math.round((Date.parse(last.at) - Date.parse(prev.at)) / 1000)));
  return String(BigInt(last.paid) / seconds);
}

/** The job as the API answers it: the record, with status, money and times from the chain's views. */
export function jobView(record: JobRecord, chain: ChainJob | undefined, datasets: readonly ChainJobDataset[]): Job {
  const status: JobStatus = !FINISHED.includes(record.status) && record.status !== 'cancelled' && endedOnChain(chain) ? 'cancelled' : record.status;
  const byChainId = new Map(datasets.map((d) => [d.chainDatasetId, d]));
  return {
    id: record.jobId,
    licenseId: record.licenseId,
    holder: record.holder,
    status,
    recipe: record.input.recipe,
    recipeHash: record.recipeHash,
    modelKey: record.input.modelKey,
    ...(record.input.maxEpsilon === undefined ? {} : { maxEpsilon: record.input.maxEpsilon }),
    datasets: record.datasets.map((d) => {
      const settled = byChainId.get(d.chainDatasetId)?.settledSamples ?? '0';
      return {
        datasetId: d.datasetId,
        chainDatasetId: d.chainDatasetId,
        pricePerSample: d.pricePerSample,
        settledSamples: settled,
        paid: String(BigInt(settled) * BigInt(d.pricePerSample)),
        ...(d.manifestCid ? { manifestCid: d.manifestCid } : {}),
      };
    }),
    budget: chain?.budget ?? '0',
    spent: chain?.spent ?? '0',
    maxRatePerSecond: chain?.maxRatePerSecond ?? '0',
    currentRatePerSecond: currentRate(record, status),
    startedAt: chain ? iso(chain.startedAt) : record.submittedAt,
    ...(chain && chain.endedAt !== 0 ? { endedAt: iso(chain.endedAt) } : {}),
    submittedAt: record.submittedAt,
    updatedAt: record.updatedAt,
    ...(record.worker ? { worker: record.worker } : {}),
    attempts: record.attempts,
    checkpoints: record.checkpoints,
    reports: record.reports,
    metrics: record.metrics,
    ...(record.receipt ? { receipt: record.receipt } : {}),
    ...(record.model ? { model: record.model } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

/** Reads what {@link jobView} needs from the chain and builds the view. */
export async function readJobView(deps: Pick<JobDeps, 'chain'>, record: JobRecord): Promise<Job> {
  const [chain, datasets] = await Promise.all([deps.chain.job(record.jobId), deps.chain.jobDatasets(record.jobId)]);
  return jobView(record, chain, datasets);
}

/** The stored job, or `JOB_NOT_FOUND`. */
export async function requireJob(deps: Pick<JobDeps, 'jobs'>, jobId: string): Promise<JobRecord> {
  const record = await deps.jobs.get(jobId);
  if (!record) throw new NotFoundError('JOB_NOT_FOUND', `No job ${jobId} was submitted here`);
  return record;
}

/**
 * The check of every lease-holding call: the token is the job's current one (`JOB_LEASE_STALE`), the caller is
 * the operator that took it (`JOB_LEASE_NOT_HOLDER`), the lease has not expired (`JOB_LEASE_EXPIRED`) and the job
 * is not finished (`JOB_ALREADY_FINISHED`). Nothing is changed by a refusal.
 */
export function checkLease(record: JobRecord, caller: string, fencingToken: number, now: Date): asserts record is JobRecord & { lease: NonNullable<JobRecord['lease']> } {
  if (FINISHED.includes(record.status)) throw new ConflictError('JOB_ALREADY_FINISHED', `Job ${record.jobId} is ${record.status}`);
  if (!record.lease || record.lease.fencingToken !== fencingToken || record.fencingToken !== fencingToken) {
    throw new ConflictError('JOB_LEASE_STALE', `Fencing token ${fencingToken} is not job ${record.jobId}'s current lease (${record.lease ? record.lease.fencingToken : 'none held'})`);
  }
  if (record.lease.operator !== caller) throw new ForbiddenError('JOB_LEASE_NOT_HOLDER', `The lease of job ${record.jobId} is held by another operator`);
  if (Date.parse(record.lease.expiresAt) <= now.getTime()) throw new ConflictError('JOB_LEASE_EXPIRED', `The lease of job ${record.jobId} expired at ${record.lease.expiresAt}: lease the job again`);
}

/**
 * Applies `change` to the stored job and writes it conditionally on the version read; on a lost race, reads again
 * and re-applies (`change` re-checks whatever it depends on, e.g. the lease). Returns the written record.
 */
export async function updateJob(deps: Pick<JobDeps, 'jobs' | 'now'>, jobId: string, change: (record: JobRecord) => JobRecord | Promise<JobRecord>): Promise<JobRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await requireJob(deps, jobId);
    const next = { ...(await change(current)), version: current.version + 1, updatedAt: deps.now().toISOString() };
    if (await deps.jobs.update(next, current.version)) return next;
  }
  throw new ConflictError('VERSION_CONFLICT', `Job ${jobId} changed concurrently too often: retry`);
}

/** Runs a queue call whose only failure that matters is the queue being down (a stale handle changes nothing). */
export async function quietly(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!(err instanceof ProvenaError && err.code === 'JOB_QUEUE_HANDLE_INVALID')) throw err;
  }
}
