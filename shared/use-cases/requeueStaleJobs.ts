import type { DependencyError } from '../errors.js';
import type { JobRecord } from '../ports/JobRepo.js';
import type { JobStatus } from '../schemas/job.js';
import type { JobDeps } from './jobDeps.js';

/** Statuses a worker may still take the job in: each needs a queue message whenever no lease is held. */
const CLAIMABLE: readonly JobStatus[] = ['queued', 'attesting', 'running', 'checkpointed'];

export interface RequeueStaleJobsParameters {
  /** A `queued` job untouched for this long gets a new queue message. */
  olderThanSeconds: number;
  /** At most this many per call. @default 10 */
  limit?: number;
}
/** The ids re-sent. */
export type RequeueStaleJobsReturnType = string[];
export type RequeueStaleJobsErrorType = DependencyError;

/**
 * The repair for a lost queue message: a crash between a job's record and its message (submit, release), or the
 * embedded stack's in-memory queue after a restart. Every claimable job untouched for `olderThanSeconds` and
 * holding no lease (none, or one expired that long ago) gets a message again. Its record is touched first (conditional on its version), so
 * concurrent sweeps send one message per job per period; a duplicate message is harmless anyway (the lease's
 * conditional write takes the job once, and a message for a leased job is dropped).
 */
export async function requeueStaleJobs(deps: Pick<JobDeps, 'jobs' | 'queue' | 'now'>, params: RequeueStaleJobsParameters): Promise<RequeueStaleJobsReturnType> {
  const now = deps.now();
  const before = new Date(now.getTime() - params.olderThanSeconds * 1000).toISOString();
  const stale: JobRecord[] = [];
  for (const status of CLAIMABLE) {
    const found = await deps.jobs.listByStatus(status, { before, limit: params.limit ?? 10 });
    stale.push(...found.filter((r) => !r.lease || r.lease.expiresAt < before));
  }
  const sent: string[] = [];
  for (const record of stale) {
    if (!(await deps.jobs.update({ ...record, version: record.version + 1, updatedAt: now.toISOString() }, record.version))) continue;
    await deps.queue.send({ jobId: record.jobId });
    sent.push(record.jobId);
  }
  return sent;
}
