/**
 * Training jobs on the wire: what a lab submits (`POST /v1/jobs`), what everyone reads (`GET /v1/jobs/{id}`),
 * and the worker protocol (lease, heartbeat, artifacts, checkpoints, usage reports, result). The chain is the
 * truth for money and job state (open, ended, finalized); the API's job record adds what the chain does not hold
 * (recipe, model key, lease, checkpoints, metrics) and is rebuilt from chain reads wherever they overlap.
 *
 * Amounts are decimal strings of the payment token's base units; times are ISO-8601.
 */
import * as z from 'zod';
import { AnonymizationReport } from './anonymizationReport.js';
import { JobId } from './attestation.js';
import { WorkerMode } from './attestation.js';
import { Address, Bytes32, CidString, DatasetId, hexBytes, IsoDate, plainText, TokenAmount } from './common.js';
import { ChainDatasetId } from './dataset.js';
import { LicenseId } from './license.js';
import { Recipe } from './recipe.js';
import { SealedBoxSchema } from './upload.js';

export { JobId } from './attestation.js';

/** A secp256k1 public key (0x-hex, 33 bytes compressed or 65 uncompressed): the model is sealed to it (ECIES). */
export const Secp256k1PublicKey = z
  .string()
  .regex(/^0x(0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/, 'must be a 33- or 65-byte secp256k1 public key (0x-hex)');

/**
 * Where a job is. `queued`: accepted, claimable; `attesting`: a worker holds the lease and is proving its
 * enclave; `running`: keys released, training; `checkpointed`: training, and a checkpoint is committed;
 * `done`: finalized on chain with a receipt; `failed`: the trainer refused the job (a code says why);
 * `cancelled`: the lab ended the job on chain before it finished.
 */
export const JobStatus = z.enum(['queued', 'attesting', 'running', 'checkpointed', 'done', 'failed', 'cancelled']);
export type JobStatus = z.output<typeof JobStatus>;

/** Samples consumed per dataset, keyed by the listing id (`ds_…`). */
export const SamplesByDataset = z.record(DatasetId, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));
export type SamplesByDataset = z.output<typeof SamplesByDataset>;

/** A position in the trainer's run (see gpu-workers/trainer/PROTOCOL.md). */
export const TrainingPosition = z.strictObject({
  epoch: z.number().int().min(0),
  step: z.number().int().min(0),
  globalStep: z.number().int().min(0),
});
export type TrainingPosition = z.output<typeof TrainingPosition>;

/** `POST /v1/jobs` (signed by the license holder): a job already opened on chain, and what to train. */
export const JobSubmitInput = z.strictObject({
  /** The id `LicenseManager.openJob` returned (from the `JobOpened` event). */
  jobId: JobId,
  recipe: Recipe,
  /** The lab's public key: the model is delivered sealed to it. */
  modelKey: Secp256k1PublicKey,
  /** Optional per-job DP ceiling; the trainer refuses a plan above it (and above each listing's remaining budget). */
  maxEpsilon: z.number().positive().max(1000).optional(),
});
export type JobSubmitInput = z.output<typeof JobSubmitInput>;

/** One dataset of a job: its terms (snapshotted at purchase) and what was settled on chain so far. */
export const JobDataset = z.object({
  datasetId: DatasetId,
  chainDatasetId: ChainDatasetId,
  pricePerSample: TokenAmount,
  /** `settledSamples(jobId, datasetId)` read from the chain. */
  settledSamples: TokenAmount,
  /** settledSamples × pricePerSample. */
  paid: TokenAmount,
  /** The manifest the worker was given (CID of the encrypted manifest of the version it trains on). */
  manifestCid: z.string().optional(),
});
export type JobDataset = z.output<typeof JobDataset>;

/** A committed checkpoint (the ciphertext lives in the artifacts bucket under the job's prefix). */
export const JobCheckpoint = z.object({
  objectKey: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(1),
  position: TrainingPosition,
  samples: SamplesByDataset,
  committedAt: IsoDate,
  /** The lease (fencing token) that committed it. */
  fencingToken: z.number().int().min(1),
});
export type JobCheckpoint = z.output<typeof JobCheckpoint>;

