/**
 * Wire schemas of worker attestation that the listing schemas need too: the worker modes a listing allows, and a
 * job id. The evidence bundle and the attestation request live with the verifiers (shared/attestation/types.ts).
 */
import * as z from 'zod';

/**
 * Where a worker runs, which decides what the data is exposed to (see shared/attestation/types.ts):
 * `confidential-gpu` (TDX / SEV-SNP CVM with a GPU in CC mode) or `nitro` (keys and anonymization in a Nitro
 * enclave, the trainer on the parent).
 */
export const WorkerMode = z.enum(['confidential-gpu', 'nitro']);
/** A worker mode. */
export type WorkerMode = z.infer<typeof WorkerMode>;

/** Every worker mode: what a listing allows when it says nothing. */
export const ALL_WORKER_MODES: readonly WorkerMode[] = WorkerMode.options;

/** A LicenseManager job id (uint256, decimal, no leading zeros). */
export const JobId = z.string().regex(/^(0|[1-9][0-9]{0,76})$/, 'must be a job id (a decimal integer)');

/** Path parameters of the job routes. */
export const JobIdParams = z.object({ jobId: JobId });

/** A fresh single-use attestation nonce for a job. */
export const AttestationNonceResult = z.object({
  nonce: z.string().regex(/^[0-9a-f]{64}$/),
  jobId: JobId,
  /** Epoch seconds after which it is refused. */
  expiresAt: z.number().int(),
});
export type AttestationNonceResult = z.output<typeof AttestationNonceResult>;

/** What an approval returns: the AttestationRegistry transaction and the evidence hash it recorded. */
export const AttestWorkerResult = z.object({
  jobId: JobId,
  worker: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  mode: WorkerMode,
  /** 0x + SHA-256 of the canonical JSON of the evidence bundle, as `AttestationRegistry.evidenceOf` records it. */
  evidenceHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  txHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
});
export type AttestWorkerResult = z.output<typeof AttestWorkerResult>;
