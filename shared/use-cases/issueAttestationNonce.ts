import { ConflictError, type DependencyError } from '../errors.js';
import type { AttestationNonces, IssuedAttestationNonce } from '../ports/AttestationNonces.js';
import type { JobAttestations } from '../ports/JobAttestations.js';

/** What issuing an attestation nonce needs. */
export interface IssueAttestationNonceDeps {
  jobs: Pick<JobAttestations, 'job'>;
  nonces: AttestationNonces;
  now(): Date;
  /** How long a worker has to post its evidence. */
  nonceTtlSeconds: number;
}

export interface IssueAttestationNonceParameters {
  jobId: string;
}
export type IssueAttestationNonceReturnType = IssuedAttestationNonce;
export type IssueAttestationNonceErrorType = ConflictError | DependencyError;

/**
 * Issues a fresh single-use nonce for a job's worker to bind into its evidence, only while the job is open on
 * chain (`LicenseManager.isJobActive`): an unknown, ended, refunded or spent job gets `JOB_NOT_ACTIVE` and no nonce.
 * Public: a nonce is worth nothing without evidence from a TEE the policy trusts.
 */
export async function issueAttestationNonce(deps: IssueAttestationNonceDeps, params: IssueAttestationNonceParameters): Promise<IssueAttestationNonceReturnType> {
  const job = await deps.jobs.job(params.jobId);
  if (!job.active) throw new ConflictError('JOB_NOT_ACTIVE', `Job ${params.jobId} is not open (unknown, ended, refunded or out of budget)`);
  return deps.nonces.issue(params.jobId, { now: deps.now(), ttlSeconds: deps.nonceTtlSeconds });
}
