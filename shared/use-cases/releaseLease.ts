import type { ConflictError, DependencyError, ForbiddenError } from '../errors.js';
import type { Job, LeaseReleaseInput } from '../schemas/job.js';
import { checkLease, quietly, readJobView, updateJob, type JobDeps } from './jobDeps.js';
import type { JobRecord } from '../ports/JobRepo.js';
import { cancelledSettlement, failedJobEpsilon, settleCancelled, settlePrivacy } from './privacyBudget.js';

export interface ReleaseLeaseParameters {
  caller: string;
  jobId: string;
  input: LeaseReleaseInput;
}
export type ReleaseLeaseReturnType = Job;
/** `JOB_NOT_FOUND`, `JOB_LEASE_STALE`, `JOB_LEASE_NOT_HOLDER`, `JOB_LEASE_EXPIRED`, `JOB_ALREADY_FINISHED`. */
export type ReleaseLeaseErrorType = ConflictError | ForbiddenError | DependencyError;

/**
 * Gives the job back. `interrupted` (spot notice, shutdown): the lease ends, the job is `checkpointed` (or `queued`
 * without a checkpoint) and its message visible at once, so another worker resumes from the last checkpoint; a
 * cancelled job stays cancelled and its message is deleted. `failed`: the job is `failed` with the worker's error
 * code and its message deleted; its privacy reservations are settled (released in full when it never reported an
 * epoch). A cancelled job's reservations are settled when its worker releases it (see `cancelledJobEpsilon`).
 */
export async function releaseLease(deps: JobDeps, params: ReleaseLeaseParameters): Promise<ReleaseLeaseReturnType> {
  const { input } = params;
  let handle = '';
  let cancelled: NonNullable<JobRecord['privacySettled']> | undefined;
  const record = await updateJob(deps, params.jobId, (current) => {
    checkLease(current, params.caller, input.fencingToken, deps.now());
    handle = current.lease.receiptHandle;
    const { lease: _released, ...rest } = current;
    cancelled = undefined;
    if (input.reason === 'failed') {
      return { ...rest, status: 'failed' as const, error: input.error ?? { code: 'WORKER_FAILED', message: 'The worker gave up on the job without an error code' } };
    }
    if (current.status === 'cancelled') {
      // The worker wound down after the cancel: no lease will follow, so the reservations are settled now.
      cancelled = cancelledSettlement(current, deps.now());
      return { ...rest, status: 'cancelled' as const, ...(cancelled ? { privacySettled: cancelled } : {}) };
    }
    return { ...rest, status: current.checkpoints.length > 0 ? ('checkpointed' as const) : ('queued' as const) };
  });
  // Once: only this call moved the job to `failed` (or ended a cancelled job's last lease). Before any epoch the
  // whole reservation goes back.
  if (record.status === 'failed') await settlePrivacy(deps, record, failedJobEpsilon(record));
  if (cancelled) await settleCancelled(deps, record, cancelled);
  if (record.status === 'queued' || record.status === 'checkpointed') await quietly(() => deps.queue.changeVisibility(handle, 0));
  else await quietly(() => deps.queue.delete(handle));
  return readJobView(deps, record);
}
