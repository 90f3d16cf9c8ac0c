import type { ConflictError, DependencyError, ForbiddenError } from '../errors.js';
import type { Job, LeaseReleaseInput } from '../schemas/job.js';
import { checkLease, quietly, readJobView, updateJob, type JobDeps } from './jobDeps.js';
import { failedJobEpsilon, settlePrivacy } from './privacyBudget.js';

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
 * epoch).
 */
export async function releaseLease(deps: JobDeps, params: ReleaseLeaseParameters): Promise<ReleaseLeaseReturnType> {
  const { input } = params;
  let handle = '';
  const record = await updateJob(deps, params.jobId, (current) => {
    checkLease(current, params.caller, input.fencingToken, deps.now());
    handle = current.lease.receiptHandle;
    const { lease: _released, ...rest } = current;
    if (input.reason === 'failed') {
      return { ...rest, status: 'failed' as const, error: input.error ?? { code: 'WORKER_FAILED', message: 'The worker gave up on the job without an error code' } };
    }
    return { ...rest, status: current.status === 'cancelled' ? ('cancelled' as const) : current.checkpoints.length > 0 ? ('checkpointed' as const) : ('queued' as const) };
  });
  // Once: only this call moved the job to `failed`. Before any epoch the whole reservation goes back.
  if (record.status === 'failed') await settlePrivacy(deps, record, failedJobEpsilon(record));
  if (record.status === 'queued' || record.status === 'checkpointed') await quietly(() => deps.queue.changeVisibility(handle, 0));
  else await quietly(() => deps.queue.delete(handle));
  return readJobView(deps, record);
}