/** A usage report the API relayed for the worker, as mined. */
export const JobReport = z.object({
  txHash: Bytes32,
  samples: SamplesByDataset,
  /** What this report paid into pools (the increase over earlier reports). */
  paid: TokenAmount,
  at: IsoDate,
  final: z.boolean(),
});
export type JobReport = z.output<typeof JobReport>;

/** Train/validation metrics of one epoch, as the trainer reported them. */
export const JobMetrics = z.object({
  epoch: z.number().int().min(1),
  train: z.record(z.string(), z.number()),
  val: z.record(z.string(), z.number()).nullable(),
  epsilon: z.number().min(0).optional(),
  at: IsoDate,
});
export type JobMetrics = z.output<typeof JobMetrics>;

/** The encrypted model: sealed to the job's `modelKey`; `sha256` is of the plaintext safetensors file. */
export const JobModel = z.object({
  objectKey: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(1),
  /** Ciphertext size in bytes (chunked AEAD framing included). */
  encryptedBytes: z.number().int().min(1),
});
export type JobModel = z.output<typeof JobModel>;

/** `GET /v1/jobs/{id}`: the job as the API and the chain see it now. */
export const Job = z.object({
  id: JobId,
  licenseId: LicenseId,
  holder: Address,
  status: JobStatus,
  recipe: Recipe,
  /** 0x + SHA-256 of the recipe's canonical JSON. */
  recipeHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  modelKey: Secp256k1PublicKey,
  maxEpsilon: z.number().positive().optional(),
  datasets: z.array(JobDataset),
  /** From `getJob`: budget, spent, rate cap, start/end (read at request time). */
  budget: TokenAmount,
  spent: TokenAmount,
  maxRatePerSecond: TokenAmount,
  /** Royalties per second over the last two reports (0 when fewer than two, or the job is not running). */
  currentRatePerSecond: TokenAmount,
  startedAt: IsoDate,
  endedAt: IsoDate.optional(),
  submittedAt: IsoDate,
  updatedAt: IsoDate,
  /** The attested worker key approved for the job (latest), its mode and evidence hash. */
  worker: z
    .object({ address: Address, mode: WorkerMode, evidenceHash: Bytes32, attestedAt: IsoDate })
    .optional(),
  /** Number of leases taken so far (1 = never resumed). */
  attempts: z.number().int().min(0),
  checkpoints: z.array(JobCheckpoint),
  reports: z.array(JobReport),
  metrics: z.array(JobMetrics),
  receipt: z.object({ cid: CidString, txHash: Bytes32 }).optional(),
  model: JobModel.optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type Job = z.output<typeof Job>;

/** `GET /v1/jobs?holder=&cursor=&limit=`. */
export const JobListQuery = z.object({
  holder: Address,
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type JobListQuery = z.output<typeof JobListQuery>;

/** One page of a holder's jobs, newest first. */
export const JobPage = z.object({ items: z.array(Job), nextCursor: z.string().optional() });
export type JobPage = z.output<typeof JobPage>;

/** `GET /v1/jobs/{jobId}/model`: where to fetch the encrypted model and the sealed key that opens it. */
export const JobModelDownload = z.object({
  jobId: JobId,
  model: JobModel,
  /** ECIES box of the model's data key, to the job's `modelKey`. */
  sealedKey: SealedBoxSchema,
  downloadUrl: z.string(),
  receiptCid: CidString,
});
export type JobModelDownload = z.output<typeof JobModelDownload>;

// ------------------------------------------------------------------------------------------------- worker side

/** A lease's fencing token: strictly increasing per job; a stale token is refused everywhere. */
export const FencingToken = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** `POST /v1/worker/leases` (signed by a worker operator key from the allowlist). */
export const LeaseRequest = z.strictObject({
  /** A name for logs (instance id, host name). */
  workerId: plainText({ min: 1, max: 128 }),
  /** Modes this worker can attest in. */
  modes: z.array(WorkerMode).min(1).max(2),
  /** How long to wait for a queued job before answering `{ assignment: null }` (long poll). */
  waitSeconds: z.number().int().min(0).max(20).default(0),
});
export type LeaseRequest = z.output<typeof LeaseRequest>;

/** A lease the API granted. */
export const Lease = z.object({
  jobId: JobId,
  fencingToken: FencingToken,
  expiresAt: IsoDate,
  /** Renew at least this often (seconds). */
  heartbeatSeconds: z.number().int().min(1),
});
export type Lease = z.output<typeof Lease>;

/** What a worker gets with a lease: the job, and the checkpoint to resume from (with a presigned GET). */
export const LeaseResult = z.object({
  assignment: z
    .object({
      lease: Lease,
      job: Job,
      resumeFrom: JobCheckpoint.extend({ downloadUrl: z.string() }).optional(),
      /**
       * Per dataset with a privacy policy: the epsilon this job may spend (its reservation on the listing's budget).
       * The trainer's `privacyBudget` is the smallest of them.
       */
      privacyBudgets: z.record(DatasetId, z.number().positive()).optional(),
    })
    .nullable(),
});
export type LeaseResult = z.output<typeof LeaseResult>;

/** Body of every lease-holding call: the fencing token of the caller's lease. */
export const Fenced = z.strictObject({ fencingToken: FencingToken });

/** `POST /v1/jobs/{jobId}/lease/heartbeat`. `cancel` tells the worker to stop at its next checkpoint. */
export const HeartbeatResult = z.object({ lease: Lease, cancel: z.boolean() });
export type HeartbeatResult = z.output<typeof HeartbeatResult>;

/** `POST /v1/jobs/{jobId}/lease/release`: give the job back (spot interruption, shutdown) or fail it. */
export const LeaseReleaseInput = z.strictObject({
  fencingToken: FencingToken,
  reason: z.enum(['interrupted', 'failed']),
  /** With `failed`: the trainer's or agent's error code and message (no row data). */
  error: z.strictObject({ code: z.string().regex(/^[A-Z][A-Z0-9_]{2,63}$/), message: plainText({ min: 1, max: 500 }) }).optional(),
});
export type LeaseReleaseInput = z.output<typeof LeaseReleaseInput>;

/** `POST /v1/jobs/{jobId}/events`: progress the worker reports (status changes and epoch metrics). */
export const JobEventInput = z.strictObject({
  fencingToken: FencingToken,
  event: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('attesting') }),
    z.strictObject({
      type: z.literal('running'),
      manifests: z.record(DatasetId, z.string().max(200)),
      /** The attested key the worker trains under (the API checks the AttestationRegistry approved it for the job). */
      worker: z.strictObject({ address: Address, mode: WorkerMode }).optional(),
    }),
    z.strictObject({
      type: z.literal('metrics'),
      epoch: z.number().int().min(1),
      train: z.record(z.string().max(32), z.number()),
      val: z.record(z.string().max(32), z.number()).nullable(),
      epsilon: z.number().min(0).optional(),
    }),
  ]),
});
export type JobEventInput = z.output<typeof JobEventInput>;

