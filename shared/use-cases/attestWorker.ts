import { computeAddress } from 'ethers';
import type { AttestationError } from '../attestation/errors.js';
import type { AttestationPolicy, AttestWorkerInput, EvidenceKind, EvidenceVerifier } from '../attestation/types.js';
import { verifyEvidence } from '../attestation/verifyEvidence.js';
import { ConflictError, type DependencyError, type ProvenaError } from '../errors.js';
import type { AttestationNonces } from '../ports/AttestationNonces.js';
import type { ContentStore } from '../ports/ContentStore.js';
import type { JobAttestations } from '../ports/JobAttestations.js';
import { ALL_WORKER_MODES, type AttestWorkerResult } from '../schemas/attestation.js';
import { DatasetManifest } from '../schemas/dataset.js';

/** What attesting a worker needs. */
export interface AttestWorkerDeps {
  jobs: JobAttestations;
  nonces: AttestationNonces;
  /** Where the registered listing manifests are (their license terms say which worker modes a listing allows). */
  content: Pick<ContentStore, 'getJson'>;
  /** The deployment's policy (development or production); throws `CONFIG_INVALID` when it is not configured. */
  policy(): AttestationPolicy;
  verifiers: Partial<Record<EvidenceKind, EvidenceVerifier>>;
  now(): Date;
}

export interface AttestWorkerParameters {
  jobId: string;
  input: AttestWorkerInput;
}
export type AttestWorkerReturnType = AttestWorkerResult;
export type AttestWorkerErrorType = AttestationError | ConflictError | DependencyError | ProvenaError;

/**
 * The policy for one dataset of the job: the deployment's, narrowed to the worker modes its registered listing
 * allows (absent: every mode). An empty intersection leaves no mode, so `verifyEvidence` refuses with
 * `ATTESTATION_MODE_REFUSED` (e.g. Nitro-mode evidence for a listing that allows only `confidential-gpu`).
 */
async function datasetPolicy(deps: AttestWorkerDeps, base: AttestationPolicy, chainDatasetId: string): Promise<AttestationPolicy> {
  const manifest = DatasetManifest.parse(await deps.content.getJson(await deps.jobs.manifestCidOf(chainDatasetId)));
  const allowed = manifest.listing.license.workerModes ?? ALL_WORKER_MODES;
  return { ...base, modes: base.modes.filter((m) => allowed.includes(m)) };
}

/**
 * Verifies a worker's evidence against the policy of every dataset of its job, consumes the job's nonce once, and
 * only then approves the worker's key (its address) on the AttestationRegistry, recording the evidence hash with
 * the approval so anyone can audit it. Nothing is approved after any refusal, and a refusal before the nonce check
 * does not burn the nonce.
 *
 * Order: job open (`JOB_NOT_ACTIVE`) → each dataset's policy → `verifyEvidence` (every `ATTESTATION_*` code) →
 * nonce consumed (`ATTESTATION_NONCE_REUSED` / `ATTESTATION_NONCE_MISMATCH`) → `approveWorker` (`RELAYER_*`).
 */
export async function attestWorker(deps: AttestWorkerDeps, params: AttestWorkerParameters): Promise<AttestWorkerReturnType> {
  const { jobId, input } = params;
  const job = await deps.jobs.job(jobId);
  if (!job.active) throw new ConflictError('JOB_NOT_ACTIVE', `Job ${jobId} is not open (unknown, ended, refunded or out of budget)`);
  const base = deps.policy();
  const policies = await Promise.all(job.chainDatasetIds.map((id) => datasetPolicy(deps, base, id)));
  const verified = await verifyEvidence(input.evidence, {
    policy: policies,
    now: deps.now(),
    expectedNonce: input.nonce,
    expectedPublicKey: input.workerPublicKey,
    verifiers: deps.verifiers,
    nonces: { store: deps.nonces, jobId },
  });
  const worker = computeAddress(input.workerPublicKey);
  const evidenceHash = `0x${verified.evidenceHash}`;
  const { txHash } = await deps.jobs.approveWorker({ jobId, worker, evidenceHash });
  return { jobId, worker, mode: verified.mode, evidenceHash, txHash };
}
