import type { ConflictError, DependencyError, ForbiddenError } from '../errors.js';
import type { HeartbeatResult } from '../schemas/job.js';
import { checkLease, endedOnChain, quietly, updateJob, type JobDeps } from './jobDeps.js';
import { heartbeatSeconds } from './leaseJob.js';

export interface HeartbeatLeaseParameters {
  caller: string;
  jobId: string;
  fencingToken: number;
}
export type HeartbeatLeaseReturnType = HeartbeatResult;
/** `JOB_NOT_FOUND`, `JOB_LEASE_STALE`, `JOB_LEASE_NOT_HOLDER`, `JOB_LEASE_EXPIRED`, `JOB_ALREADY_FINISHED`. */
export type HeartbeatLeaseErrorType = ConflictError | ForbiddenError | DependencyError;

/**
 * Renews the caller's lease for another lease length (conditional on its fencing token, and on the version read)
 * and keeps the queue message hidden as long. `cancel: true` when the chain says the lab ended the job (or it was
 * refunded): the job becomes `cancelled`, and the worker should stop at its next checkpoint and release (no usage
 * report is relayed after a cancel: submitUsageReport answers `JOB_NOT_ACTIVE`).
 */
export async function heartbeatLease(deps: JobDeps, params: HeartbeatLeaseParameters): Promise<HeartbeatLeaseReturnType> {
  const cancel = endedOnChain(await deps.chain.job(params.jobId));
  const record = await updateJob(deps, params.jobId, (current) => {
    const now = deps.now();
    checkLease(current, params.caller, params.fencingToken, now);
    return {
      ...current,
      ...(cancel ? { status: 'cancelled' as const } : {}),
      lease: { ...current.lease, expiresAt: new Date(now.getTime() + deps.leaseSeconds * 1000).toISOString() },
    };
  });
  const lease = record.lease as NonNullable<typeof record.lease>;
  await quietly(() => deps.queue.changeVisibility(lease.receiptHandle, deps.leaseSeconds));
  return { lease: { jobId: params.jobId, fencingToken: lease.fencingToken, expiresAt: lease.expiresAt, heartbeatSeconds: heartbeatSeconds(deps.leaseSeconds) }, cancel };
}