/** `POST /v1/jobs/{jobId}/artifacts`: a presigned PUT for a checkpoint or the model under the job's prefix. */
export const ArtifactUploadInput = z.strictObject({
  fencingToken: FencingToken,
  kind: z.enum(['checkpoint', 'model']),
  bytes: z.number().int().min(1).max(8 * 1024 ** 3),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ArtifactUploadInput = z.output<typeof ArtifactUploadInput>;

/** The presigned upload. */
export const ArtifactUpload = z.object({ objectKey: z.string(), uploadUrl: z.string(), expiresAt: IsoDate });
export type ArtifactUpload = z.output<typeof ArtifactUpload>;

/** `POST /v1/jobs/{jobId}/checkpoints`: commit an uploaded checkpoint (the API checks the object's size). */
export const CheckpointCommitInput = z.strictObject({
  fencingToken: FencingToken,
  objectKey: z.string().max(512),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(1),
  position: TrainingPosition,
  samples: SamplesByDataset,
});
export type CheckpointCommitInput = z.output<typeof CheckpointCommitInput>;

/** A usage report as the contract's EIP-712 `UsageReport` (cumulative samples; amounts = samples × price). */
export const UsageReportWire = z.strictObject({
  jobId: JobId,
  datasetIds: z.array(ChainDatasetId).min(1).max(64),
  samples: z.array(TokenAmount).min(1).max(64),
  amounts: z.array(TokenAmount).min(1).max(64),
});
export type UsageReportWire = z.output<typeof UsageReportWire>;

/**
 * `POST /v1/jobs/{jobId}/reports`: relay a usage report signed by the attested key. Refused unless the caller's
 * lease is current and every dataset's samples are covered by the last committed checkpoint.
 */
export const UsageReportInput = z.strictObject({
  fencingToken: FencingToken,
  report: UsageReportWire,
  signature: hexBytes(65),
});
export type UsageReportInput = z.output<typeof UsageReportInput>;

/** A relayed report's outcome. */
export const UsageReportResult = z.object({ txHash: Bytes32, paid: TokenAmount, samples: SamplesByDataset });
export type UsageReportResult = z.output<typeof UsageReportResult>;

/**
 * The receipt of a finished job, signed by the attested worker key (EIP-191 over its canonical JSON) and stored
 * on IPFS; its CID is what the worker's `FinalReport` signs and `finalizeJob` anchors on chain.
 */
export const ReceiptBody = z.strictObject({
  schema: z.literal('provena.receipt/v1'),
  chainId: z.number().int().positive(),
  licenseManager: Address,
  jobId: JobId,
  licenseId: LicenseId,
  datasets: z
    .array(
      z.strictObject({
        datasetId: DatasetId,
        chainDatasetId: ChainDatasetId,
        version: z.number().int().min(1),
        manifestCid: z.string().max(200),
        samples: z.number().int().min(0),
        anonymization: AnonymizationReport,
        /** 0x + SHA-256 of the report's canonical JSON. */
        anonymizationReportHash: z.string().regex(/^0x[0-9a-f]{64}$/),
      }),
    )
    .min(1)
    .max(64),
  recipeHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  model: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(1) }),
  worker: z.strictObject({
    address: Address,
    mode: WorkerMode,
    evidenceHash: Bytes32,
    /** The evidence's measurement (Nitro PCR0, TDX MRTD, SNP MEASUREMENT, or the dev attestor's), hex. */
    measurement: z.string().regex(/^[0-9a-f]{0,256}$/),
  }),
  dp: z.strictObject({ epsilon: z.number().min(0), delta: z.number().gt(0).lt(1) }).nullable(),
  metrics: z.record(z.string(), z.number()).nullable(),
  createdAt: IsoDate,
});
export type ReceiptBody = z.output<typeof ReceiptBody>;

/** The stored receipt: body plus the attested key's EIP-191 signature over `canonicalJson(body)`. */
export const SignedReceipt = z.strictObject({ body: ReceiptBody, signature: hexBytes(65) });
export type SignedReceipt = z.output<typeof SignedReceipt>;

/**
 * `POST /v1/jobs/{jobId}/result`: the model (already uploaded and sealed), the signed receipt, and the final
 * report signed by the attested key over the receipt's CID. The API stores the receipt on IPFS, checks its CID,
 * relays `finalizeJob`, and marks the job done.
 */
export const JobResultInput = z.strictObject({
  fencingToken: FencingToken,
  model: JobModel,
  /** ECIES box of the model's data key to the job's model key. */
  sealedKey: SealedBoxSchema,
  receipt: SignedReceipt,
  receiptCid: CidString,
  report: UsageReportWire,
  signature: hexBytes(65),
});
export type JobResultInput = z.output<typeof JobResultInput>;

/** What finishing returns. */
export const JobResultResult = z.object({ txHash: Bytes32, receiptCid: CidString, paid: TokenAmount });
export type JobResultResult = z.output<typeof JobResultResult>;
