import type { JobCheckpoint, JobMetrics, JobModel, JobReport, JobStatus, JobSubmitInput } from '../schemas/job.js';
import type { SealedBoxSchema } from '../schemas/upload.js';
import type { z } from 'zod';

type SealedBox = z.output<typeof SealedBoxSchema>;
import type { HealthCheck } from './Health.js';

/** One dataset of a stored job: the listing it maps to and its snapshotted terms (the chain's, at submit). */
export interface JobRecordDataset {
  datasetId: string;
  chainDatasetId: string;
  pricePerSample: string;
  manifestCid?: string;
  /** The worker modes the listing allows (absent: every mode); a lease goes only to a worker offering one. */
  workerModes?: ('nitro' | 'confidential-gpu')[];
  /** Epsilon reserved on the listing's privacy budget at submit (listings with a privacy policy only). */
  epsilonReserved?: number;
}

/** The lease a worker holds: who, until when, under which fencing token and queue message. */
export interface JobLease {
  fencingToken: number;
  /** The operator address that signed the lease request. */
  operator: string;
  workerId: string;
  expiresAt: string;
  messageId: string;
  receiptHandle: string;
}

/**
 * A job as the API stores it: what the chain does not hold (recipe, model key, lease, checkpoints, reports,
 * metrics, receipt, sealed model key). `version` guards every write (optimistic concurrency); `fencingToken` is the
 * last token issued (0: never leased) and only ever grows.
 */
export interface JobRecord {
  jobId: string;
  licenseId: string;
  holder: string;
  status: JobStatus;
  input: JobSubmitInput;
  /** 0x + SHA-256 of the submitted body's canonical JSON (same body again: the first result). */
  inputHash: string;
  recipeHash: string;
  datasets: JobRecordDataset[];
  submittedAt: string;
  updatedAt: string;
  version: number;
  fencingToken: number;
  lease?: JobLease;
  attempts: number;
  worker?: { address: string; mode: 'nitro' | 'confidential-gpu'; evidenceHash: string; attestedAt: string };
  checkpoints: JobCheckpoint[];
  reports: JobReport[];
  metrics: JobMetrics[];
  receipt?: { cid: string; txHash: string };
  model?: JobModel;
  sealedKey?: SealedBox;
  error?: { code: string; message: string };
  /**
   * How a cancelled (or refunded) job's privacy reservations were settled, written in the same conditional write
   * that ended its last lease (so they are settled once): the epsilon spent (null: the whole reservation, kept as
   * spent) and why.
   */
  privacySettled?: { epsilonSpent: number | null; reason: string; at: string };
}

/**
 * Job records. Every write is one conditional write: `create` only if the job id is new, `update` only if the
 * stored version is the one read, so two racing writers (two leases, a heartbeat and a release) cannot both win.
 * Adapter: `DynamoJobRepo` (the `jobs` table of tableLayout.ts; AWS and dynalite alike).
 */
export interface JobRepo extends HealthCheck {
  get(jobId: string): Promise<JobRecord | undefined>;
  /** False when a job with this id exists (nothing written). */
  create(record: JobRecord): Promise<boolean>;
  /** Writes `next` (its version must be `expectedVersion + 1`); false when the stored version differs. */
  update(next: JobRecord, expectedVersion: number): Promise<boolean>;
  /** A holder's jobs, newest first; `cursor` is opaque. */
  listByHolder(holder: string, page: { limit: number; cursor?: string }): Promise<{ items: JobRecord[]; nextCursor?: string }>;
  /** Jobs in `status` last updated before `before` (ISO), oldest first. */
  listByStatus(status: JobStatus, options: { before: string; limit: number }): Promise<JobRecord[]>;
}
